"""The API call log, and a month's usage from it (X bills by unique owner handles a month)."""

from __future__ import annotations

from datetime import datetime

from bot.store.rows import EndpointUsage, OwnerUsage, Usage
from bot.store.sql import Db, Repository, instant, month_range, parse_instant


def log_call(
    db: Db,
    *,
    at: datetime,
    endpoint: str,
    owner_id: str | None,
    post_count: int,
    status: int,
    attempts: int,
    workspace: str | None,
) -> None:
    db.execute(
        """INSERT INTO api_calls (at, endpoint, owner_id, post_count, status, attempts, workspace)
        VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (instant(at), endpoint, owner_id, post_count, status, attempts, workspace),
    )


_CALLS = """
    SELECT endpoint, owner_id, 1 AS calls, status NOT BETWEEN 200 AND 299 AS failed, attempts,
        post_count
    FROM api_calls WHERE at >= :start AND at < :end
        AND (:workspace IS NULL OR workspace = :workspace)
    UNION ALL
    SELECT endpoint, NULLIF(owner_id, ''), calls, failed, attempts, post_count
    FROM api_calls_monthly WHERE month = :month
        AND (:workspace IS NULL OR workspace = :workspace)"""


def usage(db: Db, month: str, workspace: str | None) -> Usage:
    """The month's calls: all of them (workspace None), or those made for one workspace."""
    start, end = month_range(month)
    # Months pruned long ago are summed in api_calls_monthly (bot/store/retention.py): a month
    # reads the same from either, or from both while a prune is part-way through the log.
    params = {"start": start, "end": end, "month": month, "workspace": workspace}
    endpoints = db.rows(
        f"""SELECT endpoint, SUM(calls), SUM(failed), SUM(attempts), SUM(post_count)
        FROM ({_CALLS}) GROUP BY endpoint ORDER BY endpoint""",
        params,
    )
    # An owner counts once it made a successful user-context call; failed calls aren't billed.
    owners = db.rows(
        f"""SELECT c.owner_id, u.username, SUM(c.calls - c.failed) AS ok FROM ({_CALLS}) AS c
        LEFT JOIN users AS u ON u.user_id = c.owner_id
        WHERE c.owner_id IS NOT NULL
        GROUP BY c.owner_id HAVING ok > 0
        ORDER BY u.username IS NULL, u.username COLLATE NOCASE, c.owner_id""",
        params,
    )
    return Usage(
        month=month,
        endpoints=tuple(EndpointUsage(*row) for row in endpoints),
        owners=tuple(
            OwnerUsage(owner_id, None if name is None else f"@{name}", calls)
            for owner_id, name, calls in owners
        ),
    )


class CallLog(Repository):
    """The API call log: `store.usage`."""

    def log_call(
        self,
        *,
        at: datetime,
        endpoint: str,
        owner_id: str | None,
        post_count: int,
        status: int,
        attempts: int = 1,
        workspace: str | None = None,
    ) -> None:
        """One API call; `owner_id` None for app-only auth, `status` 0 when nothing came back,
        `workspace` the Slack team it was made for (None: the operator's, or no one's)."""
        with self._transaction():
            log_call(
                self._db,
                at=at,
                endpoint=endpoint,
                owner_id=owner_id,
                post_count=post_count,
                status=status,
                attempts=attempts,
                workspace=workspace,
            )

    def month(self, month: str, workspace: str | None = None) -> Usage:
        """Calls per endpoint in a UTC month ("YYYY-MM"), and the owners billed for it: every
        call (None), or the calls made for one workspace."""
        with self._lock:
            return usage(self._db, month, workspace)

    def last_call(self, owner_id: str) -> datetime | None:
        """When this account's token last made a successful call (its "last fetch")."""
        with self._lock:
            rows = self._db.rows(
                "SELECT MAX(at) FROM api_calls WHERE owner_id = ? AND status BETWEEN 200 AND 299",
                (owner_id,),
            )
        return parse_instant(rows[0][0]) if rows and rows[0][0] else None
