"""What every interactive listener shares: the use cases' Deps, the clock, where work runs
after the ack, and who is acting where (read from Slack's payload)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from bot.channels.deps import Deps
from bot.channels.outbox import Clock
from bot.slack.commands.invocation import Invocation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Interactive:
    deps: Deps
    clock: Clock
    pool: Executor | None  # None: run inline (process_before_response)
    x_pool: Executor | None

    def later(self, work: Callable[[], None], *, asks_x: bool = False) -> None:
        """Run `work` after the ack: on a pool, or now when there is none. A failure is
        logged (the ack has gone; the person hears through the work's own replies)."""

        def guarded() -> None:
            try:
                work()
            except Exception:
                log.exception("interactive work failed")

        pool = self.x_pool if asks_x else self.pool
        if pool is None:
            guarded()
        else:
            pool.submit(guarded)

    def may_change(self, team_id: str, user_id: str) -> bool | None:
        """Whether settings buttons are shown; None when Slack could not say (shown then:
        pressing one checks again)."""
        if self.deps.may_change is None:
            return True
        try:
            return self.deps.may_change(team_id, user_id)
        except Exception:
            return None


def team_of(body: Mapping[str, Any]) -> str:
    team = body.get("team")
    if isinstance(team, Mapping) and team.get("id"):
        return str(team["id"])
    return str(body.get("team_id") or (body.get("view") or {}).get("team_id") or "")


def user_of(body: Mapping[str, Any]) -> str:
    user = body.get("user")
    if isinstance(user, Mapping):
        return str(user.get("id") or "")
    return str(body.get("user_id") or "")


def invocation(body: Mapping[str, Any], channel_id: str, text: str = "") -> Invocation:
    """The Invocation a press stands for: who, in which workspace and channel."""
    url = body.get("response_url")
    return Invocation(
        team_id=team_of(body),
        channel_id=channel_id,
        user_id=user_of(body),
        text=text,
        response_url=str(url) if url else None,
    )
