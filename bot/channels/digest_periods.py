"""A channel's weekly or monthly report, exactly once per period.

    run_report ─ claim the period (its ledger: store.weekly_digests / monthly_digests, keyed
               by the period's first local day) ─ gather (one HOUR query over this period and
               the one before) ─ render ─ post ─ record the ts

The same protocol as the daily digest (bot.channels.digest): a claim left without a ts by a
dead run is reconciled by `digest.reconcile` (the report's marker searched for around the
dead run's attempt) before anything is posted again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.channels.authors import post_authors
from bot.channels.coverage import collect_channel_posts
from bot.channels.deps import Deps
from bot.channels.digest import (
    CLAIM_STALE_AFTER,
    POST_LOOKBACK,
    DigestOutcome,
    Series,
    Status,
    day_bounds,
    post_days,
    reconcile,
    top_lines,
    zone_of,
)
from bot.channels.outbox import Action, FindPosted, PostMessage, failure_of, pause_channel
from bot.channels.periods import Period, Span, before
from bot.copy import digest as digest_copy
from bot.engagement.query import EngagementQuery, Granularity
from bot.errors import EngagementAPIError
from bot.render.digest import METRICS, PostLine
from bot.render.digest_period import PeriodData, period_marker, period_message
from bot.render.message import Message
from bot.store.channels import ChannelSettings
from bot.store.digests import ClaimState, Digests

log = logging.getLogger(__name__)


def ledger(deps: Deps, period: Period) -> Digests:
    store = deps.store
    return store.weekly_digests if period is Period.WEEKLY else store.monthly_digests


def run_report(
    settings: ChannelSettings,
    *,
    period: Period,
    span: Span,
    now: datetime,
    deps: Deps,
    post: PostMessage,
    late: bool = False,
    find_posted: FindPosted | None = None,
    stale_after: timedelta = CLAIM_STALE_AFTER,
    clock: Callable[[], datetime] | None = None,
) -> DigestOutcome:
    """Build and post the channel's `period` report on `span`; the statuses are run_digest's
    (its outcome names the period by its first day)."""
    zone = zone_of(settings, deps)
    team, channel, first = settings.team_id, settings.channel_id, span.first
    blocked = _blocked(settings, span, zone, now=now, deps=deps)
    if blocked is not None:
        return blocked
    book, token = ledger(deps, period), uuid.uuid4().hex
    claim = book.claim(team, channel, first, token=token, now=now, stale_after=stale_after)
    if claim.state is ClaimState.POSTED:
        return DigestOutcome(Status.ALREADY_POSTED, channel, first, claim.record.posted_ts)
    if claim.state is ClaimState.BUSY:
        reason = digest_copy.claimed_by_another_run(stale_after)
        return DigestOutcome(Status.BUSY, channel, first, reason=reason)
    if claim.state is ClaimState.STALE:
        mark = period_marker(channel, period.value, first)
        found = reconcile(
            claim, first, token, now=now, deps=deps, find_posted=find_posted, ledger=book, mark=mark
        )
        if found is not None:
            return found
    try:
        data = gather_period(settings, period, span, zone, now=now, deps=deps)
    except EngagementAPIError as error:  # nothing was posted: a later run tries again
        book.release(team, channel, first, token=token)
        return DigestOutcome(Status.FAILED, channel, first, reason=f"X: {error}")
    except Exception:
        book.release(team, channel, first, token=token)
        raise
    if not data.post_ids or (late and data.quiet):
        book.release(team, channel, first, token=token)
        return DigestOutcome(Status.QUIET_SKIPPED, channel, first)
    stamp = clock() if clock else now
    message = period_message(data, late=late)
    return _post(book, team, message, data, token, now=now, attempt=stamp, deps=deps, post=post)


def _post(
    book: Digests,
    team: str,
    message: Message,
    data: PeriodData,
    token: str,
    *,
    now: datetime,
    attempt: datetime,
    deps: Deps,
    post: PostMessage,
) -> DigestOutcome:
    """Post the report holding the claim `token` (`attempt`: when, for a later search), and
    record its ts; Slack's refusal releases the claim (or pauses the channel)."""
    period, channel, first = data.period, data.channel_id, data.first
    if not book.attempt(team, channel, first, token=token, now=attempt):
        log.warning("%s report %s %s not posted: its claim was taken over", period, channel, first)
        return DigestOutcome(Status.BUSY, channel, first, reason=digest_copy.CLAIM_TAKEN_OVER)
    try:
        ts = post(channel, message)
    except Exception as error:  # Slack said no (or was unreachable): taken as not posted
        log.warning("%s report for %s %s not posted: %s", period, channel, first, error)
        book.release(team, channel, first, token=token)
        failure = failure_of(error)
        if failure.action is Action.PAUSE and failure.reason is not None:
            pause_channel(deps.store, team, channel, failure.reason, now)
            return DigestOutcome(Status.PAUSED, channel, first, reason=failure.reason)
        return DigestOutcome(Status.FAILED, channel, first, reason=str(error))
    if not book.record(team, channel, first, token=token, ts=ts, now=now):
        log.warning(
            "%s report %s %s posted as %s after its claim was lost", period, channel, first, ts
        )
    return DigestOutcome(Status.POSTED, channel, first, ts)


