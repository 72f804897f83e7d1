"""The operator's commands: `query` (numbers through the engagement service) and `accounts`
(link X accounts from tokens already held). Each returns an exit status and writes to `out`.

The X client and the engagement service (bot.app: requests, the planner, the executor) are
imported by the commands that call X: `accounts list` and `usage` read the store only."""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.config import Settings
from bot.copy import channel, operator, terminal, usage_report
from bot.engagement.metric_names import resolve_metrics
from bot.engagement.models import DEFAULT_SERIES, DEFAULT_TOTALS, UserAuth
from bot.engagement.query import EngagementQuery, Granularity, Reason, Report
from bot.errors import EXIT_INCOMPLETE, EXIT_OK, SecretKeyError, UserFacingError
from bot.ops.post_args import expand_post_args
from bot.ops.report_format import render
from bot.store.cipher import TokenCipher, split_keys
from bot.store.opening import open_store
from bot.store.rows import PostState

if TYPE_CHECKING:
    from bot.app import Engagement
    from bot.engagement.executor import RateWait

DEFAULT_METRICS = {
    Granularity.TOTAL: DEFAULT_TOTALS,
    Granularity.HOUR: DEFAULT_SERIES,
    Granularity.DAY: DEFAULT_SERIES,
}
KINDS = {"totals": Granularity.TOTAL, "hourly": Granularity.HOUR, "daily": Granularity.DAY}


@dataclass(frozen=True)
class QueryArgs:
    kind: str
    posts: list[str]
    metrics: str | None
    fmt: str
    explain: bool
    start: date | None = None
    end: date | None = None  # inclusive


def build_query(args: QueryArgs) -> tuple[EngagementQuery, dict[str, str]]:
    """The EngagementQuery a command line asks for; ValueError says what is wrong."""
    from bot.engagement.service import parse_posts

    granularity = KINDS[args.kind]
    ids, handles = parse_posts(args.posts)
    metrics = resolve_metrics(args.metrics.split(",")) if args.metrics else ()
    if args.kind != "daily" and (args.start or args.end):
        raise ValueError(terminal.RANGE_ONLY_DAILY)
    start = datetime.combine(args.start, time(), UTC) if args.start else None
    end = datetime.combine(args.end + timedelta(days=1), time(), UTC) if args.end else None
    if start and end and end <= start:
        raise ValueError(terminal.RANGE_BACKWARDS)
    query = EngagementQuery(
        tuple(ids), metrics or DEFAULT_METRICS[granularity], granularity, start, end
    )
    return query, handles


def read_posts(args: Iterable[str], stdin: TextIO) -> list[str]:
    """The query's Post references: arguments, `-` (standard input) and `@file` lists."""
    return expand_post_args(
        list(args),
        read_stdin=stdin.read,
        read_file=lambda name: Path(name).read_text(encoding="utf-8"),
    )


def run_query(
    settings: Settings,
    args: QueryArgs,
    *,
    now: datetime,
    out: TextIO,
    err: TextIO,
    progress: bool = False,
    sleep: Callable[[float], None] = clock.sleep,
    monotonic: Callable[[], float] = clock.monotonic,
) -> int:
    """`query`: the numbers on `out`; why some are missing, and waits when `progress`, on
    `err`. Returns EXIT_OK, or EXIT_INCOMPLETE when a number is missing for a reason that may
    pass (scripts retry on it); usage errors raise ValueError, failures BotError."""
    from bot.app import engagement

    query, handles = build_query(args)

    def waiting(wait: RateWait) -> None:
        err.write(
            terminal.cli_rate_wait(wait.endpoint.value, wait.seconds, wait.calls_left, wait.calls)
            + "\n"
        )
        err.flush()

    on_wait = waiting if progress else None
    with engagement(settings, sleep=sleep, monotonic=monotonic, on_wait=on_wait) as parts:
        if args.explain:
            return _explain(parts, query, handles, now=now, out=out)
        report = parts.service.report(query, now=now, handles=handles)
        out.write(render(report, args.fmt))
        unresolved = authors_unresolved(parts, query.post_ids)
    failed, unknown = incomplete(report, unresolved)
    if failed or unknown:
        err.write(terminal.cli_incomplete(failed, unknown) + "\n")
        return EXIT_INCOMPLETE
    return EXIT_OK


def _explain(
    parts: Engagement,
    query: EngagementQuery,
    handles: dict[str, str],
    *,
    now: datetime,
    out: TextIO,
) -> int:
    """The plan the run would make: authors are looked up first (as the run does), so the
    calls shown are the calls made."""
    from bot.engagement.planner import describe

    lookups = parts.service.learn_authors(query.post_ids, now=now, handles=handles)
    out.write(terminal.cli_lookups(lookups) + "\n")
    for line in describe(parts.service.plan(query, now=now)):
        out.write(line + "\n")
    if still := authors_unresolved(parts, query.post_ids):
        out.write(terminal.cli_authors_unknown(len(still)) + "\n")
    return EXIT_OK


def authors_unresolved(parts: Engagement, post_ids: Iterable[str]) -> list[str]:
    """Posts whose author matters (an account is connected) but is still unknown because the
    lookup failed; a deleted or protected Post has no author to learn."""
    unknown = parts.service.unknown_authors(list(post_ids))
    if not unknown:  # the usual case: no state to read for thousands of Posts
        return []
    states = parts.store.posts.states(unknown)
    return [post for post in unknown if states.get(post, PostState.OK) is PostState.OK]


