"""Posts: who wrote them, when, their text, whether X still serves them, and refused owners."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.engagement import snowflake
from bot.engagement.query import PostInfo
from bot.engagement.records import PostSet
from bot.store.accounts import remember_user
from bot.store.rows import PostRecord, PostState
from bot.store.sql import Db, Repository, instant, json_list, parse_instant, post_ids

_IN_IDS = "post_id IN (SELECT value FROM json_each(?))"

# The Posts asked about (:ids, a JSON list of distinct IDs), `k` keeping their order: read with
# set-based statements, whatever their number, instead of a statement per Post.
CANDIDATES = "(SELECT key AS k, value AS post_id FROM json_each(:ids))"

# The Posts of a PostSet (:team and :channel, NULL for none, and :ids, a JSON list of distinct
# IDs): the channel's tracked Posts read by SQLite itself, in ID order (the primary key's) so
# that each seek per Post below lands next to the one before, then those of :ids it doesn't
# track. (`g`, `k`) is the order a caller would list them in: tracked ones as they were added,
# then :ids as given. TRACKED and GIVEN are its two halves, for a set that has only one: a
# single SELECT, which SQLite can merge into the statement around it (a compound it cannot).
TRACKED = """(SELECT 0 AS g, ct.added_at AS k, ct.ref AS post_id
        FROM channel_tracks AS ct INDEXED BY sqlite_autoindex_channel_tracks_1
        WHERE ct.team_id = :team AND ct.channel_id = :channel AND ct.kind = 'post')"""
GIVEN = "(SELECT 1 AS g, e.key AS k, e.value AS post_id FROM json_each(:ids) AS e)"
CHOSEN = """(SELECT 0 AS g, ct.added_at AS k, ct.ref AS post_id
        FROM channel_tracks AS ct INDEXED BY sqlite_autoindex_channel_tracks_1
        WHERE ct.team_id = :team AND ct.channel_id = :channel AND ct.kind = 'post'
    UNION ALL
    SELECT 1, e.key, e.value FROM json_each(:ids) AS e
        WHERE NOT EXISTS (SELECT 1 FROM channel_tracks AS ct WHERE ct.team_id = :team
            AND ct.channel_id = :channel AND ct.kind = 'post' AND ct.ref = e.value))"""
SOURCES = (TRACKED, GIVEN, CHOSEN)
IN_ORDER = "c.g, c.k, c.post_id"


def chosen(posts: Iterable[str] | PostSet) -> tuple[str, dict[str, Any]]:
    """The fragment of SOURCES that holds these Posts (a PostSet, or a plain iterable of IDs),
    and its parameters."""
    if not isinstance(posts, PostSet):
        return GIVEN, {"ids": json_list(post_ids(posts)), "team": None, "channel": None}
    ids = post_ids(posts.ids)
    if posts.channel is None:
        return GIVEN, {"ids": json_list(ids), "team": None, "channel": None}
    team, channel = posts.channel
    return (CHOSEN if ids else TRACKED), {"ids": json_list(ids), "team": team, "channel": channel}


# posts as `p`, read through the covering index (schema m012): one seek per Post. Named, since
# SQLite would pick the unique key's own index, then read the table row too.
POSTS = "posts AS p INDEXED BY posts_sides"


def sided(candidates: str) -> str:
    """The Posts in `candidates` (as `c`) with their row in posts (`p`) and, when X refused
    their stored author's token for them, that refusal (`r`): what SIDE reads."""
    return f"""{candidates} AS c
    LEFT JOIN {POSTS} ON p.post_id = c.post_id
    LEFT JOIN post_refusals AS r ON r.post_id = c.post_id AND r.owner_id = p.author_id"""


SIDED = sided(CANDIDATES)

# Whose Post each of SIDED is, for the connected accounts in :owners (a JSON list): 'owned'
# when one of them wrote it and X never refused that author's token for it; 'unknown' while
# any account is connected and X would not name its author when last asked (neither deleted
# nor protected, no token refused for it), so it is neither ranked nor called "not owned" until
# asked again; else 'other'. The one definition of the rule.
SIDE = """CASE
    WHEN r.owner_id IS NULL AND p.author_id IN (SELECT value FROM json_each(:owners))
        THEN 'owned'
    WHEN p.author_id IS NULL AND json_array_length(:owners) > 0
        AND COALESCE(p.state, 'ok') = 'ok'
        AND NOT EXISTS (SELECT 1 FROM post_refusals AS any_r WHERE any_r.post_id = c.post_id)
        THEN 'unknown'
    ELSE 'other' END"""


def ensure(db: Db, ids: Iterable[str]) -> None:
    """A row for each Post, so measurements can reference it before its author is known."""
    db.execute(
        "INSERT OR IGNORE INTO posts (post_id) SELECT value FROM json_each(?)",
        (json_list(ids),),
    )


