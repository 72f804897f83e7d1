"""`/engagement` end to end without Bolt: text in, Message out.

`run()` parses the text, asks the engagement service or the store, and renders the answer.
Bad input comes back as a short usage Message; anything unexpected propagates to the app's
global error handler. The console drives exactly this path.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.channels.coverage import channel_coverage, collect_channel_posts
from bot.channels.deps import Deps
from bot.channels.outbox import pause_note
from bot.copy import messages
from bot.engagement import snowflake
from bot.engagement.models import (
    ALL_METRICS,
    DEFAULT_SERIES,
    DEFAULT_TOTALS,
    LIMITS,
    PUBLIC_METRICS,
)
from bot.engagement.post_refs import PostRef
from bot.engagement.query import EngagementQuery, Granularity
from bot.errors import (
    EngagementAPIError,
    SlackUnavailable,
    TimedOut,
    UsageError,
    UserFacingError,
)
from bot.render import blocks
from bot.render.kit import escape
from bot.render.lists import coverage_text, rule_text
from bot.render.message import Message
from bot.slack.connect import TTL_MINUTES, start_link
from bot.slack.outbox import with_pause_note
from bot.slack.parse import commands as c
from bot.slack.parse.grammar import parse
from bot.store.channels import Coverage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Invocation:
    team_id: str
    channel_id: str
    user_id: str
    text: str
    response_url: str | None = None


# Subcommands that change what a workspace or channel gets, and what the refusal calls it.
# Reads, `digest now`, and track/untrack (a channel's own list) stay open to everyone.
GUARDED: Mapping[type, str] = {
    c.Connect: "connected X accounts",
    c.Disconnect: "connected X accounts",
    c.DigestOn: "the daily digest",
    c.DigestOff: "the daily digest",
    c.AlertThreshold: "alerts",
    c.AlertSpike: "alerts",
    c.AlertOff: "alerts",
    c.Snooze: "alerts",
    c.Quiet: "quiet hours",
}


# Subcommands that ask X (numbers, account lookups): they run on the bot's X pool under the
# answer's deadline. Everything else answers from the store (and Slack) alone, on its own pool,
# so a slow X never holds back `help`, `usage` or a settings change.
ASKS_X: frozenset[type] = frozenset({c.Totals, c.Hourly, c.Daily, c.Top, c.Track, c.DigestNow})


def asks_x(text: str, *, today: date) -> bool:
    """Whether `/engagement <text>` will call X (text that does not parse will not)."""
    try:
        return type(parse(text, today=today)) in ASKS_X
    except UsageError:
        return False


def run(invocation: Invocation, *, deps: Deps, now: datetime) -> Message:
    """The reply to one `/engagement` invocation."""
    try:
        command = parse(invocation.text, today=now.date())
    except UsageError as error:
        return blocks.error_message(str(error))
    what = GUARDED.get(type(command))
    if what is not None and deps.may_change is not None:
        try:
            allowed = deps.may_change(invocation.team_id, invocation.user_id)
        except SlackUnavailable as error:
            return blocks.error_message(messages.slack_busy(what, error.retry_after))
        if not allowed:
            return blocks.error_message(messages.not_allowed(what))
    try:
        reply = _HANDLERS[type(command)](command, invocation, deps, now)
    except UserFacingError as error:
        return blocks.error_message(str(error))
    except TimedOut:
        return blocks.error_message(messages.x_timed_out())
    except EngagementAPIError as error:
        # X refused or failed outright (not a per-Post gap): say so plainly, permanent or not;
        # nothing was lost. The raw error goes to the log under the ref, not to the person.
        ref = uuid.uuid4().hex[:8]
        log.warning("ref %s: X refused or failed: %s", ref, error)
        return blocks.error_message(messages.x_error(error, ref))
    # A channel whose digests and alerts Slack refused hears why at its next interaction.
    settings = deps.store.channels.settings(invocation.team_id, invocation.channel_id)
    return with_pause_note(reply, pause_note(settings))


# -- numbers -----------------------------------------------------------------------------------


def _authors(deps: Deps, refs: tuple[PostRef, ...]) -> dict[str, str | None]:
    """Post ID → handle for links: the URL's, else the author's we have learned (a connected
    account's, or one a lookup or timeline named), else unknown."""
    known = deps.store.posts.author_handles([r.post_id for r in refs])
    return {ref.post_id: ref.handle or known.get(ref.post_id) for ref in refs}


def _handles(refs: tuple[PostRef, ...]) -> dict[str, str]:
    return {r.post_id: r.handle for r in refs if r.handle}


def _totals(command: c.Totals, inv: Invocation, deps: Deps, now: datetime) -> Message:
    ids = tuple(dict.fromkeys(r.post_id for r in command.posts))
    query = EngagementQuery(ids, command.metrics or DEFAULT_TOTALS)
    report = deps.service.report(
        query, now=now, handles=_handles(command.posts), workspace=inv.team_id
    )
    return blocks.totals_message(report, authors=_authors(deps, command.posts), now=now)


def _hourly(command: c.Hourly, inv: Invocation, deps: Deps, now: datetime) -> Message:
    query = EngagementQuery(
        (command.post.post_id,), command.metrics or DEFAULT_SERIES, Granularity.HOUR
    )
    report = deps.service.report(
        query, now=now, handles=_handles((command.post,)), workspace=inv.team_id
    )
    return blocks.hourly_message(
        report,
        authors=_authors(deps, (command.post,)),
        now=now,
        with_chart=_can_upload(inv, deps),
    )


def _daily(command: c.Daily, inv: Invocation, deps: Deps, now: datetime) -> Message:
    start = datetime.combine(command.start, time(), UTC) if command.start else None
    end = datetime.combine(command.end + timedelta(days=1), time(), UTC) if command.end else None
    query = EngagementQuery(
        (command.post.post_id,), command.metrics or DEFAULT_SERIES, Granularity.DAY, start, end
    )
    try:
        report = deps.service.report(
            query, now=now, handles=_handles((command.post,)), workspace=inv.team_id
        )
    except ValueError as error:  # e.g. a range wholly before 2014-09-01 or in the future
        raise UserFacingError(str(error)) from None
    reply = blocks.daily_message(
        report,
        authors=_authors(deps, (command.post,)),
        now=now,
        with_chart=_can_upload(inv, deps),
    )
    return with_pause_note(reply, _range_note(command))


def _range_note(command: c.Daily) -> str | None:
    """Say where the days shown start later than the days asked for: X's history begins on
    2014-09-01, and a Post has no days before it was created (those are left out)."""
    floor = LIMITS.historical_floor.date()
    created = snowflake.created_at(int(command.post.post_id))
    if command.start is not None and command.start < floor:
        return messages.range_clipped(command.start, floor)
    if command.start is not None and created is not None and command.start < created.date():
        return messages.range_before_post(command.start, created.date())
    return None


def _can_upload(inv: Invocation, deps: Deps) -> bool:
    """Whether a chart can go with the reply: files need the bot in the channel. (Drawn only
    then, so the text never promises a chart that isn't coming.)"""
    return bool(deps.can_post and deps.can_post(inv.channel_id))


def _top(command: c.Top, inv: Invocation, deps: Deps, now: datetime) -> Message:
    from bot.engagement.service import PERIODS

    found = collect_channel_posts(
        deps.store,
        deps.service,
        inv.team_id,
        inv.channel_id,
        since=now - PERIODS[command.period],
    )
    ids = list(found.post_ids)
    rows = (
        deps.service.leaderboard(
            ids,
            command.metric,
            period=command.period,
            limit=command.limit,
            now=now,
            workspace=inv.team_id,
        )
        if ids
        else []
    )
    unknown = deps.service.authors_unknown(ids, workspace=inv.team_id) if ids else []
    if not rows and ids and command.metric not in PUBLIC_METRICS:
        _refuse_private_ranking(command, inv, deps, ids)
    refs = tuple(PostRef(r.post_id) for r in rows)
    return blocks.leaderboard_message(
        rows,
        metric=command.metric,
        period=command.period,
        authors=_authors(deps, refs),
        now=now,
        skipped=[(s.handle, s.problem) for s in found.skipped if s.problem is not None],
        unknown_authors=len(unknown),
        covered=len(ids),
        coverage=channel_coverage(deps.store, inv.team_id, inv.channel_id),
    )


def _refuse_private_ranking(command: c.Top, inv: Invocation, deps: Deps, ids: list[str]) -> None:
    """An empty board for a metric X serves only to the author's token, over Posts none of
    which a connected account wrote: the reason is the missing connection, not the Posts."""
    owners = deps.store.accounts.connected_ids(inv.team_id)
    infos = deps.store.posts.infos(ids)
    if not any(infos[i].author_id in owners for i in ids):
        raise UserFacingError(
            messages.leaderboard_needs_connect(command.metric, command.period, len(ids))
        )


# -- channel state -------------------------------------------------------------------------------


def _track(command: c.Track, inv: Invocation, deps: Deps, now: datetime) -> Message:
    channels = deps.store.channels
    for handle in command.handles:
        # An account whose Posts this workspace cannot read would only ever be skipped.
        problem = deps.service.account_problem(handle, workspace=inv.team_id)
        if problem is not None:
            raise UserFacingError(messages.track_refused(f"@{handle}", problem))
    posts = channels.track(
        inv.team_id,
        inv.channel_id,
        kind="post",
        refs=[r.post_id for r in command.posts],
        by=inv.user_id,
        now=now,
    )
    handles = channels.track(
        inv.team_id,
        inv.channel_id,
        kind="account",
        refs=[h.lower() for h in command.handles],
        by=inv.user_id,
        now=now,
    )
    added = [*posts, *(f"@{h}" for h in handles)]
    already = len(command.posts) + len(command.handles) - len(added)
    text = f"Now tracking {', '.join(added)} in this channel." if added else ""
    if already:
        text += f" {already} already tracked."
    return blocks.confirmation(text.strip())


def _untrack(command: c.Untrack, inv: Invocation, deps: Deps, now: datetime) -> Message:
    channels = deps.store.channels
    posts = channels.untrack(
        inv.team_id, inv.channel_id, kind="post", refs=[r.post_id for r in command.posts]
    )
    handles = channels.untrack(
        inv.team_id, inv.channel_id, kind="account", refs=[h.lower() for h in command.handles]
    )
    removed = [*posts, *(f"@{h}" for h in handles)]
    if not removed:
        raise UserFacingError("None of those were tracked here. `/engagement tracked` lists them.")
    return blocks.confirmation(f"Stopped tracking {', '.join(removed)}.")


def _tracked(command: c.Tracked, inv: Invocation, deps: Deps, now: datetime) -> Message:
    channels = deps.store.channels
    return blocks.tracked_message(
        channels.tracked(inv.team_id, inv.channel_id, "post"),
        channels.tracked(inv.team_id, inv.channel_id, "account"),
        coverage=channel_coverage(deps.store, inv.team_id, inv.channel_id),
    )


def _digest_on(command: c.DigestOn, inv: Invocation, deps: Deps, now: datetime) -> Message:
    channels = deps.store.channels
    current = channels.settings(inv.team_id, inv.channel_id)
    updated = replace(
        current,
        digest_enabled=True,
        paused_reason=None,  # turning it on again is how a paused channel resumes
        paused_at=None,
        digest_time=command.at.strftime("%H:%M") if command.at else current.digest_time,
        timezone=command.timezone or current.timezone or deps.settings.timezone,
    )
    channels.save_settings(updated, now=now)
    _settings_changed(inv, deps)
    return blocks.confirmation(
        f"Daily digest on: every day at {updated.digest_time} {updated.timezone}, "
        f"covering the previous day. {_digest_coverage(inv, deps)}"
    )


def _digest_coverage(inv: Invocation, deps: Deps) -> str:
    """What the channel's digest will report on, so an empty one is no surprise."""
    coverage = channel_coverage(deps.store, inv.team_id, inv.channel_id)
    return messages.digest_covers(coverage_text(coverage))


def _digest_off(command: c.DigestOff, inv: Invocation, deps: Deps, now: datetime) -> Message:
    channels = deps.store.channels
    current = channels.settings(inv.team_id, inv.channel_id)
    channels.save_settings(replace(current, digest_enabled=False), now=now)
    _settings_changed(inv, deps)
    return blocks.confirmation("Daily digest off for this channel.")


def _settings_changed(inv: Invocation, deps: Deps) -> None:
    if deps.on_settings_changed is not None:
        deps.on_settings_changed(inv.team_id, inv.channel_id)


def _digest_now(command: c.DigestNow, inv: Invocation, deps: Deps, now: datetime) -> Message:
    """Yesterday's digest for this channel, as a reply now (the scheduled one is unaffected)."""
    from bot.channels.digest import gather, previous_local_day, zone_of
    from bot.render.digest import digest_message

    settings = deps.store.channels.settings(inv.team_id, inv.channel_id)
    zone = zone_of(settings, deps)
    data = gather(settings, previous_local_day(now, zone), zone, now=now, deps=deps)
    chart = bool(deps.can_post and deps.can_post(inv.channel_id))
    return digest_message(data, chart=chart)


def _alert_threshold(
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


def _alert_spike(command: c.AlertSpike, inv: Invocation, deps: Deps, now: datetime) -> Message:
    return _add_alert(inv, deps, now, dict(kind="spike", sensitivity=command.sensitivity))


def _add_alert(inv: Invocation, deps: Deps, now: datetime, rule: dict[str, Any]) -> Message:
    """Store the rule unless the channel has it already or it is channel-wide in a channel
    covering nothing (it could never fire); confirm it in the rule's one wording (unlinked:
    confirmations and errors are escaped whole)."""
    channels = deps.store.channels
    coverage = channel_coverage(deps.store, inv.team_id, inv.channel_id)
    channel_wide = not rule.get("post_id") and not rule.get("handle")
    if coverage.empty and channel_wide:
        raise UserFacingError(messages.alert_covers_nothing(coverage_text(coverage)))
    if channel_wide and rule["kind"] == "threshold" and not _covers_owned(deps, inv, coverage):
        raise UserFacingError(messages.alert_threshold_owns_nothing(coverage_text(coverage)))
    authors = _rule_authors(deps, rule.get("post_id"))
    same = channels.same_alert(inv.team_id, inv.channel_id, **rule)
    if same is not None:
        raise UserFacingError(
            messages.alert_duplicate(same.id, rule_text(same, authors, coverage, linked=False))
        )
    added = channels.add_alert(inv.team_id, inv.channel_id, **rule, by=inv.user_id, now=now)
    return blocks.confirmation(
        messages.alert_added(added.id, rule_text(added, authors, coverage, linked=False))
    )


def _covers_owned(deps: Deps, inv: Invocation, coverage: Coverage) -> bool:
    """Whether a channel-wide threshold rule (it counts only the workspace's connected accounts'
    Posts) can see any Post: a connected account among those covered, or tracked Posts that
    may be one's (their authors are learnt when the pass runs)."""
    connected = {a.screen_name.lower() for a in deps.store.accounts.listed(inv.team_id)}
    if not connected:
        return False
    return bool(coverage.posts) or any(h.lstrip("@").lower() in connected for h in coverage.handles)


def _rule_authors(deps: Deps, post_id: str | None) -> dict[str, str | None]:
    return _authors(deps, (PostRef(post_id),)) if post_id else {}


def _refuse_unreadable(
    command: c.AlertThreshold, inv: Invocation, deps: Deps, now: datetime
) -> None:
    """A rule on a metric X serves only to the author's own token (everything but the public
    counts the alert pass can read from snapshots) can't fire for an author who isn't connected
    to this workspace: refuse it now rather than accept a rule that stays silent."""
    if command.metric in PUBLIC_METRICS:
        return
    public = [messages.metric_word(m) for m in ALL_METRICS if m in PUBLIC_METRICS]
    owners = deps.store.accounts.connected_ids(inv.team_id)
    if not owners:
        raise UserFacingError(messages.alert_private_no_accounts(command.metric, public))
    if command.handle is not None:
        account = deps.store.accounts.find(command.handle)
        if account is None or account.user_id not in owners:
            whose = f"@{escape(command.handle)}"
            raise UserFacingError(messages.alert_private_metric(command.metric, whose, public))
    elif command.post is not None:
        post_id = command.post.post_id
        handles = _handles((command.post,))
        deps.service.learn_authors([post_id], now=now, handles=handles)
        author = deps.store.posts.infos([post_id])[post_id].author_id
        if author is not None and author not in owners:  # unknown: X may yet say it's ours
            name = _authors(deps, (command.post,))[post_id]
            whose = f"its author @{escape(name.lstrip('@'))}" if name else "its author"
            raise UserFacingError(messages.alert_private_metric(command.metric, whose, public))


def _alerts(command: c.Alerts, inv: Invocation, deps: Deps, now: datetime) -> Message:
    rules = deps.store.channels.alerts(inv.team_id, inv.channel_id)
    posts = tuple(PostRef(r.post_id) for r in rules if r.post_id)
    snoozed = deps.store.channels.settings(inv.team_id, inv.channel_id).snoozed_until
    return blocks.alerts_message(
        rules,
        snoozed_until=snoozed,
        now=now,
        authors=_authors(deps, posts),
        coverage=channel_coverage(deps.store, inv.team_id, inv.channel_id),
    )


def _alert_off(command: c.AlertOff, inv: Invocation, deps: Deps, now: datetime) -> Message:
    if not deps.store.channels.remove_alert(inv.team_id, inv.channel_id, command.rule_id):
        raise UserFacingError(
            f"This channel has no alert #{command.rule_id}. `/engagement alerts` lists them."
        )
    return blocks.confirmation(f"Alert #{command.rule_id} removed.")


def _snooze(command: c.Snooze, inv: Invocation, deps: Deps, now: datetime) -> Message:
    channels = deps.store.channels
    current = channels.settings(inv.team_id, inv.channel_id)
    until = now + command.duration if command.duration else None
    channels.save_settings(replace(current, snoozed_until=until), now=now)
    if until is None:
        return blocks.confirmation("Alerts are back on for this channel.")
    return blocks.confirmation(f"Alerts snoozed until {until:%Y-%m-%d %H:%M} UTC.")


def _quiet(command: c.Quiet, inv: Invocation, deps: Deps, now: datetime) -> Message:
    channels = deps.store.channels
    current = channels.settings(inv.team_id, inv.channel_id)
    start = f"{command.start:%H:%M}" if command.start is not None else None
    end = f"{command.end:%H:%M}" if command.end is not None else None
    channels.save_settings(replace(current, quiet_start=start, quiet_end=end), now=now)
    if start is None:
        return blocks.confirmation("Quiet hours are off: alerts arrive as they fire.")
    zone = current.timezone or deps.settings.timezone
    return blocks.confirmation(
        f"Quiet hours {start}–{end} ({zone}): alerts in them arrive together at {end}."
    )


# -- accounts and usage ----------------------------------------------------------------------------


def _connect(command: c.Connect, inv: Invocation, deps: Deps, now: datetime) -> Message:
    if deps.x_oauth is None:
        raise UserFacingError(
            "Connecting an X account from Slack is not set up on this server. An operator can "
            "link one with `engagement-bot accounts add --token … --secret …`."
        )
    url = start_link(
        deps.store,
        deps.settings,
        team_id=inv.team_id,
        channel_id=inv.channel_id,
        user_id=inv.user_id,
        response_url=inv.response_url,
        now=now,
    )
    return Message(
        text=(
            f"Connect an X account to this workspace: <{url}|open this link> and approve on X. "
            f"The link is valid for {TTL_MINUTES} minutes, single use, and only for you."
        ),
        ephemeral=True,
    )


def _accounts(command: c.Accounts, inv: Invocation, deps: Deps, now: datetime) -> Message:
    return blocks.accounts_message(deps.store.accounts.listed(inv.team_id))


def _disconnect(command: c.Disconnect, inv: Invocation, deps: Deps, now: datetime) -> Message:
    account = deps.store.accounts.find(command.handle, inv.team_id)
    if account is None:
        raise UserFacingError(messages.not_connected_here(command.handle))
    if account.workspace is None:
        # Linked by the operator for every workspace: this one stops using it, the others
        # keep it (only the operator deletes its tokens).
        deps.store.accounts.exclude(account.user_id, inv.team_id, now=now)
        return blocks.confirmation(messages.disconnected_here(account.handle))
    deps.store.accounts.remove(account.user_id)
    return blocks.confirmation(messages.disconnected(account.handle))


def _usage(command: c.Usage, inv: Invocation, deps: Deps, now: datetime) -> Message:
    return blocks.usage_message(deps.store.usage.month(now.strftime("%Y-%m"), inv.team_id))


def _help(command: c.Help, inv: Invocation, deps: Deps, now: datetime) -> Message:
    return blocks.help_reply(command.topic)


_HANDLERS: dict[type, Callable[..., Message]] = {
    c.Help: _help,
    c.Totals: _totals,
    c.Hourly: _hourly,
    c.Daily: _daily,
    c.Top: _top,
    c.Track: _track,
    c.Untrack: _untrack,
    c.Tracked: _tracked,
    c.DigestOn: _digest_on,
    c.DigestOff: _digest_off,
    c.DigestNow: _digest_now,
    c.AlertThreshold: _alert_threshold,
    c.AlertSpike: _alert_spike,
    c.Alerts: _alerts,
    c.AlertOff: _alert_off,
    c.Snooze: _snooze,
    c.Quiet: _quiet,
    c.Connect: _connect,
    c.Accounts: _accounts,
    c.Disconnect: _disconnect,
    c.Usage: _usage,
}
