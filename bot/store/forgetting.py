"""Forgetting a workspace: everything the bot stored because of it, deleted in one transaction
(when Slack says the app was uninstalled, or by hand: `engagement-bot forget --team T…`).

What goes: the workspace's channel settings, tracked lists, alert rules and their firings,
digest records, campaigns, connect links, Slack installation and bot token, the X accounts
connected in it (with their tokens), and the Posts and numbers that only it used: Posts its
channels tracked or its campaigns hold, and Posts by the accounts it tracked or connected, unless
another workspace tracks them (or holds them in a campaign) or their author, or the operator
linked their author for every workspace. Its X API calls stay counted
(X bills them) but no longer say for whom.

The file keeps nothing of it: deleted content is overwritten (secure_delete), and the WAL, which
still holds the old pages, is checkpointed and truncated once the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.store.sql import Db, Repository, json_list

# Tables that belong to one workspace, and the column that names it.
WORKSPACE_TABLES = (
    ("alert_mutes", "team_id"),
    ("campaigns", "team_id"),
    ("channel_tracks", "team_id"),
    ("channel_settings", "team_id"),
    ("digests", "team_id"),
    ("digest_schedules", "team_id"),
    ("weekly_digests", "team_id"),
    ("monthly_digests", "team_id"),
    ("connect_links", "team_id"),
    ("account_exclusions", "workspace"),
    ("slack_installations", "team_id"),
    ("slack_bots", "team_id"),
)
# A Post's numbers and what the bot learnt about it.
POST_TABLES = (
    "totals",
    "totals_seen",
    "hourly",
    "daily",
    "refreshes",
    "hourly_spans",
    "post_refusals",
)
_IN = "IN (SELECT value FROM json_each(?))"


@dataclass(frozen=True)
class Forgotten:
    """How many rows went, per table (the log line); nothing else about them."""

    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def forget_workspace(db: Db, team_id: str) -> Forgotten:
    """Delete `team_id`'s data; see the module docstring. Runs inside the caller's transaction."""
    rows: dict[str, int] = {}
    accounts = _column(db, "SELECT user_id FROM accounts WHERE workspace = ?", team_id)
    authors = set(accounts) | set(_tracked_authors(db, team_id, same=True))
    authors -= _authors_used_elsewhere(db, team_id)
    posts = set(_column(db, _TRACKED_POSTS.format(op="="), team_id))
    posts |= set(_column(db, _CAMPAIGN_POSTS.format(op="="), team_id))
    posts |= set(_column(db, f"SELECT post_id FROM posts WHERE author_id {_IN}", _json(authors)))
    posts -= _posts_used_elsewhere(db, team_id)
    rules = _column(db, "SELECT CAST(id AS TEXT) FROM alert_rules WHERE team_id = ?", team_id)
    rows["alert_firings"] = _delete(
        db, f"alert_firings WHERE CAST(rule_id AS TEXT) {_IN}", _json(rules)
    )
    rows["alert_rules"] = _delete(db, "alert_rules WHERE team_id = ?", team_id)
    rows["campaign_posts"] = _delete(
        db,
        "campaign_posts WHERE campaign_id IN (SELECT campaign_id FROM campaigns WHERE team_id = ?)",
        team_id,
    )
    for table, column in WORKSPACE_TABLES:
        rows[table] = _delete(db, f"{table} WHERE {column} = ?", team_id)
    rows["account_tokens"] = _delete(db, f"account_tokens WHERE user_id {_IN}", _json(accounts))
    rows["accounts"] = _delete(db, f"accounts WHERE user_id {_IN}", _json(accounts))
    for table in POST_TABLES:
        rows[table] = _delete(db, f"{table} WHERE post_id {_IN}", _json(posts))
    rows["posts"] = _delete(db, f"posts WHERE post_id {_IN}", _json(posts))
    rows["users"] = _delete(db, f"users WHERE user_id {_IN}", _json(authors))
    rows["api_calls_monthly"] = _anonymise_months(db, team_id)
    rows["api_calls"] = db.execute(
        f"""UPDATE api_calls SET workspace = NULL,
            owner_id = CASE WHEN owner_id {_IN} THEN NULL ELSE owner_id END
        WHERE workspace = ? OR owner_id {_IN}""",
        (_json(authors), team_id, _json(authors)),
    ).rowcount
    return Forgotten({table: n for table, n in rows.items() if n})


def _anonymise_months(db: Db, team_id: str) -> int:
    """The workspace's summed months of calls (retention) added to the anonymous ones."""
    moved = db.execute(
        """INSERT INTO api_calls_monthly
            (month, workspace, endpoint, owner_id, calls, failed, attempts, post_count)
        SELECT month, '', endpoint, owner_id, calls, failed, attempts, post_count
        FROM api_calls_monthly WHERE workspace = ?
        ON CONFLICT (month, workspace, endpoint, owner_id) DO UPDATE SET
            calls = calls + excluded.calls, failed = failed + excluded.failed,
            attempts = attempts + excluded.attempts,
            post_count = post_count + excluded.post_count""",
        (team_id,),
    ).rowcount
    db.execute("DELETE FROM api_calls_monthly WHERE workspace = ?", (team_id,))
    return moved


_TRACKED_POSTS = "SELECT ref FROM channel_tracks WHERE kind = 'post' AND team_id {op} ?"
_CAMPAIGN_POSTS = """SELECT post_id FROM campaign_posts JOIN campaigns USING (campaign_id)
    WHERE campaigns.team_id {op} ?"""
_TRACKED_HANDLES = "SELECT ref FROM channel_tracks WHERE kind = 'account' AND team_id {op} ?"


def _tracked_authors(db: Db, team_id: str, *, same: bool) -> list[str]:
    return _column(
        db,
        f"""SELECT user_id FROM users WHERE username COLLATE NOCASE IN
            ({_TRACKED_HANDLES.format(op="=" if same else "!=")})""",
        team_id,
    )


def _authors_used_elsewhere(db: Db, team_id: str) -> set[str]:
    """Accounts another workspace tracks or connected, and those linked for every workspace."""
    shared = _column(
        db, "SELECT user_id FROM accounts WHERE workspace IS NULL OR workspace != ?", team_id
    )
    return set(shared) | set(_tracked_authors(db, team_id, same=False))


def _posts_used_elsewhere(db: Db, team_id: str) -> set[str]:
    tracked = _column(db, _TRACKED_POSTS.format(op="!="), team_id)
    tracked += _column(db, _CAMPAIGN_POSTS.format(op="!="), team_id)
    authors = _authors_used_elsewhere(db, team_id)
    by_them = _column(db, f"SELECT post_id FROM posts WHERE author_id {_IN}", _json(authors))
    return set(tracked) | set(by_them)


def _column(db: Db, sql: str, param: str) -> list[str]:
    return [row[0] for row in db.rows(sql, (param,))]


def _delete(db: Db, where: str, param: str) -> int:
    return db.execute(f"DELETE FROM {where}", (param,)).rowcount


def _json(values: Iterable[str]) -> str:
    return json_list(sorted(values))


class Forgetting(Repository):
    def workspace(self, team_id: str) -> Forgotten:
        """Delete everything stored because of `team_id` (module docstring), all or nothing,
        leaving no trace of it in the file or its WAL."""
        with self._lock:
            self._db.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed, not left
            try:
                with self._transaction():
                    forgotten = forget_workspace(self._db, team_id)
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:  # everyday deletes (retention) needn't pay for zeroing
                self._db.execute("PRAGMA secure_delete = OFF")
            return forgotten
