"""CPU per Post of a /totals refresh, CPU per hourly cell, and the peak RSS of a 100,000-Post
refresh, each against a baseline measured in the same run.

    .venv/bin/python bench/refresh_cpu.py [--sizes 10000,100000] [--hourly 1000] [--skip-rss]
        [--before DIR]

The simulator runs in its own process (`engagement-bot simulator --mode test`, its clock frozen,
rate limits out of the way), so the CPU time of this process (time.process_time: every thread)
is the client's alone. Posts belong to the connected account @sim_brand and are younger than 90
days; the store already knows their authors (no lookup), as on a channel's scheduled refresh.

For each size N, `EngagementService.refresh` of N Posts (the whole path: plan, calls, parse,
aggregate, save) is timed against the simplest correct client (bench/baseline_script.py's
`totals`: requests + OAuth 1.0a + json + a sum) over the same Posts: CPU seconds each, µs per
Post, and ours/baseline. Hourly: `query hourly` of the Posts' last 28 hours, µs per cell
(Post × metric × hour) against the script's `hourly`, into a fresh store and then once more
(an hourly refresh: X answers all 28 hours again, most of them settled and stored). Peak
RSS: a child process does the 100,000-Post refresh and reports its VmHWM, next to a child that
does the same set-up and the baseline script's totals over the same Posts.

Our figures come from child processes (each warmed up by a 1,000-Post refresh first), so
`--before DIR` (another checkout of the bot, e.g. `git worktree add /tmp/before main`) is
measured exactly alike, in the same run, against the same simulator and Posts: its figures
print next to ours, with ours/before.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from requests_oauthlib import OAuth1

REPO = Path(__file__).resolve().parent.parent
# The bot measured: this checkout, or the one a child process was given (--code=DIR).
CODE = next((Path(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--code=")), REPO)
sys.path.insert(0, str(CODE))
sys.path.insert(0, str(REPO / "bench"))

import baseline_script  # noqa: E402

from bot.app import build_service  # noqa: E402
from bot.engagement.http_client import HttpEngagementClient  # noqa: E402
from bot.engagement.models import UserAuth  # noqa: E402
from bot.engagement.query import EngagementQuery, Granularity  # noqa: E402
from bot.engagement.records import PostRecord  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.cipher import TokenCipher  # noqa: E402

START = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
TOKEN, SECRET = "1000000001-simtoken-sim_brand", "simsecret-sim_brand"
BRAND = UserAuth(TOKEN, SECRET)
UNLIMITED = str(10**9)
SERIES = ("impressions", "engagements", "favorites", "retweets", "replies")


@contextmanager
def simulator() -> Iterator[str]:
    """The simulator in its own process; yields its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "simulator", "--mode", "test", "--port", "0"]
        + ["--start-time", START.strftime("%Y-%m-%dT%H:%M:%SZ")]
        + [f"--rate-limit-{e}={UNLIMITED}" for e in ("totals", "28hr", "historical")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
        env=os.environ | {"PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    try:
        yield proc.stdout.readline().strip().removeprefix("listening on ")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()


def add_posts(url: str, count: int) -> list[str]:
    """`count` Posts of @sim_brand aged 1 hour to ~83 days (in chunks: one body per 10,000)."""
    ids: list[str] = []
    for first in range(0, count, 10_000):
        body = {
            "posts": [
                {"author": "sim_brand", "age_hours": 1 + i % 2000}
                for i in range(first, min(count, first + 10_000))
            ]
        }
        reply = requests.post(f"{url}/_sim/posts", json=body, timeout=600)
        reply.raise_for_status()
        ids.extend(str(p["id"]) for p in reply.json()["posts"])
    return ids


def open_store(folder: Path, ids: list[str]) -> Store:
    store = Store.open(folder / "engagement.db", cipher=TokenCipher.generate())
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=None, now=START
    )
    store.posts.save(PostRecord(i, "1000000001", None) for i in ids)
    return store


def service_for(url: str, store: Store) -> Any:
    client = HttpEngagementClient(
        consumer_key="sim-consumer-key",
        consumer_secret="sim-consumer-secret",
        engagement_base_url=url,
        oauth_base_url=url,
    )
    return build_service(client, store)


def cpu(work: Callable[[], object]) -> float:
    """CPU seconds of this process (all threads) spent in `work`."""
    gc.collect()
    started = time.process_time()
    work()
    return time.process_time() - started


def script_auth(url: str) -> OAuth1:
    os.environ["X_API_URL"] = url
    return OAuth1("sim-consumer-key", "sim-consumer-secret", TOKEN, SECRET)


def script_totals(url: str, ids: list[str]) -> int:
    return sum(value for _, _, _, value in baseline_script.totals(script_auth(url), ids))


def script_hourly(url: str, ids: list[str]) -> int:
    return sum(1 for _ in baseline_script.hourly(script_auth(url), ids))


def peak_rss_kib() -> int:
    """This process's VmHWM (its own high-water mark; fresh since exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def child(url: str, folder: Path, count: int, what: str) -> None:
    """One RSS measurement in this (child) process: prints its peak RSS in KiB."""
    ids = json.loads((folder / "ids.json").read_text())[:count]
    (folder / what).mkdir()
    store = open_store(folder / what, ids) if what != "script" else None
    if what == "ours":
        assert store is not None
        service_for(url, store).refresh(ids, now=START)
    elif what == "script":
        script_totals(url, ids)
    print(peak_rss_kib())


def rss_of(url: str, folder: Path, count: int, what: str, code: Path = REPO) -> int:
    sub = folder / f"rss-{what}-{code.name}"
    sub.mkdir()
    (sub / "ids.json").write_text((folder / "ids.json").read_text())
    done = subprocess.run(
        [sys.executable, __file__, "--child", what, "--url", url, "--folder", str(sub)]
        + ["--count", str(count), f"--code={code}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1])


def totals_cpu(url: str, folder: Path, ids: list[str]) -> float:
    """Our CPU seconds for a /totals refresh of `ids` into a fresh store."""
    sub = folder / f"totals-{len(ids)}"
    sub.mkdir()
    store = open_store(sub, ids)
    service = service_for(url, store)
    ours = cpu(lambda: service.refresh(ids, now=START))
    store.close()
    return ours


def hourly_cpu(url: str, folder: Path, ids: list[str]) -> tuple[float, float]:
    """Our CPU seconds for the last 28 hours of `ids`: into a fresh store, then the same
    refresh again (X answers all 28 hours; the store holds the settled ones)."""
    sub = folder / f"hourly-{len(ids)}"
    sub.mkdir()
    store = open_store(sub, ids)
    service = service_for(url, store)
    query = EngagementQuery(tuple(ids), SERIES, Granularity.HOUR)
    ours = cpu(lambda: service.report(query, now=START, fresh=True))
    again = cpu(lambda: service.report(query, now=START, fresh=True))
    store.close()
    return ours, again


def cpu_child(url: str, folder: Path, sizes: list[int], hourly: int) -> None:
    """Our CPU figures in this (child) process, as JSON: {"totals": {size: s}, "hourly": s}."""
    ids = json.loads((folder / "ids.json").read_text())
    warm = folder / "warm"
    warm.mkdir()
    store = open_store(warm, ids)
    service_for(url, store).refresh(ids[:1000], now=START)  # imports, first-use caches
    store.close()
    totals = {size: totals_cpu(url, folder, ids[:size]) for size in sizes}
    first, again = hourly_cpu(url, folder, ids[:hourly])
    print(json.dumps({"totals": totals, "hourly": first, "hourly_again": again}))


def ours_cpu(url: str, folder: Path, sizes: list[int], hourly: int, code: Path) -> Any:
    sub = folder / f"cpu-{code.name}-{len(list(folder.iterdir()))}"
    sub.mkdir()
    (sub / "ids.json").write_text((folder / "ids.json").read_text())
    done = subprocess.run(
        [sys.executable, __file__, "--child", "cpu", "--url", url, "--folder", str(sub)]
        + ["--sizes", ",".join(map(str, sizes)), "--hourly", str(hourly), f"--code={code}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def script_hourly_cpu(url: str, ids: list[str]) -> tuple[float, int]:
    """The script's CPU seconds for the last 28 hours of `ids`, and the cells it read."""
    cells = 0

    def run() -> None:
        nonlocal cells
        cells = script_hourly(url, ids)

    return cpu(run), cells


def versus(ours: float, script: float, before: float | None, unit: float, per: str) -> str:
    line = (
        f"ours {ours:6.2f} s = {ours / unit * 1e6:6.1f} µs/{per}; "
        f"script {script:5.2f} s = {script / unit * 1e6:5.1f} µs/{per}; ours/script "
        f"{ours / script:.2f}"
    )
    if before is not None:
        line += (
            f"; before {before:6.2f} s = {before / unit * 1e6:6.1f} µs/{per}; "
            f"ours/before {ours / before:.2f}"
        )
    return line


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--hourly", type=int, default=1000)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--before", type=Path, help="another checkout, measured alike")
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child")
    parser.add_argument("--url")
    parser.add_argument("--folder")
    parser.add_argument("--count", type=int)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.child == "cpu":
        cpu_child(args.url, Path(args.folder), sizes, args.hourly)
        return 0
    if args.child:
        child(args.url, Path(args.folder), args.count, args.child)
        return 0
    before_code = args.before.resolve() if args.before else None
    with simulator() as url, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ids = add_posts(url, max(sizes + [args.hourly]))
        (folder / "ids.json").write_text(json.dumps(ids))
        script_totals(url, ids)  # untimed: imports, the simulator's caches
        ours = ours_cpu(url, folder, sizes, args.hourly, REPO)
        before = ours_cpu(url, folder, sizes, args.hourly, before_code) if before_code else None
        print("CPU of a /totals refresh (one process, every thread; simulator elsewhere)")
        for size in sizes:
            part = ids[:size]
            script = cpu(lambda: script_totals(url, part))  # noqa: B023 (called at once)
            was = before["totals"][str(size)] if before else None
            print(
                f"  {size:>7,} Posts: "
                + versus(ours["totals"][str(size)], script, was, size, "Post")
            )
        script, cells = script_hourly_cpu(url, ids[: args.hourly])
        was = before["hourly"] if before else None
        print(
            f"CPU of `query hourly` (28 h) for {args.hourly:,} Posts = {cells:,} cells: "
            + versus(ours["hourly"], script, was, cells, "cell")
        )
        was = before["hourly_again"] if before else None
        print(
            "  the same again (settled hours stored): "
            + versus(ours["hourly_again"], script, was, cells, "cell")
        )
        if not args.skip_rss:
            size = max(sizes)
            base = rss_of(url, folder, size, "setup")
            script_kib = rss_of(url, folder, size, "script")
            ours_kib = rss_of(url, folder, size, "ours")
            line = (
                f"Peak RSS (child process) refreshing {size:,} Posts: ours "
                f"{ours_kib / 1024:.0f} MiB; script {script_kib / 1024:.0f} MiB; ours/script "
                f"{ours_kib / script_kib:.2f}; set-up alone (imports, store, Post list) "
                f"{base / 1024:.0f} MiB"
            )
            if before_code:
                before_kib = rss_of(url, folder, size, "ours", before_code)
                line += f"; before {before_kib / 1024:.0f} MiB"
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
