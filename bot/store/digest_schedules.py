"""When a channel's weekly and monthly reports are due: one row per (team, channel, period).

The anchor is the weekday (0 = Monday … 6 = Sunday) of a weekly report, or the day of the
month (1-31; a shorter month posts on its last day) of a monthly one; `at` is local "HH:MM"
in the channel's digest zone (its settings' `timezone`, else the default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store.sql import Repository, instant

PERIODS = ("weekly", "monthly")


@dataclass(frozen=True)
class DigestSchedule:
    team_id: str
    channel_id: str
    period: str  # "weekly" | "monthly"
    anchor: int
    at: str  # "HH:MM"


class DigestSchedules(Repository):
    """`store.digest_schedules`."""

    def set(self, schedule: DigestSchedule, *, by: str | None, now: datetime) -> None:
        """Add or replace the channel's report of that period."""
        if schedule.period not in PERIODS:
            raise ValueError(f"unknown period {schedule.period!r}")
        with self._transaction():
            self._db.execute(
                """INSERT INTO digest_schedules
                    (team_id, channel_id, period, anchor, at, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (team_id, channel_id, period) DO UPDATE SET
                    anchor = excluded.anchor, at = excluded.at,
                    created_by = excluded.created_by, created_at = excluded.created_at""",
                (
                    schedule.team_id,
                    schedule.channel_id,
                    schedule.period,
                    schedule.anchor,
                    schedule.at,
                    by,
                    instant(now),
                ),
            )

    def remove(self, team_id: str, channel_id: str, period: str) -> bool:
        """Whether there was one to remove."""
        with self._transaction():
            cursor = self._db.execute(
                "DELETE FROM digest_schedules WHERE team_id = ? AND channel_id = ? AND period = ?",
                (team_id, channel_id, period),
            )
        return bool(cursor.rowcount)

    def of_channel(self, team_id: str, channel_id: str) -> list[DigestSchedule]:
        return self._select("WHERE team_id = ? AND channel_id = ?", (team_id, channel_id))

    def all(self) -> list[DigestSchedule]:
        return self._select("", ())

    def _select(self, where: str, args: tuple[str, ...]) -> list[DigestSchedule]:
        with self._lock:
            rows = self._db.rows(
                f"""SELECT team_id, channel_id, period, anchor, at FROM digest_schedules {where}
                ORDER BY team_id, channel_id, period""",
                args,
            )
        return [DigestSchedule(t, c, p, int(a), at) for t, c, p, a, at in rows]
