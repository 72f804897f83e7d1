"""The numbers of a message as a CSV file (the CSV button): the same rows, in the same order,
with the same values the message shows, unformatted."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date

from bot.copy import digest as digest_copy
from bot.copy.home import CSV_HEADER
from bot.engagement.leaderboard import Ranked
from bot.render.digest import METRICS, PostLine
from bot.render.kit import Authors, handle_of, post_url
from bot.render.lists import ranks


def leaderboard_csv(
    rows: Sequence[Ranked], *, metric: str, period: str, authors: Authors, offset: int = 0
) -> bytes:
    """The board's page from `offset` (ranks as shown), UTF-8 with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    ranked = list(zip(ranks([r.value for r in rows]), rows, strict=True))[offset:]
    for rank, row in ranked:
        author = (handle_of(authors, row.post_id) or "").lstrip("@")
        url = post_url(row.post_id, authors) or ""
        writer.writerow((rank, row.post_id, author, url, row.value, metric, period))
    return out.getvalue().encode("utf-8")


def digest_csv(lines: Sequence[PostLine], *, day: date, authors: Authors, first: int = 1) -> bytes:
    """A digest's top Posts as it lists them (numbered from `first`), with each one's numbers
    over the digest's day, exact rather than abbreviated; UTF-8 with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(digest_copy.CSV_HEADER)
    for rank, line in enumerate(lines, start=first):
        author = (handle_of(authors, line.post_id) or "").lstrip("@")
        url = post_url(line.post_id, authors) or ""
        numbers = [line.values.get(m, 0) for m in METRICS]
        writer.writerow((rank, line.post_id, author, url, *numbers, day.isoformat()))
    return out.getvalue().encode("utf-8")
