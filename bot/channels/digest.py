"""The daily digest of one channel, exactly once per local date.

    run_digest ─ claim the date (store.digests) ─ gather (one HOUR query over 28 local days)
               ─ render (blocks_digest) ─ post ─ record the ts

A claim left without a ts (the process died between posting and recording) is reconciled once
it is older than `stale_after`: when the dead run had got as far as posting (the claim's
`attempted_at`), `find_posted` looks for the digest's marker in the channel around that moment
and, when found, its ts is recorded instead of posting again. A search Slack cannot answer yet
(throttled) leaves the claim as it was and the digest UNRECONCILED: tried again, never posted
over the message that may be there.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.channels.authors import post_authors
from bot.channels.campaigns import campaign_days
from bot.channels.coverage import collect_channel_posts
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
from bot.copy import digest as digest_copy
from bot.engagement.query import AccountPosts, EngagementQuery, Granularity
from bot.errors import EngagementAPIError
from bot.render.digest import (
    METRICS,
    NEW_POSTS,
    TOP_POSTS,
    DigestData,
    PostLine,
    digest_message,
    marker,
)
from bot.store import Store
from bot.store.channels import ChannelSettings
from bot.store.digests import Claim, ClaimState, Digests

log = logging.getLogger(__name__)

Series = Mapping[str, Mapping[str, Mapping[datetime | date, int | None]]]

CHART_DAYS = 28
WEEK = 7
POST_LOOKBACK = timedelta(days=90)  # Posts older than this are left out of digests
CLAIM_STALE_AFTER = timedelta(minutes=5)


class Status(StrEnum):
    POSTED = "posted"
    ALREADY_POSTED = "already_posted"
    BUSY = "busy"
    RECONCILED = "reconciled"
    UNRECONCILED = "unreconciled"
    QUIET_SKIPPED = "quiet_skipped"
    PAUSED = "paused"
    FAILED = "failed"


@dataclass(frozen=True)
class DigestOutcome:
    status: Status
    channel_id: str
    local_date: date
    ts: str | None = None
    reason: str | None = None

    def describe(self) -> str:
        where = f"{self.channel_id} {self.local_date.isoformat()}"
        extra = f" ts={self.ts}" if self.ts else ""
        why = f": {self.reason}" if self.reason else ""
        return f"digest {where}: {self.status.value}{extra}{why}"


def zone_of(settings: ChannelSettings, deps: Deps) -> ZoneInfo:
    return ZoneInfo(settings.timezone or deps.settings.timezone)


def previous_local_day(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date() - timedelta(days=1)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The local day [start, end) in UTC (23, 24 or 25 hours)."""
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end


