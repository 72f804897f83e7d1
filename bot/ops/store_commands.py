"""`engagement-bot store stats` and `store prune`: what the file holds, and retention applied by
hand (the daily tally applies it too). Each returns an exit status and writes to `out`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TextIO

from bot.config import Settings
from bot.copy import store_report
from bot.errors import EXIT_OK
from bot.store.opening import open_store


def store_stats(settings: Settings, *, out: TextIO) -> int:
    """Rows, size and oldest row per table, and the file's size and free pages."""
    with open_store(settings) as store:
        stats = store.housekeeping.stats()
    out.write(
        store_report.stats_table(
            [(t.name, t.rows, t.bytes, t.oldest) for t in stats.tables],
            file_bytes=stats.bytes,
            free_bytes=stats.free_pages * stats.page_size,
            auto_vacuum=stats.auto_vacuum,
        )
        + "\n"
    )
    return EXIT_OK


def store_prune(
    settings: Settings, *, now: datetime, dry_run: bool, vacuum: bool, out: TextIO
) -> int:
    """Apply the retention policy now (a dry run says what would go and changes nothing);
    `vacuum` then rewrites the file compactly. A store failure raises (exit 1): every slice
    already pruned stays pruned, the others stay whole."""
    with open_store(settings) as store:
        counts = store.housekeeping.prune(now=now, policy=settings.retention, dry_run=dry_run)
        out.write(store_report.prune_summary(**asdict(counts), dry_run=dry_run) + "\n")
        if vacuum:
            store.housekeeping.vacuum()
            out.write(store_report.VACUUM_DONE + "\n")
    return EXIT_OK
