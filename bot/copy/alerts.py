"""Alert rules as people read them, wherever they appear (confirmation, listing, the alert)."""

from __future__ import annotations

from bot.copy.words import (
    CONNECT,
    metric_label,
    metric_noun,
)

ALERTS_TITLE = "Alert rules in this channel"
ALERTS_EMPTY = (
    "No alert rules here yet.\n"
    "Try `/engagement alert likes &gt; 100/h` or `/engagement alert spike`."
)
ALERTS_HINT = "Remove: `/engagement alert off &lt;id&gt;` · pause: `/engagement snooze 2h`"


# An alert rule is worded by these three alone, wherever it appears (the confirmation, the
# `alerts` listing, the alert message), so a rule reads the same in all of them.
def alert_threshold(metric: str, threshold: str, target: str) -> str:
    """ "Likes above 100/hour on @alice"."""
    return f"{metric_label(metric)} above {threshold}/hour on {target}"


def alert_spike(metric: str | None, sensitivity: str, target: str) -> str:
    """ "Spikes (high sensitivity) on the Posts of the accounts connected to …"."""
    what = f"{metric_noun(metric)} spikes" if metric else "Spikes"
    what = what[:1].upper() + what[1:]
    return f"{what} ({sensitivity} sensitivity) on {target}"


def alert_other(kind: str, target: str) -> str:
    return f"{kind[:1].upper()}{kind[1:]} on {target}"


def alert_listed(rule_id: int, rule: str) -> str:
    """One line of `/engagement alerts`."""
    return f"`#{rule_id}` {rule}"


def alert_added(rule_id: int, rule: str) -> str:
    return f"Alert #{rule_id}: {rule}."


def alert_fired_by(rule_id: int, rule: str) -> str:
    """Under a firing in the alert message: the rule that fired."""
    return f"alert #{rule_id}: {rule}"


def alert_duplicate(rule_id: int, rule: str) -> str:
    return (
        f"This channel already has that rule: alert #{rule_id}, {rule}. "
        "`/engagement alerts` lists the rules; `/engagement alert off <id>` removes one."
    )


def alert_private_metric(metric: str, whose: str, public: list[str]) -> str:
    """A rule on a metric only the author's own token can read, for Posts no connected account
    wrote: it could never fire."""
    return (
        f"That alert could never fire: X shows {metric_noun(metric)} only to the author's "
        f"connected account, and {whose} isn't connected to this workspace. Connect it with "
        f"{CONNECT} (signed in as that account), or alert on a public metric: "
        f"{', '.join(public)}."
    )


def alert_private_no_accounts(metric: str, public: list[str]) -> str:
    return (
        f"That alert could never fire: X shows {metric_noun(metric)} only for the Posts of "
        f"connected accounts, and this workspace has none. {CONNECT} links one; or alert on a "
        f"public metric: {', '.join(public)}."
    )


def alerts_snoozed(until: str) -> str:
    return f"Snoozed until {until}"


def alerts_summary(n: int) -> str:
    return "1 alert rule in this channel." if n == 1 else f"{n:,} alert rules in this channel."


# --- The alert message -------------------------------------------------------------------------


def alert_title(n: int) -> str:
    return "Engagement alert" if n == 1 else f"{n} engagement alerts"


def alert_kind(kind: str) -> str:
    """The rule's kind as the alert names it ("spike" or a threshold)."""
    return "Spike" if kind == "spike" else "Threshold"


def alert_line(kind: str, name: str, value: str, noun: str, hours: str, extra: str, by: str) -> str:
    """One firing: its kind, the Post, the count in the hour, and the rule that fired."""
    return f"*{kind}* · {name}: {value} {noun} in {hours}{extra} ({by})"


def over_baseline(times: str, baseline: float) -> str:
    """After a spike's count: ", 20.0× the baseline of 62/h" (`times` may be empty)."""
    return f", {times}the baseline of {baseline:,.1f}/h"


def more_alerts(n: int) -> str:
    return f"…and {n} more."


HELD_QUIET = "Held during this channel's quiet hours."
ALERT_HINT = "Pause: `/engagement snooze 2h` · rules: `/engagement alerts`"
