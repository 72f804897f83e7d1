"""A Post is named by its author and the start of its words, wherever it is listed, and no
text anyone can post on X does anything in Slack: checked on the rendered blocks and fallback
text of every kind of message that lists Posts."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.engagement.query import EngagementQuery, Granularity, Report, Value
from bot.engagement.service import Ranked
from bot.render import blocks
from bot.render.alerts import AlertLine, alert_message
from bot.render.digest import DigestData, PostLine, digest_message
from bot.render.kit import PostName
from bot.render.message import Message
from bot.store.alert_log import Firing
from bot.store.channels import AlertRule, Coverage
from tests.support.slack_limits import assert_valid_message

NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
POST = "1790000000000000001"
HOSTILE = (
    "\u202eevil\u202c <!channel> hey <@U0BOSS> *bold* _it_ ~no~ `code` "
    "see https://evil.example/x?a=1&b=2 | and <https://evil.example|click> \u200fnow " + "z" * 500
)
NAMED = {POST: PostName(handle="rival_brand", text=HOSTILE)}


def everything(message: Message) -> str:
    parts = [message.text, json.dumps(message.blocks, ensure_ascii=False)]
    return "\n".join(parts + [everything(more) for more in message.continuation])


def mrkdwn_texts(message: Message) -> list[str]:
    """Every string Slack reads as text (block texts and fields, and the fallback)."""
    found = [message.text]

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "text" and isinstance(inner, str):
                    found.append(inner)
                else:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(list(message.blocks))
    return found


def messages() -> dict[str, Message]:
    report = Report(
        EngagementQuery((POST,), ("impressions", "favorites")),
        totals={POST: {"impressions": Value(1_234), "favorites": Value(56)}},
        calls_made=1,
        fetched_at=NOW,
    )
    hours = [NOW.replace(minute=0) - timedelta(hours=h) for h in range(3)]
    hourly = Report(
        EngagementQuery((POST,), ("favorites",), Granularity.HOUR),
        series={POST: {"favorites": {h: 3 for h in hours}}},
        calls_made=1,
        fetched_at=NOW,
    )
    rule = AlertRule(1, "T1", "C1", "threshold", "favorites", 10, POST, None, None, "U1", NOW)
    firing = Firing(1, POST, NOW.replace(minute=0), "favorites", 40, None, NOW)
    digest = DigestData(
        channel_id="C1",
        local_date=NOW.date(),
        zone="UTC",
        post_ids=(POST,),
        left_out=0,
        totals={"impressions": 100, "favorites": 5},
        day_before={"impressions": 50},
        week_average={"impressions": 70.0},
        hourly=(4,) * 24,
        new_posts=(PostLine(POST, {"impressions": 100}),),
        top=(PostLine(POST, {"impressions": 100}),),
        authors=NAMED,
    )
    coverage = Coverage((POST,), ())
    return {
        "totals": blocks.totals_message(report, authors=NAMED, now=NOW),
        "hourly": blocks.hourly_message(hourly, authors=NAMED, now=NOW, with_chart=False),
        "leaderboard": blocks.leaderboard_message(
            [Ranked(POST, 5, "daily")], metric="favorites", period="7d", authors=NAMED, now=NOW
        ),
        "tracked": blocks.tracked_message([POST], [], coverage=coverage, authors=NAMED),
        "alerts list": blocks.alerts_message(
            [rule], snoozed_until=None, now=NOW, authors=NAMED, coverage=coverage
        ),
        "alert": alert_message(
            [AlertLine(firing, rule)],
            authors=NAMED,
            zone=ZoneInfo("UTC"),
            held=False,
            coverage=coverage,
        ),
        "digest": digest_message(digest),
    }


@pytest.mark.parametrize("kind", list(messages()))
def test_a_hostile_post_text_is_shown_harmlessly(kind: str) -> None:
    message = messages()[kind]
    assert_valid_message(message)  # no <!channel>/<!here>, well-formed mrkdwn, within limits
    text = everything(message)
    # It is named by its words, after its author's handle.
    assert "@rival_brand · “" in text
    assert "evil" in text
    assert "hey" in text
    # Mentions are shown as text, never as Slack mentions.
    assert "<!channel>" not in text
    assert "<@U0BOSS>" not in text
    # Only links to x.com: the Post's own link, never one from its text.
    assert "evil.example" not in text
    assert set(re.findall(r"<(https?://[^|>]+)", text)) == {
        f"https://x.com/rival_brand/status/{POST}"
    }
    # No mrkdwn formatting from the text, no bidi override, and 500 characters cut short.
    for said in mrkdwn_texts(message):
        for marked in ("*bold*", "_it_", "~no~", "`code`"):
            assert marked not in said
        assert not set(said) & {"\u202e", "\u202c", "\u200f"}
        assert "z" * 60 not in said


def test_the_label_is_the_start_of_the_text_and_the_id_stands_in_for_none() -> None:
    named = {
        POST: PostName("alice", "Launch day: thank you all!\nMore soon"),
        "1790000000000000002": PostName("bob", None),
        "1790000000000000003": PostName(None, None),
    }
    ids = tuple(named)
    report = Report(
        EngagementQuery(ids, ("favorites",)),
        totals={p: {"favorites": Value(1)} for p in ids},
        calls_made=1,
        fetched_at=NOW,
    )
    text = everything(blocks.totals_message(report, authors=named, now=NOW))
    assert (
        f"<https://x.com/alice/status/{POST}|@alice · “Launch day: thank you all! More soon”>"
        in (text)
    )
    assert "@bob · 1790000000000000002" in text
    assert "Post 1790000000000000003" in text


def test_a_long_text_is_cut_near_60_characters() -> None:
    words = "word " * 100
    label = re.search(
        r"“([^”]*)”",
        everything(
            blocks.tracked_message(
                [POST], [], coverage=Coverage((POST,), ()), authors={POST: PostName("a", words)}
            )
        ),
    )
    assert label is not None
    assert 50 <= len(label.group(1)) <= 60
    assert label.group(1).endswith("…")


def test_the_excerpt_keeps_words_and_emoji_and_drops_what_acts() -> None:
    from bot.render.excerpt import excerpt

    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji held by joiners
    assert excerpt(f"Line one\u2028line\ttwo\x07 {family}") == f"Line one line two {family}"
    assert excerpt("read www.evil.example/x or awww.ok") == "read [link] or awww.ok"
    assert excerpt("@here @Channel @everyone @hereford") == (
        "@\u2060here @\u2060Channel @\u2060everyone @hereford"
    )
    assert excerpt("\u202e\u200f \n ") is None  # nothing left to show: the ID names it
    assert excerpt(None) is None
