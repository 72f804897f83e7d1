"""Store growth: the database file, day by day, over simulated days of the default schedule.

    .venv/bin/python bench/store_growth.py [--days 30] [--posts 10000] [--hot 1000]
                                           [--new-per-day N] [--before REV]

10,000 Posts of the connected account @sim_brand (created over the 60 days before the start, so
the daily tally covers every one of them every day: the worst case for `daily`), the simulator
in this process (test mode: its clock driven by each run, rate limits out of the way). Each
simulated day: the daily tally at 00:30 UTC (one DAY query for every Post; with retention, the
prune after it), then /totals refreshes of the 1,000 newest Posts every hour. The simulator
keeps its own clock, and its numbers are a pure function of it, so every run reads the same
numbers. With `--new-per-day N`, @sim_brand also publishes N Posts every day (spread over the
day before the tally), the tally finds them on its timeline and the hourly refreshes follow the
`--hot` newest: a steady workload, where without it the tallied Posts age out of the tally's 90
days and no new ones come (`--posts / 60` a day keeps the tallied number about steady). Three
runs, each a separate process on its own database:

    before     REV (default: the commit before retention) - a snapshot row per metric and read
    no-prune   this tree, retention settings at their maximum: changes-only snapshots alone
    retention  this tree, the default retention (docs/retention.md)

Prints the file size (after a WAL checkpoint) at the end of each day per run, MB per day over
the last 7 days, and for the last day the rows and bytes (dbstat: the pages of the table and
its indexes) per table, and each table's MB per day over the last 7 days. A simulated day takes
3-8 s at 1,000 Posts on the shared 2-core machine, 50-120 s at 10,000 (about 30-60 minutes a
run); the sizes don't depend on timing, so runs may go side by side (`--runs` picks which).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
START = datetime(2026, 9, 1, tzinfo=UTC)
BRAND_ID, BRAND = "1000000001", ("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
UNLIMITED = 10**9
LIMITS = {
    f"rate_limit_{name}": UNLIMITED
    for name in ("totals", "28hr", "historical", "v2_lookup", "v2_user_posts", "v2_username")
}
BEFORE = "9e6b3cb"  # the last commit before changes-only snapshots and retention
RUNS = ("before", "no-prune", "retention")


def admin(url: str, method: str, path: str, body: Any = None) -> Any:
    import requests

    reply = requests.request(method, f"{url}/_sim/{path}", json=body, timeout=300)
    reply.raise_for_status()
    return reply.json()


def drive(
    url: str, folder: Path, mode: str, days: int, ids: list[str], hot: int, new_per_day: int
) -> None:
    """One run, in a process whose `bot` is the tree under test: prints a JSON line a day."""
    from bot.app import build_service
    from bot.channels.deps import Deps
    from bot.channels.tally import run_tally
    from bot.config import Settings
    from bot.engagement.http_client import HttpEngagementClient
    from bot.engagement.models import DEFAULT_TOTALS, UserAuth
    from bot.engagement.query import EngagementQuery
    from bot.store import Store
    from bot.store.cipher import TokenCipher

    settings = Settings(x_api_url=url, x_oauth_url=url)
    if mode == "no-prune":
        from bot.config import RetentionSettings

        never = RetentionSettings(
            snapshot_days=36500,
            weekly_after_days=36500,
            hourly_days=36500,
            daily_days=36500,
            call_months=1200,
            forget_days=36500,
        )
        settings = Settings(x_api_url=url, x_oauth_url=url, retention=never)
    path = folder / "engagement.db"
    store = Store.open(path, cipher=TokenCipher.generate())
    store.accounts.save(
        user_id=BRAND_ID, screen_name="sim_brand", auth=UserAuth(*BRAND), workspace=None, now=START
    )
    client = HttpEngagementClient(
        consumer_key="sim-consumer-key",
        consumer_secret="sim-consumer-secret",
        engagement_base_url=url,
        oauth_base_url=url,
    )
    deps = Deps(service=build_service(client, store), store=store, settings=settings)
    # The Posts become known (authors included) by one query of them all, as tracking them would.
    admin(url, "POST", "clock", {"now": START.strftime("%Y-%m-%dT%H:%M:%SZ")})
    deps.service.report(EngagementQuery(tuple(ids), DEFAULT_TOTALS), now=START, fresh=True)
    refresh = EngagementQuery(tuple(ids[:hot]), DEFAULT_TOTALS)
    for day in range(days):
        started = time.perf_counter()
        midnight = START + timedelta(days=day)
        if new_per_day and day:
            # Yesterday's Posts, newest first (as `ids` is): the tally at 00:30 finds them.
            admin(url, "POST", "clock", {"now": midnight.strftime("%Y-%m-%dT%H:%M:%SZ")})
            ages = [(i + 0.5) * 24 / new_per_day for i in range(new_per_day)]
            body = {"posts": [{"author": "sim_brand", "age_hours": a} for a in ages]}
            ids = [p["id"] for p in admin(url, "POST", "posts", body)["posts"]] + ids
            refresh = EngagementQuery(tuple(ids[:hot]), DEFAULT_TOTALS)
        for hour in range(24):
            now = midnight + timedelta(hours=hour, minutes=30)
            admin(url, "POST", "clock", {"now": now.strftime("%Y-%m-%dT%H:%M:%SZ")})
            if hour == 0:
                run_tally(now=now, deps=deps)
            deps.service.report(refresh, now=now, fresh=True)
        store.database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        line = {"day": day + 1, "bytes": path.stat().st_size, **tables(store.database)}
        line["seconds"] = round(time.perf_counter() - started, 1)
        print(json.dumps(line), flush=True)
    store.close()


GROWING = ("totals", "totals_seen", "daily", "hourly", "refreshes", "api_calls", "posts")


def tables(database: Any) -> dict[str, dict[str, int]]:
    """Rows and bytes (its pages and its indexes', from dbstat) of each table the runs grow."""
    names = {
        name for (name,) in database.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
    }
    sizes = dict(
        database.execute(
            """SELECT s.tbl_name, SUM(d.pgsize) FROM dbstat AS d
            JOIN sqlite_schema AS s ON s.name = d.name GROUP BY s.tbl_name"""
        ).fetchall()
    )
    present = [name for name in GROWING if name in names]
    return {
        "rows": {n: database.execute(f"SELECT COUNT(*) FROM {n}").fetchone()[0] for n in present},
        "table_bytes": {name: int(sizes.get(name) or 0) for name in present},
    }


def export_tree(rev: str, into: Path) -> Path:
    """The repository at `rev`, unpacked (its `bot` package is what the before run imports)."""
    archive = into / "before.tar"
    subprocess.run(["git", "-C", str(REPO), "archive", "-o", str(archive), rev, "bot"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "tree-before", filter="data")
    return into / "tree-before"


def run(
    mode: str, url: str, root: Path, tree: Path, days: int, hot: int, new_per_day: int
) -> list[dict[str, Any]]:
    folder = root / mode
    folder.mkdir()
    env = {**os.environ, "PYTHONPATH": str(tree)}
    argv = [sys.executable, __file__, "--drive", mode, "--url", url, "--folder", str(folder)]
    argv += ["--days", str(days), "--hot", str(hot), "--ids-file", str(root / "ids.json")]
    argv += ["--new-per-day", str(new_per_day)]
    lines = []
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for text in child.stdout:
            lines.append(json.loads(text))
            print(
                f"  {mode:<9} day {lines[-1]['day']:>2}: {lines[-1]['bytes'] / 1e6:8.2f} MB "
                f"({lines[-1]['seconds']} s)",
                flush=True,
            )
    if child.returncode:
        raise SystemExit(f"{mode} run exited {child.returncode}")
    return lines


def report(results: dict[str, list[dict[str, Any]]], days: int) -> None:
    print(f"\nDB file size (MB) at the end of each day; {days} days")
    print("day  " + "  ".join(f"{mode:>10}" for mode in results))
    for day in range(days):
        sizes = (results[mode][day]["bytes"] / 1e6 for mode in results)
        print(f"{day + 1:>3}  " + "  ".join(f"{size:>10.2f}" for size in sizes))
    week = min(7, days - 1)
    print(f"\nMB/day over the last {week} days, and vs before:")
    base = None
    for mode, lines in results.items():
        rate = (lines[-1]["bytes"] - lines[-1 - week]["bytes"]) / 1e6 / week
        base = rate if base is None else base
        print(f"  {mode:<10} {rate:6.2f} MB/day  ({rate / base:.2f}x)")
    print(f"\nDay {days}: rows and MB per table (pages of the table and its indexes)")
    print(f"{'':>12}" + "".join(f"{mode:>22}" for mode in results))
    for name in GROWING:
        cells = []
        for lines in results.values():
            rows, size = lines[-1]["rows"].get(name), lines[-1]["table_bytes"].get(name)
            cells.append("-" if rows is None else f"{rows:>10,} {size / 1e6:7.2f} MB")
        print(f"{name:>12}" + "".join(f"{cell:>22}" for cell in cells))
    for mode, lines in results.items():
        last, first = lines[-1], lines[-1 - week]
        grown = {
            name: round((size - first["table_bytes"].get(name, 0)) / 1e6 / week, 3)
            for name, size in last["table_bytes"].items()
        }
        print(f"  {mode}: MB/day per table over the last {week} days: {grown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--hot", type=int, default=1_000)
    parser.add_argument("--new-per-day", type=int, default=0, help="Posts published each day")
    parser.add_argument("--before", default=BEFORE, help="the revision measured as before")
    parser.add_argument("--runs", default=",".join(RUNS), help="which runs, comma-separated")
    parser.add_argument("--drive", choices=RUNS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--ids-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        ids = json.loads(args.ids_file.read_text())
        drive(args.url, args.folder, args.drive, args.days, ids, args.hot, args.new_per_day)
        return

    from bot.simulator.server import start_simulator

    with (
        tempfile.TemporaryDirectory() as scratch,
        start_simulator(mode="test", start_time=START, options=LIMITS) as sim,
    ):
        root = Path(scratch)
        ages = [i * 60 * 24 / args.posts for i in range(args.posts)]  # 0 to 60 days old
        body = {"posts": [{"author": "sim_brand", "age_hours": a} for a in ages]}
        posts = admin(sim.url, "POST", "posts", body)["posts"]
        (root / "ids.json").write_text(json.dumps([p["id"] for p in posts]))
        print(
            f"{args.posts:,} Posts of @sim_brand, {args.new_per_day:,} more a day, the "
            f"{args.hot:,} newest refreshed hourly, {args.days} days from {START:%Y-%m-%d}; "
            f"simulator {sim.url} in this process; "
            f"{os.cpu_count()} cores"
        )
        trees = {"before": export_tree(args.before, root), "no-prune": REPO, "retention": REPO}
        results = {}
        for mode in args.runs.split(","):
            admin(sim.url, "POST", "clock", {"now": START.strftime("%Y-%m-%dT%H:%M:%SZ")})
            results[mode] = run(
                mode, sim.url, root, trees[mode], args.days, args.hot, args.new_per_day
            )
        report(results, args.days)


if __name__ == "__main__":
    main()