def incomplete(report: Report, unresolved: Iterable[str]) -> tuple[int, int]:
    """What makes a report incomplete for now: (values X failed to give in time, Posts whose
    private metrics wait on an author lookup that failed). Other gaps are permanent."""
    reasons = {pair: reason for pair, reason in report.missing.items()}
    reasons |= {
        (post, metric): value.reason
        for post, values in report.totals.items()
        for metric, value in values.items()
        if value.reason is not None
    }
    failed = {pair for pair, reason in reasons.items() if reason in _X_FAILED}
    unknown = {post for (post, _), reason in reasons.items() if reason is Reason.AUTHOR_UNKNOWN}
    # A Post planned as not owned only because its lookup failed is a guess, not an answer.
    guessed = {post for (post, _), reason in reasons.items() if reason is Reason.NOT_OWNED}
    return len(failed), len(unknown | (set(unresolved) & guessed))


_X_FAILED = frozenset({Reason.FAILED, Reason.TIMED_OUT})


def accounts_add(
    settings: Settings,
    *,
    token: str,
    secret: str,
    workspace: str | None,
    now: datetime,
    out: TextIO,
) -> int:
    """Link an account whose token and secret the operator holds, after one signed call."""
    from bot.app import http_client

    auth = UserAuth(token, secret)
    user_id = auth.user_id
    if user_id is None:
        raise UserFacingError(operator.TOKEN_NOT_THE_ACCOUNTS)
    with http_client(settings) as client:
        page = client.user_posts(user_id, max_results=5, auth=auth)
    handle = next((p.author_username for p in page.posts if p.author_username), None)
    store = open_store(settings)
    try:
        store.accounts.save(
            user_id=user_id, screen_name=handle or user_id, auth=auth, workspace=workspace, now=now
        )
    finally:
        store.close()
    out.write(operator.account_linked(operator.account_shown(handle, user_id)))
    return 0


def accounts_list(settings: Settings, *, out: TextIO) -> int:
    store = open_store(settings)
    try:
        accounts = store.accounts.listed()
        exclusions = store.accounts.exclusions()
    finally:
        store.close()
    if not accounts:
        out.write(operator.NO_ACCOUNTS_LINKED)
    for account in accounts:
        where = account.workspace or channel.every_workspace_but(
            exclusions.get(account.user_id, ())
        )
        out.write(
            f"{account.handle:<20} user {account.user_id:<20} {where:<16} "
            f"linked {account.connected_at:%Y-%m-%d %H:%M}Z\n"
        )
    return 0


def accounts_remove(settings: Settings, *, handle: str, out: TextIO) -> int:
    store = open_store(settings)
    try:
        account = store.accounts.find(handle)
        if account is None:
            raise UserFacingError(operator.no_linked_account(handle))
        store.accounts.remove(account.user_id)
    finally:
        store.close()
    out.write(operator.account_removed(account.handle))
    return 0


def usage(settings: Settings, *, month: str, out: TextIO) -> int:
    """`usage`: a month's X API calls and the owner accounts billed, for every workspace."""
    store = open_store(settings)
    try:
        report = store.usage.month(month)
    finally:
        store.close()
    calls = sum(e.calls for e in report.endpoints)
    if not calls and not report.owners:
        out.write(usage_report.usage_none(month) + "\n")
        return 0
    lines = [usage_report.usage_summary(month, calls, len(report.owners))]
    lines += [
        usage_report.usage_endpoint(e.endpoint, e.calls, e.failed, max(e.attempts - e.calls, 0))
        for e in report.endpoints
    ]
    lines += [
        usage_report.usage_owner(o.handle or usage_report.usage_unnamed_owner(o.user_id), o.calls)
        for o in report.owners
    ]
    out.write("\n".join(lines) + "\n")
    return 0


def rotate_key(settings: Settings, *, out: TextIO, now: datetime | None = None) -> int:
    """Re-encrypt every stored token (X accounts, and the Slack installations of a
    multi-workspace install) under the first key of ENGAGEMENT_SECRET_KEY.

    Rotation: put the new key first and the old one after it (`NEW,OLD`), run this, then drop
    the old key. Every token must open with one of the keys, else nothing is rewritten.
    """
    from bot.slack.installations import SlackInstallations

    keys = split_keys(settings.secret_key) if settings.secret_key else []
    if len(keys) < 2:
        raise UserFacingError(operator.ROTATE_NEEDS_TWO_KEYS)
    store = open_store(settings)
    try:
        slack = SlackInstallations(
            store,
            cipher=TokenCipher.from_keys(keys),
            client_id=None,  # every app's rows
        )
        store.accounts.verify_key()
        if failed := slack.undecryptable():
            raise SecretKeyError(operator.slack_tokens_mismatch(failed))
        with store.transaction():
            rewritten = store.accounts.rotate()
            if now is not None:
                store.connect_links.rotate(store.cipher, now=now)
            installs = slack.rotate()
    finally:
        store.close()
    out.write(operator.key_rotated(rewritten, installs))
    return 0
