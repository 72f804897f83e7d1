"""`/engagement digest on | off | now`: the channel's daily digest; `digest weekly|monthly …`:
its weekly and monthly reports (in the channel's digest zone)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time

from bot.channels.coverage import channel_coverage
from bot.channels.deps import Deps
from bot.channels.digest import zone_of
from bot.copy import channel
from bot.copy import period_digest as period_copy
from bot.copy.commands import DIGEST_OFF
from bot.copy.commands import digest_on as digest_on_text
from bot.render import blocks
from bot.render.lists import coverage_text
from bot.render.message import Message
from bot.slack.commands.invocation import Invocation
from bot.slack.parse import commands as c
from bot.store.digest_schedules import DigestSchedule

DEFAULT_TIME = time(9, 0)


def digest_on(command: c.DigestOn, inv: Invocation, deps: Deps, now: datetime) -> Message:
    channels = deps.store.channels
    current = channels.settings(inv.team_id, inv.channel_id)
    updated = replace(
        current,
        digest_enabled=True,
        paused_reason=None,  # turning it on again is how a paused channel resumes
        paused_at=None,
        digest_time=command.at.strftime("%H:%M") if command.at else current.digest_time,
        timezone=command.timezone or zone_of(current, deps).key,
    )
    channels.save_settings(updated, now=now)
    _settings_changed(inv, deps)
    return blocks.confirmation(
        digest_on_text(updated.digest_time, updated.timezone, _digest_coverage(inv, deps))
    )


def digest_period_on(
    command: c.DigestPeriodOn, inv: Invocation, deps: Deps, now: datetime
) -> Message:
    """Schedule the channel's weekly or monthly report; a zone given becomes the channel's
    digest zone (one zone per channel, named in every digest and report)."""
    channels = deps.store.channels
    current = channels.settings(inv.team_id, inv.channel_id)
    zone = command.timezone or zone_of(current, deps).key
    if zone != current.timezone:
        channels.save_settings(replace(current, timezone=zone), now=now)
    at = (command.at or DEFAULT_TIME).strftime("%H:%M")
    schedule = DigestSchedule(inv.team_id, inv.channel_id, command.period, command.anchor, at)
    deps.store.digest_schedules.set(schedule, by=inv.user_id, now=now)
    _settings_changed(inv, deps)
    covers = _digest_coverage(inv, deps)
    if command.period == "weekly":
        return blocks.confirmation(period_copy.weekly_on(command.anchor, at, zone, covers))
    return blocks.confirmation(period_copy.monthly_on(command.anchor, at, zone, covers))


def digest_period_off(
    command: c.DigestPeriodOff, inv: Invocation, deps: Deps, now: datetime
) -> Message:
    existed = deps.store.digest_schedules.remove(inv.team_id, inv.channel_id, command.period)
    _settings_changed(inv, deps)
    return blocks.confirmation(period_copy.period_off(command.period, existed))


def _digest_coverage(inv: Invocation, deps: Deps) -> str:
    """What the channel's digest will report on, so an empty one is no surprise."""
    coverage = channel_coverage(deps.store, inv.team_id, inv.channel_id)
    return channel.digest_covers(coverage_text(coverage))


def digest_off(command: c.DigestOff, inv: Invocation, deps: Deps, now: datetime) -> Message:
    channels = deps.store.channels
    current = channels.settings(inv.team_id, inv.channel_id)
    channels.save_settings(replace(current, digest_enabled=False), now=now)
    _settings_changed(inv, deps)
    return blocks.confirmation(DIGEST_OFF)


def _settings_changed(inv: Invocation, deps: Deps) -> None:
    if deps.on_settings_changed is not None:
        deps.on_settings_changed(inv.team_id, inv.channel_id)


def digest_now(command: c.DigestNow, inv: Invocation, deps: Deps, now: datetime) -> Message:
    """Yesterday's digest for this channel, as a reply now (the scheduled one is unaffected)."""
    from bot.channels.digest import gather, previous_local_day, zone_of
    from bot.render.digest import digest_message

    settings = deps.store.channels.settings(inv.team_id, inv.channel_id)
    zone = zone_of(settings, deps)
    data = gather(settings, previous_local_day(now, zone), zone, now=now, deps=deps)
    chart = bool(deps.can_post and deps.can_post(inv.channel_id))
    return digest_message(data, chart=chart)
