"""`engagement-bot query` against the simplest correct client (bench/baseline_script.py), each run
as its own process, start-up included, on the same simulator and the same Posts.

    .venv/bin/python bench/versus_script.py [--reps 5] [--jobs abcde] [--before DIR]
        [--latency-ms N]

Starts the simulator in this process (test mode: its clock frozen, set to the real time at the
start of each job so both clients read the same numbers; rate limits out of the way) with 5,000
Posts of the connected account @sim_brand, all younger than 90 days. Its time to answer is part
of both clients' wall time. For each job, runs the script and `python -m bot query ... --format
csv` (a fresh copy of a prepared database in a temporary directory each time) `--reps` times
each, interleaved, after one untimed run of each, and prints per client the median wall time
(process start to exit), the median peak RSS (GNU time's %M: /usr/bin/time must exist) and the
engagement calls the simulator saw; then ours/script.

    a. query totals, 5,000 Posts, authors already known (a copy of the database after a first run)
    b. the same on a fresh database (accounts add only): authors are looked up first
    c. query hourly, 100 Posts
    d. query daily --from/--to over 60 days, the same 100 Posts
    e. query totals of one Post against a bare `python -c pass`

and checks that both clients gave the same sum of impressions for (a). `--latency-ms N` has
the simulator hold each engagement answer N ms (its fault injection), as X's own network and
computing time would: the script waits for each call in turn, the bot for a few at once.
`--before DIR` runs `python -m bot` of another checkout (e.g. `git archive main | tar -x -C
DIR`) as a third client, interleaved with the other two on the same databases, and prints its
line under ours.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from bot.simulator.server import RunningSimulator, start_simulator

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "bench" / "baseline_script.py"
POSTS = 5_000
SERIES_POSTS = 100
DAILY_DAYS = 60
TOKEN, SECRET = "1000000001-simtoken-sim_brand", "simsecret-sim_brand"
UNLIMITED = 10**9
TIME = "/usr/bin/time"  # GNU time, for each run's peak RSS
LIMITS = {
    f"rate_limit_{name}": UNLIMITED
    for name in ("totals", "28hr", "historical", "v2_lookup", "v2_user_posts", "v2_username")
}


@dataclass
class Run:
    seconds: float
    peak_kib: int
    calls: int
    stdout: str


@dataclass
class Job:
    title: str
    script: list[str]  # arguments after the interpreter
    ours: list[str]
    prepare: Callable[[Path], None]  # makes a fresh database folder for one run of ours
    runs: dict[str, list[Run]] = field(
        default_factory=lambda: {"script": [], "ours": [], "before": []}
    )


def admin(sim: RunningSimulator, method: str, path: str, body: Any = None) -> Any:
    reply = requests.request(method, f"{sim.url}/_sim/{path}", json=body, timeout=60)
    reply.raise_for_status()
    return reply.json()


def add_posts(sim: RunningSimulator) -> list[str]:
    """POSTS Posts of @sim_brand aged 1 hour to 83 days, straight into the live state
    (POST /_sim/posts rebuilds the model once per Post: minutes for 5,000)."""
    state = sim.state
    with state.lock:
        made = [
            state.universe.add_post(
                {"author": "sim_brand", "age_hours": 1 + i % 2000}, now=state.now()
            )
            for i in range(POSTS)
        ]
        state.universe_changed()
    return [str(p.id) for p in made]


def environment(sim: RunningSimulator, folder: Path, repo: Path = REPO) -> dict[str, str]:
    """A child's environment. Bytecode is cached (as an installed package has it), in a folder
    beside the run's, whatever PYTHONDONTWRITEBYTECODE says here: compiling every module of the
    bot from source on each run is no part of a user's start-up."""
    inherited = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return inherited | {
        "PYTHONPYCACHEPREFIX": str(folder.parent / "pycache"),
        "PYTHONPATH": str(repo),
        "X_API_URL": sim.url,
        "X_OAUTH_URL": sim.url,
        "X_CONSUMER_KEY": "sim-consumer-key",
        "X_CONSUMER_SECRET": "sim-consumer-secret",
        "X_ACCESS_TOKEN": TOKEN,  # the script's; the bot reads its tokens from its database
        "X_ACCESS_TOKEN_SECRET": SECRET,
        "ENGAGEMENT_DB": str(folder / "engagement.db"),
    }


def engagement_calls(sim: RunningSimulator) -> int:
    return len(admin(sim, "GET", "requests")["requests"])


