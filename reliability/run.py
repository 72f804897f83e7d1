"""The reliability suite: real processes over loopback, one verdict per thing tried.

    .venv/bin/python -m reliability        (make reliability)

Starts `engagement-bot simulator --mode test` processes (frozen clock, so every run sees the same
numbers), a loopback fake Slack in this process (tests/support/fake_slack.py) and
`engagement-bot run` processes in HTTP mode, each on a scratch SQLite file, then:

1. X faults: the same slash commands fault-free and under the simulator's fault injection;
   the two stores must hold the same rows; the faulty `run`'s GET /metrics counts the
   requests, 429s and retries the simulator's request log shows.
2. Slack faults: response_url, chat.postMessage and files upload answering 5xx/429, and a
   channel that is gone (channel_not_found): answered, posted once, or paused.
3. kill -9 of `run` mid-refresh, restart, the commands again: integrity and equal rows.
4. kill -9 of `run` mid-digest, restart: exactly one digest per channel and date.
5. Soak: 300 signed commands, 20 at a time, some under X faults: acks < 3 s, each answered
   once, RSS and threads bounded.
6. X hung or dripping: every `totals` answered by its deadline ("X is slow"), `help` within
   1 s meanwhile, /healthz naming X; the next command after X recovers answered normally.
7. Slack answering users.info 429 with Retry-After 20: settings changes told "Slack is busy"
   at once, `help` not held back, /healthz naming Slack.

Prints one line per verdict and a summary table; exits 1 when any verdict fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from reliability.procs import sim_start_time, wall_now
from reliability.scenarios import (
    Context,
    Verdict,
    kill_between_post_and_record,
    kill_between_post_and_record_tier1,
    kill_mid_digest,
    kill_mid_refresh,
    refresh_under_x_faults,
    slack_faults,
    slack_rate_limited,
    soak,
    x_hung,
)

SCENARIOS: list[tuple[str, Callable[[Context], list[Verdict]]]] = [
    ("1 X faults", refresh_under_x_faults),
    ("3 kill -9 refresh", kill_mid_refresh),
    ("2 Slack faults", slack_faults),
    ("4 kill -9 digest", kill_mid_digest),
    ("4 kill -9 post/record", kill_between_post_and_record),
    ("4c kill -9 post/record, Tier 1", kill_between_post_and_record_tier1),
    ("5 soak", soak),
    ("6 X hung", x_hung),
    ("7 Slack 429", slack_rate_limited),
]
# Scenarios 1 and 3 compare the hourly rows of different `run` processes. The simulator's clock
# is frozen at the last :59 second before the suite starts, the bots read the wall clock: the
# two must stay in the same hour (else which hours get stored depends on the order in which
# concurrent commands hit the store; seen at 17:00:01, 5 extra zero rows).
HOUR_MARGIN_S = 90


def say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - the report


def wait_for_a_whole_hour() -> None:
    now = wall_now()
    into = now.minute * 60 + now.second
    if into < 60:
        wait = 61 - into  # the simulator's :59 would be in the previous hour
    elif 3600 - into < HOUR_MARGIN_S:
        wait = 3600 - into + 61
    else:
        return
    say(f"(waiting {wait} s: the simulator's frozen clock and the bots' must share an hour)")
    time.sleep(wait)


class Aside:
    """One scenario run in a child `python -m reliability --only`, its report printed and its
    verdicts counted once it is done (a crash of the child is a failed verdict)."""

    SCENARIO = "4c"

    def __init__(self, child: subprocess.Popen[bytes], log: Path, found: Path) -> None:
        self._child, self._log, self._found = child, log, found

    @classmethod
    def start(cls, folder: Path, keep: bool) -> Aside:
        log, found = folder / "aside.log", folder / "aside.json"
        argv = [sys.executable, "-m", "reliability", "--only", cls.SCENARIO, "--verdicts", found]
        with log.open("wb") as out:
            child = subprocess.Popen(
                [*map(str, argv), *(["--keep"] if keep else [])], stdout=out, stderr=out
            )
        return cls(child, log, found)

    def finish(self) -> list[Verdict]:
        code = self._child.wait()
        say(
            f"-- scenario {self.SCENARIO}, run beside the others (python -m reliability --only "
            f"{self.SCENARIO}):"
        )
        for line in self._log.read_text(errors="replace").splitlines():
            say(f"   {line}")
        if not self._found.exists():
            return [Verdict(self.SCENARIO, "the scenario's process", False, f"exited {code}")]
        return [Verdict(**fields) for fields in json.loads(self._found.read_text())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability", description=__doc__)
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (logs, DBs)")
    parser.add_argument("--soak", type=int, default=300, help="soak commands (default 300)")
    parser.add_argument("--only", help="comma-separated scenario numbers, e.g. 1,3 (3 needs 1)")
    parser.add_argument("--verdicts", type=Path, help=argparse.SUPPRESS)  # a child's, as JSON
    args = parser.parse_args(argv)
    wait_for_a_whole_hour()
    folder = Path(tempfile.mkdtemp(prefix="reliability-"))
    started = time.monotonic()
    ctx = Context(folder=folder, start=sim_start_time())
    say(f"reliability suite: scratch folder {folder}; simulator clock frozen at {ctx.start}")
    verdicts: list[Verdict] = []
    only = set(args.only.split(",")) if args.only else None
    aside = None
    if only is None:
        # 4c spends two minutes waiting out Slack's Tier 1 minute, and needs nothing of the
        # others: it runs beside them, in a process of its own.
        aside = Aside.start(folder, args.keep)
        only = {name.split()[0] for name, _ in SCENARIOS} - {Aside.SCENARIO}
    try:
        for name, scenario in SCENARIOS:
            if only is not None and name.split()[0] not in only:
                continue
            t0 = time.monotonic()
            try:
                found = soak(ctx, n=args.soak) if scenario is soak else scenario(ctx)
            except Exception as error:
                traceback.print_exc()
                found = [Verdict(name, "the scenario", False, f"crashed: {error!r}")]
            for verdict in found:
                say(verdict.line())
                for note in verdict.notes:
                    say(f"       {note}")
            say(f"       ({name}: {time.monotonic() - t0:.0f} s)")
            verdicts += found
    finally:
        for close in reversed(ctx.closers):
            try:
                close()
            except Exception:
                traceback.print_exc()
    if aside is not None:
        verdicts += aside.finish()
    if args.verdicts is not None:
        args.verdicts.write_text(json.dumps([asdict(v) for v in verdicts]))
    wall = time.monotonic() - started
    say("")
    say(f"{'scenario':<24} verdict")
    say(f"{'-' * 24} -------")
    for verdict in verdicts:
        say(f"{verdict.scenario:<24} {'PASS' if verdict.ok else 'FAIL'}")
    failed = [v for v in verdicts if not v.ok]
    say(f"{len(verdicts) - len(failed)}/{len(verdicts)} passed in {wall:.0f} s")
    if args.keep or failed:
        say(f"logs and databases kept in {folder}")
    else:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
