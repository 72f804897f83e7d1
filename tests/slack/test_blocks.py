"""bot.render.blocks: golden payloads, Slack's limits on huge inputs, and behaviour.

Golden payloads live in tests/snapshots/<name>.json ({text, ephemeral, blocks, chart,
continuation}; the chart as filename and title only). After changing a renderer on purpose,
refresh them and review the diff by eye before committing:

    UPDATE_SNAPSHOTS=1 python -m pytest tests/slack/test_blocks.py

Every message built here also goes through tests/support/slack_limits.py's `assert_valid_message`.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.copy import reports as reports_copy
from bot.copy import words
from bot.copy.usage import DESCRIPTIONS, EXAMPLES, USAGE
from bot.engagement.models import ALL_METRICS
from bot.engagement.query import EngagementQuery, Granularity, Reason, Report, Value, explain
from bot.engagement.service import Ranked
from bot.render import blocks
from bot.render.message import Message
from bot.store.channels import AlertRule, Coverage
from bot.store.rows import Account, EndpointUsage, OwnerUsage, Usage
from tests.support.slack_limits import assert_valid_message, visible_text
from tests.support.snapshots import SNAPSHOTS

UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"  # noqa: TID251 - a test switch, not a setting

NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
P1, P2, P3, P4 = (f"179000000000000000{i}" for i in range(1, 5))
AUTHORS: dict[str, str | None] = {P1: "@alice", P2: None, P3: "bob_marketing", P4: "@carol"}
TRACKED = Coverage((P1, P2), ("alice",))  # what a channel covers, for rules and lists
NOTHING = Coverage((), (), connected=True)
TOTALS = ("impressions", "engagements", "favorites", "retweets", "quote_tweets", "replies")
DEFAULT = (*TOTALS, "video_views")


# --- Helpers -----------------------------------------------------------------------------------


def payload(message: Message) -> dict[str, Any]:
    chart = message.chart
    return {
        "text": message.text,
        "ephemeral": message.ephemeral,
        "blocks": list(message.blocks),
        "chart": {"filename": chart.filename, "title": chart.title} if chart else None,
        "continuation": [payload(more) for more in message.continuation],
    }


def assert_snapshot(name: str, message: Message) -> None:
    assert_valid_message(message)
    path = SNAPSHOTS / f"{name}.json"
    actual = payload(message)
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}; run with UPDATE_SNAPSHOTS=1 and review it"
    assert actual == json.loads(path.read_text(encoding="utf-8")), f"{name} changed"


def everything(message: Message) -> str:
    """All text of a message and its continuation, for `in` checks."""
    parts = [message.text, json.dumps(message.blocks, ensure_ascii=False)]
    parts += [everything(more) for more in message.continuation]
    return "\n".join(parts)


def post_ids(n: int) -> tuple[str, ...]:
    return tuple(str(1_790_000_000_000_000_000 + i) for i in range(n))


def totals_report(
    posts: tuple[str, ...], metrics: tuple[str, ...] = DEFAULT, owned_every: int = 2
) -> Report:
    """Every `owned_every`-th Post is owned; the others miss impressions and engagements."""
    totals = {}
    for i, post in enumerate(posts):
        owned = i % owned_every == 0
        totals[post] = {
            m: Value(10_000 * (i + 1) // (8 * k * k + 1) + 7 * k)
            if owned or m not in ("impressions", "engagements")
            else Value(None, Reason.NOT_OWNED)
            for k, m in enumerate(metrics)
        }
    return Report(EngagementQuery(posts, metrics), totals=totals, calls_made=2, fetched_at=NOW)


def hourly_report(
    posts: tuple[str, ...] = (P1,), metrics: tuple[str, ...] = (*TOTALS,), hours: int = 28
) -> Report:
    start = datetime(2026, 11, 25, 9, tzinfo=UTC)
    buckets = [start + timedelta(hours=h) for h in range(hours)]
    series = {
        post: {
            m: {
                b: None
                if m == "replies" and i < 2
                else ((i * 37 + j) % 900 + 50) // (8 * k * k + 1)
                for i, b in enumerate(buckets)
            }
            for k, m in enumerate(metrics)
            if m != "quote_tweets"
        }
        for j, post in enumerate(posts)
    }
    missing = {
        (post, "quote_tweets"): Reason.NOT_SERVED for post in posts if "quote_tweets" in metrics
    }
    query = EngagementQuery(posts, metrics, Granularity.HOUR)
    return Report(query, series=series, missing=missing, calls_made=1, fetched_at=NOW)


def daily_report(
    days: int = 90,
    metrics: tuple[str, ...] = ("impressions", "engagements", "favorites"),
    post: str = P3,
) -> Report:
    first = date(2026, 11, 26) - timedelta(days=days)
    series = {
        post: {
            m: {
                first + timedelta(days=d): ((d * 113) % 5_000 + 100) // (8 * k * k + 1)
                for d in range(days)
            }
            for k, m in enumerate(metrics)
        }
    }
    query = EngagementQuery((post,), metrics, Granularity.DAY)
    return Report(query, series=series, calls_made=4, fetched_at=NOW)


def rule(rule_id: int, kind: str, **fields: Any) -> AlertRule:
    values: dict[str, Any] = {"metric": None, "threshold": None, "post_id": None, "handle": None}
    values |= {"sensitivity": None} | fields
    return AlertRule(rule_id, "T1", "C1", kind, created_by="U1", created_at=NOW, **values)


USAGE_ROW = Usage(
    "2026-11",
    (
        EndpointUsage("totals", 120, 2, 125, 3_000),
        EndpointUsage("28hr", 30, 0, 30, 40),
        EndpointUsage("historical", 12, 0, 14, 20),
    ),
    (OwnerUsage("11", "@alice", 100), OwnerUsage("22", None, 40)),
)


# --- Golden payloads ---------------------------------------------------------------------------


def test_snapshot_totals_one_post() -> None:
    report = totals_report((P1,))
    assert_snapshot("totals_one_post", blocks.totals_message(report, authors=AUTHORS, now=NOW))


def test_snapshot_totals_cards_with_reasons() -> None:
    report = totals_report((P1, P2, P3))
    totals = dict(report.totals)
    totals[P3] = {m: Value(None, Reason.UNAVAILABLE) for m in DEFAULT}
    totals[P1] = {**totals[P1], "favorites": Value(4_321, partial=True)}
    report = Report(report.query, totals=totals, calls_made=2, fetched_at=NOW)
    message = blocks.totals_message(report, authors=AUTHORS, now=NOW)
    assert_snapshot("totals_cards_with_reasons", message)


def test_snapshot_totals_compact() -> None:
    message = blocks.totals_message(totals_report(post_ids(8)), authors=AUTHORS, now=NOW)
    assert_snapshot("totals_compact", message)


def test_snapshot_hourly() -> None:
    message = blocks.hourly_message(hourly_report(), authors=AUTHORS, now=NOW)
    assert_snapshot("hourly", message)


def test_snapshot_daily() -> None:
    message = blocks.daily_message(daily_report(28), authors=AUTHORS, now=NOW)
    assert_snapshot("daily", message)


def test_snapshot_leaderboard() -> None:
    rows = [
        Ranked(P1, 1_234, "daily"),
        Ranked(P2, 1_234, "snapshots"),
        Ranked(P3, 98, "daily"),
        Ranked(P4, 12, "daily"),
    ]
    message = blocks.leaderboard_message(
        rows, metric="favorites", period="7d", authors=AUTHORS, now=NOW
    )
    assert_snapshot("leaderboard", message)


def test_snapshot_lists_and_replies() -> None:
    accounts = [
        Account("11", "alice", "T1", NOW - timedelta(days=20)),
        Account("22", "bob", None, NOW),
    ]
    rules = [
        rule(3, "threshold", metric="favorites", threshold=500, post_id=P1),
        rule(4, "spike", sensitivity="high"),
        rule(5, "threshold", metric="impressions", threshold=10_000, handle="alice"),
    ]
    snoozed = NOW + timedelta(hours=2)
    assert_snapshot(
        "tracked", blocks.tracked_message([P1, P2], ["alice"], coverage=TRACKED, authors=AUTHORS)
    )
    assert_snapshot("accounts", blocks.accounts_message(accounts))
    alerts = blocks.alerts_message(
        rules, snoozed_until=snoozed, now=NOW, authors=AUTHORS, coverage=TRACKED
    )
    assert_snapshot("alerts", alerts)
    assert_snapshot("usage", blocks.usage_message(USAGE_ROW))
    # What `/engagement help` and `help top` answer (tests/slack/test_replies.py checks that the
    # command's reply in Slack is this payload).
    assert_snapshot("help", blocks.help_reply())
    assert_snapshot("help_top", blocks.help_reply("top"))
    error = blocks.error_message("Unknown subcommand `tops`.", USAGE["top"])
    assert_snapshot("error", error)


# --- Slack's limits on huge inputs -------------------------------------------------------------

LONG_HANDLE = "@" + "h" * 5_000
NASTY_HANDLE = "@<!channel>&<https://evil.example|click>"


def links_in(message: Message) -> list[str]:
    return re.findall(r"<(https://x\.com/[^|>]+)\|", everything(message))


def test_250_posts_overflow_into_continuations_each_within_limits() -> None:
    report = totals_report(post_ids(250))
    message = blocks.totals_message(report, authors={}, now=NOW)
    assert_valid_message(message)
    assert message.continuation
    # Every Post exactly once, in order, across all the messages.
    expected = [f"https://x.com/i/status/{p}" for p in post_ids(250)]
    assert links_in(message) == expected
    shown_first = len(links_in(Message(message.text, message.blocks)))
    note = f"…and {250 - shown_first} more Posts in the next messages"
    assert note in json.dumps(message.blocks, ensure_ascii=False)
    pages = len(message.continuation) + 1
    assert message.continuation[0].text == f"Engagement · 250 Posts (continued, 2 of {pages})"
    assert all(more.ephemeral for more in message.continuation)
    # The reason is said once, for all the Posts it concerns, not 125 times.
    assert everything(message).count("only for your connected accounts") == 1
    assert "(125 of 250 Posts)" in everything(message)


def test_250_posts_with_every_metric_and_long_handles() -> None:
    posts = post_ids(250)
    report = totals_report(posts, metrics=ALL_METRICS)
    authors = {p: LONG_HANDLE for p in posts}
    message = blocks.totals_message(report, authors=authors, now=NOW)
    assert_valid_message(message)
    assert len(links_in(message)) == 250


def test_17_metrics_on_one_card_fit_in_sections_of_ten_fields() -> None:
    metrics = ALL_METRICS[:17]
    message = blocks.totals_message(totals_report((P1,), metrics), authors=AUTHORS, now=NOW)
    assert_valid_message(message)
    fields = [f for b in message.blocks for f in b.get("fields", [])]
    assert len(fields) == 18  # 17 metrics and the engagement rate


def test_a_long_daily_range_is_rolled_up_and_fits() -> None:
    for days, unit in ((90, None), (400, "week"), (2_500, "month"), (3_000, "year")):
        # A Post older than the range (P3's snowflake says May 2024; days before it are no rows).
        report = daily_report(days, post="1000000000000000001")
        message = blocks.daily_message(report, authors=AUTHORS, now=NOW)
        assert_valid_message(message)
        text = everything(message)
        assert (f"One row per {unit}" in text) if unit else ("One row per" not in text)
        assert message.chart is not None


def test_hourly_with_many_posts_and_metrics_pages_and_fits() -> None:
    report = hourly_report(post_ids(12), metrics=ALL_METRICS)
    authors = {p: LONG_HANDLE for p in post_ids(12)}
    message = blocks.hourly_message(report, authors=authors, now=NOW, with_chart=False)
    assert_valid_message(message)
    assert message.continuation


def test_long_lists_fit() -> None:
    rows = [Ranked(p, 10_000 - i, "daily") for i, p in enumerate(post_ids(100))]
    authors = {p: LONG_HANDLE for p in post_ids(100)}
    board = blocks.leaderboard_message(
        rows, metric="favorites", period="90d", authors=authors, now=NOW
    )
    assert_valid_message(board)
    assert "in the thread" in json.dumps(board.blocks)  # in_channel: overflow goes in a thread
    tracked = blocks.tracked_message(
        post_ids(1_000), ["h" * 300] * 300, coverage=TRACKED, authors=authors
    )
    assert_valid_message(tracked)
    accounts = [Account(str(i), "x" * 400, None, NOW) for i in range(300)]
    assert_valid_message(blocks.accounts_message(accounts))
    rules = [
        rule(i, "threshold", metric="m" * 500, threshold=10**12, handle="h" * 400)
        for i in range(300)
    ]
    assert_valid_message(blocks.alerts_message(rules, coverage=TRACKED))
    owners = tuple(OwnerUsage(str(i), "@" + "o" * 300, i) for i in range(500))
    endpoints = tuple(EndpointUsage("e" * 300, i, i, 2 * i, i) for i in range(40))
    assert_valid_message(blocks.usage_message(Usage("2026-11", endpoints, owners)))


def test_long_free_text_is_clipped() -> None:
    assert_valid_message(blocks.error_message("x" * 10_000, "y" * 10_000))
    assert_valid_message(blocks.confirmation("z" * 10_000))
    assert_valid_message(blocks.failure_message("R" * 1_000))
    usage = {f"word{i}": "/engagement " + "w" * 2_000 for i in range(60)}
    assert_valid_message(blocks.help_message(usage, ["e" * 5_000] * 20, descriptions=usage))


def test_untrusted_names_cannot_mention_or_break_links() -> None:
    authors = {P1: NASTY_HANDLE}
    messages_to_check = [
        blocks.totals_message(totals_report((P1,)), authors=authors, now=NOW),
        blocks.leaderboard_message(
            [Ranked(P1, 5, "daily")], metric="<!here>", period="7d", authors=authors, now=NOW
        ),
        blocks.tracked_message(
            [P1], [NASTY_HANDLE], coverage=Coverage((P1,), (NASTY_HANDLE,)), authors=authors
        ),
        blocks.error_message("<!everyone> & <@U123>"),
    ]
    for message in messages_to_check:
        assert_valid_message(message)  # includes: no <!here>, <!channel>, <!everyone>
        assert "<@U123>" not in everything(message)
    # An odd handle can't be part of a URL: the link falls back to x.com/i/status/<id>.
    assert links_in(messages_to_check[0]) == [f"https://x.com/i/status/{P1}"]


# --- Totals ------------------------------------------------------------------------------------


def test_one_post_card_links_the_post_and_shows_the_rate() -> None:
    message = blocks.totals_message(totals_report((P1,)), authors=AUTHORS, now=NOW)
    text = everything(message)
    assert f"<https://x.com/alice/status/{P1}|@alice · {P1}>" in text
    assert "*Engagement rate*" in text
    assert message.ephemeral
    assert message.text.startswith(f"@alice · {P1}: 10,000 impressions · 1,118 engagements")


def test_no_rate_without_impressions() -> None:
    message = blocks.totals_message(totals_report((P1, P2)), authors=AUTHORS, now=NOW)  # P2 unowned
    cards = [b for b in message.blocks if b["type"] == "section"]
    assert [("Engagement rate" in json.dumps(card)) for card in cards] == [True, False]
    assert f"https://x.com/i/status/{P2}" in json.dumps(cards[1])


def test_a_post_with_no_numbers_says_why_inline() -> None:
    totals = {P1: {m: Value(None, Reason.UNAVAILABLE) for m in DEFAULT}}
    report = Report(EngagementQuery((P1,), DEFAULT), totals=totals, fetched_at=NOW)
    message = blocks.totals_message(report, authors=AUTHORS, now=NOW)
    assert "_Deleted, or unknown to X_" in everything(message)
    assert not [b for b in message.blocks if b["type"] == "context" and "Deleted" in str(b)]


def test_reasons_from_the_missing_map_are_footnoted_once_with_counts() -> None:
    posts = post_ids(20)
    totals = {p: {"favorites": Value(i)} for i, p in enumerate(posts)}
    missing = {(p, "impressions"): Reason.IMPRESSIONS_TOO_OLD for p in posts[:3]}
    query = EngagementQuery(posts, ("impressions", "favorites"))
    report = Report(query, totals=totals, missing=missing, fetched_at=NOW)
    message = blocks.totals_message(report, authors={}, now=NOW)
    notes = [e["text"] for b in message.blocks if b["type"] == "context" for e in b["elements"]]
    assert "*Impressions* (3 of 20 Posts): X keeps these for 90 days after posting" in notes


def test_partial_sums_are_marked() -> None:
    totals = {P1: {"favorites": Value(12_345, partial=True)}}
    report = Report(EngagementQuery((P1,), ("favorites",)), totals=totals, fetched_at=NOW)
    text = everything(blocks.totals_message(report, authors=AUTHORS, now=NOW))
    assert "≥12,345" in text
    assert reports_copy.PARTIAL_NOTE in text


def test_an_empty_report_still_says_something() -> None:
    report = Report(EngagementQuery((), ()), fetched_at=None)
    for message in (
        blocks.totals_message(report, authors={}, now=NOW),
        blocks.hourly_message(report, authors={}, now=NOW),
    ):
        assert_valid_message(message)
        assert reports_copy.NO_NUMBERS in everything(message)
        assert message.chart is None


def test_every_reason_has_a_marketer_phrase() -> None:
    for reason in Reason:
        phrase = words.reason_phrase(reason)
        assert phrase
        assert phrase != explain(reason)
    assert "/engagement connect" in words.reason_phrase(Reason.NOT_OWNED)


# --- Hourly and daily --------------------------------------------------------------------------


def test_hourly_has_totals_peak_trend_table_and_chart() -> None:
    message = blocks.hourly_message(hourly_report(), authors=AUTHORS, now=NOW)
    text = everything(message)
    assert "*Peak hour*\\nThu 26 Nov 09:00\\n938 impressions" in text
    assert "`▁" in text  # sparkline
    assert "```\\n" in text
    assert "Impr" in text
    assert "*Replies*\\n≥" in text  # two hours without a value
    assert "*Quotes*: X doesn't report these" in text
    assert message.chart is not None
    assert message.chart.filename == f"engagement-hourly-{P1}.png"
    assert "peak Thu 26 Nov 09:00 UTC (938 impressions)" in message.text


def test_series_without_chart_and_without_activity() -> None:
    report = hourly_report()
    quiet = Report(
        report.query,
        series={P1: {m: dict.fromkeys(s, 0) for m, s in report.series[P1].items()}},
    )
    message = blocks.hourly_message(quiet, authors=AUTHORS, now=NOW, with_chart=False)
    assert_valid_message(message)
    assert message.chart is None
    assert reports_copy.quiet_range(True) in everything(message)
    assert "Peak hour" not in everything(message)


def test_several_posts_chart_one_metric_each() -> None:
    report = hourly_report((P1, P2, P3, P4))
    message = blocks.hourly_message(report, authors=AUTHORS, now=NOW)
    assert_valid_message(message)
    assert message.chart is not None
    assert message.chart.title == "Hour by hour: 4 Posts"


# --- Leaderboard, lists, replies ---------------------------------------------------------------


def test_leaderboard_is_in_channel_with_medals_and_shared_ranks() -> None:
    rows = [
        Ranked(P1, 9, "daily"),
        Ranked(P2, 9, "daily"),
        Ranked(P3, 5, "daily"),
        Ranked(P4, 1, "daily"),
    ]
    message = blocks.leaderboard_message(
        rows, metric="favorites", period="28d", authors=AUTHORS, now=NOW
    )
    assert not message.ephemeral
    lines = message.blocks[2]["text"]["text"].split("\n")
    assert [line.split(" ")[0] for line in lines] == ["🥇", "🥇", "🥉", "4."]
    assert "last 28 days" in message.text
    assert "bot's own readings" not in everything(message)  # no snapshot rows


def test_an_empty_leaderboard_tells_the_asker_how_to_track() -> None:
    message = blocks.leaderboard_message([], metric="favorites", period="7d", authors={}, now=NOW)
    assert_valid_message(message)
    assert message.ephemeral
    assert "/engagement track" in message.text


def test_empty_lists_explain_what_to_do() -> None:
    for message, command in (
        (blocks.tracked_message([], [], coverage=NOTHING), "/engagement track"),
        (blocks.accounts_message([]), "/engagement connect"),
        (blocks.alerts_message([], coverage=NOTHING), "/engagement alert"),
    ):
        assert_valid_message(message)
        assert command in message.text


def test_an_expired_snooze_is_not_shown() -> None:
    rules = [rule(1, "spike")]
    message = blocks.alerts_message(
        rules, snoozed_until=NOW - timedelta(hours=1), now=NOW, coverage=TRACKED
    )
    assert "Snoozed" not in everything(message)


def test_usage_counts_owner_accounts() -> None:
    message = blocks.usage_message(USAGE_ROW)
    assert message.text == "November 2026: 162 API calls, 2 owner accounts."
    assert "account 22" in everything(message)
    empty = blocks.usage_message(Usage("2026-11", (), ()))
    assert empty.text == "No X API calls yet in November 2026."


def test_help_for_one_subcommand_shows_its_example_and_needs() -> None:
    message = blocks.help_reply("top")
    text = everything(message)
    assert EXAMPLES["top"] in text
    assert EXAMPLES["totals"] not in text
    assert DESCRIPTIONS["top"] in text
    assert "_Needs:_ tracked Posts and accounts here" in text
    assert message.ephemeral


def test_replies() -> None:
    failure = blocks.failure_message("ABC123")
    assert failure.text == "Something went wrong on our side (ref ABC123). Try again in a minute."
    assert failure.ephemeral
    error = blocks.error_message("That's not a Post.", "/engagement hourly <post>")
    assert error.ephemeral
    assert "Usage: `/engagement hourly &lt;post&gt;`" in error.text
    assert blocks.ack_text() == "Fetching…"
    assert blocks.confirmation("Done.").ephemeral
    assert not blocks.confirmation("Done.", in_channel=True).ephemeral


# --- The limits helper catches what Slack rejects ----------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        [{"type": "divider"}] * 51,
        [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}],
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2_001}]}],
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3_001}}],
        [{"type": "section", "text": {"type": "mrkdwn", "text": "<!here> hi"}}],
        [{"type": "section", "text": {"type": "mrkdwn", "text": "`track <post link>`"}}],
        [{"type": "context", "elements": [{"type": "mrkdwn", "text": "a & b"}]}],
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2_900}}] * 4,
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "bogus": 1}],
        [{"type": "data_table"}],
    ],
)
def test_the_limits_helper_rejects(bad: list[dict[str, Any]]) -> None:
    with pytest.raises((AssertionError, Exception)):
        assert_valid_message(Message("fallback", tuple(bad)))


def test_the_limits_helper_checks_continuations_and_the_fallback() -> None:
    ok = Message("fine", ({"type": "divider"},))
    with pytest.raises(AssertionError, match="continuation"):
        assert_valid_message(Message("fine", continuation=(Message(" "),)))
    with pytest.raises(AssertionError, match="text fallback"):
        assert_valid_message(Message("x" * 4_001))
    assert_valid_message(ok)
    assert visible_text([{"text": "abc", "x": {"text": "de"}}]) == 5


# --- Any report renders a valid message --------------------------------------------------------

METRICS = st.one_of(st.sampled_from(ALL_METRICS), st.text(min_size=1, max_size=20))
POSTS = st.one_of(st.integers(1, 10**19).map(str), st.text(min_size=1, max_size=30))
COUNTS = st.one_of(st.none(), st.integers(0, 10**13))


@st.composite
def reports(draw: st.DrawFn) -> Report:
    granularity = draw(st.sampled_from(Granularity))
    posts = tuple(draw(st.lists(POSTS, max_size=30, unique=True)))
    metrics = tuple(draw(st.lists(METRICS, max_size=17, unique=True)))
    reasons = st.sampled_from(Reason)
    missing = {
        (p, m): draw(reasons)
        for p in posts
        for m in metrics
        if draw(st.booleans()) and draw(st.booleans())
    }
    totals: dict[str, dict[str, Value]] = {}
    series: dict[str, dict[str, dict[datetime | date, int | None]]] = {}
    if granularity is Granularity.TOTAL:
        for p in posts:
            totals[p] = {
                m: Value(draw(COUNTS), draw(st.one_of(st.none(), reasons)), draw(st.booleans()))
                for m in metrics
                if (p, m) not in missing
            }
    else:
        hourly = granularity is Granularity.HOUR
        start = draw(st.datetimes(datetime(2015, 1, 1), datetime(2030, 1, 1))).replace(
            minute=0, second=0, microsecond=0, tzinfo=UTC
        )
        length = draw(st.integers(0, 800))
        step = timedelta(hours=1) if hourly else timedelta(days=1)
        keys = [start + i * step if hourly else (start + i * step).date() for i in range(length)]
        for p in posts:
            series[p] = {
                m: {k: draw(COUNTS) for k in keys[: draw(st.integers(0, length))]}
                for m in metrics
                if (p, m) not in missing
            }
    query = EngagementQuery(posts, metrics, granularity)
    return Report(
        query, totals=totals, series=series, missing=missing, calls_made=draw(st.integers(0, 99))
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(reports(), st.dictionaries(POSTS, st.one_of(st.none(), st.text(max_size=60)), max_size=10))
def test_any_report_renders_valid_messages(report: Report, authors: dict[str, str | None]) -> None:
    if report.query.granularity is Granularity.TOTAL:
        message = blocks.totals_message(report, authors=authors, now=NOW)
    elif report.query.granularity is Granularity.HOUR:
        message = blocks.hourly_message(report, authors=authors, now=NOW, with_chart=False)
    else:
        message = blocks.daily_message(report, authors=authors, now=NOW, with_chart=False)
    assert_valid_message(message)
