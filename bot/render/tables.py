"""The numbers of a message as a CSV file (the CSV button): the same rows, in the same order,
with the same values the message shows, unformatted."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from bot.copy.home import CSV_HEADER
from bot.engagement.leaderboard import Ranked
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
