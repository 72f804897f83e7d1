"""Lists: the leaderboard, what a channel tracks, connected accounts, alert rules, API usage.

The store's rows are described here as Protocols (bot.store.rows matches them), so rendering
does not import the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.copy import alerts, channel, reports, usage_report, words
from bot.engagement.query import AccountProblem
from bot.engagement.service import Ranked
from bot.render.kit import (
    LABEL_TEXT,
    Authors,
    Page,
    Part,
    clip,
    context,
    escape,
    header,
    paginate,
    post_link,
    post_plain,
    section,
    sections,
    simple,
    slack_date,
)
from bot.render.message import Message
from bot.render.numbers import exact
from bot.store.channels import Coverage

MEDALS = ("🥇", "🥈", "🥉")
ROWS_PER_SECTION = 10
OWNERS_SHOWN = 50


class AccountRow(Protocol):
    @property
    def handle(self) -> str: ...
    @property
    def workspace(self) -> str | None: ...
    @property
    def connected_at(self) -> datetime: ...


class AlertRuleRow(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...  # "threshold" | "spike"
    @property
    def metric(self) -> str | None: ...
    @property
    def threshold(self) -> int | None: ...
    @property
    def post_id(self) -> str | None: ...
    @property
    def handle(self) -> str | None: ...
    @property
    def sensitivity(self) -> str | None: ...


class EndpointRow(Protocol):
    @property
    def endpoint(self) -> str: ...
    @property
    def calls(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def attempts(self) -> int: ...


class OwnerRow(Protocol):
    @property
    def user_id(self) -> str: ...
    @property
    def handle(self) -> str | None: ...
    @property
    def calls(self) -> int: ...


class UsageRow(Protocol):
    @property
    def month(self) -> str: ...
    @property
    def endpoints(self) -> Sequence[EndpointRow]: ...
    @property
    def owners(self) -> Sequence[OwnerRow]: ...


# --- Leaderboard -------------------------------------------------------------------------------


def ranks(values: Sequence[int]) -> list[int]:
    """Competition ranking: equal values share a rank (1, 2, 2, 4)."""
    out: list[int] = []
    for index, value in enumerate(values):
        out.append(out[-1] if index and value == values[index - 1] else index + 1)
    return out


def leaderboard_message(
    rows: Sequence[Ranked],
    *,
    metric: str,
    period: str,
    authors: Authors,
    now: datetime,
    skipped: Sequence[tuple[str, AccountProblem]] = (),
    unknown_authors: int = 0,
    covered: int = 0,
    coverage: Coverage | None = None,
    offset: int = 0,
) -> Message:
    """Top Posts for the whole channel (in_channel), from row `offset` (the ranks count the
    rows before it: a board's next page); an empty board is a hint to the asker,
    which depends on whether the channel covers any Post (`covered`) or none (then it says
    what the channel covers, `coverage`). `skipped`
    accounts and Posts of `unknown_authors` were left out: one line says so."""
    left_out = (
        channel.left_out([(_at(h), p) for h, p in skipped], unknown_authors)
        if skipped or unknown_authors
        else None
    )
    ranked = list(zip(ranks([r.value for r in rows]), rows, strict=True))[offset:]
    if not ranked:
        text = (
            reports.leaderboard_no_readings(metric, period, covered)
            if covered
            else reports.leaderboard_empty(metric, period, coverage_text(coverage))
        )
        if left_out:
            return simple(f"{text}\n{left_out}", [section(text), context(left_out)], ephemeral=True)
        return simple(text, [section(text)], ephemeral=True)
    title = reports.leaderboard_title(metric, period)
    lines = []
    for rank, row in ranked:
        badge = MEDALS[rank - 1] if rank <= len(MEDALS) else f"{rank}."
        link = post_link(row.post_id, authors)
        lines.append(reports.leaderboard_row(badge, exact(row.value), metric, row.value, link))
    chunks = [lines[i : i + ROWS_PER_SECTION] for i in range(0, len(lines), ROWS_PER_SECTION)]
    parts = [Part(tuple(sections(chunk)), items=len(chunk)) for chunk in chunks]
    notes = [reports.leaderboard_hint(escape(metric))]
    if any(row.source == "snapshots" for _, row in ranked):
        notes.insert(0, reports.SNAPSHOTS_NOTE)
    if left_out:
        notes.insert(0, left_out)
    leader = post_plain(ranked[0][1].post_id, authors)
    page = Page(
        title=title,
        text=reports.leaderboard_fallback(metric, period, leader, exact(ranked[0][1].value)),
        head=(header(title), context(words.as_of(slack_date(now)))),
        parts=tuple(parts),
        tail=(context(*notes),),
    )
    return paginate(page, ephemeral=False)


# --- Tracked Posts and accounts ----------------------------------------------------------------


def tracked_message(
    posts: Sequence[str],
    handles: Sequence[str],
    *,
    coverage: Coverage,
    authors: Authors | None = None,
) -> Message:
    """What this channel follows: Posts (linked) and accounts (all their Posts), and what
    that makes its `top`, digest and alerts cover."""
    covers = channel.channel_covers(coverage_text(coverage))
    if not posts and not handles:
        text = channel.TRACKED_EMPTY
        return simple(f"{text}\n{covers}", [section(text), context(covers)])
    names = [_at(handle) for handle in handles]
    post_lines = [f"• {post_link(post, authors or {})}" for post in posts]
    parts = []
    if names:
        parts += _list_parts(channel.tracked_accounts(len(names)), [f"• {n}" for n in names])
    if post_lines:
        parts += _list_parts(channel.tracked_posts(len(post_lines)), post_lines)
    page = Page(
        title=channel.TRACKED_TITLE,
        text=channel.tracked_summary(len(posts), len(names)),
        head=(header(channel.TRACKED_TITLE),),
        parts=tuple(parts),
        tail=(context(covers), context(channel.TRACKED_HINT)),
        nouns=("item", "items"),
    )
    return paginate(page)


def coverage_text(coverage: Coverage | None, *, owned_only: bool = False) -> str:
    """bot.copy.channel.coverage for `coverage` (None: nothing covered), handles escaped."""
    if coverage is None:
        return channel.coverage(0, (), connected=False)
    handles = [_at(h) for h in coverage.handles]
    return channel.coverage(
        len(coverage.posts), handles, connected=coverage.connected, owned_only=owned_only
    )


def _at(handle: str) -> str:
    return escape("@" + handle.strip().lstrip("@"))


def _list_parts(title: str | None, lines: Sequence[str]) -> list[Part]:
    """A list (titled, optionally) in sections of 2 × ROWS_PER_SECTION lines, so long lists
    page cleanly."""
    size = ROWS_PER_SECTION * 2
    chunks = [list(lines[i : i + size]) for i in range(0, len(lines), size)]
    return [
        Part(tuple(sections([title, *chunk] if title and i == 0 else chunk)), items=len(chunk))
        for i, chunk in enumerate(chunks)
    ]


# --- Accounts ----------------------------------------------------------------------------------


def accounts_message(accounts: Sequence[AccountRow]) -> Message:
    """The X accounts whose Posts count as owned (impressions, hourly numbers)."""
    if not accounts:
        text = channel.ACCOUNTS_EMPTY
        return simple(text, [section(text)])
    lines = [
        channel.account_line(
            escape(account.handle),
            words.day_label(account.connected_at.date()),
            shared=account.workspace is None,
        )
        for account in accounts
    ]
    page = Page(
        title=channel.ACCOUNTS_TITLE,
        text=channel.accounts_summary(len(accounts)),
        head=(header(channel.ACCOUNTS_TITLE),),
        parts=tuple(_list_parts(None, lines)),
        tail=(context(channel.ACCOUNTS_HINT),),
        nouns=("account", "accounts"),
    )
    return paginate(page)


# --- Alert rules -------------------------------------------------------------------------------


def alerts_message(
    rules: Sequence[AlertRuleRow],
    *,
    snoozed_until: datetime | None = None,
    now: datetime | None = None,
    authors: Authors | None = None,
    coverage: Coverage,
) -> Message:
    """The channel's alert rules, with their IDs for `alert off`, and any snooze; a
    channel-wide rule says what the channel covers (`coverage`)."""
    snoozed = snoozed_until is not None and (now is None or snoozed_until > now)
    snooze_line = alerts.alerts_snoozed(slack_date(snoozed_until)) if snoozed_until else ""
    if not rules:
        text = alerts.ALERTS_EMPTY
        return simple(text, [section(text), *([context(snooze_line)] if snoozed else [])])
    lines = [
        alerts.alert_listed(rule.id, rule_text(rule, authors or {}, coverage)) for rule in rules
    ]
    head = [header(alerts.ALERTS_TITLE)]
    if snoozed:
        head.append(context(snooze_line))
    page = Page(
        title=alerts.ALERTS_TITLE,
        text=alerts.alerts_summary(len(rules)),
        head=tuple(head),
        parts=tuple(Part((block,), items=1) for block in sections(lines)),
        tail=(context(alerts.ALERTS_HINT),),
        nouns=("rule", "rules"),
    )
    return paginate(page)


def rule_text(
    rule: AlertRuleRow, authors: Authors, coverage: Coverage, *, linked: bool = True
) -> str:
    """The one wording of an alert rule ("Likes above 100/hour on @alice"), used by the
    confirmation, the `alerts` listing and the alert message; `linked`: the Post as a link.
    A channel-wide rule is on the channel's `coverage`; a threshold one counts only the Posts
    of connected accounts (the alert pass reads other Posts' hours for spikes only)."""
    if rule.post_id:
        target = (post_link if linked else post_plain)(rule.post_id, authors)
    elif rule.handle:
        target = _at(rule.handle)
    else:
        target = coverage_text(coverage, owned_only=rule.kind == "threshold")
    if rule.kind == "threshold" and rule.metric and rule.threshold is not None:
        return alerts.alert_threshold(rule.metric, exact(rule.threshold), target)
    if rule.kind == "spike":
        sensitivity = escape(rule.sensitivity or "medium")
        return alerts.alert_spike(rule.metric, sensitivity, target)
    return alerts.alert_other(escape(rule.kind), target)


# --- Usage -------------------------------------------------------------------------------------


def usage_message(usage: UsageRow) -> Message:
    """This month's calls per endpoint and the owner accounts X bills for."""
    month = escape(usage.month)
    calls = sum(e.calls for e in usage.endpoints)
    if not calls and not usage.owners:
        text = usage_report.usage_none(month)
        return simple(text, [section(text)])
    endpoint_lines = [
        usage_report.usage_endpoint(
            escape(clip(e.endpoint, LABEL_TEXT)), e.calls, e.failed, max(e.attempts - e.calls, 0)
        )
        for e in usage.endpoints
    ]
    owners = sorted(usage.owners, key=lambda o: (-o.calls, o.handle or "", o.user_id))
    owner_lines = [
        usage_report.usage_owner(escape(clip(_owner_name(o), LABEL_TEXT)), o.calls)
        for o in owners[:OWNERS_SHOWN]
    ]
    if len(owners) > OWNERS_SHOWN:
        owner_lines.append(words.and_more(len(owners) - OWNERS_SHOWN))
    parts = _list_parts(None, endpoint_lines)
    parts += _list_parts(usage_report.usage_owners(len(owners)), owner_lines)
    page = Page(
        title=usage_report.usage_title(month),
        text=usage_report.usage_summary(month, calls, len(owners)),
        head=(header(usage_report.usage_title(month)),),
        parts=tuple(parts),
        tail=(context(usage_report.USAGE_BILLING),),
        nouns=("line", "lines"),
    )
    return paginate(page)


def _owner_name(owner: OwnerRow) -> str:
    return owner.handle or usage_report.usage_unnamed_owner(owner.user_id)