def measure(sim: RunningSimulator, argv: Sequence[str], folder: Path, repo: Path = REPO) -> Run:
    """One process from start to exit: wall time, its own peak RSS, the engagement calls made.

    The peak comes from GNU time's %M: ru_maxrss of a child of this process would not do, as
    Linux carries the parent's high-water mark across fork and exec (this process holds the
    simulator: every child would show its size)."""
    before = engagement_calls(sim)
    started = time.perf_counter()
    done = subprocess.run(
        [TIME, "-f", "%M", "-o", str(folder / "rss.txt"), sys.executable, *argv],
        cwd=folder,
        env=environment(sim, folder, repo),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}")
    peak_kib = int((folder / "rss.txt").read_text().split()[-1])
    return Run(seconds, peak_kib, engagement_calls(sim) - before, done.stdout)


def bot(folder: Path, sim: RunningSimulator, *argv: str) -> None:
    """An untimed `python -m bot ...` for setting up a database."""
    subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        cwd=folder,
        env=environment(sim, folder),
        stdout=subprocess.DEVNULL,
        check=True,
    )


def connected(sim: RunningSimulator, folder: Path) -> None:
    bot(folder, sim, "accounts", "add", "--token", TOKEN, "--secret", SECRET)


def template(sim: RunningSimulator, root: Path, name: str, *learn: str) -> Callable[[Path], None]:
    """A database with the account connected and `learn` run once; each run gets a copy."""
    made = root / name
    made.mkdir()
    connected(sim, made)
    if learn:
        bot(made, sim, *learn)

    def copy(folder: Path) -> None:
        shutil.copytree(made, folder, dirs_exist_ok=True)

    return copy


