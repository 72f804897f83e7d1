"""The database schema, as Migrations (bot/store/migrations.py: sqlite-utils', registered without
importing it) applied in order on every open that finds the file behind.

A migration, once released, never changes: a new need gets a new function at the end. Each runs
in a transaction together with its record in `_sqlite_migrations`, so it applies exactly once.

Keys make every write an idempotent upsert: a Post is its ID; a snapshot is (Post, metric,
taken_at); a bucket is (Post, metric, hour or day). The measurement tables are WITHOUT ROWID,
so their primary key *is* the table, ordered by Post, then metric, then time: one B-tree seek
finds a Post's latest snapshot or the running total just before a day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.store.migrations import Migrations

if TYPE_CHECKING:
    from sqlite_utils import Database

MIGRATIONS = Migrations("engagement-bot")

_COUNT = "INTEGER NOT NULL CHECK (typeof({0}) = 'integer')"

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


@MIGRATIONS()
def m012_leaderboard_indexes(db: Database) -> None:
    """Indexes for set-based reads over a channel's Posts (bot/store/boards.py).

    posts_sides covers what a leaderboard reads of each Post (author, state, creation time):
    one seek per Post in the index instead of two (the key's index, then the table row).
    channel_tracks_in_order hands a channel's tracked Posts over in the order they were added
    without sorting them on every `top`, digest or alert pass.
    """
    db.execute("CREATE INDEX posts_sides ON posts (post_id, author_id, state, created_at)")
    db.execute(
        """CREATE INDEX channel_tracks_in_order
        ON channel_tracks (team_id, channel_id, kind, added_at, ref)"""
    )


@MIGRATIONS()
def m013_campaigns(db: Database) -> None:
    """Campaigns (bot/store/campaigns.py): a workspace's named sets of Posts. `name_key` is the
    name case-folded, so "Spring launch" and "spring LAUNCH" are one campaign. A campaign that
    follows a hashtag keeps the newest Post ID its searches have seen (`newest_id`), so the daily
    tally asks X only for newer matches. `channel_id` is where it was created: that channel's
    digest reports it. A Post is in a campaign once, however often it is added."""
    db.execute(
        """CREATE TABLE campaigns (
            campaign_id INTEGER PRIMARY KEY,
            team_id TEXT NOT NULL,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL,
            hashtag TEXT,
            from_handle TEXT,
            channel_id TEXT,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            newest_id TEXT,
            UNIQUE (team_id, name_key)
        )"""
    )
    db.execute(
        """CREATE TABLE campaign_posts (
            campaign_id INTEGER NOT NULL REFERENCES campaigns (campaign_id) ON DELETE CASCADE,
            post_id TEXT NOT NULL,
            source TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (campaign_id, post_id)
        ) WITHOUT ROWID"""
    )


@MIGRATIONS()
def m014_totals_seen(db: Database) -> None:
    """Totals snapshots are written only when a value changes; this says when they were read.

    One row per run of readings of a Post with the same metrics, none further apart than
    snapshots.SEEN_GAP: [since, until] are its first and last reading, `metric_set` which metrics
    (a row of `metric_sets`: a few sets recur for every Post). "As of" (staleness, the hour
    marks of alert baselines) comes from here, one row a Post instead of a snapshot per metric
    and reading. `api_calls_monthly` holds the call log of months long past, summed
    (bot/store/retention.py); `usage` reads both.
    """
    db.execute(
        """CREATE TABLE metric_sets (
            id INTEGER PRIMARY KEY,
            metrics TEXT NOT NULL UNIQUE
        )"""
    )
    db.execute(
        """CREATE TABLE totals_seen (
            post_id TEXT NOT NULL REFERENCES posts (post_id),
            since TEXT NOT NULL,
            until TEXT NOT NULL,
            metric_set INTEGER NOT NULL REFERENCES metric_sets (id),
            PRIMARY KEY (post_id, since)
        ) WITHOUT ROWID"""
    )
    db.execute(
        f"""CREATE TABLE api_calls_monthly (
            month TEXT NOT NULL,
            workspace TEXT NOT NULL DEFAULT '',
            endpoint TEXT NOT NULL,
            owner_id TEXT NOT NULL DEFAULT '',
            calls {_COUNT.format("calls")},
            failed {_COUNT.format("failed")},
            attempts {_COUNT.format("attempts")},
            post_count {_COUNT.format("post_count")},
            PRIMARY KEY (month, workspace, endpoint, owner_id)
        ) WITHOUT ROWID"""
    )


@MIGRATIONS()
def m015_weekly_and_monthly_digests(db: Database) -> None:
    """A channel's weekly and monthly reports: when each is due (`digest_schedules`: the
    weekday 0-6 from Monday, or the day of the month 1-31, and the local HH:MM in the channel's
    digest zone), and the same exactly-once ledger as the daily digest's, one row per period
    keyed by its first local day."""
    db.execute(
        """CREATE TABLE digest_schedules (
            team_id TEXT NOT NULL,
            channel_id TEXT NOT NULL,
            period TEXT NOT NULL CHECK (period IN ('weekly', 'monthly')),
            anchor INTEGER NOT NULL CHECK (anchor BETWEEN 0 AND 31),
            at TEXT NOT NULL,
            created_by TEXT,
            created_at TEXT NOT NULL,
            PRIMARY KEY (team_id, channel_id, period)
        ) WITHOUT ROWID"""
    )
    for table in ("weekly_digests", "monthly_digests"):
        db.execute(
            f"""CREATE TABLE {table} (
                team_id TEXT NOT NULL,
                channel_id TEXT NOT NULL,
                local_date TEXT NOT NULL,
                claimed_at TEXT NOT NULL,
                claim_token TEXT NOT NULL,
                posted_ts TEXT,
                posted_at TEXT,
                attempted_at TEXT,
                PRIMARY KEY (team_id, channel_id, local_date)
            ) WITHOUT ROWID"""
        )


@MIGRATIONS()
def m016_alert_mutes(db: Database) -> None:
    """Posts a channel muted from an alert's *Mute this Post* button: its alert rules skip them."""
    db.execute(
        """CREATE TABLE alert_mutes (
            team_id TEXT NOT NULL,
            channel_id TEXT NOT NULL,
            post_id TEXT NOT NULL,
            muted_by TEXT NOT NULL,
            muted_at TEXT NOT NULL,
            PRIMARY KEY (team_id, channel_id, post_id)
        ) WITHOUT ROWID"""
    )
