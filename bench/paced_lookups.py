"""Author lookups paced by a small v2 lookup window: a `/totals` query of N owned Posts whose
authors nobody knows yet, against the simulator's lookup limit set low.

    .venv/bin/python bench/paced_lookups.py [--posts 2000] [--limit 8] [--window 90]

The simulator runs in this process, its clock running at real speed, with `--limit` lookups per
`--window` seconds (docs/simulator.md#v2-rate-limits; X's is 300 per 15 minutes) and the
engagement endpoints' limits out of the way. The Posts belong to the connected account
@sim_brand and are younger than 90 days, so each one's impressions need the account's token,
which needs its author learnt first: ceil(N/100) lookups, more than one window holds.

The same query runs twice on a fresh database each, with the real clocks, each starting at the
start of a lookup window:

    bounded  a lookup waits for its window at most 65 s, as a command or `query` does
    patient  it waits out any window (build_service's lookup_max_wait=FULL_WINDOW_S)

and prints per run: wall time; the lookups X answered 200 and 429 (our client's one log line
per call); the waits for a window (from the injected sleep); and how many Posts came back
without their owner's impressions ("author unknown"), which the patient run must not leave.
"""

from __future__ import annotations

import argparse
import logging
import math
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.app import build_service  # noqa: E402
from bot.engagement.directory import DEFAULT_MAX_WAIT_S, FULL_WINDOW_S  # noqa: E402
from bot.engagement.http_client import HttpEngagementClient  # noqa: E402
from bot.engagement.models import UserAuth  # noqa: E402
from bot.engagement.query import EngagementQuery  # noqa: E402
from bot.simulator.server import RunningSimulator, start_simulator  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.cipher import TokenCipher  # noqa: E402

BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
UNLIMITED = 10**9
CALL_LINE = re.compile(r"X API (\S+) status=(\d+)")


@dataclass
class Outcome:
    seconds: float
    statuses: list[int]
    waits: list[float]
    without_owner_numbers: int


class CallLog(logging.Handler):
    """The client's one line per X call: which endpoint, which status."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.calls: list[tuple[str, int]] = []

    def emit(self, record: logging.LogRecord) -> None:
        found = CALL_LINE.search(record.getMessage())
        if found:
            self.calls.append((found[1], int(found[2])))


def admin(sim: RunningSimulator, method: str, path: str, body: Any = None) -> Any:
    reply = requests.request(method, f"{sim.url}/_sim/{path}", json=body, timeout=60)
    reply.raise_for_status()
    return reply.json()


def add_posts(sim: RunningSimulator, count: int) -> list[str]:
    """Posts of @sim_brand aged 1 hour to 83 days, straight into the live state."""
    state = sim.state
    with state.lock:
        made = [
            state.universe.add_post(
                {"author": "sim_brand", "age_hours": 1 + i % 2000}, now=state.now()
            )
            for i in range(count)
        ]
        state.universe_changed()
    return [str(p.id) for p in made]


def to_next_window(sim: RunningSimulator, window: int) -> None:
    """Sleep (really) until the simulator's clock enters a new lookup window."""
    now = sim.state.now().timestamp()
    time.sleep(window - now % window + 0.05)


def run(sim: RunningSimulator, folder: Path, ids: list[str], max_wait: float) -> Outcome:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    log = CallLog()
    logging.getLogger("bot.engagement.http_client").addHandler(log)
    logging.getLogger("bot.engagement.http_client").setLevel(logging.INFO)
    try:
        with (
            Store.open(folder / "engagement.db", cipher=TokenCipher.generate()) as store,
            HttpEngagementClient(
                consumer_key="sim-consumer-key",
                consumer_secret="sim-consumer-secret",
                engagement_base_url=sim.url,
                oauth_base_url=sim.url,
            ) as client,
        ):
            store.accounts.save(
                user_id="1000000001",
                screen_name="sim_brand",
                auth=BRAND,
                workspace=None,
                now=datetime.now(UTC),
            )
            service = build_service(client, store, sleep=sleep, lookup_max_wait=max_wait)
            started = time.perf_counter()
            report = service.report(
                EngagementQuery(tuple(ids), ("impressions", "favorites")),
                now=sim.state.now(),
            )
            seconds = time.perf_counter() - started
    finally:
        logging.getLogger("bot.engagement.http_client").removeHandler(log)
    missing = {p for (p, metric) in report.missing if metric == "impressions"}
    missing |= {p for p in ids if report.totals.get(p, {}).get("impressions") is None}
    missing |= {
        p for p in ids if (v := report.totals.get(p, {}).get("impressions")) and v.count is None
    }
    statuses = [status for endpoint, status in log.calls if endpoint == "2/tweets"]
    return Outcome(seconds, statuses, waits, len(missing))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=8, help="lookups per window")
    parser.add_argument("--window", type=int, default=90, help="the lookup window, seconds")
    args = parser.parse_args()
    # The bounded run's "lookup failed" warnings are its figures, printed below.
    logging.getLogger("bot").addHandler(logging.NullHandler())
    options = {
        f"rate_limit_{name}": UNLIMITED
        for name in ("totals", "28hr", "historical", "v2_user_posts", "v2_username")
    } | {"rate_limit_v2_lookup": args.limit, "v2_window_s": args.window}
    with tempfile.TemporaryDirectory() as scratch, start_simulator(mode="demo") as sim:
        admin(sim, "PUT", "options", options)
        ids = add_posts(sim, args.posts)
        lookups = math.ceil(args.posts / 100)
        print(
            f"simulator {sim.url} in this process, clock running; {args.posts:,} owned Posts "
            f"of unknown author: {lookups} lookups against {args.limit} per {args.window} s; "
            f"Python {sys.version.split()[0]}"
        )
        print(
            f"{'':34}{'wall':>9}{'200s':>6}{'429s':>6}{'waits':>7}{'waited':>9}"
            f"{'Posts without owner numbers':>29}"
        )
        for name, max_wait in (("bounded (65 s)", DEFAULT_MAX_WAIT_S), ("patient", FULL_WINDOW_S)):
            folder = Path(scratch) / name.split()[0]
            folder.mkdir()
            to_next_window(sim, args.window)
            got = run(sim, folder, ids, max_wait)
            print(
                f"  {name + f', max wait {max_wait:.0f} s':32}{got.seconds:8.1f}s"
                f"{got.statuses.count(200):6}{got.statuses.count(429):6}{len(got.waits):7}"
                f"{sum(got.waits):8.1f}s{got.without_owner_numbers:29,}"
            )


if __name__ == "__main__":
    main()
