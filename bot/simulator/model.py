"""Placeholder until the engagement model lands (CONTRACT §13.4)."""

from __future__ import annotations

from bot.simulator.universe import Universe


class EngagementModel:
    def __init__(self, universe: Universe) -> None:
        self.universe = universe
