"""Hourly cells saved set-based: a /28hr answer for 1,000 Posts is 140,000 cells, handed to
SQLite as one small JSON object per (Post, metric), {hour: value}, each upserted by one run of
one statement (executemany), with no Python row per cell.

Hours inside a (Post, metric)'s span of settled hours (the `hourly_spans` table: stored, and
final) are not handed over again: X answers /28hr with all 28 hours every time, and re-merging
27 hours already stored cost as much as writing them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime

from bot.store import posts
from bot.store.sql import Db, hour, json_list, post_ids

# One (Post, metric)'s {hour: value}. A value that didn't change is not rewritten. An object per
# pair, not one nested document for the whole save: SQLite (3.40) parses a nested json_each's
# value again at every level, which cost ~0.7 µs per cell more than these flat ones.
_SAVE = """
    INSERT INTO hourly (post_id, metric, hour, value)
    SELECT ?, ?, key, value FROM json_each(?) WHERE true
    ON CONFLICT (post_id, metric, hour) DO UPDATE SET value = excluded.value
        WHERE hourly.value != excluded.value"""
_SPANS = """SELECT post_id, metric, span_start, span_end FROM hourly_spans
    WHERE post_id IN (SELECT value FROM json_each(?))"""
_INT = {int}

Span = tuple[str, str]  # [start, end) as the table spells hours


class _Spelled(dict[datetime | date, str]):
    """Each hour bucket as the table spells it (checked by sql.hour), made once."""

    def __missing__(self, bucket: datetime | date) -> str:
        text = self[bucket] = hour(bucket)
        return text


class _Objects:
    """A (Post, metric)'s buckets outside its settled span as the JSON object text _SAVE
    reads. The same hours and spans recur for every Post and metric: which hours to keep, and
    their spelling joined into a %-format that each pair's counts fill in, are found once per
    (hours, span), not by a Python step per cell."""

    def __init__(self) -> None:
        self._spelled = _Spelled()
        self._hours: list[datetime | date] = []
        self._span: Span | None = None
        self._keep: list[int] = []
        self._format = "{}"

    def text(self, buckets: Mapping[datetime | date, int | None], span: Span | None) -> str | None:
        """The object, or None when there is nothing to write (a None value is no reading)."""
        counts = buckets.values()
        if {*map(type, counts)} != _INT:  # a gap (None), or what %d would turn into a count
            spelled = self._spelled
            cells = {
                text: value
                for b, value in buckets.items()
                if value is not None and not _inside(text := spelled[b], span)
            }
            return json.dumps(cells) if cells else None
        hours = list(buckets)
        if hours != self._hours or span != self._span:
            self._hours, self._span = hours, span
            self._keep = [i for i, b in enumerate(hours) if not _inside(self._spelled[b], span)]
            kept = [self._spelled[hours[i]] for i in self._keep]
            self._format = "{" + ",".join(f'"{text}":%d' for text in kept) + "}"
        if not self._keep:
            return None
        if len(self._keep) == len(hours):
            return self._format % tuple(counts)
        values = tuple(counts)
        return self._format % tuple(values[i] for i in self._keep)


def _inside(text: str, span: Span | None) -> bool:
    return span is not None and span[0] <= text < span[1]


def save(
    db: Db, series: Mapping[str, Mapping[str, Mapping[datetime | date, int | None]]]
) -> tuple[int, list[str]]:
    """Upsert {post: {metric: {hour: value}}} (a None value is no reading: skipped; an hour in
    the pair's settled span: kept as stored); the rows new or changed, and the Posts with a
    reading."""
    spans: dict[tuple[str, str], Span] = {
        (post_id, metric): (first, last)
        for post_id, metric, first, last in db.rows(_SPANS, (json_list(series),))
    }
    objects = _Objects()
    params: list[tuple[str, str, str]] = []
    read: dict[str, None] = {}
    # In the table's key order: each B-tree page is reached once, front to back.
    for post_id in sorted(series):
        metrics = series[post_id]
        for metric in sorted(metrics):
            buckets = metrics[metric]
            if all(value is None for value in buckets.values()):
                continue
            read[post_id] = None
            text = objects.text(buckets, spans.get((post_id, metric)))
            if text is not None:
                params.append((post_id, metric, text))
    ids = post_ids(read)
    posts.ensure(db, ids)
    return db.many(_SAVE, params), ids
