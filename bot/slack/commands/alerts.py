"""`/engagement alert | alerts | snooze | quiet`: the channel's alert rules and when they speak."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.channels.authors import post_authors
from bot.channels.coverage import channel_coverage
from bot.channels.deps import Deps
from bot.channels.digest import zone_of
from bot.copy import alerts, channel, words
from bot.copy.commands import (
    ALERTS_RESUMED,
    QUIET_OFF,
    alert_removed,
    no_alert,
    post_muted,
    quiet_hours,
    snoozed_until,
)
from bot.engagement.models import ALL_METRICS, PUBLIC_METRICS
from bot.engagement.post_refs import PostRef
from bot.errors import UserFacingError
from bot.render import blocks
from bot.render.kit import escape, post_plain
from bot.render.lists import coverage_text, rule_text
from bot.render.message import Message
from bot.slack.commands.invocation import Invocation
from bot.slack.commands.links import handles_in
from bot.slack.parse import commands as c
from bot.store.channels import Coverage


def alert_threshold(
    command: c.AlertThreshold, inv: Invocation, deps: Deps, now: datetime
) -> Message:
    rule = dict(
        kind="threshold",
        metric=command.metric,
        threshold=command.per_hour,
        post_id=command.post.post_id if command.post else None,
        handle=command.handle.lower() if command.handle else None,
    )
    _refuse_unreadable(command, inv, deps, now)
    return _add_alert(inv, deps, now, rule)


def alert_spike(command: c.AlertSpike, inv: Invocation, deps: Deps, now: datetime) -> Message:
    return _add_alert(inv, deps, now, dict(kind="spike", sensitivity=command.sensitivity))


def _add_alert(inv: Invocation, deps: Deps, now: datetime, rule: dict[str, Any]) -> Message:
    """Store the rule unless the channel has it already or it is channel-wide in a channel
    covering nothing (it could never fire); confirm it in the rule's one wording (unlinked:
    confirmations and errors are escaped whole)."""
    channels = deps.store.channels
    coverage = channel_coverage(deps.store, inv.team_id, inv.channel_id)
    channel_wide = not rule.get("post_id") and not rule.get("handle")
    if coverage.empty and channel_wide:
        raise UserFacingError(channel.alert_covers_nothing(coverage_text(coverage)))
    if channel_wide and rule["kind"] == "threshold" and not _covers_owned(deps, inv, coverage):
        raise UserFacingError(channel.alert_threshold_owns_nothing(coverage_text(coverage)))
    authors = post_authors(deps.store, [rule["post_id"]] if rule.get("post_id") else [])
    same = channels.same_alert(inv.team_id, inv.channel_id, **rule)
    if same is not None:
        raise UserFacingError(
            alerts.alert_duplicate(same.id, rule_text(same, authors, coverage, linked=False))
        )
    added = channels.add_alert(inv.team_id, inv.channel_id, **rule, by=inv.user_id, now=now)
    return blocks.confirmation(
        alerts.alert_added(added.id, rule_text(added, authors, coverage, linked=False))
    )


def _covers_owned(deps: Deps, inv: Invocation, coverage: Coverage) -> bool:
    """Whether a channel-wide threshold rule (it counts only the workspace's connected accounts'
    Posts) can see any Post: a connected account among those covered, or tracked Posts that
    may be one's (their authors are learnt when the pass runs)."""
    connected = {a.screen_name.lower() for a in deps.store.accounts.listed(inv.team_id)}
    if not connected:
        return False
    return bool(coverage.posts) or any(h.lstrip("@").lower() in connected for h in coverage.handles)


def _refuse_unreadable(
    command: c.AlertThreshold, inv: Invocation, deps: Deps, now: datetime
) -> None:
    """A rule on a metric X serves only to the author's own token (everything but the public
    counts the alert pass can read from snapshots) can't fire for an author who isn't connected
    to this workspace: refuse it now rather than accept a rule that stays silent."""
    if command.metric in PUBLIC_METRICS:
        return
    public = [words.metric_word(m) for m in ALL_METRICS if m in PUBLIC_METRICS]
    owners = deps.store.accounts.connected_ids(inv.team_id)
    if not owners:
        raise UserFacingError(alerts.alert_private_no_accounts(command.metric, public))
    if command.handle is not None:
        account = deps.store.accounts.find(command.handle)
        if account is None or account.user_id not in owners:
            whose = f"@{escape(command.handle)}"
            raise UserFacingError(alerts.alert_private_metric(command.metric, whose, public))
    elif command.post is not None:
        post_id = command.post.post_id
        handles = handles_in((command.post,))
        deps.service.learn_authors([post_id], now=now, handles=handles)
        author = deps.store.posts.infos([post_id])[post_id].author_id
        if author is not None and author not in owners:  # unknown: X may yet say it's ours
            name = post_authors(deps.store, (command.post,))[post_id].handle
            whose = f"its author @{escape(name.lstrip('@'))}" if name else "its author"
            raise UserFacingError(alerts.alert_private_metric(command.metric, whose, public))


def list_alerts(command: c.Alerts, inv: Invocation, deps: Deps, now: datetime) -> Message:
    rules = deps.store.channels.alerts(inv.team_id, inv.channel_id)
    posts = tuple(PostRef(r.post_id) for r in rules if r.post_id)
    snoozed = deps.store.channels.settings(inv.team_id, inv.channel_id).snoozed_until
    return blocks.alerts_message(
        rules,
        snoozed_until=snoozed,
        now=now,
        authors=post_authors(deps.store, posts),
        coverage=channel_coverage(deps.store, inv.team_id, inv.channel_id),
    )


def alert_off(command: c.AlertOff, inv: Invocation, deps: Deps, now: datetime) -> Message:
    if not deps.store.channels.remove_alert(inv.team_id, inv.channel_id, command.rule_id):
        raise UserFacingError(no_alert(command.rule_id))
    return blocks.confirmation(alert_removed(command.rule_id))


def snooze(command: c.Snooze, inv: Invocation, deps: Deps, now: datetime) -> Message:
    channels = deps.store.channels
    current = channels.settings(inv.team_id, inv.channel_id)
    until = now + command.duration if command.duration else None
    channels.save_settings(replace(current, snoozed_until=until), now=now)
    if until is None:
        return blocks.confirmation(ALERTS_RESUMED)
    return blocks.confirmation(snoozed_until(until))


def quiet(command: c.Quiet, inv: Invocation, deps: Deps, now: datetime) -> Message:
    channels = deps.store.channels
    current = channels.settings(inv.team_id, inv.channel_id)
    start = f"{command.start:%H:%M}" if command.start is not None else None
    end = f"{command.end:%H:%M}" if command.end is not None else None
    channels.save_settings(replace(current, quiet_start=start, quiet_end=end), now=now)
    if start is None:
        return blocks.confirmation(QUIET_OFF)
    zone = zone_of(current, deps).key
    return blocks.confirmation(quiet_hours(start, end, zone))


def mute(command: c.Mute, inv: Invocation, deps: Deps, now: datetime) -> Message:
    """An alert's Mute this Post: the channel's rules skip it from the next pass on."""
    post_id = command.post.post_id
    deps.store.channels.mute(inv.team_id, inv.channel_id, post_id, by=inv.user_id, now=now)
    name = post_authors(deps.store, (command.post,))
    return blocks.confirmation(post_muted(post_plain(post_id, name)))
