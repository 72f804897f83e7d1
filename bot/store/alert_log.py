"""Alert firings: one row per (rule, Post, hour), so an hour never alerts twice, restarts or not.

record()          INSERT OR IGNORE the pass's firings; returns those that are new
last_fired()      the newest firing of a rule on a Post (the cooldown's input)
thread_of()       the ts of the first alert of a rule on a Post, where its follow-ups go
undelivered()     firings of some rules not in Slack yet (held by quiet hours, or a failed
                  post); delivered in one batch by the next pass that may post
attempt()         a delivery is about to be tried with `token` (its message carries it)
attempts()        undelivered firings by the token of the attempt that last carried them
attempt_times()   when each of those attempts was made (where to look for its message)
mark_delivered()  the firings are in Slack as message `ts`
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.store.sql import Db, instant, parse_instant


@dataclass(frozen=True)
class Firing:
    """A rule that fired on a Post for one UTC hour: `value` in that hour against `baseline`
    (a spike's mean of the hours before) or the rule's threshold (baseline None)."""

    rule_id: int
    post_id: str
    hour: datetime
    metric: str
    value: int
    baseline: float | None
    fired_at: datetime
    delivered_at: datetime | None = None
    message_ts: str | None = None

    @property
    def key(self) -> tuple[int, str, datetime]:
        return (self.rule_id, self.post_id, self.hour)


class AlertLog:
    """The `alert_firings` table, under the store's lock and transactions."""

    def __init__(
        self, db: Db, lock: threading.RLock, transaction: Callable[[], AbstractContextManager[None]]
    ) -> None:
        self._db = db
        self._lock = lock
        self._transaction = transaction

    def record(self, firings: Iterable[Firing]) -> list[Firing]:
        """Insert each firing unless its (rule, Post, hour) is already there; the new ones."""
        new = []
        with self._transaction():
            for firing in firings:
                cursor = self._db.execute(
                    """INSERT OR IGNORE INTO alert_firings
                    (rule_id, post_id, hour, metric, value, baseline, fired_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)""",
                    (
                        firing.rule_id,
                        firing.post_id,
                        instant(firing.hour),
                        firing.metric,
                        firing.value,
                        firing.baseline,
                        instant(firing.fired_at),
                    ),
                )
                if cursor.rowcount:
                    new.append(firing)
        return new

    def last_fired(self, rule_id: int, post_id: str) -> datetime | None:
        with self._lock:
            rows = self._db.rows(
                "SELECT MAX(fired_at) FROM alert_firings WHERE rule_id = ? AND post_id = ?",
                (rule_id, post_id),
            )
        return parse_instant(rows[0][0]) if rows and rows[0][0] else None

    def thread_of(self, firing: Firing, posted_by: datetime | None = None) -> str | None:
        """The message ts of the first delivered firing of the same rule on the same Post for
        an earlier hour (recorded by `posted_by`, when given: where an attempt made then went):
        `firing` is a follow-up in that message's thread. None: it is the first (or every
        earlier one is still unrecorded), so it goes in the channel."""
        by = instant(posted_by) if posted_by is not None else None
        with self._lock:
            rows = self._db.rows(
                """SELECT message_ts FROM alert_firings
                WHERE rule_id = ? AND post_id = ? AND hour < ?
                    AND delivered_at IS NOT NULL AND message_ts IS NOT NULL
                    AND (? IS NULL OR delivered_at <= ?)
                ORDER BY hour LIMIT 1""",
                (firing.rule_id, firing.post_id, instant(firing.hour), by, by),
            )
        return str(rows[0][0]) if rows else None

    def get(self, rule_id: int, post_id: str, hour: datetime) -> Firing | None:
        with self._lock:
            rows = self._db.rows(
                f"SELECT {_COLUMNS} FROM alert_firings"
                " WHERE rule_id = ? AND post_id = ? AND hour = ?",
                (rule_id, post_id, instant(hour)),
            )
        return _firing(rows[0]) if rows else None

    def recent(self, team_id: str, limit: int) -> list[tuple[str, Firing]]:
        """The workspace's latest delivered firings, newest first, with their channel."""
        columns = ", ".join(f"f.{c.strip()}" for c in _COLUMNS.split(","))
        with self._lock:
            rows = self._db.rows(
                f"SELECT r.channel_id, {columns} FROM alert_firings AS f"
                " JOIN alert_rules AS r ON r.id = f.rule_id"
                " WHERE r.team_id = ? AND f.delivered_at IS NOT NULL"
                " ORDER BY f.fired_at DESC, f.hour DESC LIMIT ?",
                (team_id, limit),
            )
        return [(str(row[0]), _firing(row[1:])) for row in rows]

    def undelivered(self, rule_ids: Sequence[int]) -> list[Firing]:
        """Firings of these rules not delivered yet, oldest first."""
        if not rule_ids:
            return []
        marks = ", ".join("?" for _ in rule_ids)
        with self._lock:
            rows = self._db.rows(
                f"SELECT {_COLUMNS} FROM alert_firings"
                f" WHERE delivered_at IS NULL AND rule_id IN ({marks})"
                " ORDER BY fired_at, hour, rule_id, post_id",
                tuple(rule_ids),
            )
        return [_firing(row) for row in rows]

    def attempt(self, firings: Iterable[Firing], *, token: str, now: datetime) -> None:
        """Note, before posting, that a message carrying `token` is about to deliver these."""
        with self._transaction():
            self._db.conn.executemany(
                """UPDATE alert_firings SET attempt_token = ?, attempted_at = ?
                WHERE rule_id = ? AND post_id = ? AND hour = ? AND delivered_at IS NULL""",
                [(token, instant(now), f.rule_id, f.post_id, instant(f.hour)) for f in firings],
            )

    def attempts(self, firings: Iterable[Firing]) -> dict[str, list[Firing]]:
        """These undelivered firings grouped by the token of an earlier delivery attempt;
        firings never attempted are left out."""
        grouped: dict[str, list[Firing]] = {}
        with self._lock:
            for firing in firings:
                rows = self._db.rows(
                    """SELECT attempt_token FROM alert_firings
                    WHERE rule_id = ? AND post_id = ? AND hour = ? AND delivered_at IS NULL
                        AND attempt_token IS NOT NULL""",
                    (firing.rule_id, firing.post_id, instant(firing.hour)),
                )
                if rows:
                    grouped.setdefault(str(rows[0][0]), []).append(firing)
        return grouped

    def attempt_times(self, tokens: Iterable[str]) -> dict[str, datetime]:
        """token → when that delivery attempt was made (its earliest note, should several
        rows disagree)."""
        out: dict[str, datetime] = {}
        with self._lock:
            for token in tokens:
                rows = self._db.rows(
                    "SELECT MIN(attempted_at) FROM alert_firings WHERE attempt_token = ?",
                    (token,),
                )
                if rows and rows[0][0]:
                    out[token] = parse_instant(rows[0][0])
        return out

    def mark_delivered(self, firings: Iterable[Firing], *, ts: str, now: datetime) -> None:
        with self._transaction():
            for firing in firings:
                self._db.execute(
                    """UPDATE alert_firings SET delivered_at = ?, message_ts = ?
                    WHERE rule_id = ? AND post_id = ? AND hour = ? AND delivered_at IS NULL""",
                    (instant(now), ts, firing.rule_id, firing.post_id, instant(firing.hour)),
                )


_COLUMNS = "rule_id, post_id, hour, metric, value, baseline, fired_at, delivered_at, message_ts"


def _firing(row: tuple[Any, ...]) -> Firing:
    rule_id, post_id, hour, metric, value, baseline, fired_at, delivered_at, ts = row
    return Firing(
        int(rule_id),
        str(post_id),
        parse_instant(hour),
        str(metric),
        int(value),
        float(baseline) if baseline is not None else None,
        parse_instant(fired_at),
        parse_instant(delivered_at) if delivered_at else None,
        ts,
    )
