"""Campaigns and comparisons end to end: signed `/engagement` requests to the real Bolt app, the
real store on a SQLite file, X simulated on loopback, Slack faked. Expected numbers come from
the simulator's own ground truth (`/_sim/series`), never from our code."""

from __future__ import annotations

import re
import struct
from typing import Any

import pytest

from bot.render.message import Message
from tests.support.fake_slack import TEAM_ID
from tests.support.simhttp import lifetime, live_posts, posts_of
from tests.support.slack_app import ask, connect_brand, texts, x_requests
from tests.support.slack_limits import assert_valid_message
from tests.support.universe import SIM_START

SLACK_FILE_LIMIT = 1024**3  # files.getUploadURLExternal: 1 GB


def valid(reply: dict[str, Any]) -> str:
    """The reply's text, once it passed slack_sdk's block validation and our message limits."""
    message = Message(
        text=reply["text"],
        blocks=tuple(reply.get("blocks", ())),
        ephemeral=reply.get("response_type", "ephemeral") == "ephemeral",
    )
    assert_valid_message(message)
    return texts(reply)


def say(bot: Any, fake: Any, text: str, **fields: str) -> str:
    return valid(ask(bot, fake, text, **fields))


def figure(text: str, label: str) -> int:
    """The lifetime figure under a bold label in a report (`*Likes*\\n1,234`)."""
    match = re.search(rf"\*{label}\*\n([0-9,]+)", text)
    assert match, f"no {label} in {text[:500]}"
    return int(match.group(1).replace(",", ""))


def row(text: str, column: str) -> list[str]:
    """A comparison table row's cells after its metric column."""
    for line in text.splitlines():
        if line.startswith(column):
            return line[len(column) :].split()
    raise AssertionError(f"no {column} row in {text}")


@pytest.fixture
def owned(sim: Any, store: Any) -> tuple[str, ...]:
    connect_brand(store)
    return live_posts(sim, "sim_brand", 3)


def test_a_campaign_reports_the_simulators_own_totals(bot, fake, sim, owned):
    theirs = live_posts(sim, "sim_creator", 2)
    assert "created" in say(bot, fake, 'campaign new "Spring launch"')
    posts = " ".join([*owned, *theirs, owned[0]])  # one Post twice: counted once
    assert "Added 5 Posts" in say(bot, fake, f'campaign add "spring LAUNCH" {posts}')
    text = say(bot, fake, 'campaign "Spring launch" 7d')
    every = [*owned, *theirs]
    assert figure(text, "Likes") == sum(lifetime(sim, p, "favorites") for p in every)
    assert figure(text, "Reposts") == sum(lifetime(sim, p, "retweets") for p in every)
    # Impressions: X serves them for the connected account's Posts only, and says so.
    assert figure(text, "Impressions") == sum(lifetime(sim, p, "impressions") for p in owned)
    assert "connected accounts' Posts only (3 of 5)" in text
    assert "5 Posts" in text
    # Top Posts rank by a metric every Post has (likes), the unowned ones included.
    likes = {p: lifetime(sim, p, "favorites") for p in every}
    most = max(likes.values())
    first = re.search(r"\*Top Posts\* \(likes\)\n1\. (.*)", text)
    assert first
    assert any(p in first.group(1) for p in every if likes[p] == most)
    assert first.group(1).endswith(f"— {most:,}")


def test_the_report_chart_is_uploaded_within_slacks_limits(bot, fake, sim, owned):
    say(bot, fake, 'campaign new "Spring launch"')
    say(bot, fake, f'campaign add "Spring launch" {" ".join(owned)}')
    say(bot, fake, 'campaign "Spring launch" 7d', channel_id="C0MEMBER")
    (get_url,) = fake.api_calls("files.getUploadURLExternal")
    (upload,) = fake.calls(kind="upload")
    assert upload.raw.startswith(b"\x89PNG")
    assert int(get_url.body["length"]) == len(upload.raw) < SLACK_FILE_LIMIT
    width, height = struct.unpack(">II", upload.raw[16:24])
    assert (width, height) == (1200, 900)
    (done,) = fake.api_calls("files.completeUploadExternal")
    assert done.body["channel_id"] == "C0MEMBER"


