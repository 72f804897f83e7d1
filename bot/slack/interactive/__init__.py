"""Slack's interactive surfaces: the App Home (app_home_opened → views.publish), the buttons
on the bot's messages and views (block_actions), and the settings modals (views.open,
view_submission). Bolt listeners, so they answer HTTP and Socket Mode deliveries alike.

Every listener acks first; work that can be slow (X, Slack calls) runs afterwards on `pool`
(with Bolt's `process_before_response`, used by the tests, inline before the ack leaves). A
change goes through the command it stands for (bot.slack.commands.perform / handle) with the
same permission rule (bot.slack.commands.refusal).
"""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TYPE_CHECKING

from slack_bolt import App

from bot.channels.outbox import Clock
from bot.slack.interactive import actions, boards, digests, home, modals
from bot.slack.interactive.context import Interactive

if TYPE_CHECKING:
    from bot.channels.deps import Deps

ACTION_THREADS = 4


def register_interactive(
    app: App,
    deps: Deps,
    *,
    clock: Clock,
    pool: Executor | None = None,
    x_pool: Executor | None = None,
) -> None:
    """Wire the App Home, the buttons and the modals. `pool` runs the work after an ack;
    `x_pool` (default `pool`) the work that asks X (Show hourly)."""
    if app.process_before_response:
        pool = x_pool = None
    elif pool is None:
        pool = ThreadPoolExecutor(max_workers=ACTION_THREADS, thread_name_prefix="action")
    on = Interactive(deps=deps, clock=clock, pool=pool, x_pool=x_pool or pool)
    home.register(app, on)
    actions.register(app, on)
    boards.register(app, on)
    digests.register(app, on)
    modals.register(app, on)
