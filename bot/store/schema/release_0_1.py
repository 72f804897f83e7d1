"""The steps of release 0.1.0 (m001–m011). Released: never changed; a new need is a new step in
the newest release module."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.store.schema.steps import COUNT as _COUNT
from bot.store.schema.steps import MIGRATIONS

if TYPE_CHECKING:
    from sqlite_utils import Database


_INITIAL = (
    # Handles we have learned (accounts, Post authors): `usage` names owners even after a
    # disconnect, since X bills per owner handle.
    """CREATE TABLE users (
        user_id TEXT PRIMARY KEY,
        username TEXT NOT NULL
    )""",
    """CREATE TABLE accounts (
        user_id TEXT PRIMARY KEY,
        screen_name TEXT NOT NULL,
        workspace TEXT,
        connected_at TEXT NOT NULL
    )""",
    "CREATE INDEX accounts_by_screen_name ON accounts (screen_name COLLATE NOCASE)",
    # Kept apart from `accounts` so that listing accounts never reads a token, and a disconnect
    # is one DELETE. `ciphertext` is a Fernet token of {user_id, token, secret}.
    """CREATE TABLE account_tokens (
        user_id TEXT PRIMARY KEY REFERENCES accounts (user_id) ON DELETE CASCADE,
        ciphertext TEXT NOT NULL
    )""",
    """CREATE TABLE posts (
        post_id TEXT PRIMARY KEY,
        author_id TEXT,
        created_at TEXT,
        text TEXT,
        state TEXT NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'deleted', 'protected')),
        state_at TEXT
    )""",
    "CREATE INDEX posts_by_author ON posts (author_id)",
    # A 403 said `owner_id`'s token may not read the Post: don't ask with that token again.
    """CREATE TABLE post_refusals (
        post_id TEXT NOT NULL REFERENCES posts (post_id),
        owner_id TEXT NOT NULL,
        PRIMARY KEY (post_id, owner_id)
    ) WITHOUT ROWID""",
    f"""CREATE TABLE totals (
        post_id TEXT NOT NULL REFERENCES posts (post_id),
        metric TEXT NOT NULL,
        taken_at TEXT NOT NULL,
        value {_COUNT.format("value")},
        PRIMARY KEY (post_id, metric, taken_at)
    ) WITHOUT ROWID""",
    f"""CREATE TABLE hourly (
        post_id TEXT NOT NULL REFERENCES posts (post_id),
        metric TEXT NOT NULL,
        hour TEXT NOT NULL,
        value {_COUNT.format("value")},
        PRIMARY KEY (post_id, metric, hour)
    ) WITHOUT ROWID""",
    f"""CREATE TABLE daily (
        post_id TEXT NOT NULL REFERENCES posts (post_id),
        metric TEXT NOT NULL,
        day TEXT NOT NULL,
        value {_COUNT.format("value")},
        PRIMARY KEY (post_id, metric, day)
    ) WITHOUT ROWID""",
    # When each Post was last fetched at each granularity ('total', 'hour', 'day').
    """CREATE TABLE refreshes (
        post_id TEXT NOT NULL REFERENCES posts (post_id),
        granularity TEXT NOT NULL CHECK (granularity IN ('total', 'hour', 'day')),
        refreshed_at TEXT NOT NULL,
        PRIMARY KEY (post_id, granularity)
    ) WITHOUT ROWID""",
    f"""CREATE TABLE api_calls (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        owner_id TEXT,
        post_count {_COUNT.format("post_count")},
        status {_COUNT.format("status")},
        attempts {_COUNT.format("attempts")}
    )""",
    "CREATE INDEX api_calls_by_time ON api_calls (at)",
)


@MIGRATIONS()
def m001_initial(db: Database) -> None:
    for statement in _INITIAL:
        db.execute(statement)


@MIGRATIONS()
def m002_daily_running_totals(db: Database) -> None:
    """Each daily row also holds the sum of its Post's metric up to and including its day.

    A leaderboard over [since, until) is then two seeks per Post (the running total before
    `until` minus the one before `since`) instead of reading every day in the range: over
    10,000 Posts × 90 days it took ~20 ms where a plain SUM took ~80 ms, and it doesn't grow
    with the window or the history kept. Store.save_daily keeps the column current.
    """
    db.execute("ALTER TABLE daily ADD COLUMN running_total INTEGER NOT NULL DEFAULT 0")
    db.execute(
        """UPDATE daily SET running_total = fresh.running
        FROM (
            SELECT post_id, metric, day,
                SUM(value) OVER (PARTITION BY post_id, metric ORDER BY day) AS running
            FROM daily
        ) AS fresh
        WHERE daily.post_id = fresh.post_id AND daily.metric = fresh.metric
            AND daily.day = fresh.day"""
    )


_CHANNELS = (
    # What a channel follows: Posts by ID, accounts by handle (lower case, no "@").
    """CREATE TABLE channel_tracks (
        team_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('post', 'account')),
        ref TEXT NOT NULL,
        added_by TEXT NOT NULL,
        added_at TEXT NOT NULL,
        PRIMARY KEY (team_id, channel_id, kind, ref)
    ) WITHOUT ROWID""",
    """CREATE TABLE channel_settings (
        team_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        digest_enabled INTEGER NOT NULL DEFAULT 0,
        digest_time TEXT NOT NULL DEFAULT '09:00',
        timezone TEXT,
        snoozed_until TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (team_id, channel_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE alert_rules (
        id INTEGER PRIMARY KEY,
        team_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('threshold', 'spike')),
        metric TEXT,
        threshold INTEGER,
        post_id TEXT,
        handle TEXT,
        sensitivity TEXT,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX alert_rules_by_channel ON alert_rules (team_id, channel_id)",
)


@MIGRATIONS()
def m003_channels(db: Database) -> None:
    """Per-channel state: tracked Posts and accounts, digest settings, alert rules."""
    for statement in _CHANNELS:
        db.execute(statement)


@MIGRATIONS()
def m004_digests(db: Database) -> None:
    """One row per channel and local date a digest was claimed for: the exactly-once guard.

    A run claims the date (claimed_at, claim_token) before posting and records the message's
    ts after; a claim left without a ts by a dead run is reconciled, not posted over.
    """
    db.execute(
        """CREATE TABLE digests (
            team_id TEXT NOT NULL,
            channel_id TEXT NOT NULL,
            local_date TEXT NOT NULL,
            claimed_at TEXT NOT NULL,
            claim_token TEXT NOT NULL,
            posted_ts TEXT,
            posted_at TEXT,
            PRIMARY KEY (team_id, channel_id, local_date)
        ) WITHOUT ROWID"""
    )


@MIGRATIONS()
def m005_alerting(db: Database) -> None:
    """Alert firings (once per rule, Post and hour, across restarts; delivered later when the
    channel's quiet hours held them), the channel's quiet hours, and a pause with its reason
    when Slack refuses the channel (archived, bot removed, token revoked)."""
    for column in ("quiet_start", "quiet_end", "paused_reason", "paused_at"):
        db.execute(f"ALTER TABLE channel_settings ADD COLUMN {column} TEXT")
    db.execute(
        f"""CREATE TABLE alert_firings (
            rule_id INTEGER NOT NULL,
            post_id TEXT NOT NULL,
            hour TEXT NOT NULL,
            metric TEXT NOT NULL,
            value {_COUNT.format("value")},
            baseline REAL,
            fired_at TEXT NOT NULL,
            delivered_at TEXT,
            message_ts TEXT,
            PRIMARY KEY (rule_id, post_id, hour)
        ) WITHOUT ROWID"""
    )
    db.execute("CREATE INDEX alert_firings_undelivered ON alert_firings (delivered_at)")


@MIGRATIONS()
def m006_connect_links(db: Database) -> None:
    """`/engagement connect` links: who asked (workspace, channel, user, response_url), when the
    link expires and when it was used, and X's request token with its secret encrypted."""
    db.execute(
        """CREATE TABLE connect_links (
            link_id TEXT PRIMARY KEY,
            team_id TEXT NOT NULL,
            channel_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            response_url TEXT,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT,
            request_token TEXT,
            request_secret TEXT
        ) WITHOUT ROWID"""
    )


@MIGRATIONS()
def m007_hourly_spans(db: Database) -> None:
    """Per (Post, metric), the span of settled hours whose buckets the `hourly` table holds.

    A completed hour's bucket does not change (docs/simulator.md#settled-hours), so a query whose
    whole range lies inside the span is answered from the store without a call: the daily
    digest, prefetched before its time, is then built in well under a second.
    """
    db.execute(
        """CREATE TABLE hourly_spans (
            post_id TEXT NOT NULL REFERENCES posts (post_id),
            metric TEXT NOT NULL,
            span_start TEXT NOT NULL,
            span_end TEXT NOT NULL,
            PRIMARY KEY (post_id, metric)
        ) WITHOUT ROWID"""
    )


# sqlite-utils applies migrations by name, in the order they are registered: a gap in the numbers,
# or a migration registered after a later one was applied, is harmless
# (tests/slack/test_install.py).
@MIGRATIONS()
def m008_slack_installations(db: Database) -> None:
    """Multi-workspace install (bot/slack/installations.py): one row per workspace (or org) and
    installing user, one bot per workspace, and the OAuth flow's one-time states.

    `secrets` is a Fernet token (the store's cipher) of the row's key and its tokens (bot, user,
    refresh): no Slack token is ever stored in clear. `details` is the rest of slack_sdk's
    Installation, none of it secret. A state is kept as its SHA-256 only, until it expires.
    """
    db.execute(
        """CREATE TABLE slack_installations (
            client_id TEXT NOT NULL,
            enterprise_id TEXT NOT NULL DEFAULT '',
            team_id TEXT NOT NULL DEFAULT '',
            user_id TEXT NOT NULL,
            is_enterprise_install INTEGER NOT NULL DEFAULT 0,
            installed_at TEXT NOT NULL,
            details TEXT NOT NULL,
            secrets TEXT NOT NULL,
            PRIMARY KEY (client_id, enterprise_id, team_id, user_id)
        ) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TABLE slack_bots (
            client_id TEXT NOT NULL,
            enterprise_id TEXT NOT NULL DEFAULT '',
            team_id TEXT NOT NULL DEFAULT '',
            is_enterprise_install INTEGER NOT NULL DEFAULT 0,
            installed_at TEXT NOT NULL,
            details TEXT NOT NULL,
            secrets TEXT NOT NULL,
            PRIMARY KEY (client_id, enterprise_id, team_id)
        ) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TABLE slack_oauth_states (
            state_hash TEXT PRIMARY KEY,
            expires_at TEXT NOT NULL
        ) WITHOUT ROWID"""
    )


@MIGRATIONS()
def m009_alert_delivery_attempts(db: Database) -> None:
    """Which delivery attempt last carried a firing (its token, shown as a marker in the
    message's metadata) and when: a pass that died between Slack accepting the message and
    recording it finds the message by that marker instead of posting the alert again."""
    for column in ("attempt_token", "attempted_at"):
        db.execute(f"ALTER TABLE alert_firings ADD COLUMN {column} TEXT")


@MIGRATIONS()
def m010_workspace_boundaries(db: Database) -> None:
    """An account linked for every workspace (workspace NULL) that one workspace disconnected:
    it stops serving that workspace and keeps its tokens for the others. And the workspace each
    API call was made for, so `/engagement usage` in a workspace shows only its own calls
    (calls logged before this migration, and the operator's, have none)."""
    db.execute(
        """CREATE TABLE account_exclusions (
            user_id TEXT NOT NULL REFERENCES accounts (user_id) ON DELETE CASCADE,
            workspace TEXT NOT NULL,
            excluded_at TEXT NOT NULL,
            PRIMARY KEY (user_id, workspace)
        ) WITHOUT ROWID"""
    )
    db.execute("ALTER TABLE api_calls ADD COLUMN workspace TEXT")


@MIGRATIONS()
def m011_digest_attempts(db: Database) -> None:
    """When a digest's run was about to post it (just before chat.postMessage): after a crash
    the next run searches the channel only around that moment, which Slack's strictest history
    limits (15 messages a call, a call a minute) can answer. A claim already unposted at the
    upgrade could have posted any time after its claim: it starts from the claim."""
    db.execute("ALTER TABLE digests ADD COLUMN attempted_at TEXT")
    db.execute("UPDATE digests SET attempted_at = claimed_at WHERE posted_ts IS NULL")