def run_digest(
    settings: ChannelSettings,
    *,
    local_date: date | None,
    now: datetime,
    deps: Deps,
    post: PostMessage,
    late: bool = False,
    find_posted: FindPosted | None = None,
    stale_after: timedelta = CLAIM_STALE_AFTER,
    clock: Callable[[], datetime] | None = None,
) -> DigestOutcome:
    """Build and post one channel's digest for `local_date` (None: the previous local day).

    POSTED: posted now. ALREADY_POSTED: a digest for the date is in the channel. BUSY: another
    run claimed the date less than `stale_after` ago (it may be posting, or may have died: a
    later run finds out). RECONCILED: an earlier run's unrecorded digest
    was found with `find_posted` and recorded. QUIET_SKIPPED: nothing to report on (no owned
    Posts), or a quiet day posted `late`. FAILED: X or Slack failed (the claim is released so a
    later run may try again), the day is not over yet, or an earlier run's stale claim cannot
    be checked because no `find_posted` was given. `clock` (default: `now` throughout) dates the
    attempt to post, which a later search centres on. PAUSED: Slack refused the channel in a way
    no retry fixes (archived, bot removed, token revoked …): the channel is paused now, or was
    already, and nothing is posted until someone resumes it.
    """
    zone = zone_of(settings, deps)
    day = local_date or previous_local_day(now, zone)
    team, channel = settings.team_id, settings.channel_id
    paused = deps.store.channels.settings(team, channel).paused_reason  # fresher than `settings`
    if paused is not None:
        return DigestOutcome(Status.PAUSED, channel, day, reason=paused)
    if day_bounds(day, zone)[1] > now:
        reason = digest_copy.not_over_yet(day, zone.key)
        return DigestOutcome(Status.FAILED, channel, day, reason=reason)
    token = uuid.uuid4().hex
    digests = deps.store.digests
    claim = digests.claim(team, channel, day, token=token, now=now, stale_after=stale_after)
    if claim.state is ClaimState.POSTED:
        return DigestOutcome(Status.ALREADY_POSTED, channel, day, claim.record.posted_ts)
    if claim.state is ClaimState.BUSY:
        reason = digest_copy.claimed_by_another_run(stale_after)
        return DigestOutcome(Status.BUSY, channel, day, reason=reason)
    if claim.state is ClaimState.STALE:
        outcome = reconcile(claim, day, token, now=now, deps=deps, find_posted=find_posted)
        if outcome is not None:
            return outcome
    return _build_and_post(
        settings, day, zone, token, now=now, deps=deps, post=post, late=late, clock=clock
    )


def reconcile(
    claim: Claim,
    day: date,
    token: str,
    *,
    now: datetime,
    deps: Deps,
    find_posted: FindPosted | None,
    ledger: Digests | None = None,
    mark: str | None = None,
) -> DigestOutcome | None:
    """A stale claim is ours (`token`): did the dead run post? None: it did not, post now.
    `ledger` and `mark`: a weekly or monthly report's (default: the daily digest's)."""
    team, channel = claim.record.team_id, claim.record.channel_id
    digests = ledger if ledger is not None else deps.store.digests
    previous = claim.previous
    if previous is None or previous.attempted_at is None:
        return None  # it died before posting
    if find_posted is None:
        reason = digest_copy.CLAIM_UNCHECKABLE
        return DigestOutcome(Status.FAILED, channel, day, reason=reason)
    try:
        searched = mark if mark is not None else marker(channel, day)
        found = find_posted(channel, searched, attempt_window(previous.attempted_at))
    except Exception as error:
        # Not known: the claim stays as the dead run left it, for the next run to check.
        digests.hand_back(team, channel, day, token=token, claimed_at=previous.claimed_at)
        failure = failure_of(error)
        if isinstance(error, Unanswered) or failure.action is not Action.PAUSE:
            why = digest_copy.cannot_search(error)
            return DigestOutcome(Status.UNRECONCILED, channel, day, reason=why)
        if failure.reason is not None:
            pause_channel(deps.store, team, channel, failure.reason, now)
        return DigestOutcome(Status.PAUSED, channel, day, reason=failure.reason)
    if found is None:
        return None
    digests.record(team, channel, day, token=token, ts=found, now=now)
    return DigestOutcome(Status.RECONCILED, channel, day, found)


