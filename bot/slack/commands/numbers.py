"""`/engagement totals | hourly | daily | top`: the numbers X serves, as replies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.channels.authors import post_authors
from bot.channels.coverage import ChannelSet, collect_channel_set
from bot.channels.deps import Deps
from bot.channels.digest import zone_of
from bot.copy import reports
from bot.engagement import snowflake
from bot.engagement.leaderboard import Ranked
from bot.engagement.models import DEFAULT_SERIES, DEFAULT_TOTALS, LIMITS, PUBLIC_METRICS
from bot.engagement.post_refs import PostRef
from bot.engagement.query import EngagementQuery, Granularity
from bot.errors import UserFacingError
from bot.render import blocks
from bot.render.buttons import board_actions, refresh_actions, with_actions
from bot.render.message import Message
from bot.render.series import Zones
from bot.slack.commands.invocation import Invocation
from bot.slack.commands.links import handles_in
from bot.slack.outbox import with_pause_note
from bot.slack.parse import commands as c


def totals(command: c.Totals, inv: Invocation, deps: Deps, now: datetime) -> Message:
    ids = tuple(dict.fromkeys(r.post_id for r in command.posts))
    query = EngagementQuery(ids, command.metrics or DEFAULT_TOTALS)
    report = deps.service.report(
        query, now=now, handles=handles_in(command.posts), workspace=inv.team_id
    )
    message = blocks.totals_message(
        report, authors=post_authors(deps.store, command.posts), now=now
    )
    return with_actions(message, refresh_actions(ids))


def hourly(command: c.Hourly, inv: Invocation, deps: Deps, now: datetime) -> Message:
    query = EngagementQuery(
        (command.post.post_id,), command.metrics or DEFAULT_SERIES, Granularity.HOUR
    )
    report = deps.service.report(
        query, now=now, handles=handles_in((command.post,)), workspace=inv.team_id
    )
    return blocks.hourly_message(
        report,
        authors=post_authors(deps.store, (command.post,)),
        now=now,
        with_chart=_can_upload(inv, deps),
        zones=reading_zones(inv, deps),
    )


def reading_zones(inv: Invocation, deps: Deps) -> Zones:
    """The channel's digest zone (for what the channel sees) and the asker's Slack zone (for
    what only they see), when Slack says it."""
    channel = zone_of(deps.store.channels.settings(inv.team_id, inv.channel_id), deps)
    reader = deps.reader_zone(inv.team_id, inv.user_id) if deps.reader_zone else None
    return Zones(channel=channel, reader=ZoneInfo(reader) if reader else None)


def daily(command: c.Daily, inv: Invocation, deps: Deps, now: datetime) -> Message:
    start = datetime.combine(command.start, time(), UTC) if command.start else None
    end = datetime.combine(command.end + timedelta(days=1), time(), UTC) if command.end else None
    query = EngagementQuery(
        (command.post.post_id,), command.metrics or DEFAULT_SERIES, Granularity.DAY, start, end
    )
    try:
        report = deps.service.report(
            query, now=now, handles=handles_in((command.post,)), workspace=inv.team_id
        )
    except ValueError as error:  # e.g. a range wholly before 2014-09-01 or in the future
        raise UserFacingError(str(error)) from None
    reply = blocks.daily_message(
        report,
        authors=post_authors(deps.store, (command.post,)),
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
        return reports.range_clipped(command.start, floor)
    if command.start is not None and created is not None and command.start < created.date():
        return reports.range_before_post(command.start, created.date())
    return None


def _can_upload(inv: Invocation, deps: Deps) -> bool:
    """Whether a chart can go with the reply: files need the bot in the channel. (Drawn only
    then, so the text never promises a chart that isn't coming.)"""
    return bool(deps.can_post and deps.can_post(inv.channel_id))


@dataclass(frozen=True)
class Board:
    """A leaderboard's rows (up to offset + limit) and what was covered or left out."""

    rows: list[Ranked]
    found: ChannelSet  # the Posts ranked (`found.covered` of them)
    unknown: tuple[str, ...]  # Posts of unknown ownership, left out (the message says so)


def board_rows(command: c.Top, inv: Invocation, deps: Deps, now: datetime) -> Board:
    """The rows `top` shows (the board and its CSV button share them)."""
    from bot.engagement.service import PERIODS

    found = collect_channel_set(
        deps.store,
        deps.service,
        inv.team_id,
        inv.channel_id,
        since=now - PERIODS[command.period],
    )
    board = (
        deps.service.standings(
            found.posts,
            command.metric,
            period=command.period,
            limit=command.offset + command.limit,
            now=now,
            workspace=inv.team_id,
        )
        if found.covered
        else None
    )
    rows = list(board.rows) if board else []
    return Board(rows, found, tuple(board.unknown) if board else ())


def top(command: c.Top, inv: Invocation, deps: Deps, now: datetime) -> Message:
    board = board_rows(command, inv, deps, now)
    rows, found, unknown = board.rows, board.found, board.unknown
    if not rows and found.covered and command.metric not in PUBLIC_METRICS:
        _refuse_private_ranking(command, inv, deps, found)
    refs = tuple(PostRef(r.post_id) for r in rows)
    message = blocks.leaderboard_message(
        rows,
        metric=command.metric,
        period=command.period,
        authors=post_authors(deps.store, refs),
        now=now,
        skipped=[(s.handle, s.problem) for s in found.skipped if s.problem is not None],
        unknown_authors=len(unknown),
        covered=found.covered,
        coverage=found.coverage,
        offset=command.offset,
    )
    if message.ephemeral:  # an empty board: a hint, nothing to page or download
        return message
    more = len(rows) == command.offset + command.limit
    actions = board_actions(
        command.metric, command.limit, command.period, command.offset, more=more
    )
    return with_actions(message, actions)


def _refuse_private_ranking(command: c.Top, inv: Invocation, deps: Deps, found: ChannelSet) -> None:
    """An empty board for a metric X serves only to the author's token, over Posts none of
    which a connected account wrote: the reason is the missing connection, not the Posts.
    (Only here, for an empty board, are the channel's Posts listed.)"""
    owners = deps.store.accounts.connected_ids(inv.team_id)
    ids = deps.store.channels.tracked(inv.team_id, inv.channel_id, "post") + list(found.posts.ids)
    infos = deps.store.posts.infos(ids)
    if not any(infos[i].author_id in owners for i in ids):
        raise UserFacingError(
            reports.leaderboard_needs_connect(command.metric, command.period, found.covered)
        )
