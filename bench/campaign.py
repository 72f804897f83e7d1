"""A 10,000-Post campaign's report: calls made vs the lower bound, wall time, peak memory.

    .venv/bin/python bench/campaign.py

The simulator runs in its own process (bench/service.py's SimulatorProcess); the bot's side
(store on a throwaway SQLite file, the real HTTP client and service, bot.channels.campaigns)
runs here. The campaign holds 2,500 Posts of a connected account (sim_brand) and 7,500 of an
account that is not connected (sim_creator), all from the last 7 days, added by ID with no
author known (as Posts pasted by hand are), so the report first looks their authors up.

The lower bound is computed here from the Posts alone, without the planner:
  v2 lookups  ceil(unknown authors / 100)
  /totals     ceil(owned / 250) with the owner's token + ceil(unowned / 250) app-only
  series      ceil(owned / 25) per 28-day window of the period (the campaign's life: 1 window)
and the ratio calls made / bound must be 1.00: no call per Post anywhere. Wall time is the
report's (lookups, totals, daily series, storing them), with this process's CPU time
beside it (the rest is the simulator computing its answers on the same cores); peak memory is
this process's Python allocations during the report (tracemalloc) and its peak RSS.
"""

from __future__ import annotations

import math
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.service import BRAND, START, SimulatorProcess, add_posts, admin, client_for  # noqa: E402
from bot.app import build_service  # noqa: E402
from bot.channels import campaigns  # noqa: E402
from bot.channels.deps import Deps  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.engagement.models import DEFAULT_TOTALS  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.cipher import TokenCipher  # noqa: E402

OWNED, UNOWNED = 2_500, 7_500
TEAM = "T0BENCH"
NAME = "Launch week"


class CountingLookups:
    """Counts the client's v2 Post lookups (the simulator logs engagement requests only)."""

    def __init__(self, client: Any) -> None:
        self.calls = 0
        original = client.lookup_posts

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        client.lookup_posts = counted


def setup(sim: SimulatorProcess, store: Store) -> list[str]:
    admin(
        sim,
        "PUT",
        "rate-limits",
        {"default": dict.fromkeys(("totals", "28hr", "historical"), 100_000)},
    )
    ages = [1 + (i * 7.7) % 160 for i in range(max(OWNED, UNOWNED))]
    ids: list[str] = []
    for author, count in (("sim_brand", OWNED), ("sim_creator", UNOWNED)):
        for start in range(0, count, 1_000):
            chunk = ages[start : min(start + 1_000, count)]
            ids += [p["id"] for p in add_posts(sim, author, chunk)]
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=None, now=START
    )
    made = store.campaigns.create(
        TEAM, NAME, hashtag=None, from_handle=None, channel_id="C1", by="U1", now=START
    )
    assert made is not None
    store.campaigns.add_posts(made.id, ids, source="post", now=START)
    return ids


def engagement_calls(sim: SimulatorProcess) -> int:
    return len(admin(sim, "GET", "requests")["requests"])


def main() -> int:
    with tempfile.TemporaryDirectory() as folder, SimulatorProcess() as sim:
        store = Store.open(Path(folder) / "bench.db", cipher=TokenCipher.generate())
        ids = setup(sim, store)
        now = datetime.fromisoformat(admin(sim, "GET", "clock")["now"].replace("Z", "+00:00"))
        now = now.astimezone(UTC)
        with client_for(sim) as client:
            lookups = CountingLookups(client)
            deps = Deps(build_service(client, store), store, Settings())
            before = engagement_calls(sim)
            tracemalloc.start()
            started, cpu = time.perf_counter(), time.process_time()
            report = campaigns.report(
                deps, TEAM, NAME, period=None, metrics=DEFAULT_TOTALS, now=now
            )
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            made = engagement_calls(sim) - before
        days = (report.period.end - report.period.start).days + 1
        windows = math.ceil(days / 28)
        bound_lookups = math.ceil(len(ids) / 100)
        bound_totals = math.ceil(OWNED / 250) + math.ceil(UNOWNED / 250)
        bound_series = math.ceil(OWNED / 25) * windows
        bound = bound_lookups + bound_totals + bound_series
        calls = lookups.calls + made
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        numbers = report.numbers
        print(
            f"campaign of {numbers.posts:,} Posts ({numbers.owned:,} owned), daily series over "
            f"{days} days: {calls} calls ({lookups.calls} v2 lookups + {made} engagement), lower "
            f"bound {bound} ({bound_lookups} + {bound_totals} /totals + {bound_series} series), "
            f"ratio {calls / bound:.2f}"
        )
        print(
            f"report wall time {wall:.1f} s, of which this process's CPU {cpu:.1f} s (the rest: "
            f"waiting for the simulator's answers); peak Python allocations {peak / 1e6:.1f} MB; "
            f"peak RSS {rss_mb:.0f} MB; likes {numbers.totals['favorites']:,} over "
            f"{numbers.counted['favorites']:,} Posts"
        )
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