def _build_and_post(
    settings: ChannelSettings,
    day: date,
    zone: ZoneInfo,
    token: str,
    *,
    now: datetime,
    deps: Deps,
    post: PostMessage,
    late: bool,
    clock: Callable[[], datetime] | None,
) -> DigestOutcome:
    """Gather, render, post and record, holding the claim `token`."""
    team, channel = settings.team_id, settings.channel_id
    digests = deps.store.digests
    try:
        data = gather(settings, day, zone, now=now, deps=deps)
    except Exception as error:  # nothing was posted: let a later run try again
        digests.release(team, channel, day, token=token)
        if not isinstance(error, EngagementAPIError):
            raise
        return DigestOutcome(Status.FAILED, channel, day, reason=f"X: {error}")
    if not data.post_ids or (late and data.quiet):
        digests.release(team, channel, day, token=token)
        return DigestOutcome(Status.QUIET_SKIPPED, channel, day)
    chart = bool(deps.can_post and deps.can_post(channel))
    message = digest_message(data, late=late, chart=chart)
    if not digests.attempt(team, channel, day, token=token, now=clock() if clock else now):
        log.warning("digest %s %s not posted: its claim was taken over", channel, day)
        reason = digest_copy.CLAIM_TAKEN_OVER
        return DigestOutcome(Status.BUSY, channel, day, reason=reason)
    try:
        ts = post(channel, message)
    except Exception as error:  # Slack said no (or was unreachable): taken as not posted
        log.warning("digest for %s %s not posted: %s", channel, day, error)
        digests.release(team, channel, day, token=token)
        failure = failure_of(error)
        if failure.action is Action.PAUSE and failure.reason is not None:
            pause_channel(deps.store, team, channel, failure.reason, now)
            return DigestOutcome(Status.PAUSED, channel, day, reason=failure.reason)
        return DigestOutcome(Status.FAILED, channel, day, reason=str(error))
    if not digests.record(team, channel, day, token=token, ts=ts, now=now):
        log.warning("digest %s %s posted as %s after its claim was taken over", channel, day, ts)
    return DigestOutcome(Status.POSTED, channel, day, ts)


def find_channel(store: Store, channel_id: str, *, team_id: str | None) -> ChannelSettings:
    """The channel's settings: in `team_id`, else in the one team with its digest on."""
    if team_id is not None:
        return store.channels.settings(team_id, channel_id)
    found = [c for c in store.channels.digest_channels() if c.channel_id == channel_id]
    if len(found) != 1:
        raise ValueError(digest_copy.no_single_team(channel_id))
    return found[0]


# -- gathering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestQuery:
    query: EngagementQuery | None  # None: no Post of the channel existed before the day ended
    skipped: tuple[AccountPosts, ...] = ()  # accounts left out, each with its problem


def digest_query(
    settings: ChannelSettings, day: date, zone: ZoneInfo, *, deps: Deps
) -> DigestQuery:
    """The one HOUR query over the 28 local days ending with `day` a digest needs, and the
    accounts whose Posts it had to leave out."""
    day_end = day_bounds(day, zone)[1]
    range_start = day_bounds(day - timedelta(days=CHART_DAYS - 1), zone)[0]
    since = range_start - POST_LOOKBACK
    found = collect_channel_posts(
        deps.store, deps.service, settings.team_id, settings.channel_id, since=since
    )
    infos = deps.store.posts.infos(found.post_ids)
    ids = [i for i in found.post_ids if (c := infos[i].created_at) is None or c < day_end]
    if not ids:
        return DigestQuery(None, found.skipped)
    query = EngagementQuery(tuple(ids), METRICS, Granularity.HOUR, range_start, day_end)
    return DigestQuery(query, found.skipped)


def prefetch(settings: ChannelSettings, *, now: datetime, deps: Deps) -> int:
    """Fetch the numbers of the digest due next (the previous local day) ahead of its time.

    Completed hours are kept in the store as settled, so the digest itself is then built
    without waiting on X's rate limits. Returns the number of Posts asked for."""
    zone = zone_of(settings, deps)
    query = digest_query(settings, previous_local_day(now, zone), zone, deps=deps).query
    if query is None:
        return 0
    deps.service.report(query, now=now, workspace=settings.team_id)
    return len(query.post_ids)


