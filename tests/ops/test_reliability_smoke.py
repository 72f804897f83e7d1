"""The reliability suite's harness (reliability/, `make reliability`) still drives the bot: a
simulator process, `engagement-bot run` against the loopback fake Slack, a signed command
answered once, SIGKILL and a restart on the same database. A few seconds; the suite itself
(minutes) is run on purpose, not by `make test`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reliability import store_check
from reliability.procs import sim_start_time
from reliability.scenarios import Context
from reliability.slack import send, tally, wait_answered


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    context = Context(folder=tmp_path, start=sim_start_time())
    yield context
    for close in reversed(context.closers):
        close()


def test_a_command_is_answered_once_across_a_kill_and_restart(ctx: Context) -> None:
    sim, fake = ctx.shared_sim(), ctx.fake()
    bot = ctx.bot("smoke", sim, fake)
    ack = send(bot.url, fake, "one", f"totals {ctx.owned[0]} {ctx.unowned[0]}")
    assert ack.status == 200
    assert tally(wait_answered(fake, ["one"], timeout=20)) == (0, 1, 0)
    assert bot.kill9() == -9
    db = Path(bot.env["ENGAGEMENT_DB"])
    assert store_check.integrity(db) == "ok"
    rows = store_check.snapshot(db)
    assert rows["totals"]
    again = ctx.restart(bot, "smoke-again")
    send(again.url, fake, "two", "help")
    assert tally(wait_answered(fake, ["two"], timeout=20)) == (0, 1, 0)
    again.stop()
    assert store_check.differences(rows, store_check.snapshot(db)) == []
