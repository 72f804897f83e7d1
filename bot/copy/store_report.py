"""`engagement-bot store stats` and `store prune`, and the prune line of the daily tally's log."""

from __future__ import annotations

from collections.abc import Sequence

STATS_HEADER = ("table", "rows", "size", "oldest")
VACUUM_DONE = "The file was rewritten compactly and now gives freed pages back after each prune."


def size(n: int) -> str:
    """Bytes in the largest unit that keeps a number at least 1 (powers of 1,024)."""
    value = float(n)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} GiB"


def stats_table(
    tables: Sequence[tuple[str, int, int, str | None]],
    *,
    file_bytes: int,
    free_bytes: int,
    auto_vacuum: str,
) -> str:
    """One row per table (name, rows, bytes, oldest value of its time column), then the file."""
    cells = [STATS_HEADER] + [
        (name, f"{rows:,}", size(n), oldest or "-") for name, rows, n, oldest in tables
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(STATS_HEADER))]
    lines = [
        "  ".join(
            cell.ljust(width) if i in (0, 3) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    ]
    lines.append(
        f"file: {size(file_bytes)}, of which {size(free_bytes)} free pages "
        f"(auto_vacuum: {auto_vacuum})"
    )
    return "\n".join(lines)


def prune_summary(
    *,
    snapshots: int,
    runs: int,
    hours: int,
    days_rolled_up: int,
    days: int,
    calls: int,
    months_summed: int,
    posts: int,
    post_rows: int,
    dry_run: bool = False,
) -> str:
    """What a prune removed (or, dry, would remove), one line."""
    parts = [
        f"{snapshots:,} totals snapshots thinned",
        f"{runs:,} old reading runs",
        f"{hours:,} hour buckets ({days_rolled_up:,} whole days rolled into daily rows)",
        f"{days:,} daily rows",
        f"{calls:,} API call rows ({months_summed:,} months summed)",
        f"{posts:,} unused Posts forgotten with {post_rows:,} rows",
    ]
    verb = "would remove" if dry_run else "removed"
    return f"prune {verb}: " + "; ".join(parts)
