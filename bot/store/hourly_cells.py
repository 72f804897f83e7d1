"""Hourly cells saved set-based: a /28hr answer for 1,000 Posts is 140,000 cells, handed to
SQLite as one JSON object and upserted by one statement, with no Python row per cell."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime

from bot.store import posts
from bot.store.sql import Db, hour, post_ids

# {post: {metric: {hour: value}}}, its keys sorted (the table's key order: each B-tree page is
# reached once, front to back). A value that didn't change is not rewritten.
_SAVE = """
    INSERT INTO hourly (post_id, metric, hour, value)
    SELECT p.key, m.key, h.key, h.value
    FROM json_each(:cells) AS p, json_each(p.value) AS m, json_each(m.value) AS h WHERE true
    ON CONFLICT (post_id, metric, hour) DO UPDATE SET value = excluded.value
        WHERE hourly.value != excluded.value"""


class _Spelled(dict[datetime | date, str]):
    """Each hour bucket as the table spells it (checked by sql.hour), made once."""

    def __missing__(self, bucket: datetime | date) -> str:
        text = self[bucket] = hour(bucket)
        return text


def save(
    db: Db, series: Mapping[str, Mapping[str, Mapping[datetime | date, int | None]]]
) -> tuple[int, list[str]]:
    """Upsert {post: {metric: {hour: value}}} (a None value is no reading: skipped); the rows
    new or changed, and the Posts with a reading."""
    spelled = _Spelled()  # the same 28 hours recur for every Post
    doc: dict[str, dict[str, dict[str, int]]] = {}
    for post_id, metrics in series.items():
        kept: dict[str, dict[str, int]] = {}
        for metric, buckets in metrics.items():
            cells = {spelled[b]: value for b, value in buckets.items() if value is not None}
            if cells:
                kept[metric] = cells
        if kept:
            doc[post_id] = kept
    ids = post_ids(doc)
    posts.ensure(db, ids)
    changed = db.execute(_SAVE, {"cells": json.dumps(doc, sort_keys=True)}).rowcount
    return changed, ids
