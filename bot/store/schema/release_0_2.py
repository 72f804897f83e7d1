"""The steps of release 0.2.0 (m012 on): leaderboard indexes, campaigns, changes-only totals
snapshots, weekly and monthly reports, alert mutes. A new step goes at the end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.copy import maintenance
from bot.errors import StoreError
from bot.store.schema.steps import COUNT as _COUNT
from bot.store.schema.steps import MIGRATIONS

if TYPE_CHECKING:
    from sqlite_utils import Database


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


# The metrics of X's series (/28hr, /historical) a day row holds, in the order of
# docs/simulator.md#metrics: the daily tally's (its DEFAULT_SERIES) in columns of their own, the
# rest, asked for by hand now and then, together in one JSON column. A metric X adds later joins
# `more` in a new step.
DAY_COLUMNS = ("impressions", "engagements", "favorites", "retweets", "replies")
DAY_MORE = (
    "video_views",
    "media_views",
    "media_engagements",
    "url_clicks",
    "hashtag_clicks",
    "detail_expands",
    "permalink_clicks",
    "app_install_attempts",
    "app_opens",
    "email_tweet",
    "user_follows",
    "user_profile_clicks",
)
_MAYBE_COUNT = "INTEGER CHECK (typeof({0}) IN ('integer', 'null'))"


@MIGRATIONS()
def m017_daily_by_post_day(db: Database) -> None:
    """`daily` becomes one row per (Post, UTC day), the day a number, the metrics its columns.

    It was a row per (Post, metric, day), the day and metric as text: ~280 bytes a Post-day for
    the tally's 5 metrics, nearly all of what the store still grew by (docs/retention.md). Now
    `day` counts days since 1970-01-01; each DAY_COLUMNS metric has two nullable columns,
    `<metric>` (X's value; NULL: none that day) and `<metric>_running` (the running total
    leaderboards subtract, as m002 kept it); the DAY_MORE metrics sit in `more` as
    {"<metric>": [value, running total]} (NULL: none of them), so the columns they would need
    (a header byte each, on every row) cost nothing: ~65 bytes a tallied Post-day. Every row
    converts as it was, running totals included; a metric with no place (no release asked X
    for one) stops the upgrade with its name rather than lose its rows.
    """
    known = ", ".join(f"'{metric}'" for metric in DAY_COLUMNS + DAY_MORE)
    sql = f"SELECT DISTINCT metric FROM daily WHERE metric NOT IN ({known}) ORDER BY 1"
    if strays := [row[0] for row in db.execute(sql).fetchall()]:
        raise StoreError(maintenance.daily_metrics_without_column(strays))
    per_metric = ",\n".join(
        f"{m} {_MAYBE_COUNT.format(m)}, {m}_running {_MAYBE_COUNT.format(m + '_running')}"
        for m in DAY_COLUMNS
    )
    db.execute(
        f"""CREATE TABLE daily_by_day (
            post_id TEXT NOT NULL REFERENCES posts (post_id),
            day {_COUNT.format("day")},
            {per_metric},
            more TEXT CHECK (more IS NULL OR json_valid(more)),
            PRIMARY KEY (post_id, day)
        ) WITHOUT ROWID"""
    )
    picked = ", ".join(
        f"MAX(CASE metric WHEN '{m}' THEN value END), "
        f"MAX(CASE metric WHEN '{m}' THEN running_total END)"
        for m in DAY_COLUMNS
    )
    more = ", ".join(f"'{m}'" for m in DAY_MORE)
    names = ", ".join(f"{m}, {m}_running" for m in DAY_COLUMNS)
    db.execute(
        f"""INSERT INTO daily_by_day (post_id, day, {names}, more)
        SELECT post_id, unixepoch(day) / 86400, {picked},
            json_group_object(metric, json_array(value, running_total))
                FILTER (WHERE metric IN ({more}))
        FROM daily GROUP BY post_id, day"""
    )
    db.execute("UPDATE daily_by_day SET more = NULL WHERE more = '{}'")
    db.execute("DROP TABLE daily")
    db.execute("ALTER TABLE daily_by_day RENAME TO daily")