def jobs(sim: RunningSimulator, root: Path, ids: list[str]) -> list[Job]:
    (root / "all.txt").write_text("\n".join(ids) + "\n")
    (root / "some.txt").write_text("\n".join(ids[:: POSTS // SERIES_POSTS]) + "\n")
    everything, some = str(root / "all.txt"), str(root / "some.txt")
    today = datetime.now(UTC).date()
    days = ["--from", str(today - timedelta(days=DAILY_DAYS - 1)), "--to", str(today)]
    csv_out = ["--format", "csv"]
    known = template(sim, root, "known", "query", "totals", *csv_out, "@" + everything)
    series_known = template(sim, root, "series", "query", "totals", "--explain", "@" + some)
    return [
        Job(
            f"a. totals, {POSTS:,} Posts, authors known",
            [str(SCRIPT), "totals", "@" + everything],
            ["-m", "bot", "query", "totals", *csv_out, "@" + everything],
            known,
        ),
        Job(
            f"b. totals, {POSTS:,} Posts, fresh database",
            [str(SCRIPT), "totals", "@" + everything],
            ["-m", "bot", "query", "totals", *csv_out, "@" + everything],
            lambda folder: connected(sim, folder),
        ),
        Job(
            f"c. hourly, {SERIES_POSTS} Posts",
            [str(SCRIPT), "hourly", "@" + some],
            ["-m", "bot", "query", "hourly", *csv_out, "@" + some],
            series_known,
        ),
        Job(
            f"d. daily, {DAILY_DAYS} days, {SERIES_POSTS} Posts",
            [str(SCRIPT), "daily", *days, "@" + some],
            ["-m", "bot", "query", "daily", *csv_out, *days, "@" + some],
            series_known,
        ),
        Job(
            "e. totals, 1 Post (script: python -c pass)",
            ["-c", "pass"],
            ["-m", "bot", "query", "totals", *csv_out, ids[0]],
            known,
        ),
    ]


def run_job(
    sim: RunningSimulator, job: Job, root: Path, reps: int, before: Path | None = None
) -> None:
    """Each client `reps` times, interleaved, the order rotated every repetition, after one
    untimed run of each: the simulator caches the engagement values it computes, and the first
    client to ask for them would otherwise pay for both."""
    admin(sim, "POST", "clock", {"now": datetime.now(UTC).isoformat(), "mode": "frozen"})
    clients = ["script", "ours", *(["before"] if before is not None else [])]
    for client in clients:
        run_once(sim, job, client, root, before)
    for rep in range(reps):
        order = clients[rep % len(clients) :] + clients[: rep % len(clients)]
        for client in order if rep % 2 == 0 else reversed(order):
            job.runs[client].append(run_once(sim, job, client, root, before))


def run_once(
    sim: RunningSimulator, job: Job, client: str, root: Path, before: Path | None = None
) -> Run:
    """One run of a client in a new folder (for ours, a fresh copy of the job's database)."""
    folder = Path(tempfile.mkdtemp(dir=root))
    if client != "script":
        job.prepare(folder)
    argv = job.script if client == "script" else job.ours
    repo = before if client == "before" and before is not None else REPO
    try:
        return measure(sim, argv, folder, repo)
    finally:
        shutil.rmtree(folder)


def median(runs: list[Run], value: Callable[[Run], float]) -> float:
    return statistics.median(value(r) for r in runs)


def summary(job: Job) -> str:
    cells = []
    for client in ("script", "ours"):
        runs = job.runs[client]
        seconds = median(runs, lambda r: r.seconds)
        megabytes = median(runs, lambda r: r.peak_kib) / 1024
        calls = median(runs, lambda r: r.calls)
        cells.append(f"{seconds:6.2f} s {megabytes:5.0f} MB {calls:3.0f} calls")
    script, ours = job.runs["script"], job.runs["ours"]
    time_ratio = median(ours, lambda r: r.seconds) / median(script, lambda r: r.seconds)
    rss_ratio = median(ours, lambda r: r.peak_kib) / median(script, lambda r: r.peak_kib)
    line = f"{job.title:<42} {cells[0]}   {cells[1]}   {time_ratio:5.1f}x {rss_ratio:5.1f}x"
    if not job.runs["before"]:
        return line
    earlier = job.runs["before"]
    seconds = median(earlier, lambda r: r.seconds)
    megabytes = median(earlier, lambda r: r.peak_kib) / 1024
    calls = median(earlier, lambda r: r.calls)
    was = seconds / median(script, lambda r: r.seconds)
    was_rss = median(earlier, lambda r: r.peak_kib) / median(script, lambda r: r.peak_kib)
    cell = f"{seconds:6.2f} s {megabytes:5.0f} MB {calls:3.0f} calls"
    return f"{line}\n{'   before':<42} {'':<27}   {cell}   {was:5.1f}x {was_rss:5.1f}x"


def impressions(text: str) -> int:
    """The sum of every impressions value in a CSV of either client (comment lines skipped)."""
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return sum(int(r["value"]) for r in rows if r["metric"] == "impressions" and r["value"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="runs of each client per job")
    parser.add_argument("--jobs", default="abcde", help="the jobs to run, by letter (default: all)")
    parser.add_argument(
        "--before", type=Path, help="another checkout of the bot, run in the same run as ours"
    )
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=0,
        help="the simulator holds each engagement answer this long first (X is not on loopback)",
    )
    args = parser.parse_args()
    if not Path(TIME).exists():
        raise SystemExit(f"{TIME} (GNU time) is needed to measure each run's peak RSS")
    with (
        tempfile.TemporaryDirectory() as scratch,
        start_simulator(mode="test", options=LIMITS) as sim,
    ):
        root = Path(scratch)
        ids = add_posts(sim)
        todo = [job for job in jobs(sim, root, ids) if job.title[0] in args.jobs]
        if args.latency_ms:  # after the databases are prepared: they are not timed
            admin(sim, "PUT", "faults", {"latency_ms": args.latency_ms})
        print(
            f"simulator {sim.url} in this process; {args.reps} runs per client per job, "
            f"interleaved, after one untimed run of each; {os.cpu_count()} cores; "
            f"Python {sys.version.split()[0]}"
            + (f"; {args.latency_ms} ms of latency per engagement call" if args.latency_ms else "")
        )
        print(
            "wall: process start to exit, median; peak RSS: /usr/bin/time -f %M of that "
            "process, median; calls: engagement calls the simulator saw per run"
        )
        print(f"{'':<42} {'script':<27}   {'ours':<27}   {'ours/script (time, RSS)'}")
        for job in todo:
            run_job(sim, job, root, args.reps, args.before)
            print(summary(job), flush=True)
    if not todo or not todo[0].title.startswith("a."):
        return
    sums = [impressions(r.stdout) for client in ("script", "ours") for r in todo[0].runs[client]]
    verdict = "equal in every run" if len(set(sums)) == 1 else f"DIFFER: {sorted(set(sums))}"
    print(f"a. sum of impressions over {POSTS:,} Posts: script {sums[0]:,}, ours {sums[-1]:,}")
    print(f"   {len(sums)} runs: {verdict}")


if __name__ == "__main__":
    main()
