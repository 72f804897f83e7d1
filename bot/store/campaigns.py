"""Campaigns: a workspace's named sets of Posts (`store.campaigns`).

A campaign's name is unique in its workspace, compared case-insensitively (`name_key`); its
Posts are added by hand, from an account's period, or by the hashtag it follows, each once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.store.sql import Repository, instant, parse_instant

# How a Post came into a campaign (kept for the report's "since when" and for people asking).
SOURCES = frozenset({"post", "account", "hashtag"})


@dataclass(frozen=True)
class Campaign:
    id: int
    team_id: str
    name: str
    hashtag: str | None  # without "#"; None: Posts are added by hand or by account
    from_handle: str | None  # the hashtag's `from:` account, without "@"
    channel_id: str | None  # where it was created: that channel's digest shows it
    created_by: str
    created_at: datetime
    newest_id: str | None  # the newest Post ID the hashtag's searches have seen
    posts: int = 0
    first_added: datetime | None = None


def name_key(name: str) -> str:
    """The one rule for "the same name": case-folded, inner spaces collapsed."""
    return " ".join(name.split()).casefold()


_SELECT = """SELECT c.campaign_id, c.team_id, c.name, c.hashtag, c.from_handle, c.channel_id,
    c.created_by, c.created_at, c.newest_id, COUNT(p.post_id), MIN(p.added_at)
    FROM campaigns c LEFT JOIN campaign_posts p ON p.campaign_id = c.campaign_id"""


def _campaign(row: tuple[object, ...]) -> Campaign:
    (cid, team, name, tag, handle, channel, by, at, newest, count, first) = row
    return Campaign(
        id=int(str(cid)),
        team_id=str(team),
        name=str(name),
        hashtag=None if tag is None else str(tag),
        from_handle=None if handle is None else str(handle),
        channel_id=None if channel is None else str(channel),
        created_by=str(by),
        created_at=parse_instant(str(at)),
        newest_id=None if newest is None else str(newest),
        posts=int(str(count or 0)),
        first_added=None if first is None else parse_instant(str(first)),
    )


class Campaigns(Repository):
    """Campaign rows in the store's database, under the store's lock and transactions."""

    def create(
        self,
        team_id: str,
        name: str,
        *,
        hashtag: str | None,
        from_handle: str | None,
        channel_id: str | None,
        by: str,
        now: datetime,
    ) -> Campaign | None:
        """The new campaign; None when the workspace already has one of that name."""
        with self._transaction():
            cursor = self._db.execute(
                """INSERT OR IGNORE INTO campaigns (team_id, name, name_key, hashtag, from_handle,
                    channel_id, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (team_id, name, name_key(name), hashtag, from_handle, channel_id, by, instant(now)),
            )
            if not cursor.rowcount:
                return None
            return self.named(team_id, name)

    def named(self, team_id: str, name: str) -> Campaign | None:
        with self._lock:
            rows = self._db.rows(
                f"{_SELECT} WHERE c.team_id = ? AND c.name_key = ? GROUP BY c.campaign_id",
                (team_id, name_key(name)),
            )
        return _campaign(rows[0]) if rows else None

    def listed(self, team_id: str) -> list[Campaign]:
        """The workspace's campaigns, oldest first."""
        with self._lock:
            rows = self._db.rows(
                f"{_SELECT} WHERE c.team_id = ? GROUP BY c.campaign_id"
                " ORDER BY c.created_at, c.campaign_id",
                (team_id,),
            )
        return [_campaign(row) for row in rows]

    def everywhere(self, name: str) -> list[Campaign]:
        """Every workspace's campaign of this name (the command line names no workspace)."""
        with self._lock:
            rows = self._db.rows(
                f"{_SELECT} WHERE c.name_key = ? GROUP BY c.campaign_id ORDER BY c.team_id",
                (name_key(name),),
            )
        return [_campaign(row) for row in rows]

    def following(self) -> list[Campaign]:
        """Every workspace's hashtag campaigns: the daily tally searches for their new Posts."""
        with self._lock:
            rows = self._db.rows(
                f"{_SELECT} WHERE c.hashtag IS NOT NULL GROUP BY c.campaign_id"
                " ORDER BY c.team_id, c.campaign_id"
            )
        return [_campaign(row) for row in rows]

    def of_channel(self, team_id: str, channel_id: str) -> list[Campaign]:
        with self._lock:
            rows = self._db.rows(
                f"{_SELECT} WHERE c.team_id = ? AND c.channel_id = ? GROUP BY c.campaign_id"
                " ORDER BY c.created_at, c.campaign_id",
                (team_id, channel_id),
            )
        return [_campaign(row) for row in rows]

    def delete(self, team_id: str, name: str) -> bool:
        with self._transaction():
            cursor = self._db.execute(
                "DELETE FROM campaigns WHERE team_id = ? AND name_key = ?",
                (team_id, name_key(name)),
            )
        return bool(cursor.rowcount)

    def add_posts(
        self, campaign_id: int, post_ids: Iterable[str], *, source: str, now: datetime
    ) -> list[str]:
        """Add Posts (each once); returns the ones that were not in the campaign yet. A
        campaign deleted meanwhile (by someone in Slack while the tally searched) takes none."""
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}")
        added: list[str] = []
        with self._transaction():
            for post_id in dict.fromkeys(post_ids):
                cursor = self._db.execute(
                    """INSERT OR IGNORE INTO campaign_posts (campaign_id, post_id, source, added_at)
                    SELECT ?, ?, ?, ? WHERE EXISTS
                        (SELECT 1 FROM campaigns WHERE campaign_id = ?)""",
                    (campaign_id, post_id, source, instant(now), campaign_id),
                )
                if cursor.rowcount:
                    added.append(post_id)
        return added

    def post_ids(self, campaign_id: int) -> list[str]:
        """The campaign's Posts, oldest ID first (IDs are snowflakes: oldest Post first)."""
        with self._lock:
            rows = self._db.rows(
                "SELECT post_id FROM campaign_posts WHERE campaign_id = ?"
                " ORDER BY length(post_id), post_id",
                (campaign_id,),
            )
        return [str(post_id) for (post_id,) in rows]

    def saw_newest(self, campaign_id: int, newest_id: str) -> None:
        """Remember the newest Post ID a search has seen (never moves back)."""
        with self._transaction():
            self._db.execute(
                """UPDATE campaigns SET newest_id = ? WHERE campaign_id = ? AND (newest_id IS NULL
                    OR length(newest_id) < length(?)
                    OR (length(newest_id) = length(?) AND newest_id < ?))""",
                (newest_id, campaign_id, newest_id, newest_id, newest_id),
            )
