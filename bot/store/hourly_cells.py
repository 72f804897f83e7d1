"""Hourly cells saved set-based: a /28hr answer for 1,000 Posts is 140,000 cells, handed to
SQLite as one small JSON object per (Post, metric), {hour: value}, each upserted by one run of
one statement (executemany), with no Python row per cell."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime

from bot.store import posts
from bot.store.sql import Db, hour, post_ids

# One (Post, metric)'s {hour: value}. A value that didn't change is not rewritten. An object per
# pair, not one nested document for the whole save: SQLite (3.40) parses a nested json_each's
# value again at every level, which cost ~0.7 µs per cell more than these flat ones.
_SAVE = """
    INSERT INTO hourly (post_id, metric, hour, value)
    SELECT ?, ?, key, value FROM json_each(?) WHERE true
    ON CONFLICT (post_id, metric, hour) DO UPDATE SET value = excluded.value
        WHERE hourly.value != excluded.value"""


_INT = {int}


class _Spelled(dict[datetime | date, str]):
    """Each hour bucket as the table spells it (checked by sql.hour), made once."""

    def __missing__(self, bucket: datetime | date) -> str:
        text = self[bucket] = hour(bucket)
        return text


class _Objects:
    """A (Post, metric)'s buckets as the JSON object text _SAVE reads. The same hours recur
    for every Post and metric: their spelling is joined once into a %-format that each pair's
    counts fill in (one C-level step per pair, not a Python step per cell)."""

    def __init__(self) -> None:
        self._spelled = _Spelled()
        self._hours: list[datetime | date] = []
        self._format = "{}"

    def text(self, buckets: Mapping[datetime | date, int | None]) -> str | None:
        """The object, or None when no bucket has a reading (a None value is none)."""
        counts = buckets.values()
        if not counts:
            return None
        if {*map(type, counts)} != _INT:  # a gap (None), or what %d would turn into a count
            cells = {self._spelled[b]: value for b, value in buckets.items() if value is not None}
            return json.dumps(cells) if cells else None
        hours = list(buckets)
        if hours != self._hours:
            self._hours = hours
            self._format = "{" + ",".join(f'"{self._spelled[b]}":%d' for b in hours) + "}"
        return self._format % tuple(counts)


def save(
    db: Db, series: Mapping[str, Mapping[str, Mapping[datetime | date, int | None]]]
) -> tuple[int, list[str]]:
    """Upsert {post: {metric: {hour: value}}} (a None value is no reading: skipped); the rows
    new or changed, and the Posts with a reading."""
    objects = _Objects()
    params: list[tuple[str, str, str]] = []
    # In the table's key order: each B-tree page is reached once, front to back.
    for post_id in sorted(series):
        metrics = series[post_id]
        for metric in sorted(metrics):
            text = objects.text(metrics[metric])
            if text is not None:
                params.append((post_id, metric, text))
    ids = post_ids(dict.fromkeys(post_id for post_id, _, _ in params))
    posts.ensure(db, ids)
    return db.many(_SAVE, params), ids
