"""Read-only questions about Posts that jobs ask of the store's database.

Free functions over the Store's sqlite-utils `Database` (Store.database): they only read, so
they need none of the Store's transactions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlite_utils import Database

from bot.engagement import snowflake
from bot.store.sql import json_list, parse_instant

_BY_AUTHORS = """
    SELECT post_id, created_at FROM posts
    WHERE author_id IN (SELECT value FROM json_each(?)) AND state != 'deleted'
        AND NOT EXISTS (SELECT 1 FROM post_refusals AS r
                        WHERE r.post_id = posts.post_id AND r.owner_id = posts.author_id)
    ORDER BY length(post_id), post_id"""


def post_ids_by_authors(
    database: Database,
    user_ids: Iterable[str],
    *,
    created_before: datetime,
    created_after: datetime | None = None,
) -> list[str]:
    """The Posts the store knows these accounts wrote, created in [created_after,
    created_before), oldest ID first; deleted ones and ones X refused the author's token for
    are left out. A Post with no stored creation time is dated by its snowflake ID (one
    before snowflakes counts as older than any `created_after`)."""
    rows = database.execute(_BY_AUTHORS, (json_list(dict.fromkeys(user_ids)),)).fetchall()
    found = []
    for post_id, created in rows:
        at = parse_instant(created) if created else snowflake.created_at(int(post_id))
        if at is None:  # pre-snowflake and undated: older than any lower bound
            if created_after is None:
                found.append(str(post_id))
        elif at < created_before and (created_after is None or at >= created_after):
            found.append(str(post_id))
    return found
