"""`/engagement top` over a channel's tracked Posts costs a fixed handful of SQL statements,
whatever their number, and goes to X only for the Posts whose stored numbers are stale."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.app import build_service
from bot.channels.deps import Deps
from bot.config import Settings
from bot.engagement import snowflake
from bot.engagement.models import UserAuth
from bot.slack.commands import Invocation, run
from bot.store import PostRecord, SeriesRow, Store, TotalsRow
from bot.store.cipher import TokenCipher
from tests.support.memory_x import MemoryX
from tests.support.memory_x import admin as memory_admin
from tests.support.universe import SIM_START

NOW = SIM_START
BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
OWNER = "1000000001"
WINNER_VALUE = 987_654


def post_id(n: int) -> str:
    """Posts created 30 days before NOW (IDs the simulator doesn't know: X can't answer)."""
    return str(snowflake.make_id(snowflake.epoch_ms(NOW - timedelta(days=30)), sequence=n))


class Tracer:
    """The store's tracer: counts the statements run while `on`."""

    def __init__(self) -> None:
        self.on = False
        self.statements: list[str] = []

    def __call__(self, sql: str, params: object) -> None:
        if self.on:
            self.statements.append(sql)


def tracked_store(path: Path, n: int, tracer: Tracer) -> tuple[Store, str]:
    """`n` tracked Posts, every second one owned, all fresh; returns the store and the ID of
    the Post that must top the board."""
    store = Store.open(path, cipher=TokenCipher.generate(), tracer=tracer)
    store.accounts.save(user_id=OWNER, screen_name="sim_brand", auth=BRAND, workspace="T1", now=NOW)
    ids = [post_id(i) for i in range(n)]
    owned, others = ids[0::2], ids[1::2]
    store.posts.save(PostRecord(p, OWNER, None) for p in owned)
    store.posts.save(PostRecord(p, "777", None) for p in others)
    yesterday = NOW.date() - timedelta(days=1)
    winner = owned[len(owned) // 2]
    store.series.save_daily(
        [
            SeriesRow(p, "favorites", yesterday, WINNER_VALUE if p == winner else i)
            for i, p in enumerate(owned)
        ],
        fetched_at=NOW,
    )
    for ago, scale in ((timedelta(days=10), 0), (timedelta(minutes=1), 1)):
        store.series.save_totals(
            [TotalsRow(p, "favorites", i * scale) for i, p in enumerate(others)],
            taken_at=NOW - ago,
        )
    store.channels.track("T1", "C1", kind="post", refs=ids, by="U1", now=NOW)
    return store, winner


def top_statements(memory_client: MemoryX, path: Path, n: int) -> tuple[int, str, str]:
    tracer = Tracer()
    store, winner = tracked_store(path, n, tracer)
    ticks = iter(range(10**6))
    service = build_service(
        memory_client, store, sleep=lambda s: None, monotonic=lambda: float(next(ticks))
    )
    tracer.on = True
    reply = run(
        Invocation("T1", "C1", "U1", "top likes 3 7d"),
        deps=Deps(service, store, Settings()),
        now=NOW,
    )
    store.close()
    return len(tracer.statements), winner, reply.text + str(reply.blocks)


def test_top_runs_as_many_statements_over_1000_posts_as_over_10(memory_client, sim, tmp_path):
    few, few_winner, few_reply = top_statements(memory_client, tmp_path / "few.db", 10)
    many, many_winner, many_reply = top_statements(memory_client, tmp_path / "many.db", 1000)
    assert few_winner in few_reply
    assert many_winner in many_reply
    assert f"{WINNER_VALUE:,}" in many_reply
    assert many == few <= 9, (few, many)
    assert memory_admin(sim.state, "GET", "requests")["requests"] == []  # all fresh: no call