def infos(db: Db, ids: Iterable[str]) -> dict[str, PostInfo]:
    # A row for each ID, in the order given (json_each's key), its author and creation time
    # read from the covering index, no table row. An author whose token X refused for this
    # Post reads as unknown: the planner must not try that token again, and the author has
    # been looked up already.
    rows = db.rows(
        f"""SELECT e.value, CASE WHEN r.owner_id IS NULL THEN p.author_id END, p.created_at
        FROM json_each(?) AS e
        LEFT JOIN {POSTS} ON p.post_id = e.value
        LEFT JOIN post_refusals AS r ON r.post_id = e.value AND r.owner_id = p.author_id
        ORDER BY e.key""",
        (json_list(post_ids(ids)),),
    )
    from_id = snowflake.created_at
    return {
        post_id: PostInfo(
            post_id, author, parse_instant(created) if created else from_id(int(post_id))
        )
        for post_id, author, created in rows
    }


def author_handles(db: Db, ids: Iterable[str]) -> dict[str, str]:
    """Post ID → its author's handle, for the Posts whose author and handle we have learned
    (a lookup or a timeline names them; a connected account's own handle counts too)."""
    rows = db.rows(
        f"""SELECT posts.post_id, COALESCE(a.screen_name, u.username) FROM posts
        LEFT JOIN accounts AS a ON a.user_id = posts.author_id
        LEFT JOIN users AS u ON u.user_id = posts.author_id
        WHERE posts.{_IN_IDS} AND COALESCE(a.screen_name, u.username) IS NOT NULL""",
        (json_list(post_ids(ids)),),
    )
    return dict(rows)


def texts(db: Db, ids: Iterable[str]) -> dict[str, str]:
    """Post ID → its text, for the Posts a lookup or timeline gave us the text of."""
    rows = db.rows(
        f"SELECT post_id, text FROM posts WHERE {_IN_IDS} AND text IS NOT NULL AND text != ''",
        (json_list(post_ids(ids)),),
    )
    return dict(rows)


def unknown_authors(db: Db, ids: Iterable[str] | PostSet) -> list[str]:
    source, params = chosen(ids)
    rows = db.rows(
        f"""SELECT c.post_id FROM {source} AS c LEFT JOIN {POSTS} ON p.post_id = c.post_id
        WHERE p.author_id IS NULL AND COALESCE(p.state, 'ok') != 'deleted'
        ORDER BY {IN_ORDER}""",
        params,
    )
    return [post_id for (post_id,) in rows]


def count(db: Db, posts: PostSet) -> int:
    source, params = chosen(posts)
    return int(db.rows(f"SELECT count(*) FROM {source}", params)[0][0])


def unknown_ownership(db: Db, ids: Iterable[str], owners: Iterable[str]) -> list[str]:
    rows = db.rows(
        f"SELECT c.post_id FROM {SIDED} WHERE {SIDE} = 'unknown' ORDER BY c.k",
        {"ids": json_list(post_ids(ids)), "owners": json_list(sorted(owners))},
    )
    return [post_id for (post_id,) in rows]


def states(db: Db, ids: Iterable[str]) -> dict[str, PostState]:
    wanted = post_ids(ids)
    # Nearly every Post is 'ok': only the others are read and made into a PostState each.
    rows = db.rows(
        f"SELECT post_id, state FROM posts WHERE {_IN_IDS} AND state != 'ok'",
        (json_list(wanted),),
    )
    found = dict.fromkeys(wanted, PostState.OK)
    found.update((post_id, PostState(state)) for post_id, state in rows)
    return found


# Posts as one JSON list of [post_id, author_id, created_at, text] (a lookup saves 100 at a
# time, a large query thousands: one statement, no Python step per row inside SQLite's loop).
_SAVE = """INSERT INTO posts (post_id, author_id, created_at, text)
    SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3 FROM json_each(?) AS r
    WHERE true
    ON CONFLICT (post_id) DO UPDATE SET
        author_id = COALESCE(excluded.author_id, posts.author_id),
        created_at = COALESCE(excluded.created_at, posts.created_at),
        text = COALESCE(excluded.text, posts.text)"""


def save(db: Db, records: Iterable[PostRecord]) -> int:
    rows = []
    users = {}
    for record in records:
        created = None if record.created_at is None else instant(record.created_at)
        rows.append((record.post_id, record.author_id, created, record.text))
        if record.author_id is not None and record.author_username:
            users[record.author_id] = record.author_username
    post_ids(row[0] for row in rows)  # ValueError names a malformed one
    db.execute(_SAVE, (json.dumps(rows),))
    for user_id, username in users.items():
        remember_user(db, user_id, username)
    return len(rows)


def mark(db: Db, ids: Iterable[str], state: str, now: datetime) -> None:
    checked = PostState(state)  # ValueError for anything else
    db.many(
        """INSERT INTO posts (post_id, state, state_at) VALUES (?, ?, ?)
        ON CONFLICT (post_id) DO UPDATE SET state = excluded.state, state_at = excluded.state_at""",
        [(post_id, checked.value, instant(now)) for post_id in post_ids(ids)],
    )