def gather(
    settings: ChannelSettings, day: date, zone: ZoneInfo, *, now: datetime, deps: Deps
) -> DigestData:
    """The digest's numbers: one HOUR query over the 28 local days ending with `day`."""
    day_start, day_end = day_bounds(day, zone)
    first = day - timedelta(days=CHART_DAYS - 1)
    asked = digest_query(settings, day, zone, deps=deps)
    query = asked.query
    ids = list(query.post_ids) if query is not None else []
    infos = deps.store.posts.infos(ids)
    series: Series = {}
    if query is not None:
        # the channel's workspace decides which accounts count as owners
        series = deps.service.report(query, now=now, workspace=settings.team_id).series
    owned = tuple(i for i in ids if i in series)
    # Not "not written by a connected account": X would not say who wrote these just now.
    unknown = deps.service.authors_unknown(
        [i for i in ids if i not in series], workspace=settings.team_id
    )
    per_post = {p: post_days(series[p], zone) for p in owned}
    daily = {m: _sum_days(per_post, m, first, day) for m in METRICS}
    week = [day - timedelta(days=n) for n in range(1, WEEK + 1)]
    new = [p for p in owned if (c := infos[p].created_at) is not None and day_start <= c]
    lines = {p: PostLine(p, {m: per_post[p][m].get(day, 0) for m in METRICS}) for p in owned}
    team, channel = settings.team_id, settings.channel_id
    campaign_rows, more_campaigns = campaign_days(deps, team, channel, day, now=now)
    ranked = ranked_lines(list(lines.values()))
    return DigestData(
        channel_id=settings.channel_id,
        local_date=day,
        zone=zone.key,
        post_ids=owned,
        left_out=len(ids) - len(owned) - len(unknown),
        totals={m: daily[m][day] for m in METRICS},
        day_before={m: daily[m][day - timedelta(days=1)] for m in METRICS},
        week_average={m: sum(daily[m][d] for d in week) / WEEK for m in METRICS},
        hourly=_hourly(series, owned, day_start, day_end),
        new_posts=tuple(lines[p] for p in new[:NEW_POSTS]),
        top=ranked[:TOP_POSTS],
        ranked=ranked,
        daily=daily,
        authors=post_authors(deps.store, owned),
        skipped=tuple((s.handle, s.problem) for s in asked.skipped if s.problem is not None),
        unknown_authors=len(unknown),
        campaigns=campaign_rows,
        more_campaigns=more_campaigns,
    )


def post_days(
    metrics: Mapping[str, Mapping[datetime | date, int | None]], zone: ZoneInfo
) -> dict[str, dict[date, int]]:
    """metric → local day → the sum of the Post's hour buckets that start in it."""
    out: dict[str, dict[date, int]] = {}
    for metric, buckets in metrics.items():
        days = out.setdefault(metric, {})
        for bucket, count in buckets.items():
            if isinstance(bucket, datetime) and count:
                local = bucket.astimezone(zone).date()
                days[local] = days.get(local, 0) + count
    return out


def _sum_days(
    per_post: Mapping[str, Mapping[str, Mapping[date, int]]], metric: str, first: date, last: date
) -> dict[date, int]:
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return {d: sum(p.get(metric, {}).get(d, 0) for p in per_post.values()) for d in days}


def _hourly(
    series: Series,
    owned: tuple[str, ...],
    start: datetime,
    end: datetime,
) -> tuple[int, ...]:
    hours = int((end - start) / timedelta(hours=1))
    totals = [0] * hours
    for post in owned:
        for bucket, count in series[post].get("impressions", {}).items():
            if isinstance(bucket, datetime) and start <= bucket < end and count:
                totals[int((bucket - start) / timedelta(hours=1))] += count
    return tuple(totals)


def top_lines(lines: list[PostLine]) -> tuple[PostLine, ...]:
    return ranked_lines(lines)[:TOP_POSTS]


def ranked_lines(lines: list[PostLine]) -> tuple[PostLine, ...]:
    """The Posts with numbers on the day, most engagements first (then impressions, ID)."""
    active = [p for p in lines if p.values.get("engagements") or p.values.get("impressions")]
    active.sort(
        key=lambda p: (-p.values.get("engagements", 0), -p.values.get("impressions", 0), p.post_id)
    )
    return tuple(active)
