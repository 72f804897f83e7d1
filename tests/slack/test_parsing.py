"""`/engagement` text → Command: a table of good inputs, a table of bad ones, and properties."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from bot.copy.usage import DESCRIPTIONS, EXAMPLES, SUBCOMMANDS, TABLE, USAGE, USAGE_HINT, help_text
from bot.engagement.metric_names import ALIASES
from bot.engagement.models import ALL_METRICS
from bot.engagement.post_refs import PostRef
from bot.errors import UsageError
from bot.slack.commands import GUARDED
from bot.slack.parse import grammar as parsing
from bot.slack.parse.commands import (
    Accounts,
    AlertOff,
    Alerts,
    AlertSpike,
    AlertThreshold,
    CampaignList,
    CampaignShow,
    Command,
    Compare,
    Connect,
    Daily,
    DigestNow,
    DigestOff,
    DigestOn,
    Disconnect,
    Help,
    Hourly,
    Quiet,
    Settings,
    Snooze,
    Top,
    Totals,
    Track,
    Tracked,
    Untrack,
    Usage,
)
from bot.slack.parse.grammar import WORD_ALIASES, parse

TODAY = date(2026, 11, 26)
ID = "1460323737035677698"
ID2 = "1460323737035677699"
URL = f"https://x.com/XDevelopers/status/{ID}"
P = PostRef(ID)
P2 = PostRef(ID2)
PU = PostRef(ID, "XDevelopers")


def d(text: str) -> date:
    return date.fromisoformat(text)


GOOD: list[tuple[str, Command]] = [
    # help
    ("", Help()),
    ("   \t\n ", Help()),
    ("help", Help()),
    ("HELP", Help()),
    ("?", Help()),
    ("--help", Help()),
    ("help top", Help("top")),
    ("help Digest", Help("digest")),
    ("help leaderboard", Help("top")),
    ("help alerts", Help("alerts")),
    ("help digest on", Help("digest")),
    ("/engagement help", Help()),
    # totals, with and without the word
    (ID, Totals((P,))),
    (f"{ID} {ID2}", Totals((P, P2))),
    (f"{ID} {ID}", Totals((P,))),
    (URL, Totals((PU,))),
    (f"<{URL}|x.com/XDevelopers/status/{ID}>", Totals((PU,))),
    (f"<{URL}>", Totals((PU,))),
    (f"&lt;{URL}&gt;", Totals((PU,))),
    (f"https://twitter.com/jack/status/20?s=20 {ID}", Totals((PostRef("20", "jack"), P))),
    (f"{ID} likes impressions", Totals((P,), ("favorites", "impressions"))),
    (f"totals {ID}", Totals((P,))),
    (f"Totals {ID} {ID2} likes,reposts", Totals((P, P2), ("favorites", "retweets"))),
    (f"totals {ID},{ID2}", Totals((P, P2))),
    (f"totals {ID}, {ID2}", Totals((P, P2))),
    (f"total {ID} views", Totals((P,), ("impressions",))),
    (f"totals likes {ID}", Totals((P,), ("favorites",))),
    (f"totals {ID} likes likes favorites", Totals((P,), ("favorites",))),
    (f"totals {ID} quote-tweets", Totals((P,), ("quote_tweets",))),
    (f"“totals” ‘{ID}’", Totals((P,))),
    (f"`totals {ID}`", Totals((P,))),
    (f"totals\u00a0{ID}\u200b", Totals((P,))),
    (f"/engagement {ID}", Totals((P,))),
    # hourly
    (f"hourly {ID}", Hourly(P)),
    (f"HOURLY {URL} likes", Hourly(PU, ("favorites",))),
    (f"hourly {ID} impressions,engagements", Hourly(P, ("impressions", "engagements"))),
    # daily
    (f"daily {ID}", Daily(P)),
    (f"daily {ID} from 2026-11-01", Daily(P, d("2026-11-01"))),
    (f"daily {ID} to 2026-11-07", Daily(P, None, d("2026-11-07"))),
    (
        f"daily {ID} from 2026-11-01 to 2026-11-07",
        Daily(P, d("2026-11-01"), d("2026-11-07")),
    ),
    (
        f"daily {ID} since 2026-11-01 until 2026-11-07 likes",
        Daily(P, d("2026-11-01"), d("2026-11-07"), ("favorites",)),
    ),
    (f"daily {ID} to 2026-11-07 from 2026-11-01", Daily(P, d("2026-11-01"), d("2026-11-07"))),
    (f"daily {ID} 2026-11-01 2026-11-07", Daily(P, d("2026-11-01"), d("2026-11-07"))),
    (f"daily {ID} 2026-11-01 to 2026-11-07", Daily(P, d("2026-11-01"), d("2026-11-07"))),
    (f"daily {ID} 2026-11-01..2026-11-07", Daily(P, d("2026-11-01"), d("2026-11-07"))),
    (f"daily {ID} 2026-11-01 – 2026-11-07", Daily(P, d("2026-11-01"), d("2026-11-07"))),
    (f"daily {ID} 2026-11-01–2026-11-07", Daily(P, d("2026-11-01"), d("2026-11-07"))),
    (f"daily from 2026-11-01 {ID}", Daily(P, d("2026-11-01"))),
    (f"daily {ID} from 2026-11-26 to 2026-11-26", Daily(P, TODAY, TODAY)),
    (f"daily {ID} 7d", Daily(P, d("2026-11-20"), TODAY)),
    (f"daily {ID} 28d", Daily(P, d("2026-10-30"), TODAY)),
    (f"daily {ID} 90d likes", Daily(P, d("2026-08-29"), TODAY, ("favorites",))),
    (f"daily {ID} last 7 days", Daily(P, d("2026-11-20"), TODAY)),
    (f"daily {ID} past 2 weeks", Daily(P, d("2026-11-13"), TODAY)),
    (f"daily {ID} 1d", Daily(P, TODAY, TODAY)),
    # top
    ("top", Top()),
    ("top likes", Top("favorites")),
    ("top 5", Top(limit=5)),
    ("top 24h", Top(period="24h")),
    ("top likes 5 28d", Top("favorites", 5, "28d")),
    ("top 28d 5 likes", Top("favorites", 5, "28d")),
    ("top 5 likes 90d", Top("favorites", 5, "90d")),
    ("TOP IMPRESSIONS 25 7D", Top("impressions", 25, "7d")),
    ("top 1d", Top(period="24h")),
    ("top 1 day", Top(limit=1, period="24h")),
    ("top 5 week", Top(limit=5, period="7d")),
    ("top 24 hours", Top(period="24h")),
    ("top 7 days", Top(period="7d")),
    ("top week", Top(period="7d")),
    ("top month", Top(period="28d")),
    ("top quarter", Top(period="90d")),
    ("top 1w", Top(period="7d")),
    ("top 4 weeks", Top(period="28d")),
    ("top 168h", Top(period="7d")),
    ("top 10 posts by reposts this week", Top("retweets", 10, "7d")),
    ("top 3 by replies last month", Top("replies", 3, "28d")),
    ("leaderboard 5", Top(limit=5)),
    ("top 7d 7d", Top()),
    # track / untrack / tracked
    ("track @nasa", Track((), ("nasa",))),
    ("track nasa", Track((), ("nasa",))),
    ("track @NASA @nasa", Track((), ("NASA",))),
    (f"track @nasa {ID} {URL}", Track((P,), ("nasa",))),
    ("track @nasa, @esa", Track((), ("nasa", "esa"))),
    ("track @nasa,@esa", Track((), ("nasa", "esa"))),
    ("track https://x.com/NASA", Track((), ("NASA",))),
    ("track https://twitter.com/nasa/", Track((), ("nasa",))),
    ("track @123456789012345", Track((), ("123456789012345",))),
    ("track @a_b", Track((), ("a_b",))),
    (f"untrack {ID}", Untrack((P,))),
    ("untrack @nasa", Untrack((), ("nasa",))),
    ("tracked", Tracked()),
    ("Tracked", Tracked()),
    # digest
    ("digest on", DigestOn()),
    ("digest on 09:30", DigestOn(time(9, 30))),
    ("digest on 9:30", DigestOn(time(9, 30))),
    ("digest on 9", DigestOn(time(9))),
    ("digest on 21:05", DigestOn(time(21, 5))),
    ("digest on 00:00", DigestOn(time(0))),
    ("digest on 9am", DigestOn(time(9))),
    ("digest on 9 am", DigestOn(time(9))),
    ("digest on 9:30pm", DigestOn(time(21, 30))),
    ("digest on 9:30 PM", DigestOn(time(21, 30))),
    ("digest on 9 p.m.", DigestOn(time(21))),
    ("digest on 12am", DigestOn(time(0))),
    ("digest on 12pm", DigestOn(time(12))),
    ("digest on noon", DigestOn(time(12))),
    ("digest on Europe/Paris", DigestOn(None, "Europe/Paris")),
    ("digest on europe/paris", DigestOn(None, "Europe/Paris")),
    ("digest on 09:30 Europe/Paris", DigestOn(time(9, 30), "Europe/Paris")),
    ("digest on Europe/Paris 09:30", DigestOn(time(9, 30), "Europe/Paris")),
    ("digest on at 9am in america/new_york", DigestOn(time(9), "America/New_York")),
    ("digest on 9am America/New York", DigestOn(time(9), "America/New_York")),
    (
        "digest on 8:00 america/argentina/buenos_aires",
        DigestOn(time(8), "America/Argentina/Buenos_Aires"),
    ),  # noqa: E501
    ("digest on 07:00 UTC", DigestOn(time(7), "UTC")),
    ("digest on 07:00 utc", DigestOn(time(7), "UTC")),
    ("DIGEST ON 07:00 ASIA/TOKYO", DigestOn(time(7), "Asia/Tokyo")),
    ("digest enable", DigestOn()),
    ("digest off", DigestOff()),
    ("digest OFF", DigestOff()),
    ("digest disable", DigestOff()),
    ("digest now", DigestNow()),
    ("digest send", DigestNow()),
    # alert thresholds
    ("alert likes > 100/h", AlertThreshold("favorites", 100)),
    ("alert likes &gt; 100/h", AlertThreshold("favorites", 100)),
    ("alert likes>100/h", AlertThreshold("favorites", 100)),
    ("alert likes >100 /h", AlertThreshold("favorites", 100)),
    ("alert likes > 100 /h", AlertThreshold("favorites", 100)),
    ("alert likes > 100 / h", AlertThreshold("favorites", 100)),
    ("alert likes > 100/hr", AlertThreshold("favorites", 100)),
    ("alert likes > 100/hour", AlertThreshold("favorites", 100)),
    ("alert likes > 100 per hour", AlertThreshold("favorites", 100)),
    ("alert likes > 100 an hour", AlertThreshold("favorites", 100)),
    ("alert likes > 100", AlertThreshold("favorites", 100)),
    ("alert likes 100/h", AlertThreshold("favorites", 100)),
    ("alert likes over 100 per hour", AlertThreshold("favorites", 100)),
    ("alert likes more than 100 per hour", AlertThreshold("favorites", 100)),
    ("alert likes >= 100/h", AlertThreshold("favorites", 99)),
    ("alert likes ≥ 100/h", AlertThreshold("favorites", 99)),
    ("alert likes > 0/h", AlertThreshold("favorites", 0)),
    ("alert likes > 1.5k/h", AlertThreshold("favorites", 1500)),
    ("alert likes > 1.5K /h", AlertThreshold("favorites", 1500)),
    ("alert views > 2m/h", AlertThreshold("impressions", 2_000_000)),
    ("alert views > 1,000/h", AlertThreshold("impressions", 1000)),
    ("alert views > 10k per hour @nasa", AlertThreshold("impressions", 10_000, None, "nasa")),
    ("ALERT REPOSTS > 5/H", AlertThreshold("retweets", 5)),
    ("alert likes > 100/h @nasa", AlertThreshold("favorites", 100, None, "nasa")),
    ("alert likes > 100/h nasa", AlertThreshold("favorites", 100, None, "nasa")),
    ("alert likes > 100/h on @nasa", AlertThreshold("favorites", 100, None, "nasa")),
    (f"alert likes > 100/h {ID}", AlertThreshold("favorites", 100, P)),
    (f"alert likes > 100 {ID}", AlertThreshold("favorites", 100, P)),
    (f"alert likes > 100/h {URL}", AlertThreshold("favorites", 100, PU)),
    (f"alert likes > 100/h <{URL}|x.com/...>", AlertThreshold("favorites", 100, PU)),
    ("alert quote-tweets > 3/h", AlertThreshold("quote_tweets", 3)),
    ("alerts likes > 100/h", AlertThreshold("favorites", 100)),
    # other alert forms
    ("alert spike", AlertSpike("medium")),
    ("alert spike low", AlertSpike("low")),
    ("alert spike HIGH", AlertSpike("high")),
    ("alert spikes med", AlertSpike("medium")),
    ("alerts", Alerts()),
    ("ALERTS", Alerts()),
    ("alert list", Alerts()),
    ("alert off 3", AlertOff(3)),
    ("alert off #3", AlertOff(3)),
    ("alert remove 12", AlertOff(12)),
    ("alert delete #7", AlertOff(7)),
    ("alerts off 3", AlertOff(3)),
    # snooze
    ("snooze 30m", Snooze(timedelta(minutes=30))),
    ("snooze 2h", Snooze(timedelta(hours=2))),
    ("snooze 1d", Snooze(timedelta(days=1))),
    ("snooze 7d", Snooze(timedelta(days=7))),
    ("snooze 1w", Snooze(timedelta(days=7))),
    ("snooze 1h30m", Snooze(timedelta(minutes=90))),
    ("snooze 1h 30m", Snooze(timedelta(minutes=90))),
    ("snooze 1.5h", Snooze(timedelta(minutes=90))),
    ("snooze 2 hours", Snooze(timedelta(hours=2))),
    ("snooze for 45 minutes", Snooze(timedelta(minutes=45))),
    ("snooze 1 day 2 hours", Snooze(timedelta(hours=26))),
    ("snooze 1m", Snooze(timedelta(minutes=1))),
    ("SNOOZE 2H", Snooze(timedelta(hours=2))),
    ("snooze off", Snooze(timedelta(0))),
    ("snooze cancel", Snooze(timedelta(0))),
    # quiet
    ("quiet 22:00-07:00", Quiet(time(22), time(7))),
    ("quiet 22:00 - 07:30", Quiet(time(22), time(7, 30))),
    ("quiet 22:00 to 07:00", Quiet(time(22), time(7))),
    ("quiet 22:00 07:00", Quiet(time(22), time(7))),
    ("quiet 10pm-7am", Quiet(time(22), time(7))),
    ("quiet 12:00–14:00", Quiet(time(12), time(14))),
    ("quiet off", Quiet(None, None)),
    # accounts
    ("connect", Connect()),
    ("accounts", Accounts()),
    ("account", Accounts()),
    ("disconnect @nasa", Disconnect("nasa")),
    ("disconnect nasa", Disconnect("nasa")),
    ("disconnect https://x.com/nasa", Disconnect("nasa")),
    ("usage", Usage()),
    ("Usage", Usage()),
]


@pytest.mark.parametrize(("text", "expected"), GOOD, ids=[t or "<empty>" for t, _ in GOOD])
def test_good_input(text: str, expected: Command):
    assert parse(text, today=TODAY) == expected


# (text, a fragment the error must contain); every error also shows a usage line.
BAD: list[tuple[str, str]] = [
    ("foo", "Unknown subcommand `foo`"),
    ("tops 5", "Did you mean `top`"),
    ("trak @nasa", "Did you mean `track`"),
    ("digets on", "Did you mean `digest`"),
    ("snoze 2h", "Did you mean `snooze`"),
    ("@nasa", "use `track`"),
    ("help me", "no subcommand `me`"),
    ("help tpo", "Did you mean `top`"),
    ("https://x.com/nasa/status/abc", "is not a Post ID or a Post URL"),
    ("0", "`0` is not a Post ID"),
    ("totals", "Which Posts?"),
    ("totals likes", "Which Posts?"),
    (f"totals {ID} likez", "Did you mean `like"),
    (f"totals {ID} https://example.com/x", "`https://example.com/x` is not a Post ID"),
    (f"{ID} bananas", "`bananas` is not a metric"),
    ("hourly", "exactly one Post (got 0)"),
    (f"hourly {ID} {ID2}", "exactly one Post (got 2)"),
    ("daily", "exactly one Post (got 0)"),
    (f"daily {ID} from", "`from` needs a date"),
    (f"daily {ID} from yesterday", "`yesterday` is not a date"),
    (f"daily {ID} from 2026-02-30", "`2026-02-30` is not a real date"),
    (f"daily {ID} from 2026-11-07 to 2026-11-01", "ends (2026-11-01) before it starts"),
    (f"daily {ID} to 2026-12-01", "2026-12-01 is in the future"),
    (f"daily {ID} from 2027-01-01", "2027-01-01 is in the future"),
    (f"daily {ID} from 2026-11-01 from 2026-11-02", "Two start (from) dates"),
    (f"daily {ID} 2026-11-01 2026-11-02 2026-11-03", "Two end (to) dates"),
    (f"daily {ID} 7d from 2026-11-01", "either `7d` or from/to"),
    (f"daily {ID} 0d", "`0d` is out of range"),
    (f"daily {ID} 9999d", "out of range"),
    (f"daily {ID} 24h", "`daily` counts days"),
    ("top 0", "`0` is out of range"),
    ("top 26", "`26` is out of range"),
    ("top 100000000000000000000", "out of range"),
    ("top 30d", "`30d` is not a period"),
    ("top 48h", "`48h` is not a period"),
    ("top likes 5 1y", "`1y` is not a period. `top` ranks over the last 24h, 7d, 28d or 90d"),
    ("top 5 1 year", "`1year` is not a period"),
    ("top 6mo", "`6mo` is not a period"),
    ("top bananas", "The metrics are: impressions, engagements, likes, reposts, quotes"),
    ("alert likes > 99999999999999999999/h", "`99999999999999999999` is too large"),
    ("alert likes > 1000000001/h", "up to `> 1,000,000,000` per hour"),
    ("top likes replies", "Two metrics"),
    ("top 5 6", "Two numbers"),
    ("top 7d 28d", "Two periods"),
    ("top likez", "Did you mean `like"),
    ("track", "needs at least one Post or @handle"),
    ("track @this_handle_is_too_long", "neither a Post (ID or URL) nor an X handle"),
    ("track @bad-name", "`@bad-name` is neither"),
    ("track <@U123|bob>", "`<@U123>` is neither"),
    ("untrack", "needs at least one"),
    ("tracked @nasa", "`tracked` takes nothing after it (got `@nasa`)"),
    ("digest", "needs `on`, `off`, `now`, `weekly` or `monthly`"),
    ("digest maybe", "(got `maybe`)"),
    ("digest off now", "`digest off` takes nothing after it (got `now`)"),
    ("digest now please", "(got `please`)"),
    ("digest on 25:00", "`25:00` is not a time of day"),
    ("digest on 9:75", "`9:75` is not a time of day"),
    ("digest on 13pm", "with am/pm the hour is 1 to 12"),
    ("digest on 9am 10am", "Two times"),
    ("digest on Europe/Pari", "Did you mean `Europe/Paris`"),
    ("digest on Mars/Olympus_Mons", "Unknown time zone `Mars/Olympus_Mons`"),
    ("digest on PST", "`PST` is neither a time"),
    ("digest on 9am Europe/Paris Asia/Tokyo", "`Asia/Tokyo` is neither"),
    ("alert", "needs a metric and a threshold"),
    ("alert > 100/h", "starts with a metric name (got `>`)"),
    ("alert likez > 100/h", "Did you mean `like"),
    ("alert likes >", "Expected a number per hour after `likes >`, got `nothing`"),
    ("alert likes > lots", "got `lots`"),
    ("alert likes > 100/d", "per hour (`/h`), not per `d`"),
    ("alert likes > 100 per day", "not per `day`"),
    ("alert likes > 1.2345k/h", "`1.2345k` is not a whole number"),
    ("alert likes > 1.5/h", "`1.5` is not a whole number"),
    ("alert likes >= 0/h", "from `> 0` (any)"),
    ("alert likes > 5000m/h", "to `> 1,000,000,000`"),
    ("alert likes > 100/h @nasa @esa", "Unexpected `@esa`"),
    ("alert likes > 100/h @bad-handle", "`@bad-handle` is neither"),
    ("alert spike extreme", "low, medium or high (got `extreme`)"),
    ("alert spike high now", "low, medium or high"),
    ("alert off", "needs one rule id"),
    ("alert off three", "needs one rule id"),
    ("alert off 0", "needs one rule id"),
    ("alert off 3 4", "needs one rule id"),
    ("alert list all", "`alert list` takes nothing after it"),
    ("snooze", "needs a duration like 30m"),
    ("quiet", "needs a local time range like 22:00-07:00"),
    ("quiet 22:00", "(got `22:00`)"),
    ("quiet 25:00-07:00", "needs a local time range"),
    ("quiet 22:00-07:00-08:00", "needs a local time range"),
    ("quiet 09:00-09:00", "different times"),
    ("snooze 30", "(got `30`)"),
    ("snooze soon", "(got `soon`)"),
    ("snooze 2 months", "needs a duration"),
    ("snooze 8d", "at most 7 days"),
    ("snooze 169h", "at most 7 days"),
    ("snooze 99999999999d", "needs a duration"),
    ("snooze 999999d", "at most 7 days"),
    ("snooze 0m", "at least a minute"),
    ("snooze 10s", "needs a duration"),
    ("connect @nasa", "`connect` takes nothing after it"),
    ("accounts list", "`accounts` takes nothing after it"),
    ("usage now", "`usage` takes nothing after it"),
    ("disconnect", "`disconnect` takes one @handle"),
    ("disconnect @a @b", "takes one @handle (got `@a @b`)"),
    ("disconnect @this_handle_is_too_long", "takes one @handle"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD, ids=[t for t, _ in BAD])
def test_bad_input(text: str, fragment: str):
    with pytest.raises(UsageError) as caught:
        parse(text, today=TODAY)
    message = str(caught.value)
    assert fragment in message
    assert len(message) <= 500  # the error reply clips longer text
    assert "Usage: `/engagement" in message or "Try `/engagement help`" in message


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("top 0", "top"),
        ("digest on 25:00", "digest"),
        ("alert likes > lots", "alert"),
        ("snooze soon", "snooze"),
        ("tops", "top"),
        (f"daily {ID} 0d", "daily"),
    ],
)
def test_errors_show_the_usage_line_and_an_example_of_that_subcommand(text: str, word: str):
    with pytest.raises(UsageError) as caught:
        parse(text, today=TODAY)
    assert f"Usage: `{USAGE[word]}`" in str(caught.value)
    assert f"Example: `{EXAMPLES[word]}`" in str(caught.value)


def test_unknown_subcommand_far_from_all_lists_them():
    with pytest.raises(UsageError) as caught:
        parse("xyzzy")
    assert all(word in str(caught.value) for word in SUBCOMMANDS)


def test_long_junk_is_shortened_in_messages():
    with pytest.raises(UsageError) as caught:
        parse("q" * 500)
    assert len(str(caught.value)) < 400


# -- today --------------------------------------------------------------------------------


def test_without_today_future_dates_are_not_checked():
    assert parse(f"daily {ID} from 2030-01-01") == Daily(P, d("2030-01-01"))


def test_without_today_relative_ranges_ask_for_dates():
    with pytest.raises(UsageError, match="give from/to dates instead"):
        parse(f"daily {ID} 7d")


def test_relative_range_cannot_reach_before_year_one():
    with pytest.raises(UsageError, match="before the calendar starts"):
        parse(f"daily {ID} 90d", today=date(1, 1, 5))


# -- every subcommand is parsed and documented --------------------------------------------

# The smallest text for each word, and the type it parses to.
WORD_FORMS: dict[str, tuple[str, type]] = {
    "help": ("help", Help),
    "totals": (f"totals {ID}", Totals),
    "hourly": (f"hourly {ID}", Hourly),
    "daily": (f"daily {ID}", Daily),
    "top": ("top", Top),
    "track": ("track @nasa", Track),
    "untrack": ("untrack @nasa", Untrack),
    "tracked": ("tracked", Tracked),
    "digest": ("digest on", DigestOn),
    "alert": ("alert likes > 1/h", AlertThreshold),
    "alerts": ("alerts", Alerts),
    "snooze": ("snooze 1h", Snooze),
    "quiet": ("quiet 22:00-07:00", Quiet),
    "connect": ("connect", Connect),
    "accounts": ("accounts", Accounts),
    "disconnect": ("disconnect @nasa", Disconnect),
    "usage": ("usage", Usage),
    "campaign": ('campaign "Spring launch"', CampaignShow),
    "campaigns": ("campaigns", CampaignList),
    "compare": ("compare @nasa vs @esa", Compare),
    "settings": ("settings", Settings),
}


def test_every_subcommand_has_a_parse_test_and_docs():
    assert list(WORD_FORMS) == list(SUBCOMMANDS)
    assert set(USAGE) == set(DESCRIPTIONS) == set(EXAMPLES) == set(SUBCOMMANDS)


@pytest.mark.parametrize("word", SUBCOMMANDS)
def test_each_subcommand_parses(word: str):
    text, kind = WORD_FORMS[word]
    assert type(parse(text, today=TODAY)) is kind
    assert parse(f"help {word}") == Help(word)


@pytest.mark.parametrize("word", SUBCOMMANDS)
def test_each_example_parses_and_names_its_subcommand(word: str):
    example_text = EXAMPLES[word]
    assert isinstance(parse(example_text, today=TODAY), Command)
    assert USAGE[word].startswith("/engagement ")
    if word != "totals":  # the totals example shows the bare-Post form
        assert example_text.split()[1] == word


def test_help_and_usage_hint_mention_every_subcommand():
    everything = help_text()
    for word in SUBCOMMANDS:
        assert USAGE[word] in everything
        assert re.search(rf"\b{word}\b", USAGE_HINT)
        assert USAGE[word] in help_text(word)
    assert len(USAGE_HINT) <= 1000


def test_every_word_the_parser_accepts_is_described_in_the_help_table():
    # parsed before the table: alert, daily, and the campaign words (quoted names)
    accepted = {*parsing._PARSERS, "alert", "daily", "campaign", "campaigns", "compare"}
    assert accepted == set(SUBCOMMANDS) == {row.name for row in TABLE}
    for row in TABLE:
        assert all((row.grammar, row.description, row.example, row.needs)), row.name


def test_help_says_which_subcommands_need_an_admin_as_the_dispatcher_decides():
    for row in TABLE:
        guarded = type(parse(row.example.removeprefix("/engagement "), today=TODAY)) in GUARDED
        assert ("workspace admin" in row.needs) == guarded, row.name


def test_word_aliases_point_at_subcommands():
    assert set(WORD_ALIASES.values()) <= set(SUBCOMMANDS)


# -- properties ---------------------------------------------------------------------------

HANDLES = st.from_regex(r"[A-Za-z0-9_]{1,15}", fullmatch=True)
IDS = st.integers(1, 2**63 - 1).map(str)
WORDS = st.sampled_from(
    [
        *SUBCOMMANDS,
        *WORD_ALIASES,
        *ALL_METRICS,
        *ALIASES,
        *("on", "off", "now", "spike", "low", "high", "from", "to", "since", "until", "last"),
        *("24h", "7d", "28d", "90d", "1d", "week", "month", "30m", "2h", "1h30m", "9am", "noon"),
        *(">", ">=", "≥", "&gt;", "/h", "/hr", "per", "hour", "an", "1.5k", "1,000", "2m", "#3"),
        *("Europe/Paris", "america/new", "york", "UTC", "Mars/Base", "2026-11-01", "2026-02-30"),
        *("<", "|", ">", "<@U1|bob>", "“", "—", "`", ",", ".", "..", "&amp;", "\u200b", "\x00"),
        *("99999999999999999999999d", "1" * 40, "-", "--help", "/engagement", "x.com/"),
    ]
)
URLS = st.builds(
    lambda host, handle, post_id, wrap: (
        f"<https://{host}/{handle}/status/{post_id}|{host}/{handle}>"
        if wrap
        else f"https://{host}/{handle}/status/{post_id}"
    ),
    st.sampled_from(["x.com", "twitter.com", "mobile.twitter.com", "X.COM"]),
    HANDLES,
    st.integers(0, 2**64).map(str),
    st.booleans(),
)
TOKENS = st.one_of(
    WORDS,
    WORDS,
    st.integers(-5, 10**6).map(str),
    st.decimals(0, 10**4, places=2).map(str),
    IDS,
    URLS,
    HANDLES.map(lambda h: f"@{h}"),
    st.text(max_size=8),
)
GRAMMARISH = st.lists(TOKENS, max_size=8).flatmap(
    lambda words: st.sampled_from([" ", "  ", "\t", "\n", ", "]).map(lambda sep: sep.join(words))
)
TODAYS = st.one_of(st.none(), st.just(TODAY), st.dates())


@given(text=st.one_of(st.text(), GRAMMARISH), today=TODAYS)
@example(text="daily 1 90d", today=date(1, 1, 1))
@example(text="snooze 999999.999999w", today=None)
@example(text="alert likes > 999999999999999m/h", today=None)
@example(text="digest on America/", today=None)
@example(text="²", today=None)
def test_parse_returns_a_command_or_raises_usage_error(text: str, today: date | None):
    outcome: object
    try:
        outcome = parse(text, today=today)
    except UsageError as error:  # anything else propagates and fails the test
        outcome = error
    assert isinstance(outcome, Command) or str(outcome).strip()


# Commands with no case-sensitive parts: any case and spacing must give the same Command.
CASE_FREE = [
    text
    for text, _ in GOOD
    if text.strip()
    and not re.search(r"x\.com|twitter|@|&|nasa|esa|/engagement", text, re.IGNORECASE)
]
SPACES = st.sampled_from([" ", "  ", "\t", "\n", " \n\t ", "\u00a0", "\u3000"])


@given(data=st.data(), text=st.sampled_from(CASE_FREE))
def test_case_and_spacing_do_not_matter(data: st.DataObject, text: str):
    words = text.split()
    cased = [
        "".join(ch.upper() if up else ch.lower() for ch, up in zip(word, flips, strict=True))
        for word in words
        for flips in [data.draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))]
    ]
    gaps = data.draw(st.lists(SPACES, min_size=len(words) + 1, max_size=len(words) + 1))
    variant = gaps[0] + "".join(w + g for w, g in zip(cased, gaps[1:], strict=True))
    assert parse(variant, today=TODAY) == parse(text, today=TODAY)


METRIC_FORMS = st.sampled_from(
    [(name, name) for name in ALL_METRICS] + [(alias, name) for alias, name in ALIASES.items()]
)
PERIOD_FORMS = st.sampled_from(
    [("24h", "24h"), ("1d", "24h"), ("day", "24h"), ("7d", "7d"), ("week", "7d"),
     ("1w", "7d"), ("28d", "28d"), ("month", "28d"), ("90d", "90d"), ("quarter", "90d")]
)  # fmt: skip


@given(
    metric=st.one_of(st.none(), METRIC_FORMS),
    limit=st.one_of(st.none(), st.integers(1, 25)),
    period=st.one_of(st.none(), PERIOD_FORMS),
    order=st.randoms(use_true_random=False),
)
def test_top_takes_its_words_in_any_order(metric, limit, period, order):
    words = [w for w in (metric and metric[0], limit and str(limit), period and period[0]) if w]
    order.shuffle(words)
    expected = Top(
        metric[1] if metric else "engagements", limit or 10, period[1] if period else "7d"
    )
    assert parse("top " + " ".join(words)) == expected


@given(ids=st.lists(IDS, min_size=1, max_size=6), with_word=st.booleans())
def test_posts_are_kept_in_order_once_each(ids: list[str], with_word: bool):
    text = ("totals " if with_word else "") + " ".join(ids)
    expected = tuple(PostRef(i) for i in dict.fromkeys(ids))
    assert parse(text) == Totals(expected)


@given(
    hours=st.integers(0, 167),
    minutes=st.integers(0, 59),
    style=st.sampled_from(["{h}h{m}m", "{h}h {m}m", "{h} hours {m} minutes", "{h}hrs {m}min"]),
)
def test_snooze_durations(hours: int, minutes: int, style: str):
    assume(hours or minutes)
    expected = Snooze(timedelta(hours=hours, minutes=minutes))
    assert parse("snooze " + style.format(h=hours, m=minutes)) == expected


@given(hour=st.integers(0, 23), minute=st.integers(0, 59))
def test_digest_times_in_24_hour_and_am_pm_forms_agree(hour: int, minute: int):
    twelve = (hour % 12 or 12, "am" if hour < 12 else "pm")
    expected = DigestOn(time(hour, minute))
    assert parse(f"digest on {hour:02d}:{minute:02d}") == expected
    assert parse(f"digest on {hour}:{minute:02d}") == expected
    assert parse(f"digest on {twelve[0]}:{minute:02d}{twelve[1]}") == expected
    assert parse(f"digest on {twelve[0]}:{minute:02d} {twelve[1].upper()}") == expected


@given(
    n=st.integers(1, 10**6),
    form=st.sampled_from(["{n}/h", "> {n}/h", ">{n} /hr", "> {n} per hour", "over {n} an hour"]),
    thousands=st.booleans(),
)
def test_alert_thresholds(n: int, form: str, thousands: bool):
    written = f"{n}k" if thousands else f"{n:,}"
    expected = n * 1000 if thousands else n
    assert parse("alert likes " + form.format(n=written)) == AlertThreshold("favorites", expected)
    at_least = parse("alert likes >= " + written + "/h")
    assert at_least == AlertThreshold("favorites", expected - 1)
