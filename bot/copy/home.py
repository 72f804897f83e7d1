"""What the App Home, the buttons on the bot's messages and the settings modals say."""

from __future__ import annotations

from datetime import datetime

HOME_TITLE = "Engagement Bot"
ACCOUNTS_TITLE = "Connected X accounts"
NO_ACCOUNTS = "No X account is connected to this workspace yet: `/engagement connect` in a channel."
CHANNELS_TITLE = "Channels with digests and alerts"
NO_CHANNELS = (
    "No channel has a digest or alerts yet. In a channel: `/engagement digest on 09:00` or "
    "`/engagement alert spike`."
)
RECENT_TITLE = "Recent alerts"
NO_RECENT = "No alert has fired yet."
HOWTO_TITLE = "How to"
HOWTO = (
    "• `/engagement` and a Post's link: its numbers · `/engagement top likes 7d`: the leaderboard\n"
    "• `/engagement track @handle`: follow an account in a channel\n"
    "• `/engagement settings` in a channel: its digest, alerts and quiet hours, with buttons\n"
    "• `/engagement help`: every command"
)
NOT_ADMIN_NOTE = (
    "You can look; only workspace admins and the people in ENGAGEMENT_ADMINS can change settings."
)

CHANGE = "Change…"
DIGEST_SETTINGS = "Digest settings"
QUIET_HOURS = "Quiet hours"
NEW_ALERT = "New alert"
SNOOZE_2H = "Snooze 2h"
RESUME = "Resume alerts"
PREVIOUS = "◀ Previous channels"
NEXT = "Next channels ▶"
SHOW_HOURLY = "Show hourly"
MUTE_POST = "Mute this Post"
MUTE = "Mute"
MORE = "More"
CSV = "CSV"
CHANGE_PERIOD = "Change period"
REFRESH = "Refresh"

SAVE = "Save"
CANCEL = "Cancel"
CLOSE = "Close"
ON = "On"
OFF = "Off"
DIGEST_ON_LABEL = "Daily digest"
DIGEST_TIME_LABEL = "Time"
DIGEST_ZONE_LABEL = "Time zone"
QUIET_START_LABEL = "Quiet from"
QUIET_END_LABEL = "Until"
QUIET_HINT = "Alerts firing in these hours wait and arrive together when they end. Leave both "
QUIET_HINT += "empty to turn quiet hours off."
ALERT_KIND_LABEL = "Alert when"
ALERT_KIND_THRESHOLD = "A metric passes a number per hour"
ALERT_KIND_SPIKE = "A Post spikes against its own recent hours"
ALERT_METRIC_LABEL = "Metric"
ALERT_THRESHOLD_LABEL = "Threshold per hour"
ALERT_SENSITIVITY_LABEL = "Spike sensitivity"
ALERT_SCOPE_LABEL = "Scope"
ALERT_SCOPE_HINT = "A Post link or ID, or an @handle; empty: everything the channel covers."

BAD_TIME = "Pick a time as HH:MM."
BAD_ZONE = "Pick a time zone from the list."
QUIET_BOTH = "Set both ends of the quiet hours, or neither."
QUIET_SAME = "Quiet hours need different start and end times."
THRESHOLD_NEEDED = "Give a whole number above 0, e.g. 500."
THRESHOLD_UNWANTED = "A spike alert has no threshold: leave this empty."
BAD_SCOPE = "A Post link or ID (digits), or an @handle; or leave it empty."
BAD_METRIC = "Pick a metric from the list."
REFUSED_TITLE = "Not allowed"


def channel_line(channel_id: str) -> str:
    return f"*<#{channel_id}>*"


def digest_state(time: str, zone: str) -> str:
    return f"Digest: daily at {time} ({zone})"


DIGEST_OFF_STATE = "Digest: off"


def rules_state(count: int, shown: list[str]) -> str:
    if not count:
        return "Alerts: none"
    more = f" · +{count - len(shown)} more" if count > len(shown) else ""
    return f"Alerts ({count}): " + "; ".join(shown) + more


def quiet_state(start: str, end: str, zone: str) -> str:
    return f"Quiet hours {start}–{end} ({zone})"


def snooze_state(until: datetime) -> str:
    return f"Snoozed until {until:%Y-%m-%d %H:%M} UTC"


PAUSED_STATE = "Paused: Slack refused to post here"


def account_state(handle: str, readable: bool, last: str | None) -> str:
    tokens = "tokens OK" if readable else "tokens unreadable: reconnect it"
    fetched = f"last fetch {last}" if last else "not fetched yet"
    return f"• {handle} · {tokens} · {fetched}"


def more_accounts(count: int) -> str:
    return f"…and {count} more: `/engagement accounts`"


def usage_line(month: str, calls: int, owners: int) -> str:
    return f"This month ({month}): {calls:,} X API calls, {owners} owner account(s) billed."


def channels_page(first: int, last: int, total: int) -> str:
    return f"Channels {first}–{last} of {total}"


def recent_line(when: str, channel_id: str, post: str, value: str, noun: str) -> str:
    return f"• {when} in <#{channel_id}>: {post} {value} {noun}"


def settings_title(channel_id: str) -> str:
    return f"Settings of <#{channel_id}>"


def covers_nothing() -> str:
    return "This channel tracks nothing yet: `/engagement track @handle` or a Post link."


def covers(text: str) -> str:
    return f"It covers {text}."


def alert_buttons_note(hours: int) -> str:
    return f"Snoozed for {hours} h."


def snoozed_by(user_id: str, until: datetime) -> str:
    return f"<@{user_id}> snoozed this channel's alerts until {until:%Y-%m-%d %H:%M} UTC."


def period_label(period: str) -> str:
    return {"24h": "Last 24 hours", "7d": "Last 7 days", "28d": "Last 28 days"}.get(
        period, "Last 90 days"
    )


def csv_title(metric: str, period: str) -> str:
    return f"Top Posts by {metric}, last {period} (CSV)"


CSV_HEADER = ("rank", "post_id", "author", "url", "value", "metric", "period")
