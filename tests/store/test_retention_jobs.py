"""Retention applied by the daily tally, and the digest it must not change: the simulator (in
process for the tally, over HTTP for the digest), SQLite files, only clocks injected."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import requests

from bot.app import build_service
from bot.channels.deps import Deps
from bot.channels.digest import gather, zone_of
from bot.channels.tally import run_tally
from bot.config import RetentionSettings, Settings
from bot.engagement import snowflake
from bot.engagement.models import UserAuth
from bot.render.digest import digest_message
from bot.simulator.server import RunningSimulator
from bot.store import SeriesRow, Store, TotalsRow
from tests.support.clocks import FakeClock
from tests.support.digest_bot import CHANNEL, DAY, NOW, DigestBot
from tests.support.fake_slack import TEAM_ID
from tests.support.memory_x import MemoryX

BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
ELSEWHERE = str(snowflake.make_id(snowflake.epoch_ms(NOW - timedelta(days=400))))


def old_rows(store: Store, post_id: str) -> None:
    """Readings a prune thins, hours it rolls up, a Post it forgets, calls it sums."""
    with store.transaction():
        for hours in range(24 * 7, 24 * 40, 2):
            at = NOW - timedelta(hours=hours)
            store.series.save_totals([TotalsRow(post_id, "favorites", 10_000 - hours)], taken_at=at)
        hour0 = NOW.replace(minute=0) - timedelta(days=120)
        store.series.save_hourly(
            [SeriesRow(post_id, "favorites", hour0 + n * timedelta(hours=1), 1) for n in range(72)]
        )
        store.series.save_totals(
            [TotalsRow(ELSEWHERE, "favorites", 3)], taken_at=NOW - timedelta(days=300)
        )
        for months in range(15, 18):
            store.usage.log_call(
                at=NOW - timedelta(days=31 * months),
                endpoint="totals",
                owner_id="1000000001",
                post_count=5,
                status=200,
            )


def requests_seen(sim: RunningSimulator) -> int:
    reply = requests.get(f"{sim.url}/_sim/requests", timeout=30)
    reply.raise_for_status()
    return len(reply.json()["requests"])


def test_the_daily_tally_prunes_by_the_settings(memory_client: MemoryX, store: Store) -> None:
    clock = FakeClock()
    service = build_service(memory_client, store, sleep=clock.sleep, monotonic=clock.monotonic)
    keep = RetentionSettings(snapshot_days=14)
    deps = Deps(service, store, Settings(retention=keep))
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=None, now=NOW
    )
    hot = str(snowflake.make_id(snowflake.epoch_ms(NOW - timedelta(days=50))))
    old_rows(store, hot)
    first_thinned = (NOW - timedelta(days=14)).strftime("%Y-%m-%dT%H")

    outcome = run_tally(now=NOW, deps=deps)

    assert outcome.pruned is not None
    assert outcome.pruned.posts == 1  # ELSEWHERE: nobody's, unread for 300 days
    assert outcome.posts > 0  # and the tally itself was done
    assert "prune removed" in outcome.describe()
    per_day = store.database.execute(
        """SELECT substr(taken_at, 1, 10), COUNT(*) FROM totals
        WHERE post_id = ? AND taken_at < ? GROUP BY 1""",
        (hot, first_thinned),
    ).fetchall()
    assert {n for _, n in per_day} == {1}  # one a day beyond 14 days, as set
    recent = store.database.execute(
        "SELECT COUNT(*) FROM totals WHERE post_id = ? AND taken_at >= ?", (hot, first_thinned)
    ).fetchone()[0]
    assert recent > 6 * 12  # twelve a day kept within them
    assert store.usage.month((NOW - timedelta(days=31 * 16)).strftime("%Y-%m")).total_calls == 1


def render(bot: DigestBot) -> Any:
    channel = bot.store.channels.settings(TEAM_ID, CHANNEL)
    data = gather(channel, DAY, zone_of(channel, bot.deps), now=NOW, deps=bot.deps)
    return digest_message(data).blocks


def test_a_digest_reads_the_same_after_a_prune(
    digest_bot: DigestBot, sim: RunningSimulator
) -> None:
    before = render(digest_bot)  # fetched from X, stored
    again = render(digest_bot)  # from the store
    asked = requests_seen(sim)
    owned = digest_bot.store.posts.by_authors(["1000000001"], created_before=NOW)
    old_rows(digest_bot.store, owned[0])

    counts = digest_bot.store.housekeeping.prune(now=NOW, policy=RetentionSettings())

    assert counts.removed > 0
    assert render(digest_bot) == before == again
    assert requests_seen(sim) == asked  # still answered from the store: nothing it needs went
