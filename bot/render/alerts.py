"""The alert message: one per channel and pass, naming each firing's Post (linked), metric,
hour (the channel's local time) and value against the spike's baseline or the rule's threshold.
Firings held by quiet hours arrive together in one message when the quiet hours end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.copy.alerts import (
    ALERT_HINT,
    HELD_QUIET,
    alert_fired_by,
    alert_kind,
    alert_line,
    alert_title,
    more_alerts,
    over_baseline,
)
from bot.copy.words import metric_noun
from bot.render.buttons import alert_actions
from bot.render.kit import (
    Authors,
    clip,
    context,
    header,
    post_button_label,
    post_link,
    post_plain,
    sections,
    simple,
)
from bot.render.lists import rule_text
from bot.render.message import Message
from bot.render.numbers import exact
from bot.store.alert_log import Firing
from bot.store.channels import AlertRule, Coverage

MAX_LINES = 30  # more firings than this are counted, not listed
_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class AlertLine:
    firing: Firing
    rule: AlertRule


def hour_span(line: AlertLine, zone: ZoneInfo) -> str:
    """ "14:00–15:00 Thu 26 Nov (America/New_York)": the firing's UTC hour, local."""
    start = line.firing.hour.astimezone(zone)
    end = (line.firing.hour + _HOUR).astimezone(zone)
    return f"{start:%H:%M}–{end:%H:%M} {start:%a %d %b} ({zone.key})"


def comparison(line: AlertLine) -> str:
    """ ", 20.0× the baseline of 62/h" for a spike; nothing for a threshold, whose rule (named
    after it) already says what was passed."""
    firing, rule = line.firing, line.rule
    if rule.kind != "spike":
        return ""
    baseline = firing.baseline or 0.0
    times = f"{firing.value / baseline:.1f}× " if baseline > 0 else ""
    return over_baseline(times, baseline)


def describe(
    line: AlertLine, authors: Authors, zone: ZoneInfo, coverage: Coverage, *, linked: bool = True
) -> str:
    firing, rule = line.firing, line.rule
    name = post_link(firing.post_id, authors) if linked else post_plain(firing.post_id, authors)
    kind = alert_kind(rule.kind)
    noun = metric_noun(firing.metric, firing.value)
    # The rule in the one wording of bot.render.lists.rule_text, never linked: the Post
    # it names (if any) is linked just before.
    fired_by = alert_fired_by(rule.id, rule_text(rule, authors, coverage, linked=False))
    hours = hour_span(line, zone)
    return alert_line(kind, name, exact(firing.value), noun, hours, comparison(line), fired_by)


EVENT_TYPE = "engagement_alert"


def alert_marker(channel_id: str, token: str) -> str:
    """The hidden marker of one delivery attempt (find_posted looks for it after a crash)."""
    return f"engagement-alert:{channel_id}:{token}"


def alert_message(
    lines: Sequence[AlertLine],
    *,
    authors: Authors,
    zone: ZoneInfo,
    held: bool,
    coverage: Coverage,
    marker: str | None = None,
) -> Message:
    """A channel message (not ephemeral) for `lines`, oldest first; `held` says they waited
    for quiet hours to end; `coverage`: what the channel covers (its channel-wide rules'
    Posts); `marker` goes in the message's metadata."""
    shown = list(lines[:MAX_LINES])
    title = alert_title(len(lines))
    body = [f"• {describe(line, authors, zone, coverage)}" for line in shown]
    notes = []
    if len(lines) > len(shown):
        notes.append(more_alerts(len(lines) - len(shown)))
    if held:
        notes.append(HELD_QUIET)
    notes.append(ALERT_HINT)
    posts = list(dict.fromkeys(line.firing.post_id for line in shown))
    buttons = alert_actions([(p, post_button_label(p, authors)) for p in posts])
    blocks = [header(title), *sections(body), context(*notes), buttons]
    text = clip(
        f"{title}: " + "; ".join(describe(x, authors, zone, coverage, linked=False) for x in shown),
        3000,
    )
    message = simple(text, blocks, ephemeral=False)
    if marker is None:
        return message
    return replace(
        message, metadata={"event_type": EVENT_TYPE, "event_payload": {"marker": marker}}
    )