def test_compare_an_owned_account_with_an_unowned_one(bot, fake, sim, owned):
    text = say(bot, fake, "compare @sim_brand vs @sim_creator 28d", channel_id="C0MEMBER")
    assert "@sim_brand vs @sim_creator" in text
    likes = row(text, "Likes")
    assert len(likes) == 4  # A, B, difference, ratio
    assert "Impr" not in text.split("```")[1]  # public metrics only in the table
    assert "X serves impressions and engagements only to a Post's author" in text
    assert "@sim_creator" in text.split("Public metrics only")[1]
    (upload,) = fake.calls(kind="upload")
    assert upload.raw.startswith(b"\x89PNG")
    assert len(upload.raw) < SLACK_FILE_LIMIT


def test_compare_two_owned_campaigns_shows_impressions_and_engagement_rate(bot, fake, sim, owned):
    say(bot, fake, 'campaign new "Launch A"')
    say(bot, fake, 'campaign new "Launch B"')
    say(bot, fake, f'campaign add "Launch A" {owned[0]} {owned[1]}')
    say(bot, fake, f'campaign add "Launch B" {owned[2]}')
    text = say(bot, fake, 'compare "Launch A" vs "launch b"')
    impressions = [int(cell.replace(",", "")) for cell in row(text, "Impr")[:3]]
    a = sum(lifetime(sim, p, "impressions") for p in owned[:2])
    b = lifetime(sim, owned[2], "impressions")
    assert impressions == [a, b, a - b]
    engaged = sum(lifetime(sim, p, "engagements") for p in owned[:2])
    rate = float(row(text, "Eng.rate")[0].rstrip("%"))
    assert rate == pytest.approx(100 * engaged / a, abs=0.05)
    assert "Public metrics only" not in text


def test_campaigns_lists_and_delete_removes(bot, fake, store, owned):
    say(bot, fake, 'campaign new "Spring launch" #springlaunch')
    assert "Spring launch" in say(bot, fake, "campaigns")
    assert "deleted" in say(bot, fake, 'campaign delete "SPRING launch"')
    assert store.campaigns.listed(TEAM_ID) == []
    assert "No campaigns yet" in say(bot, fake, "campaigns")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('campaign "Sprng launch"', 'Did you mean "Spring launch"?'),
        ('campaign new "spring LAUNCH"', 'already a campaign called "Spring launch"'),
        ('campaign new "Other" #', "A hashtag needs a word after `#`"),
        (f'campaign new "{"x" * 500}"', "500 characters long; keep it to 80"),
        ("compare @sim_brand vs", "Compare what with what?"),
        ("compare vs @sim_brand", "Compare what with what?"),
        (
            'campaign "Spring launch" from 2014-08-01 to 2014-09-30',
            "X's history starts on 1 Sep 2014",
        ),
        (
            "compare @sim_brand vs @sim_creator from 2013-01-01 to 2013-02-01",
            "starts on 1 Sep 2014",
        ),
    ],
)
def test_bad_input_is_answered_and_nothing_changes(bot, fake, sim, store, text, expected):
    say(bot, fake, 'campaign new "Spring launch"')
    before = store.campaigns.listed(TEAM_ID)
    calls = len(x_requests(sim))
    assert expected in say(bot, fake, text)
    assert store.campaigns.listed(TEAM_ID) == before
    assert len(x_requests(sim)) == calls


def test_an_account_period_adds_exactly_its_posts_of_those_days(bot, fake, sim, store, owned):
    say(bot, fake, 'campaign new "November"')
    text = say(bot, fake, 'campaign add "November" @sim_creator from 2026-11-20 to 2026-11-25')
    expected = {
        p["id"]
        for p in posts_of(sim, "sim_creator")
        if "2026-11-20" <= p["created_at"][:10] <= "2026-11-25" and not p["deleted"]
    }
    assert expected
    assert f"Added {len(expected)} Post" in text
    campaign = store.campaigns.named(TEAM_ID, "november")
    assert set(store.campaigns.post_ids(campaign.id)) == expected


def test_a_long_campaign_list_is_paged_within_slacks_limits(bot, fake, store):
    for n in range(120):
        store.campaigns.create(
            TEAM_ID,
            f"Campaign {n:03} " + "x" * 60,
            hashtag=None,
            from_handle=None,
            channel_id="C1",
            by="U1",
            now=SIM_START,
        )
    before = len(fake.responses())
    say(bot, fake, "campaigns")
    pages = fake.responses()[before:]
    assert len(pages) > 1
    everything = "\n".join(valid(p) for p in pages)
    assert all(f"Campaign {n:03}" in everything for n in range(120))
