"""bot.slack.replays: which signed requests were already accepted, with an injected clock."""

from __future__ import annotations

from bot.slack.replays import WINDOW_S, SeenSignatures
from tests.support.clocks import FakeClock


def test_a_signature_is_new_once_then_a_replay_until_its_window_ends() -> None:
    clock = FakeClock()
    clock.t = 1_800_000_000.0
    seen = SeenSignatures(now=clock.monotonic)
    stamp = str(int(clock.t))
    assert seen.first_time("v0=aa", stamp)
    assert not seen.first_time("v0=aa", stamp)
    assert seen.first_time("v0=bb", stamp)  # another request in the same second
    clock.sleep(WINDOW_S + 1)  # Slack's check now refuses that timestamp: no need to remember
    assert len(seen) == 0


def test_memory_is_bounded_by_forgetting_the_oldest() -> None:
    clock = FakeClock()
    clock.t = 1_800_000_000.0
    seen = SeenSignatures(now=clock.monotonic, limit=3)
    stamp = str(int(clock.t))
    for n in range(5):
        assert seen.first_time(f"v0={n}", stamp)
    assert len(seen) == 3
    assert not seen.first_time("v0=4", stamp)
    assert seen.first_time("v0=0", stamp)  # evicted: the bound wins over the window
