"""Alert rules, evaluated every few minutes for each channel that has some.

    run_alert_pass ─ per channel (not snoozed, not paused): its rules' Posts
                   ─ owned Posts: ONE /28hr HOUR query; the last complete hour is judged
                   ─ unowned tracked Posts: a /totals snapshot now; hourly deltas of snapshots
                   ─ spike() / threshold_hit() ─ cooldown ─ alert_log.record (INSERT OR IGNORE
                     on (rule, Post, hour): an hour never alerts twice, across restarts too)
                   ─ outside quiet hours: one message with every undelivered first alert, and
                     each follow-up (the rule firing again on that Post after its cooldown) as
                     a reply in its first alert's thread; inside quiet hours the firings wait
                     (delivered_at NULL) for the first pass after

The rules' verdicts (spike, thresholds, quiet hours, cooldown) are pure: bot.channels.alert_rules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.channels.alert_delivery import deliver, reconcile
from bot.channels.alert_rules import (
    BASELINE_HOURS,
    HOUR,
    channel_quiet,
    cooled_down,
    hour_values,
    judge,
    rule_metric,
)
from bot.channels.coverage import account_posts, collect_channel_posts
from bot.channels.deps import Deps
from bot.channels.digest import zone_of
from bot.channels.outbox import (
    FindPosted,
    PostMessage,
    Refused,
    failure_of,
    pause_channel,
)
from bot.engagement.models import PUBLIC_METRICS
from bot.engagement.query import AccountPosts, EngagementQuery, Granularity
from bot.engagement.windows import floor_hour
from bot.store.alert_log import Firing
from bot.store.channels import AlertRule, ChannelSettings

log = logging.getLogger(__name__)


INTERVAL = timedelta(minutes=15)  # the scheduler's default; ENGAGEMENT_ALERT_MINUTES overrides
COOLDOWN = timedelta(hours=3)  # per rule and Post
ACCOUNT_LOOKBACK = timedelta(days=30)  # a tracked account's Posts younger than this are watched
SNAPSHOT_SLACK = timedelta(minutes=25)  # how far a snapshot may be from the hour mark it stands for


# -- the pass -----------------------------------------------------------------------------------


def run_alert_pass(
    *,
    now: datetime,
    deps: Deps,
    post: PostMessage,
    channels: Iterable[tuple[str, str]] | None = None,
    cooldown: timedelta = COOLDOWN,
    find_posted: FindPosted | None = None,
    clock: Callable[[], datetime] | None = None,
) -> list[Firing]:
    """One evaluation of every channel with alert rules (or just `channels`); the firings new
    in this pass, with delivered_at/message_ts set when they were posted now. With
    `find_posted`, alerts an earlier pass posted but did not record (it died in between) are
    found in the channel (around the time of that attempt) and recorded instead of being
    posted again; those it cannot search for yet wait for a later pass. `clock` (default:
    `now`) dates each delivery attempt."""
    fired: list[Firing] = []
    targets = list(channels) if channels is not None else deps.store.channels.alert_channels()
    for team, channel in targets:
        try:
            fired.extend(
                channel_pass(
                    team,
                    channel,
                    now=now,
                    deps=deps,
                    post=post,
                    cooldown=cooldown,
                    find_posted=find_posted,
                    clock=clock,
                )
            )
        except Exception:  # one channel's failure must not stop the others
            log.exception("alert pass for %s/%s failed", team, channel)
    return fired


def channel_pass(
    team: str,
    channel: str,
    *,
    now: datetime,
    deps: Deps,
    post: PostMessage,
    cooldown: timedelta,
    find_posted: FindPosted | None = None,
    clock: Callable[[], datetime] | None = None,
) -> list[Firing]:
    store = deps.store
    settings = store.channels.settings(team, channel)
    rules = store.channels.alerts(team, channel)
    if not rules or settings.paused_reason:
        return []
    if settings.snoozed_until is not None and settings.snoozed_until > now:
        return []
    muted = store.channels.muted(team, channel)
    candidates = [
        f for f in evaluate(settings, rules, now=now, deps=deps) if f.post_id not in muted
    ]
    log_ = store.alert_log
    due = [
        f for f in candidates if cooled_down(log_.last_fired(f.rule_id, f.post_id), now, cooldown)
    ]
    new = log_.record(due)
    zone = zone_of(settings, deps)
    if channel_quiet(settings, now, zone):
        if new:
            log.info("%d alert(s) for %s held for quiet hours", len(new), channel)
        return new
    pending = log_.undelivered([r.id for r in rules])
    if find_posted is not None:
        try:
            pending = reconcile(channel, pending, deps=deps, find_posted=find_posted, now=now)
        except Refused as error:  # the channel refused the search: posting would too
            failure = failure_of(error)
            if failure.reason is not None:
                pause_channel(deps.store, settings.team_id, channel, failure.reason, now)
            return new
    if not pending:
        return new
    return deliver(settings, rules, pending, new, zone, deps=deps, post=post, now=now, clock=clock)


def describe_firing(firing: Firing) -> str:
    """One line for `alerts check`."""
    against = (
        f"baseline {firing.baseline:,.1f}/h" if firing.baseline is not None else "over threshold"
    )
    where = f"delivered ts={firing.message_ts}" if firing.message_ts else "held"
    return (
        f"alert #{firing.rule_id} Post {firing.post_id} {firing.metric}"
        f" {firing.hour:%Y-%m-%dT%H:00Z}: {firing.value:,} ({against}), {where}"
    )


# -- gathering and judging ----------------------------------------------------------------------


@dataclass
class _Targets:
    """Which Posts each rule watches, and whether unowned ones count for it."""

    posts: dict[int, list[str]]
    unowned_ok: dict[int, bool]
    skipped: tuple[AccountPosts, ...] = ()  # accounts whose Posts could not be listed

    def all_posts(self) -> list[str]:
        return list(dict.fromkeys(p for ids in self.posts.values() for p in ids))


def rule_targets(
    settings: ChannelSettings, rules: Sequence[AlertRule], *, now: datetime, deps: Deps
) -> _Targets:
    """A Post rule: that Post; an account rule: its recent Posts; otherwise the Posts the
    channel covers (bot.channels.coverage: what it tracks, or tracking nothing, its
    workspace's connected accounts). Unowned Posts count for all but a channel-wide threshold
    rule (that one counts only Posts of connected accounts)."""
    since = now - ACCOUNT_LOOKBACK
    team, channel = settings.team_id, settings.channel_id
    # Each account's timeline is read once per pass; one X refuses is watched no further
    # (logged), and the channel's other Posts are judged as usual.
    seen: dict[str, AccountPosts] = {}
    covered: list[str] | None = None
    targets = _Targets({}, {})
    for rule in rules:
        if rule.post_id:
            ids = [rule.post_id]
        elif rule.handle:
            found = account_posts(deps.service, rule.handle, since=since, workspace=team, seen=seen)
            ids = list(found.post_ids)
        else:
            if covered is None:
                gathered = collect_channel_posts(
                    deps.store, deps.service, team, channel, since=since, seen=seen
                )
                covered = list(gathered.post_ids)
            ids = covered
        targets.posts[rule.id] = ids
        targets.unowned_ok[rule.id] = bool(rule.post_id or rule.handle or rule.kind == "spike")
    targets.skipped = tuple(found for found in seen.values() if found.problem is not None)
    return targets


def evaluate(
    settings: ChannelSettings, rules: Sequence[AlertRule], *, now: datetime, deps: Deps
) -> list[Firing]:
    """Every rule's verdict on the last complete hour, for each of its Posts."""
    targets = rule_targets(settings, rules, now=now, deps=deps)
    for skipped in targets.skipped:
        log.info("alerts in %s skip @%s: %s", settings.channel_id, skipped.handle, skipped.problem)
    ids = targets.all_posts()
    if not ids:
        return []
    hour = floor_hour(now) - HOUR
    owned_metrics = tuple(dict.fromkeys(rule_metric(r, owned=True) for r in rules))
    start = hour - BASELINE_HOURS * HOUR
    query = EngagementQuery(tuple(ids), owned_metrics, Granularity.HOUR, start, hour + HOUR)
    series = deps.service.report(query, now=now, workspace=settings.team_id, fresh=True).series
    infos = deps.store.posts.infos(ids)
    unowned = [p for p in ids if p not in series]
    deltas = _snapshot_deltas(settings, rules, targets, unowned, now=now, deps=deps)
    firings: list[Firing] = []
    for rule in rules:
        for post_id in targets.posts[rule.id]:
            if post_id in series:
                metric = rule_metric(rule, owned=True)
                buckets = series[post_id].get(metric, {})
                created = infos[post_id].created_at if post_id in infos else None
                values = hour_values(buckets, hour, created)
            elif targets.unowned_ok[rule.id]:
                metric = rule_metric(rule, owned=False)
                values = deltas.get((post_id, metric), [])
            else:
                continue
            firing = judge(rule, post_id, metric, hour, values, now=now)
            if firing is not None:
                firings.append(firing)
    return firings


def _snapshot_deltas(
    settings: ChannelSettings,
    rules: Sequence[AlertRule],
    targets: _Targets,
    unowned: Sequence[str],
    *,
    now: datetime,
    deps: Deps,
) -> dict[tuple[str, str], list[int]]:
    """Unowned Posts: a /totals snapshot now, then per metric the hourly deltas between
    snapshots taken near now, now − 1 h, now − 2 h, … (oldest first; the last is the hour just
    gone). A gap in the snapshots ends the list there."""
    wanted: dict[str, set[str]] = {}
    for rule in rules:
        if not targets.unowned_ok[rule.id]:
            continue
        metric = rule_metric(rule, owned=False)
        if metric not in PUBLIC_METRICS:
            continue
        for post_id in targets.posts[rule.id]:
            if post_id in unowned:
                wanted.setdefault(post_id, set()).add(metric)
    if not wanted:
        return {}
    metrics = tuple(sorted({m for ms in wanted.values() for m in ms}))
    query = EngagementQuery(tuple(wanted), metrics)
    report = deps.service.report(query, now=now, workspace=settings.team_id, fresh=True)
    taken = report.fetched_at or now
    out: dict[tuple[str, str], list[int]] = {}
    for post_id, post_metrics in wanted.items():
        for metric in post_metrics:
            points: list[int] = []
            for back in range(BASELINE_HOURS + 2):
                mark = taken - back * HOUR
                found = deps.store.series.totals_before(post_id, metric, mark)
                if found is None or mark - found[1] > SNAPSHOT_SLACK:
                    break
                points.append(found[0])
            deltas = [
                max(newer - older, 0) for newer, older in zip(points, points[1:], strict=False)
            ]
            out[(post_id, metric)] = deltas[::-1]
    return out
