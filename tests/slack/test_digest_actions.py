"""The buttons on the daily digest, end to end: the digest job posts to the loopback fake Slack,
then signed block_actions reach the real Bolt app over its HTTP listener, which gathers the
digest's numbers from the simulator again and answers in the digest's thread."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.channels.digest import day_bounds
from bot.render import buttons
from bot.render.message import Message
from bot.simulator.server import RunningSimulator
from bot.slack.app import build_app
from tests.support.digest_bot import CHANNEL, DAY, NOW, ZONE, DigestBot, posted
from tests.support.fake_slack import FakeSlack
from tests.support.interactive import MEMBER, press_on_message
from tests.support.slack_app import settings_for, sim_admin, texts
from tests.support.slack_limits import assert_valid_message

METRICS = ("impressions", "engagements", "favorites", "retweets", "replies")
# One listed Post as a person reads it: its number or bullet, its ID, its three first numbers.
LINE = re.compile(
    r"^(•|\d+\.) <https://x\.com/\w+/status/(\d+)\|[^>]*>: "
    r"([\d.]+[KMB]?) impressions · ([\d.]+[KMB]?) engagements · ([\d.]+[KMB]?) likes?$",
    re.MULTILINE,
)
UNITS = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}


@pytest.fixture
def digest(digest_bot: DigestBot, fake: FakeSlack) -> dict[str, Any]:
    """The daily digest as Slack got it."""
    digest_bot.digest()
    (body,) = posted(fake)
    return body


@pytest.fixture
def app(digest_bot: DigestBot, fake: FakeSlack) -> Any:
    return build_app(
        settings_for(fake), digest_bot.deps, clock=lambda: NOW, process_before_response=True
    )


def actions_of(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (block,) = [b for b in message["blocks"] if b["type"] == "actions"]
    return {e["action_id"]: e for e in block["elements"]}


def top_lines(message: dict[str, Any], title: str) -> list[tuple[str, str, str, str, str]]:
    """(bullet, Post ID, impressions, engagements, likes) under `title`, top to bottom."""
    sections = [b.get("text", {}).get("text", "") for b in message["blocks"]]
    (section,) = [text for text in sections if title in text]
    return LINE.findall(section)


def close_to(shown: str, value: int) -> bool:
    """Whether `value` is what the abbreviation `shown` (950, 12.3K, 1.2M) stands for."""
    number, unit = re.fullmatch(r"([\d.]+)([KMB]?)", shown).groups()  # type: ignore[union-attr]
    decimals = len(number.partition(".")[2])
    half_step = 0.5 * 10**-decimals * UNITS[unit]
    return abs(value - float(number) * UNITS[unit]) <= half_step


def day_numbers(sim: RunningSimulator, post_id: str, day: date) -> dict[str, int]:
    """The simulator's hourly buckets of one Post summed over the digest's local day."""
    start, end = day_bounds(day, ZoneInfo(ZONE))
    doc = sim_admin(
        sim,
        "GET",
        f"series?tweet_id={post_id}&metrics={','.join(METRICS)}"
        f"&start={start:%Y-%m-%dT%H:%M:%SZ}&end={end:%Y-%m-%dT%H:%M:%SZ}",
    )
    return {m: sum(doc["buckets"][m].values()) for m in METRICS}


def ranking(sim: RunningSimulator, post_ids: list[str]) -> list[str]:
    """The Posts with numbers on the day, most engagements first (then impressions, ID)."""
    numbers = {p: day_numbers(sim, p, DAY) for p in post_ids}
    active = [p for p in post_ids if numbers[p]["engagements"] or numbers[p]["impressions"]]
    return sorted(active, key=lambda p: (-numbers[p]["engagements"], -numbers[p]["impressions"], p))


def brand_posts(sim: RunningSimulator) -> list[str]:
    _, end = day_bounds(DAY, ZoneInfo(ZONE))
    return [
        p["id"]
        for p in sim_admin(sim, "GET", "posts?author=sim_brand")["posts"]
        if not p["deleted"] and p["created_at"] < f"{end:%Y-%m-%dT%H:%M:%S}"
    ]


def in_thread(fake: FakeSlack, ts: str) -> list[dict[str, Any]]:
    return [c.body for c in fake.api_calls("chat.postMessage") if c.body.get("thread_ts") == ts]


def as_message(body: dict[str, Any]) -> Message:
    return Message(text=body["text"], blocks=tuple(body["blocks"]), ephemeral=False)


def test_the_digest_carries_more_csv_and_change_period_within_slacks_limits(digest):
    assert_valid_message(as_message(digest))
    found = actions_of(digest)
    assert set(found) == {buttons.DIGEST_MORE, buttons.DIGEST_CSV, buttons.DIGEST_PERIOD}
    assert [o["value"] for o in found[buttons.DIGEST_PERIOD]["options"]] == [
        "24h",
        "7d",
        "28d",
        "90d",
    ]
    assert len(top_lines(digest, "Top Posts of the day")) == 3


def test_more_posts_the_next_three_top_posts_in_the_digests_thread(app, fake, sim, digest):
    more = actions_of(digest)[buttons.DIGEST_MORE]
    ts = "1790000000.000100"  # the ts the fake Slack gave the digest
    press_on_message(
        app,
        fake,
        {"action_id": buttons.DIGEST_MORE, "value": more["value"]},
        ts=ts,
        channel=CHANNEL,
        user=MEMBER,
    )
    (page,) = in_thread(fake, ts)
    assert_valid_message(as_message(page))
    shown = top_lines(page, "Top Posts of")
    ranked = ranking(sim, brand_posts(sim))
    assert [post for _, post, *_ in top_lines(digest, "Top Posts of the day")] == ranked[:3]
    assert [(bullet, post) for bullet, post, *_ in shown] == [
        ("4.", ranked[3]),
        ("5.", ranked[4]),
        ("6.", ranked[5]),
    ]
    # The page has its own CSV, and a More of its own only when Posts remain.
    page_actions = actions_of(page)
    assert (buttons.DIGEST_MORE in page_actions) == (len(ranked) > 6)


def test_csv_uploads_the_top_posts_the_digest_shows_with_their_numbers(app, fake, sim, digest):
    value = actions_of(digest)[buttons.DIGEST_CSV]["value"]
    ts = "1790000000.000100"
    press_on_message(
        app, fake, {"action_id": buttons.DIGEST_CSV, "value": value}, ts=ts, channel=CHANNEL
    )
    (complete,) = fake.api_calls("files.completeUploadExternal")[-1:]
    assert complete.body["thread_ts"] == ts
    upload = fake.calls(kind="upload")[-1]
    table = list(csv.DictReader(io.StringIO(upload.raw.decode("utf-8"))))
    shown = top_lines(digest, "Top Posts of the day")
    assert [r["post_id"] for r in table] == [post for _, post, *_ in shown]
    assert [r["rank"] for r in table] == ["1", "2", "3"]
    for row, (_, post, impressions, engagements, likes) in zip(table, shown, strict=True):
        assert close_to(impressions, int(row["impressions"]))
        assert close_to(engagements, int(row["engagements"]))
        assert close_to(likes, int(row["favorites"]))
        assert {m: int(row[m]) for m in METRICS} == day_numbers(sim, post, DAY)
        assert row["date"] == DAY.isoformat()


def test_change_period_posts_the_channels_board_for_that_period_in_the_thread(app, fake, digest):
    select = actions_of(digest)[buttons.DIGEST_PERIOD]
    picked = next(o for o in select["options"] if o["value"] == "28d")
    action = {
        "action_id": buttons.DIGEST_PERIOD,
        "type": "static_select",
        "selected_option": picked,
    }
    ts = "1790000000.000100"
    press_on_message(app, fake, action, ts=ts, channel=CHANNEL)
    (board,) = in_thread(fake, ts)
    assert_valid_message(as_message(board))
    assert "LAST 28 DAYS" in texts(board).upper()
    assert buttons.BOARD_CSV in actions_of(board)  # the board's own buttons come with it
    assert posted(fake)[0] == digest  # the digest itself is left as it was


def test_a_forged_digest_button_value_does_nothing(app, fake, digest):
    ts = "1790000000.000100"
    before = len(fake.api_calls())
    for value in ("not-a-date|3", "2026-11-25|x", "2026-13-40|0"):
        press_on_message(
            app, fake, {"action_id": buttons.DIGEST_MORE, "value": value}, ts=ts, channel=CHANNEL
        )
    assert len(fake.api_calls()) == before
