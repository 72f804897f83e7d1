"""Per-channel state: what a channel tracks, its digest settings and its alert rules."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.store.sql import Db, instant, parse_instant


@dataclass(frozen=True)
class ChannelSettings:
    team_id: str
    channel_id: str
    digest_enabled: bool = False
    digest_time: str = "09:00"  # local wall-clock HH:MM
    timezone: str | None = None  # IANA name; None = the deployment's ENGAGEMENT_TZ
    snoozed_until: datetime | None = None
    quiet_start: str | None = None  # local "HH:MM"; alerts wait until quiet_end
    quiet_end: str | None = None
    paused_reason: str | None = None  # why Slack refused this channel; None = active
    paused_at: datetime | None = None


@dataclass(frozen=True)
class AlertRule:
    id: int
    team_id: str
    channel_id: str
    kind: str  # "threshold" | "spike"
    metric: str | None
    threshold: int | None  # per hour
    post_id: str | None
    handle: str | None
    sensitivity: str | None
    created_by: str
    created_at: datetime


class Channels:
    """Channel state in the store's database, under the store's lock and transactions."""

    def __init__(
        self, db: Db, lock: threading.RLock, transaction: Callable[[], AbstractContextManager[None]]
    ) -> None:
        self._db = db
        self._lock = lock
        self._transaction = transaction

    def track(
        self,
        team_id: str,
        channel_id: str,
        *,
        kind: str,
        refs: Iterable[str],
        by: str,
        now: datetime,
    ) -> list[str]:
        """Follow `refs` (Post IDs or handles); returns the ones that were not followed yet."""
        added = []
        with self._transaction():
            for ref in dict.fromkeys(refs):
                cursor = self._db.execute(
                    """INSERT OR IGNORE INTO channel_tracks
                    (team_id, channel_id, kind, ref, added_by, added_at)
                    VALUES (?, ?, ?, ?, ?, ?)""",
                    (team_id, channel_id, kind, ref, by, instant(now)),
                )
                if cursor.rowcount:
                    added.append(ref)
        return added

    def untrack(
        self, team_id: str, channel_id: str, *, kind: str, refs: Iterable[str]
    ) -> list[str]:
        removed = []
        with self._transaction():
            for ref in dict.fromkeys(refs):
                cursor = self._db.execute(
                    "DELETE FROM channel_tracks WHERE team_id = ? AND channel_id = ? AND kind = ?"
                    " AND ref = ?",
                    (team_id, channel_id, kind, ref),
                )
                if cursor.rowcount:
                    removed.append(ref)
        return removed

    def teams_of(self, channel_id: str) -> list[str]:
        """The workspaces whose settings, tracks or alert rules name this channel, in order."""
        with self._lock:
            rows = self._db.rows(
                """SELECT team_id FROM channel_settings WHERE channel_id = ?
                UNION SELECT team_id FROM channel_tracks WHERE channel_id = ?
                UNION SELECT team_id FROM alert_rules WHERE channel_id = ?
                ORDER BY team_id""",
                (channel_id, channel_id, channel_id),
            )
        return [team for (team,) in rows]

    def tracked(self, team_id: str, channel_id: str, kind: str) -> list[str]:
        with self._lock:
            rows = self._db.rows(
                "SELECT ref FROM channel_tracks WHERE team_id = ? AND channel_id = ? AND kind = ?"
                " ORDER BY added_at, ref",
                (team_id, channel_id, kind),
            )
        return [ref for (ref,) in rows]

    def settings(self, team_id: str, channel_id: str) -> ChannelSettings:
        with self._lock:
            rows = self._db.rows(
                """SELECT digest_enabled, digest_time, timezone, snoozed_until, quiet_start,
                    quiet_end, paused_reason, paused_at
                FROM channel_settings WHERE team_id = ? AND channel_id = ?""",
                (team_id, channel_id),
            )
        if not rows:
            return ChannelSettings(team_id, channel_id)
        enabled, at, zone, snoozed, quiet_start, quiet_end, paused, paused_at = rows[0]
        return ChannelSettings(
            team_id,
            channel_id,
            bool(enabled),
            at,
            zone,
            parse_instant(snoozed) if snoozed else None,
            quiet_start,
            quiet_end,
            paused,
            parse_instant(paused_at) if paused_at else None,
        )

    def save_settings(self, settings: ChannelSettings, *, now: datetime) -> None:
        def when(value: datetime | None) -> str | None:
            return instant(value) if value else None

        with self._transaction():
            self._db.execute(
                """INSERT INTO channel_settings (team_id, channel_id, digest_enabled, digest_time,
                    timezone, snoozed_until, quiet_start, quiet_end, paused_reason, paused_at,
                    updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (team_id, channel_id) DO UPDATE SET
                    digest_enabled = excluded.digest_enabled, digest_time = excluded.digest_time,
                    timezone = excluded.timezone, snoozed_until = excluded.snoozed_until,
                    quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,
                    paused_reason = excluded.paused_reason, paused_at = excluded.paused_at,
                    updated_at = excluded.updated_at""",
                (
                    settings.team_id,
                    settings.channel_id,
                    int(settings.digest_enabled),
                    settings.digest_time,
                    settings.timezone,
                    when(settings.snoozed_until),
                    settings.quiet_start,
                    settings.quiet_end,
                    settings.paused_reason,
                    when(settings.paused_at),
                    instant(now),
                ),
            )

    def configured(self, team_id: str) -> list[str]:
        """The workspace's channels with a digest, alert rules, quiet hours or a snooze set
        (what its App Home lists), in channel order."""
        with self._lock:
            rows = self._db.rows(
                """SELECT channel_id FROM channel_settings WHERE team_id = ? AND (
                    digest_enabled = 1 OR quiet_start IS NOT NULL OR snoozed_until IS NOT NULL)
                UNION SELECT channel_id FROM alert_rules WHERE team_id = ?
                ORDER BY channel_id""",
                (team_id, team_id),
            )
        return [channel for (channel,) in rows]

    def mute(self, team_id: str, channel_id: str, post_id: str, *, by: str, now: datetime) -> bool:
        """The channel's alerts skip this Post from now on; False when it was muted already."""
        with self._transaction():
            cursor = self._db.execute(
                """INSERT OR IGNORE INTO alert_mutes (team_id, channel_id, post_id, muted_by,
                    muted_at) VALUES (?, ?, ?, ?, ?)""",
                (team_id, channel_id, post_id, by, instant(now)),
            )
        return bool(cursor.rowcount)

    def muted(self, team_id: str, channel_id: str) -> frozenset[str]:
        with self._lock:
            rows = self._db.rows(
                "SELECT post_id FROM alert_mutes WHERE team_id = ? AND channel_id = ?",
                (team_id, channel_id),
            )
        return frozenset(post for (post,) in rows)

    def alert_channels(self) -> list[tuple[str, str]]:
        """Every (team, channel) with at least one alert rule (the alert pass's scope)."""
        with self._lock:
            rows = self._db.rows(
                "SELECT DISTINCT team_id, channel_id FROM alert_rules ORDER BY team_id, channel_id"
            )
        return [(team, channel) for team, channel in rows]

    def digest_channels(self) -> list[ChannelSettings]:
        """Every channel with its digest on (the scheduler's source of truth)."""
        with self._lock:
            rows = self._db.rows(
                "SELECT team_id, channel_id FROM channel_settings WHERE digest_enabled = 1"
                " ORDER BY team_id, channel_id"
            )
        return [self.settings(team, channel) for team, channel in rows]

    def add_alert(
        self,
        team_id: str,
        channel_id: str,
        *,
        kind: str,
        metric: str | None = None,
        threshold: int | None = None,
        post_id: str | None = None,
        handle: str | None = None,
        sensitivity: str | None = None,
        by: str,
        now: datetime,
    ) -> AlertRule:
        with self._transaction():
            cursor = self._db.execute(
                """INSERT INTO alert_rules (team_id, channel_id, kind, metric, threshold, post_id,
                    handle, sensitivity, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    team_id,
                    channel_id,
                    kind,
                    metric,
                    threshold,
                    post_id,
                    handle,
                    sensitivity,
                    by,
                    instant(now),
                ),
            )
            rule_id = cursor.lastrowid
        assert rule_id is not None
        return AlertRule(
            rule_id,
            team_id,
            channel_id,
            kind,
            metric,
            threshold,
            post_id,
            handle,
            sensitivity,
            by,
            now,
        )

    def same_alert(
        self,
        team_id: str,
        channel_id: str,
        *,
        kind: str,
        metric: str | None = None,
        threshold: int | None = None,
        post_id: str | None = None,
        handle: str | None = None,
        sensitivity: str | None = None,
    ) -> AlertRule | None:
        """The channel's rule that says the same thing (same kind, metric, threshold, Post or
        handle, sensitivity), if there is one: a second copy would only fire twice."""
        wanted = (kind, metric, threshold, post_id, handle, sensitivity)
        for rule in self.alerts(team_id, channel_id):
            have = (rule.kind, rule.metric, rule.threshold, rule.post_id, rule.handle)
            if (*have, rule.sensitivity) == wanted:
                return rule
        return None

    def alerts(self, team_id: str, channel_id: str) -> list[AlertRule]:
        with self._lock:
            rows = self._db.rows(
                """SELECT id, team_id, channel_id, kind, metric, threshold, post_id, handle,
                    sensitivity, created_by, created_at FROM alert_rules
                WHERE team_id = ? AND channel_id = ? ORDER BY id""",
                (team_id, channel_id),
            )
        return [_rule(row) for row in rows]

    def remove_alert(self, team_id: str, channel_id: str, rule_id: int) -> bool:
        """Only the channel's own rule: an ID from another channel is 'not found' here."""
        with self._transaction():
            cursor = self._db.execute(
                "DELETE FROM alert_rules WHERE id = ? AND team_id = ? AND channel_id = ?",
                (rule_id, team_id, channel_id),
            )
        return bool(cursor.rowcount)


def _rule(row: tuple[Any, ...]) -> AlertRule:
    rule_id, team, channel, kind, metric, threshold, post_id, handle, sensitivity, by, at = row
    return AlertRule(
        rule_id,
        team,
        channel,
        kind,
        metric,
        threshold,
        post_id,
        handle,
        sensitivity,
        by,
        parse_instant(at),
    )


@dataclass(frozen=True)
class Coverage:
    """What a channel covers: Posts by ID, and accounts whose recent Posts count."""

    posts: tuple[str, ...]  # tracked Posts
    handles: tuple[str, ...]  # tracked accounts, or (`connected`) the workspace's connected ones
    connected: bool = False  # the channel tracks nothing: its workspace's connected accounts

    @property
    def empty(self) -> bool:
        """Nothing to report on or watch: no tracked Post or account, no connected account."""
        return not self.posts and not self.handles
