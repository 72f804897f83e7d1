"""`engagement-bot demo`: the tour's narration around the replies it shows (plain text)."""

from __future__ import annotations

from datetime import datetime


def opening(now: datetime) -> str:
    return (
        f"engagement-bot demo · X API simulator at {now:%Y-%m-%d %H:%M} UTC · a throwaway "
        "database · Slack drawn as text"
    )


CONNECT_STEP = "Connect two X accounts through X's OAuth (/engagement connect)"
USAGE_STEP = "What the bot cost in X API calls this month"
CLOSING = "\nDone. Type your own commands with `engagement-bot console`."


def track_step(competitor: str) -> str:
    return f"Track our account and a competitor's Posts (@{competitor}, not connected)"


TOTALS_STEP = "Totals: ours with impressions, the competitor's public metrics only (/totals)"
HOURLY_STEP = "Hourly series of a connected account's Post (/28hr)"
DAILY_STEP = "Daily series of an older Post (/historical)"
TOP_STEP = "Leaderboard: the channel's Posts by likes, last 7 days"
DIGEST_STEP = "Daily digest: switched on, then yesterday's posted by the digest job"
SPIKE_STEP = "A spike injected in the simulator becomes one alert"


def browser_steps(opened: int, button: str, status: int, screen_name: str, approved: int) -> str:
    """The connect link's trip through the browser, by HTTP status."""
    return (
        f'  browser: the link → {opened}, a page; "{button}" → {status} '
        f"to X, @{screen_name} clicks Authorize → {approved} to the bot's callback"
    )


def callback_page(status: int, text: str) -> str:
    return f"  callback page ({status}): {text}"


def slack_notice(notice: str) -> str:
    return f"  Slack, only to you: {notice}"


def job_posts(channel: str) -> str:
    return f"  [the job posts to #{channel}]"


def lines_cut(cut: int) -> str:
    return f"  … ({cut} more lines)"


def spike_injected(post_id: str, multiplier: object, hour: datetime) -> str:
    return f"  simulator: Post {post_id} gets {multiplier}× its traffic at {hour:%H:%M}"


def clock_moved(now: datetime) -> str:
    return f"  simulator clock → {now:%H:%M} UTC, the hour is over; the alert job runs"


def digest_outcome(status: str) -> str:
    return f"  → digest {status}"


def alerts_fired(n: int) -> str:
    return f"  → {n} alert{'' if n == 1 else 's'} fired"


# The tour stopped: the simulator did not behave as the tour expects.
def no_connect_link(text: str) -> str:
    return f"no connect link in {text!r}"


def no_connect_button(status: int) -> str:
    return f"no button on the connect page ({status})"


def no_such_account(handle: str) -> str:
    return f"the simulator has no @{handle}"
