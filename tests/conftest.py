"""Shared fixtures: a simulator on a loopback port, and raw signed HTTP calls to it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.simulator.server import RunningSimulator, start_simulator

# Every test universe starts here, so simulated numbers depend only on the seed.
SIM_START = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def _shared_simulator() -> Iterator[RunningSimulator]:
    with start_simulator(mode="test", start_time=SIM_START) as sim:
        yield sim


@pytest.fixture
def sim(_shared_simulator: RunningSimulator) -> RunningSimulator:
    """A running test-mode simulator (frozen clock at SIM_START), reset before each test."""
    _shared_simulator.state.reset()
    return _shared_simulator
