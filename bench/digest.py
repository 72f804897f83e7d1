"""A daily digest for a channel with 2,000 owned Posts, built and posted end to end.

    .venv/bin/python bench/digest.py [--no-prefetch] [--limit N] [--profile]

The simulator runs in its own process (bench/service.py's SimulatorProcess) with 100 ms of
latency on every request; 2,000 Posts by sim_brand are added in one bulk call. A throwaway
SQLite store has sim_brand connected and the channel tracking the 2,000 Posts (their authors
known, as the timeline or a tally would have left them); the Slack side is the loopback fake
of tests/support/fake_slack.py. First the scheduler's prefetch runs as it does PREFETCH_LEAD
before the digest (80 /historical calls; at X's default 60 per minute they wait for a second
window), then `run_digest` is timed (one HOUR query over 28 days answered from the settled hours
in the store, render, post, chart upload) with the deployment's service (build_service defaults).
Aim: the digest under 5 s. Prints both wall times and the API calls each made; `--no-prefetch`
times a digest that fetches its own numbers; `--limit N` sets the simulator's per-minute limit
of every engagement endpoint to N; `--profile` adds the top of a cProfile listing.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.service import BRAND, SimulatorProcess, add_posts, admin, client_for  # noqa: E402
from bot.app import build_service  # noqa: E402
from bot.channels.deps import Deps  # noqa: E402
from bot.channels.digest import DigestOutcome, prefetch, run_digest  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.jobs.schedule import PREFETCH_LEAD  # noqa: E402
from bot.slack.outbox import slack_post  # noqa: E402
from bot.slack.web import build_web_client, channel_membership  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.channels import ChannelSettings  # noqa: E402
from bot.store.cipher import TokenCipher  # noqa: E402
from bot.store.rows import PostRecord  # noqa: E402
from tests.support.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack  # noqa: E402 - as in the tests

POSTS = 2_000
CHANNEL = "C0BENCH"
LATENCY_MS = 100
AIM_S = 5.0


def setup(sim: SimulatorProcess, store: Store) -> datetime:
    """2,000 Posts aged 1 hour to ~60 days, the account, the channel; the simulator's now."""
    ages = [1 + (i * 7.3) % (60 * 24) for i in range(POSTS)]
    posts = add_posts(sim, "sim_brand", ages)
    now = datetime.fromisoformat(admin(sim, "GET", "clock")["now"].replace("Z", "+00:00"))
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=None, now=now
    )
    store.posts.save(PostRecord(p["id"], p["author"], None) for p in posts)
    store.channels.save_settings(
        ChannelSettings(TEAM_ID, CHANNEL, digest_enabled=True, timezone="UTC"), now=now
    )
    ids = [p["id"] for p in posts]
    store.channels.track(TEAM_ID, CHANNEL, kind="post", refs=ids, by="U1", now=now)
    return now


def option(name: str) -> str | None:
    args = sys.argv[1:]
    return args[args.index(name) + 1] if name in args[:-1] else None


def timed_digest(sim: SimulatorProcess, store: Store, fake: FakeSlack, now: datetime) -> None:
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=fake.api_url, timezone="UTC")
    web = build_web_client(settings, token=BOT_TOKEN)
    with client_for(sim) as client:
        deps = Deps(build_service(client, store), store, settings, can_post=channel_membership(web))
        admin(sim, "PUT", "faults", {"latency_ms": LATENCY_MS})
        if (limit := option("--limit")) is not None:
            endpoints = ("totals", "28hr", "historical")
            admin(sim, "PUT", "rate-limits", {"default": dict.fromkeys(endpoints, int(limit))})
        channel = store.channels.settings(TEAM_ID, CHANNEL)
        if "--no-prefetch" not in sys.argv:
            timed_prefetch(sim, channel, deps, now, "the digest")
        before = calls_so_far(sim)
        profile = cProfile.Profile() if "--profile" in sys.argv else None
        started = time.monotonic()
        if profile is not None:
            profile.enable()
        outcome = run_digest(channel, local_date=None, now=now, deps=deps, post=slack_post(web))
        if profile is not None:
            profile.disable()
        elapsed = time.monotonic() - started
        calls = calls_so_far(sim) - before
        report(outcome, elapsed, calls, fake)
        if profile is not None:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(25)
            print(out.getvalue())
        if "--no-prefetch" not in sys.argv:
            # A day later only the newest day is missing: the rest of the 28 days is settled.
            admin(sim, "POST", "clock", {"advance_seconds": 86_400})
            timed_prefetch(sim, channel, deps, now + timedelta(days=1), "the next day's digest")


def timed_prefetch(
    sim: SimulatorProcess, channel: ChannelSettings, deps: Deps, due: datetime, what: str
) -> None:
    """What the scheduler's `prefetch:` job does PREFETCH_LEAD before a digest due at `due`."""
    before = calls_so_far(sim)
    started = time.monotonic()
    asked = prefetch(channel, now=due - PREFETCH_LEAD, deps=deps)
    took = time.monotonic() - started
    calls = admin(sim, "GET", "requests")["requests"][before:]
    endpoints = Counter(f"/{c['endpoint']}" for c in calls)
    mix = ", ".join(f"{n} {endpoint}" for endpoint, n in endpoints.items())
    print(
        f"prefetch, {PREFETCH_LEAD.seconds // 60} min before {what}: {asked:,} Posts in "
        f"{took:.1f} s, {len(calls)} X API calls ({mix})"
    )


def calls_so_far(sim: SimulatorProcess) -> int:
    return len(admin(sim, "GET", "requests")["requests"])


def report(outcome: DigestOutcome, elapsed: float, calls: int, fake: FakeSlack) -> None:
    slack = [c.method for c in fake.api_calls()]
    verdict = "under" if elapsed < AIM_S else "OVER"
    print(f"digest of {POSTS:,} owned Posts at {LATENCY_MS} ms latency: {outcome.describe()}")
    print(
        f"  {elapsed:.2f} s end to end ({verdict} the {AIM_S:.0f} s aim); {calls} X API calls; "
        f"{len(slack)} Slack calls ({', '.join(sorted(set(slack)))})"
    )


def main() -> int:
    with (
        tempfile.TemporaryDirectory() as tmp,
        SimulatorProcess() as sim,
        FakeSlack() as fake,
        Store.open(Path(tmp) / "digest.db", cipher=TokenCipher.generate()) as store,
    ):
        now = setup(sim, store)
        timed_digest(sim, store, fake, now)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
