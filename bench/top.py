"""`/engagement top` over a channel's tracked Posts, its numbers already fresh in the store.

    .venv/bin/python bench/top.py [--before TREE] [SIZES...]     (default: 10000 100000)

For each size, a throwaway SQLite file holds a channel tracking that many Posts: half written by
the two connected accounts (ranked by X's daily series: 10 days of daily rows, refreshed a
minute ago), half by others (ranked by totals snapshots: 10 days ago, 3 days ago and 5 minutes
ago), two metrics each. No call to X is needed: the client points at a closed port, and the
script checks that no call was logged.

Timed, median of several runs each (wall time, and CPU time: less sensitive to other jobs on
the machine), in the same run:
- `top`: the whole command (bot.slack.commands.numbers.top: the channel's coverage, the
  service's ranking, who wrote the winners, the Block Kit reply);
- of which the board statement alone (bot/store/boards.py, run bare on the same file);
- with --before TREE (a directory holding another version's `bot` package, e.g. one made with
  `git archive <commit> bot | tar -x -C TREE`): that version's whole `top` over a copy of the
  same file, in a child process (its own imports; the command's API is the same);
- baseline: the plainest correct script over the same SQLite file: read the channel's Posts,
  the connected accounts, the Posts' authors and every row of the metric with five SELECTs,
  and rank in Python.
The ratios are top / baseline (and before / top); the script also checks both name the same
top 10, and the growth from the first size to the last against the growth in Posts (1.00:
linear).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.app import build_service
from bot.channels.deps import Deps
from bot.config import Settings
from bot.engagement.http_client import HttpEngagementClient
from bot.engagement.models import UserAuth
from bot.engagement.records import PostRecord, SeriesRow, TotalsRow
from bot.slack.commands.invocation import Invocation
from bot.slack.commands.numbers import top
from bot.slack.parse.commands import Top
from bot.store import Store
from bot.store.boards import board_query
from bot.store.cipher import TokenCipher

EPOCH_DAY = date(1970, 1, 1)  # the daily table counts its days from it
NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
CREATED = NOW - timedelta(days=30)
TEAM, CHANNEL = "T0BENCH", "C0BENCH"
OWNERS = ("1000000001", "1000000002")
METRICS = ("favorites", "impressions")
COMMAND = Top("favorites", 10, "7d")
RUNS = 7
CLOSED = "http://127.0.0.1:9"  # the discard port: any call to X would fail loudly


def post_id(i: int) -> str:
    return str(1_900_000_000_000_000_000 + i)


def value(i: int, k: int) -> int:
    """A deterministic, spread-out count for Post i at step k."""
    return (i * 7919 + k * 104_729) % 10_007 + k * 50


def build(path: Path, n: int) -> Store:
    store = Store.open(path, cipher=TokenCipher.generate())
    for number, user_id in enumerate(OWNERS):
        auth = UserAuth(f"{user_id}-token", f"secret-{user_id}")
        store.accounts.save(
            user_id=user_id, screen_name=f"brand{number}", auth=auth, workspace=TEAM, now=NOW
        )
    ids = [post_id(i) for i in range(n)]
    owned = ids[0::2]
    others = ids[1::2]
    with store.transaction():
        store.posts.save(
            PostRecord(p, OWNERS[i % 4 // 2] if i % 2 == 0 else f"2{i % 5000:09d}", CREATED)
            for i, p in enumerate(ids)
        )
    first_day = NOW.date() - timedelta(days=9)
    for start in range(0, len(owned), 5000):
        batch = owned[start : start + 5000]
        store.series.save_daily(
            (
                SeriesRow(p, m, first_day + timedelta(days=d), value(i, d) % 997)
                for i, p in enumerate(batch, start)
                for m in METRICS
                for d in range(10)
            ),
            fetched_at=NOW - timedelta(minutes=1),
        )
    for k, ago in enumerate((timedelta(days=10), timedelta(days=3), timedelta(minutes=5))):
        store.series.save_totals(
            (TotalsRow(p, m, value(i, k)) for i, p in enumerate(others) for m in METRICS),
            taken_at=NOW - ago,
        )
    with store.transaction():
        store.database.conn.executemany(
            """INSERT INTO channel_tracks (team_id, channel_id, kind, ref, added_by, added_at)
            VALUES (?, ?, 'post', ?, 'U0BENCH', ?)""",
            [
                (TEAM, CHANNEL, p, f"2026-11-01T00:00:{i % 60:02d}.000000Z")
                for i, p in enumerate(ids)
            ],
        )
    return store


def baseline(path: Path, since: datetime) -> list[tuple[str, int]]:
    """The plainest correct ranking: five SELECTs, then Python."""
    conn = sqlite3.connect(path)
    try:
        tracked = [
            r[0]
            for r in conn.execute(
                "SELECT ref FROM channel_tracks WHERE team_id = ? AND channel_id = ?"
                " AND kind = 'post'",
                (TEAM, CHANNEL),
            )
        ]
        owners = {r[0] for r in conn.execute("SELECT user_id FROM account_tokens")}
        authors = dict(conn.execute("SELECT post_id, author_id FROM posts"))
        owned = {p for p in tracked if authors.get(p) in owners}
        sums: dict[str, int] = {}
        # A row per (Post, day) since 1970-01-01, a column per metric (bot/store/days.py).
        for p, v in conn.execute(
            f"SELECT post_id, {COMMAND.metric} FROM daily"
            f" WHERE {COMMAND.metric} IS NOT NULL AND day >= ?",
            ((since.date() - EPOCH_DAY).days,),
        ):
            if p in owned:
                sums[p] = sums.get(p, 0) + v
        cut = since.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        first: dict[str, tuple[str, int]] = {}  # the newest snapshot at or before `cut`
        last: dict[str, tuple[str, int]] = {}  # the newest
        for p, at, v in conn.execute(
            "SELECT post_id, taken_at, value FROM totals WHERE metric = ?", (COMMAND.metric,)
        ):
            if at <= cut and at > first.get(p, ("", 0))[0]:
                first[p] = (at, v)
            if at > last.get(p, ("", 0))[0]:
                last[p] = (at, v)
        for p in set(tracked) - owned:
            if p in first and p in last:
                sums[p] = max(last[p][1] - first[p][1], 0)
    finally:
        conn.close()
    return sorted(sums.items(), key=lambda kv: (-kv[1], int(kv[0])))[: COMMAND.limit]


def timed(run: object) -> tuple[float, float, object]:
    """Median wall and CPU time of RUNS runs, and the last result."""
    walls, cpus = [], []
    result = None
    for _ in range(RUNS):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()  # type: ignore[operator]
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus), result


def open_deps(path: Path) -> Deps:
    store = Store.open(path, cipher=TokenCipher.generate())
    client = HttpEngagementClient(
        consumer_key="bench",
        consumer_secret="bench",
        engagement_base_url=CLOSED,
        oauth_base_url=CLOSED,
    )
    return Deps(service=build_service(client, store), store=store, settings=Settings())


def run_top(path: Path) -> tuple[float, float, object]:
    """The whole command over the store at `path` (also what --before runs in its tree)."""
    deps = open_deps(path)
    inv = Invocation(TEAM, CHANNEL, "U0BENCH", "top favorites 10 7d")
    try:
        return timed(lambda: top(COMMAND, inv, deps, NOW))
    finally:
        deps.store.close()


# What a child process runs in the --before tree: this file's run_top, that tree's `bot`.
CHILD = """import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]
from pathlib import Path; import top
wall, cpu, _ = top.run_top(Path(sys.argv[3])); print(wall, cpu)"""


def before(tree: Path, path: Path) -> tuple[float, float]:
    copy = path.with_name(f"before-{path.name}")
    shutil.copy(path, copy)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(tree), str(Path(__file__).parent), str(copy)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[-2]), float(out[-1])


def measure(folder: Path, n: int, tree: Path | None) -> tuple[float, float]:
    # Imported here: the --before child imports this file with an older `bot`, without it.
    from bot.engagement.records import PostSet

    path = folder / f"top-{n}.db"
    started = time.perf_counter()
    build(path, n).close()
    built = time.perf_counter() - started
    old = before(tree, path) if tree is not None else None
    ours, ours_cpu, message = run_top(path)
    since = NOW - timedelta(days=7)
    sql, _, params = board_query(
        PostSet(channel=(TEAM, CHANNEL)),
        COMMAND.metric,
        owners=OWNERS,
        since=since,
        until=NOW.date() + timedelta(days=1),
        limit=COMMAND.limit,
        public=True,
        stale_before=NOW - timedelta(minutes=15),
    )
    store = Store.open(path, cipher=TokenCipher.generate())
    bare, bare_cpu, _ = timed(lambda: store.database.execute(sql, params).fetchall())
    calls = store.database.execute("SELECT COUNT(*) FROM api_calls").fetchone()[0]
    store.close()
    plain, plain_cpu, expected = timed(lambda: baseline(path, since))
    text = str(message)
    missing = [p for p, _ in expected if p not in text]  # type: ignore[union-attr]
    print(
        f"top over {n:>7,} tracked Posts ({n // 2:,} owned): {ours * 1000:7.1f} ms"
        f" (CPU {ours_cpu * 1000:.1f} ms, {ours_cpu / n * 1e6:.1f} us/Post;"
        f" the board statement {bare * 1000:.1f} ms, CPU {bare_cpu * 1000:.1f} ms);"
        f" baseline script {plain * 1000:7.1f} ms (CPU {plain_cpu * 1000:.1f} ms);"
        f" ratio {ours / plain:.2f} (CPU {ours_cpu / plain_cpu:.2f})"
        f" (calls to X: {calls}; same top 10: {not missing}; built in {built:.0f} s)"
    )
    if old is not None:
        print(
            f"  before ({tree}): {old[0] * 1000:7.1f} ms (CPU {old[1] * 1000:.1f} ms):"
            f" {old[0] / ours:.1f}x the time now (CPU {old[1] / ours_cpu:.1f}x)"
        )
    return ours, plain


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, help="tracked Posts (default: 10000 100000)")
    parser.add_argument("--before", type=Path, help="a directory holding another version's bot")
    args = parser.parse_args(argv)
    tree = args.before.resolve() if args.before else None
    sizes = args.sizes or [10_000, 100_000]
    with tempfile.TemporaryDirectory() as tmp:
        times = [measure(Path(tmp), n, tree) for n in sizes]
    if len(sizes) > 1:
        grew = sizes[-1] / sizes[0]
        print(
            f"{sizes[0]:,} -> {sizes[-1]:,} Posts (x{grew:.0f}):"
            f" top x{times[-1][0] / times[0][0]:.1f}"
            f" ({times[-1][0] / times[0][0] / grew:.2f} of linear),"
            f" baseline x{times[-1][1] / times[0][1]:.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
