"""Start-up of a one-shot command: a one-Post `engagement-bot query totals` against a bare
`python -c pass`, each its own process, on one simulator in this process.

    .venv/bin/python bench/startup.py [--reps 21] [--importtime] [--before DIR]

Connects @sim_brand once (a template database), then runs, interleaved, `--reps` times each:
`python -c pass`; `python -c "import requests, requests_oauthlib"` (what bench/baseline_script.py
imports: the floor of any client on requests); `python -m bot query totals --format csv <one
Post>` (on a fresh copy of the template each time: one /totals call); and `python -m bot --help`,
`accounts list` and `usage` (no call). Prints the median wall time (process start to exit) of
each, what it costs beyond the bare interpreter, and the ratio; and the median CPU time of each
(less sensitive than wall time to other work on the machine). The children run as
bench/versus_script.py runs them: this checkout's bot, bytecode cached.

`--importtime` also prints the slowest imports of one `query totals` run (`python -X importtime`,
cumulative microseconds). `--before DIR` measures the same commands of another checkout too
(`git worktree add DIR <commit>`), in the same run.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from versus_script import REPO, SECRET, TOKEN, environment  # bench/: the same children as there

from bot.simulator.server import RunningSimulator, start_simulator


def one_post(sim: RunningSimulator) -> str:
    state = sim.state
    with state.lock:
        made = state.universe.add_post({"author": "sim_brand", "age_hours": 5}, now=state.now())
        state.universe_changed()
    return str(made.id)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Command:
    name: str
    argv: list[str]  # after the interpreter
    checkout: Path = REPO  # whose bot runs


def run(sim: RunningSimulator, template: Path, root: Path, command: Command) -> tuple[float, float]:
    """Seconds from process start to exit, and the CPU seconds (user + system) the process
    used, on a fresh copy of the template database."""
    folder = Path(tempfile.mkdtemp(dir=root))
    shutil.copytree(template, folder, dirs_exist_ok=True)
    env = environment(sim, folder) | {"PYTHONPATH": str(command.checkout)}
    try:
        cpu, started = children_cpu(), time.perf_counter()
        subprocess.run(
            [sys.executable, *command.argv],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            check=True,
        )
        return time.perf_counter() - started, children_cpu() - cpu
    finally:
        shutil.rmtree(folder)


def commands(post: str, before: Path | None) -> list[Command]:
    bot = {
        "query totals, 1 Post": ["-m", "bot", "query", "totals", "--format", "csv", post],
        "--help": ["-m", "bot", "--help"],
        "accounts list": ["-m", "bot", "accounts", "list"],
        "usage": ["-m", "bot", "usage"],
    }
    made = [
        Command("python -c pass", ["-c", "pass"]),
        # What bench/baseline_script.py imports: the floor for any client built on requests.
        Command("script's imports", ["-c", "import requests, requests_oauthlib"]),
    ]
    made += [Command(name, argv) for name, argv in bot.items()]
    if before is not None:
        made += [Command(f"{name} (before)", argv, before) for name, argv in bot.items()]
    return made


def report(runs: dict[str, list[tuple[float, float]]]) -> None:
    bare_wall = statistics.median(wall for wall, _ in runs["python -c pass"])
    bare_cpu = statistics.median(cpu for _, cpu in runs["python -c pass"])
    print(f"  {'':<31} {'wall':>8} {'beyond bare':>12} {'ratio':>6}   {'CPU':>8} {'beyond':>8}")
    for name, measured in runs.items():
        wall = statistics.median(w for w, _ in measured)
        cpu = statistics.median(c for _, c in measured)
        print(
            f"  {name:<31} {wall:6.3f} s {wall - bare_wall:+10.3f} s {wall / bare_wall:5.1f}x"
            f"   {cpu:6.3f} s {cpu - bare_cpu:+6.3f} s"
        )


def slowest_imports(sim: RunningSimulator, template: Path, argv: list[str], top: int) -> str:
    env = environment(sim, template)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        cwd=template,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((int(cumulative), int(own), name.rstrip()))
    rows.sort(reverse=True)
    return "\n".join(f"  {c:>9,} {o:>9,}  {n}" for c, o, n in rows[:top])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=21, help="runs of each command")
    parser.add_argument("--importtime", action="store_true", help="the slowest imports too")
    parser.add_argument(
        "--before", type=Path, help="another checkout of the bot, measured in the same run"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, start_simulator(mode="test") as sim:
        root = Path(scratch)
        template = root / "template"
        template.mkdir()
        post = one_post(sim)
        subprocess.run(
            [sys.executable, "-m", "bot", "accounts", "add", "--token", TOKEN, "--secret", SECRET],
            cwd=template,
            env=environment(sim, template),
            stdout=subprocess.DEVNULL,
            check=True,
        )
        todo = commands(post, args.before)
        for command in todo:  # untimed: bytecode compiled, the page cache and simulator warm
            run(sim, template, root, command)
        runs: dict[str, list[tuple[float, float]]] = {command.name: [] for command in todo}
        for _ in range(args.reps):
            for command in todo:
                runs[command.name].append(run(sim, template, root, command))
        print(
            f"{args.reps} runs each, interleaved; median wall time (process start to exit) and "
            f"median CPU time (user + system); {os.cpu_count()} cores; "
            f"Python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.1f}"
        )
        report(runs)
        if args.importtime:
            print("slowest imports of one `query totals` (cumulative us, own us, module):")
            print(slowest_imports(sim, template, todo[2].argv, 25))


if __name__ == "__main__":
    main()
