"""Delivering a channel's alert firings, exactly once (bot.channels.alerts decides what fired).

deliver()    ─ first alerts in one channel message; follow-ups (a rule firing again on a
               Post it alerted on before) as one reply in that first alert's thread; each
               message carries a marker (alert_marker) noted in the ledger before posting
reconcile()  ─ an attempt an earlier pass made but did not record is searched for by its
               marker: in the channel's history, or for follow-ups in the thread's replies
               (a reply is not in conversations.history)
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.channels.authors import post_authors
from bot.channels.coverage import channel_coverage
from bot.channels.deps import Deps
from bot.channels.outbox import (
    Action,
    FindPosted,
    PostMessage,
    Unanswered,
    attempt_window,
    failure_of,
    pause_channel,
)
from bot.render.alerts import AlertLine, alert_marker, alert_message
from bot.store.alert_log import Firing
from bot.store.channels import AlertRule, ChannelSettings

log = logging.getLogger(__name__)


def deliver(
    settings: ChannelSettings,
    rules: Sequence[AlertRule],
    pending: list[Firing],
    new: list[Firing],
    zone: ZoneInfo,
    *,
    deps: Deps,
    post: PostMessage,
    now: datetime,
    clock: Callable[[], datetime] | None,
) -> list[Firing]:
    """Post the channel's undelivered firings: first alerts in one channel message, follow-ups
    (a rule firing again on a Post it alerted on before) as one reply in the thread of that
    first alert; `new`, marked delivered when its message went out. Slack saying no leaves the
    rest for the next pass (or pauses the channel when no retry fixes it)."""
    by_thread = _by_thread(pending, deps)
    delivered: dict[tuple[int, str, datetime], str] = {}
    for thread_ts, firings in by_thread.items():
        ts = _post_batch(
            settings, rules, firings, new, zone, thread_ts,
            deps=deps, post=post, now=now, clock=clock,
        )  # fmt: skip
        if ts is None:
            break
        delivered.update((f.key, ts) for f in firings)
    return [
        replace(f, delivered_at=now, message_ts=delivered[f.key]) if f.key in delivered else f
        for f in new
    ]


def _by_thread(pending: list[Firing], deps: Deps) -> dict[str | None, list[Firing]]:
    """The firings by where they go: None (the channel) first, then each first alert's thread."""
    grouped: dict[str | None, list[Firing]] = {None: []}
    for firing in pending:
        grouped.setdefault(deps.store.alert_log.thread_of(firing), []).append(firing)
    return {where: firings for where, firings in grouped.items() if firings}


def _post_batch(
    settings: ChannelSettings,
    rules: Sequence[AlertRule],
    firings: list[Firing],
    new: list[Firing],
    zone: ZoneInfo,
    thread_ts: str | None,
    *,
    deps: Deps,
    post: PostMessage,
    now: datetime,
    clock: Callable[[], datetime] | None,
) -> str | None:
    """One alert message (in the channel, or a reply in `thread_ts`); its ts, or None when
    Slack said no."""
    team, channel = settings.team_id, settings.channel_id
    log_ = deps.store.alert_log
    by_id = {r.id: r for r in rules}
    lines = [AlertLine(f, by_id[f.rule_id]) for f in firings]
    held = any(f.key not in {n.key for n in new} for f in firings)
    token = uuid.uuid4().hex
    message = alert_message(
        lines,
        authors=post_authors(deps.store, [f.post_id for f in firings]),
        zone=zone,
        held=held,
        coverage=channel_coverage(deps.store, team, channel),
        marker=alert_marker(channel, token),
    )
    log_.attempt(firings, token=token, now=clock() if clock else now)
    try:
        ts = post(channel, replace(message, thread_ts=thread_ts))
    except Exception as error:  # Slack said no: the firings stay undelivered for the next pass
        log.warning("alerts for %s not posted: %s", channel, error)
        failure = failure_of(error)
        if failure.action is Action.PAUSE and failure.reason:
            pause_channel(deps.store, team, channel, failure.reason, now)
        return None
    log_.mark_delivered(firings, ts=ts, now=now)
    return ts


def reconcile(
    channel: str, pending: list[Firing], *, deps: Deps, find_posted: FindPosted, now: datetime
) -> list[Firing]:
    """Record the firings an earlier attempt did deliver (its marker is in the channel around
    the attempt's time; for follow-ups, in the replies of their first alert's thread); the rest
    are still to post, except those whose attempt cannot be searched for yet: they wait for a
    later pass (posting them could repeat them). Raises Refused when the channel refuses the
    search in a way no retry fixes."""
    log_ = deps.store.alert_log
    settled: set[tuple[int, str, datetime]] = set()  # delivered, or not known yet
    attempts = log_.attempts(pending)
    times = log_.attempt_times(attempts)
    for token, firings in attempts.items():
        # where that attempt posted them: the thread of a first alert recorded by then
        thread_ts = log_.thread_of(firings[0], times.get(token))
        window = attempt_window(times[token], thread_ts) if token in times else None
        try:
            ts = find_posted(channel, alert_marker(channel, token), window)
        except Exception as error:
            if failure_of(error).action is Action.PAUSE:
                raise
            if not isinstance(error, Unanswered):
                log.exception("searching %s for an earlier alert message failed", channel)
            log.warning(
                "%d alert(s) for %s held: an earlier pass may have posted them and the "
                "channel cannot be searched yet (%s)",
                len(firings),
                channel,
                error,
            )
            settled.update(f.key for f in firings)
            continue
        if ts is not None:
            log.info("alerts of an interrupted pass found in %s as %s", channel, ts)
            log_.mark_delivered(firings, ts=ts, now=now)
            settled.update(f.key for f in firings)
    return [f for f in pending if f.key not in settled]
