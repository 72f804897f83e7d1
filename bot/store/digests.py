"""A digest's exactly-once bookkeeping: one row per (team, channel, local date), the date
being the day a daily digest reports on, or the first day of a weekly or monthly report's
period (each kind in its own table: `Digests(…, table="weekly_digests")`).

    claim() ──▶ attempt() ──▶ post ──▶ record()        the normal path
    claim() ──▶ post fails ──▶ release() so a later run may try again
    claim() ──▶ (process dies)           the row keeps a claim without a ts; once it is older
                                         than `stale_after`, the next claim() says STALE and
                                         hands the claim over, and the caller looks for the
                                         message in the channel (around the dead run's
                                         attempt) before posting; hand_back() when it cannot
                                         tell yet

Every decision is one `BEGIN IMMEDIATE` transaction, so two runs (threads or processes) racing
for the same date see each other's claim.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.store.sql import Db, instant, parse_instant

LEDGERS = ("digests", "weekly_digests", "monthly_digests")


class ClaimState(StrEnum):
    CLAIMED = "claimed"  # the date is ours now: post, then record()
    POSTED = "posted"  # a digest for the date is already in the channel
    BUSY = "busy"  # another run claimed it moments ago and may still be posting
    STALE = "stale"  # an old claim without a ts is ours now: look for its message first


@dataclass(frozen=True)
class DigestRecord:
    team_id: str
    channel_id: str
    local_date: date
    claimed_at: datetime
    claim_token: str
    posted_ts: str | None
    posted_at: datetime | None
    attempted_at: datetime | None = None  # the latest run about to post; None: none got there


@dataclass(frozen=True)
class Claim:
    state: ClaimState
    record: DigestRecord  # after the claim: ours when CLAIMED or STALE
    # STALE: the dead run's claim as it was (its attempted_at says whether and when it posted)
    previous: DigestRecord | None = None


class Digests:
    """Digest claims in the store's database, under the store's lock and transactions."""

    def __init__(
        self,
        db: Db,
        lock: threading.RLock,
        transaction: Callable[[], AbstractContextManager[None]],
        *,
        table: str = "digests",
    ) -> None:
        if table not in LEDGERS:
            raise ValueError(f"unknown ledger {table!r}")
        self._table = table
        self._db = db
        self._lock = lock
        self._transaction = transaction

    def get(self, team_id: str, channel_id: str, local_date: date) -> DigestRecord | None:
        with self._lock:
            return self._get(team_id, channel_id, local_date)

    def last_digest_date(self, team_id: str, channel_id: str) -> date | None:
        """The local date of the channel's latest digest known to be in Slack (the scheduler's
        DigestHistory)."""
        with self._lock:
            rows = self._db.rows(
                f"""SELECT MAX(local_date) FROM {self._table}
                WHERE team_id = ? AND channel_id = ? AND posted_ts IS NOT NULL""",
                (team_id, channel_id),
            )
        return date.fromisoformat(rows[0][0]) if rows and rows[0][0] else None

    def claim(
        self,
        team_id: str,
        channel_id: str,
        local_date: date,
        *,
        token: str,
        now: datetime,
        stale_after: timedelta,
    ) -> Claim:
        """Take the date for the run holding `token`, unless another run has it (see ClaimState)."""
        with self._transaction():
            found = self._get(team_id, channel_id, local_date)
            if found is not None and found.posted_ts is not None:
                return Claim(ClaimState.POSTED, found)
            if found is not None and now - found.claimed_at < stale_after:
                return Claim(ClaimState.BUSY, found)
            self._db.execute(
                f"""INSERT INTO {self._table}
                    (team_id, channel_id, local_date, claimed_at, claim_token)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (team_id, channel_id, local_date) DO UPDATE SET
                    claimed_at = excluded.claimed_at, claim_token = excluded.claim_token""",
                (team_id, channel_id, local_date.isoformat(), instant(now), token),
            )
            record = self._get(team_id, channel_id, local_date)
        assert record is not None
        return Claim(ClaimState.CLAIMED if found is None else ClaimState.STALE, record, found)

    def attempt(
        self, team_id: str, channel_id: str, local_date: date, *, token: str, now: datetime
    ) -> bool:
        """The run holding `token` is about to post (`now`); False if it lost the claim."""
        with self._transaction():
            cursor = self._db.execute(
                f"""UPDATE {self._table} SET attempted_at = ?
                WHERE team_id = ? AND channel_id = ? AND local_date = ? AND claim_token = ?
                    AND posted_ts IS NULL""",
                (instant(now), team_id, channel_id, local_date.isoformat(), token),
            )
        return bool(cursor.rowcount)

    def hand_back(
        self, team_id: str, channel_id: str, local_date: date, *, token: str, claimed_at: datetime
    ) -> bool:
        """Give a taken-over stale claim back as it was (its claim time, its attempt), so the
        next run may take it at once: whether the dead run posted is not known yet."""
        with self._transaction():
            cursor = self._db.execute(
                f"""UPDATE {self._table} SET claimed_at = ?
                WHERE team_id = ? AND channel_id = ? AND local_date = ? AND claim_token = ?
                    AND posted_ts IS NULL""",
                (instant(claimed_at), team_id, channel_id, local_date.isoformat(), token),
            )
        return bool(cursor.rowcount)

    def record(
        self,
        team_id: str,
        channel_id: str,
        local_date: date,
        *,
        token: str,
        ts: str,
        now: datetime,
    ) -> bool:
        """The digest is in the channel as message `ts`; False if `token` lost the claim."""
        with self._transaction():
            cursor = self._db.execute(
                f"""UPDATE {self._table} SET posted_ts = ?, posted_at = ?
                WHERE team_id = ? AND channel_id = ? AND local_date = ? AND claim_token = ?
                    AND posted_ts IS NULL""",
                (ts, instant(now), team_id, channel_id, local_date.isoformat(), token),
            )
        return bool(cursor.rowcount)

    def release(self, team_id: str, channel_id: str, local_date: date, *, token: str) -> bool:
        """Give up an unposted claim (the post failed), so a later run may try again."""
        with self._transaction():
            cursor = self._db.execute(
                f"""DELETE FROM {self._table}
                WHERE team_id = ? AND channel_id = ? AND local_date = ?
                    AND claim_token = ? AND posted_ts IS NULL""",
                (team_id, channel_id, local_date.isoformat(), token),
            )
        return bool(cursor.rowcount)

    def _get(self, team_id: str, channel_id: str, local_date: date) -> DigestRecord | None:
        rows = self._db.rows(
            f"""SELECT claimed_at, claim_token, posted_ts, posted_at, attempted_at
            FROM {self._table}
            WHERE team_id = ? AND channel_id = ? AND local_date = ?""",
            (team_id, channel_id, local_date.isoformat()),
        )
        if not rows:
            return None
        claimed_at, token, ts, posted_at, attempted_at = rows[0]
        return DigestRecord(
            team_id,
            channel_id,
            local_date,
            parse_instant(claimed_at),
            token,
            ts,
            parse_instant(posted_at) if posted_at else None,
            parse_instant(attempted_at) if attempted_at else None,
        )
