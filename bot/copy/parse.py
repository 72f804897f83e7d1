"""Why `/engagement` did not understand what was typed: the parser's error sentences.

Each takes what the person typed already shown (quoted and escaped by
bot.slack.parse.values.show) and the limits it mentions. `/engagement help`'s usage line and
example are added after it (bot.copy.usage.explain).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time


def _got(shown: str | None) -> str:
    """ " (got `x`)" after a sentence, when something was typed."""
    return f" (got {shown})" if shown is not None else ""


def _did_you_mean(close: str | None) -> str:
    return f" Did you mean `{close}`?" if close else ""


# -- subcommands ---------------------------------------------------------------------------------


def no_subcommand(shown: str, close: str | None) -> str:
    """`help <topic>` of a topic that is no subcommand."""
    return f"There is no subcommand {shown}.{_did_you_mean(close)}"


def unknown_subcommand(shown: str, close: str) -> str:
    return f"Unknown subcommand {shown}. Did you mean `{close}`?"


def unknown_subcommand_handle(shown: str) -> str:
    return f"Unknown subcommand {shown}; to follow an account, use `track`."


def unknown_subcommand_list(shown: str, command: str, subcommands: Sequence[str]) -> str:
    return (
        f"Unknown subcommand {shown}. Try `{command} help`; subcommands: "
        f"{', '.join(subcommands)}; or just paste Post URLs."
    )


def takes_nothing(words: str, shown: str) -> str:
    """`words` (a subcommand, with its mode) was followed by something it does not take."""
    return f"`{words}` takes nothing after it (got {shown})."


# -- Posts, handles, metrics ---------------------------------------------------------------------

WHICH_POSTS = "Which Posts? Give at least one Post ID or URL."


def one_post_only(word: str, posts: int) -> str:
    return f"`{word}` takes exactly one Post (got {posts})."


def not_a_post(shown: str) -> str:
    return f"{shown} is not a Post ID or a Post URL."


def not_a_post_url(shown: str) -> str:
    """A word that looks like a Post but is none, where a metric could also stand."""
    return f"{shown} is not a Post ID or a Post URL (x.com/<handle>/status/<id>)."


def not_a_metric(shown: str, close: str | None, names: str) -> str:
    """An unknown metric: the closest name, else every name (`names`, as typed in commands)."""
    if close:
        return f"{shown} is not a metric. Did you mean `{close}`?"
    return f"{shown} is not a metric. The metrics are: {names}."


def not_post_nor_x_handle(shown: str) -> str:
    return (
        f"{shown} is neither a Post (ID or URL) nor an X handle (@name: 1-15 letters, digits or _)."
    )


def needs_targets(word: str) -> str:
    return f"`{word}` needs at least one Post or @handle."


# -- dates and ranges (`daily`) ------------------------------------------------------------------


def needs_date(word: str) -> str:
    return f"`{word}` needs a date (YYYY-MM-DD) after it."


def not_a_date(shown: str) -> str:
    return f"{shown} is not a date; expected YYYY-MM-DD."


def not_a_real_date(shown: str) -> str:
    return f"{shown} is not a real date."


def daily_counts_days(shown: str) -> str:
    return f"{shown}: `daily` counts days, e.g. 7d; see `hourly`."


def range_backwards(start: date, end: date) -> str:
    return f"The range ends ({end}) before it starts ({start})."


def in_the_future(day: date, today: date) -> str:
    return f"{day} is in the future (today is {today})."


def two_dates(bound: str, first: date, second: date) -> str:
    """`bound`: "start (from)" or "end (to)"."""
    return f"Two {bound} dates: {first} and {second}."


def days_or_dates(days: int) -> str:
    return f"Give either `{days}d` or from/to dates, not both."


def days_out_of_range(days: int, most: int) -> str:
    return f"`{days}d` is out of range: 1 to {most} days."


def days_need_today(days: int) -> str:
    return f"`{days}d` needs today's date here; give from/to dates instead."


def days_before_calendar(days: int) -> str:
    return f"`{days}d` reaches back before the calendar starts."


# -- `top` ---------------------------------------------------------------------------------------


def top_out_of_range(shown: str, most: int) -> str:
    return f"{shown} is out of range: show 1 to {most} Posts."


def not_a_period(shown: str) -> str:
    return (
        f"{shown} is not a period. `top` ranks over the last 24h, 7d, 28d or 90d "
        "(or say day, week, month, quarter); for other ranges use `daily <post> from … to …`."
    )


def two_of(kind: str, first: object, shown: str) -> str:
    """Two different values for one thing (`kind`: metric, number, period)."""
    return f"Two {kind}s: `{first}` and {shown}; give one."


# -- `digest`: times and zones -------------------------------------------------------------------


def digest_needs_mode(shown: str | None) -> str:
    return f"`digest` needs `on`, `off`, `now`, `weekly` or `monthly`{_got(shown)}."


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def period_needs_anchor(period: str, shown: str | None) -> str:
    if period == "weekly":
        return f"`digest weekly` needs a weekday (`monday` … `sunday`) or `off`{_got(shown)}."
    return f"`digest monthly` needs a day of the month (1 to 31, or `last`) or `off`{_got(shown)}."


def two_times(first: time, shown: str) -> str:
    return f"Two times: {first:%H:%M} and {shown}."


def not_time_nor_zone(shown: str) -> str:
    return f"{shown} is neither a time (HH:MM, 9am) nor a time zone (Area/City, e.g. Europe/Paris)."


def am_pm_hour(shown: str) -> str:
    return f"{shown}: with am/pm the hour is 1 to 12."


def not_a_time(shown: str) -> str:
    return f"{shown} is not a time of day; use 24-hour HH:MM or 9:30pm."


def unknown_zone(shown: str, close: str | None) -> str:
    return f"Unknown time zone {shown}; use an Area/City name.{_did_you_mean(close)}"


# -- `alert` -------------------------------------------------------------------------------------

ALERT_NEEDS_RULE = "`alert` needs a metric and a threshold, `spike`, or `off <id>`."


def spike_sensitivity(shown: str) -> str:
    return f"Spike sensitivity is low, medium or high (got {shown})."


def alert_off_needs_id(word: str, command: str) -> str:
    return f"`alert {word}` needs one rule id, e.g. `alert off 3`; `{command} alerts` lists them."


def alert_starts_with_metric(shown: str) -> str:
    return f"`alert` starts with a metric name (got {shown})."


def expected_per_hour(typed: str, shown: str) -> str:
    return f"Expected a number per hour after `{typed}`, got {shown}."


def per_hour_only(shown: str) -> str:
    return f"Alerts count per hour (`/h`), not per {shown}."


def threshold_range(most: int) -> str:
    return f"The threshold runs from `> 0` (any) to `> {most:,}` per hour."


def threshold_too_large(shown: str, most: int) -> str:
    return f"{shown} is too large: the threshold goes up to `> {most:,}` per hour."


def not_whole(typed: str) -> str:
    return f"`{typed}` is not a whole number."


def one_target(shown: str) -> str:
    return f"Unexpected {shown}: one Post or @handle at most."


def not_post_nor_handle(shown: str) -> str:
    return f"{shown} is neither a Post (ID or URL) nor an @handle."


# -- `snooze`, `quiet`, `disconnect` -------------------------------------------------------------


def snooze_needs_duration(shown: str | None) -> str:
    return f"`snooze` needs a duration like 30m, 2h, 1d or 1h30m{_got(shown)}."


SNOOZE_TOO_LONG = "Snooze for at most 7 days (7d)."
SNOOZE_TOO_SHORT = "Snooze for at least a minute; to stop snoozing use `snooze off`."


def quiet_needs_range(shown: str | None) -> str:
    return f"`quiet` needs a local time range like 22:00-07:00, or `off`{_got(shown)}."


QUIET_SAME_TIMES = "Quiet hours must start and end at different times."


def disconnect_needs_handle(shown: str | None) -> str:
    return f"`disconnect` takes one @handle{_got(shown)}."