def _blocked(
    settings: ChannelSettings, span: Span, zone: ZoneInfo, *, now: datetime, deps: Deps
) -> DigestOutcome | None:
    """PAUSED (Slack refused the channel) or FAILED (the period is not over yet), else None."""
    channel = settings.channel_id
    paused = deps.store.channels.settings(settings.team_id, channel).paused_reason
    if paused is not None:
        return DigestOutcome(Status.PAUSED, channel, span.first, reason=paused)
    if day_bounds(span.last, zone)[1] > now:
        reason = digest_copy.not_over_yet(span.last, zone.key)
        return DigestOutcome(Status.FAILED, channel, span.first, reason=reason)
    return None


def gather_period(
    settings: ChannelSettings,
    period: Period,
    span: Span,
    zone: ZoneInfo,
    *,
    now: datetime,
    deps: Deps,
) -> PeriodData:
    """The report's numbers: one HOUR query over the period before and this one, summed per
    local day (hours are what X gives for Posts older than /28hr, and make local days)."""
    earlier = before(period, span)
    range_start = day_bounds(earlier.first, zone)[0]
    span_start, span_end = day_bounds(span.first, zone)[0], day_bounds(span.last, zone)[1]
    found = collect_channel_posts(
        deps.store,
        deps.service,
        settings.team_id,
        settings.channel_id,
        since=range_start - POST_LOOKBACK,
    )
    infos = deps.store.posts.infos(found.post_ids)
    ids = [i for i in found.post_ids if (c := infos[i].created_at) is None or c < span_end]
    series: Series = {}
    if ids:
        query = EngagementQuery(tuple(ids), METRICS, Granularity.HOUR, range_start, span_end)
        series = deps.service.report(query, now=now, workspace=settings.team_id).series
    owned = tuple(i for i in ids if i in series)
    unknown = deps.service.authors_unknown(
        [i for i in ids if i not in series], workspace=settings.team_id
    )
    per_post = {p: post_days(series[p], zone) for p in owned}
    lines = [PostLine(p, {m: _sum(per_post[p].get(m, {}), span) for m in METRICS}) for p in owned]
    by_day: dict[date, int] = {}
    for days in per_post.values():
        for day, count in days.get("impressions", {}).items():
            if span.first <= day <= span.last:
                by_day[day] = by_day.get(day, 0) + count
    return PeriodData(
        channel_id=settings.channel_id,
        period=period.value,
        first=span.first,
        last=span.last,
        previous_first=earlier.first,
        previous_last=earlier.last,
        zone=zone.key,
        post_ids=owned,
        totals={m: sum(line.values[m] for line in lines) for m in METRICS},
        previous={m: sum(_sum(per_post[p].get(m, {}), earlier) for p in owned) for m in METRICS},
        by_day=by_day,
        new_posts=sum(
            1 for p in owned if (c := infos[p].created_at) is not None and span_start <= c
        ),
        top=top_lines(lines),
        left_out=len(ids) - len(owned) - len(unknown),
        authors=post_authors(deps.store, owned),
        skipped=tuple((s.handle, s.problem) for s in found.skipped if s.problem is not None),
        unknown_authors=len(unknown),
    )


def _sum(days: dict[date, int], span: Span) -> int:
    return sum(count for day, count in days.items() if span.first <= day <= span.last)
