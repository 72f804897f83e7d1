"""The digest's Campaigns section: the channel's campaigns, yesterday's numbers (UTC) and their
change on the day before, equal to the simulator's own buckets; within Slack's limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import requests

from bot.channels.campaigns import DIGEST_CAMPAIGNS, DIGEST_METRICS
from bot.channels.digest import Status, gather, zone_of
from bot.render.message import Message
from bot.simulator.server import RunningSimulator
from tests.support.digest_bot import CHANNEL, DAY, NOW, DigestBot, posted
from tests.support.fake_slack import TEAM_ID
from tests.support.slack_limits import assert_valid_message


def truth(sim: RunningSimulator, post_ids: list[str], day: date) -> dict[str, int]:
    """Σ of the simulator's hourly buckets over the UTC day, per metric."""
    start = datetime.combine(day, time(), UTC)
    end = start + timedelta(days=1)
    sums = dict.fromkeys(DIGEST_METRICS, 0)
    for post_id in post_ids:
        doc = requests.get(
            f"{sim.url}/_sim/series?tweet_id={post_id}&metrics={','.join(DIGEST_METRICS)}"
            f"&start={start:%Y-%m-%dT%H:%M:%SZ}&end={end:%Y-%m-%dT%H:%M:%SZ}",
            timeout=30,
        ).json()
        for metric in DIGEST_METRICS:
            sums[metric] += sum(doc["buckets"][metric].values())
    return sums


def brand_posts(sim: RunningSimulator, count: int) -> list[str]:
    posts = requests.get(f"{sim.url}/_sim/posts?author=sim_brand", timeout=30).json()["posts"]
    old = [p for p in posts if not p["deleted"] and p["created_at"] < "2026-11-24"]
    return [p["id"] for p in sorted(old, key=lambda p: p["created_at"])[-count:]]


def add_campaign(bot: DigestBot, name: str, posts: list[str], channel: str = CHANNEL) -> None:
    made = bot.store.campaigns.create(
        TEAM_ID, name, hashtag=None, from_handle=None, channel_id=channel, by="U1", now=NOW
    )
    assert made is not None
    bot.store.campaigns.add_posts(made.id, posts, source="post", now=NOW)


def test_the_campaigns_section_shows_yesterday_and_its_change(
    digest_bot: DigestBot, sim: RunningSimulator, fake: Any
) -> None:
    posts = brand_posts(sim, 3)
    add_campaign(digest_bot, "Spring launch", posts)
    add_campaign(digest_bot, "Elsewhere", posts, channel="C0OTHER")  # not this channel's
    channel = digest_bot.store.channels.settings(TEAM_ID, CHANNEL)
    data = gather(channel, DAY, zone_of(channel, digest_bot.deps), now=NOW, deps=digest_bot.deps)
    (row,) = data.campaigns
    assert row.name == "Spring launch"
    assert dict(row.day) == truth(sim, posts, DAY)
    assert dict(row.before) == truth(sim, posts, DAY - timedelta(days=1))

    assert digest_bot.digest().status is Status.POSTED
    [body] = posted(fake)
    text = str(body["blocks"])
    assert "*Campaigns*" in text
    assert "Spring launch" in text
    assert "Elsewhere" not in text


def test_many_campaigns_stay_short_and_within_slacks_limits(
    digest_bot: DigestBot, sim: RunningSimulator, fake: Any
) -> None:
    posts = brand_posts(sim, 1)
    for n in range(DIGEST_CAMPAIGNS + 3):
        add_campaign(digest_bot, f"Campaign {n} " + "x" * 70, posts)
    assert digest_bot.digest().status is Status.POSTED
    [body] = posted(fake)
    message = Message(text=body["text"], blocks=tuple(body["blocks"]), ephemeral=False)
    assert_valid_message(message)
    text = str(body["blocks"])
    assert text.count("• *Campaign ") == DIGEST_CAMPAIGNS
    assert "…and 3 more campaigns" in text