def mark_not_owned_by(db: Db, ids: Iterable[str], owner_id: str) -> None:
    wanted = post_ids(ids)
    ensure(db, wanted)
    db.many(
        "INSERT OR IGNORE INTO post_refusals (post_id, owner_id) VALUES (?, ?)",
        [(post_id, owner_id) for post_id in wanted],
    )
    db.execute(
        f"UPDATE posts SET author_id = NULL WHERE {_IN_IDS} AND author_id = ?",
        (json_list(wanted), owner_id),
    )


def refused_owners(db: Db, ids: Iterable[str]) -> dict[str, frozenset[str]]:
    rows = db.rows(
        f"SELECT post_id, owner_id FROM post_refusals WHERE {_IN_IDS}",
        (json_list(post_ids(ids)),),
    )
    found: dict[str, set[str]] = {}
    for post_id, owner_id in rows:
        found.setdefault(post_id, set()).add(owner_id)
    return {post_id: frozenset(owners) for post_id, owners in found.items()}


_BY_AUTHORS = """
    SELECT post_id, created_at FROM posts
    WHERE author_id IN (SELECT value FROM json_each(?)) AND state != 'deleted'
        AND NOT EXISTS (SELECT 1 FROM post_refusals AS r
                        WHERE r.post_id = posts.post_id AND r.owner_id = posts.author_id)
    ORDER BY length(post_id), post_id"""


def by_authors(
    db: Db, user_ids: Iterable[str], created_before: datetime, created_after: datetime | None
) -> list[str]:
    rows = db.rows(_BY_AUTHORS, (json_list(dict.fromkeys(user_ids)),))
    found = []
    for post_id, created in rows:
        at = parse_instant(created) if created else snowflake.created_at(int(post_id))
        if at is None:  # pre-snowflake and undated: older than any lower bound
            if created_after is None:
                found.append(str(post_id))
        elif at < created_before and (created_after is None or at >= created_after):
            found.append(str(post_id))
    return found


class Posts(Repository):
    """Posts and what is known of them: `store.posts`."""

    def infos(self, post_ids: Iterable[str]) -> dict[str, PostInfo]:
        """Every ID: its author (None if unknown, or if X refused that author's token for it)
        and its creation time (stored, else from the snowflake)."""
        with self._lock:
            return infos(self._db, post_ids)

    def author_handles(self, post_ids: Iterable[str]) -> dict[str, str]:
        """Post ID → its author's handle (without "@"), for those whose handle we know."""
        with self._lock:
            return author_handles(self._db, post_ids)

    def texts(self, post_ids: Iterable[str]) -> dict[str, str]:
        """Post ID → its text as X gave it (raw: `render.excerpt` makes it safe to show)."""
        with self._lock:
            return texts(self._db, post_ids)

    def unknown_authors(self, post_ids: Iterable[str] | PostSet) -> list[str]:
        """IDs, in the order given (a PostSet: its channel's as added, then its `ids`), whose
        author we never learned and that aren't deleted."""
        with self._lock:
            return unknown_authors(self._db, post_ids)

    def count(self, posts: PostSet) -> int:
        """How many distinct Posts the set holds (its channel's tracked ones and its `ids`)."""
        with self._lock:
            return count(self._db, posts)

    def unknown_ownership(self, post_ids: Iterable[str], owners: Iterable[str]) -> list[str]:
        """IDs, in the order given, whose ownership by these connected accounts is unknown:
        X would not name their author when last asked (not deleted, protected or refused).
        None when `owners` is empty: nobody connected, no Post can be owned."""
        with self._lock:
            return unknown_ownership(self._db, post_ids, owners)

    def by_authors(
        self,
        user_ids: Iterable[str],
        *,
        created_before: datetime,
        created_after: datetime | None = None,
    ) -> list[str]:
        """The Posts the store knows these accounts wrote, created in [created_after,
        created_before), oldest ID first; deleted ones and ones X refused the author's token
        for are left out. A Post with no stored creation time is dated by its snowflake ID
        (one before snowflakes counts as older than any `created_after`)."""
        with self._lock:
            return by_authors(self._db, user_ids, created_before, created_after)

    def save(self, records: Iterable[PostRecord]) -> None:
        """Upsert; a None field keeps what is stored. Also remembers authors' usernames."""
        with self._transaction():
            save(self._db, records)

    def mark(self, post_ids: Iterable[str], *, state: str, now: datetime) -> None:
        """State "deleted" | "protected" | "ok" (ValueError for anything else)."""
        with self._transaction():
            mark(self._db, post_ids, state, now)

    def states(self, post_ids: Iterable[str]) -> dict[str, PostState]:
        with self._lock:
            return states(self._db, post_ids)

    def mark_not_owned_by(self, post_ids: Iterable[str], owner_id: str) -> None:
        """A 403 said these aren't `owner_id`'s: forget that authorship and remember the
        refusal, so infos() never offers that owner for them again."""
        with self._transaction():
            mark_not_owned_by(self._db, post_ids, owner_id)

    def refused_owners(self, post_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        with self._lock:
            return refused_owners(self._db, post_ids)
