"""When Slack says the app is gone from a workspace (`app_uninstalled`, or `tokens_revoked` for
its bot token), the workspace's data is forgotten at once (bot/store/forgetting.py). A revoked
user token alone (someone who installed it left) only deletes that user's installation, as
Bolt's own listener would."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from bot.channels.deps import Deps
from bot.copy import maintenance

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    user_revocations = (
        app.default_tokens_revoked_event_listener() if app.installation_store else None
    )

    def forget(context: BoltContext) -> None:
        team = context.team_id
        if not team:
            return
        forgotten = deps.store.forgetting.workspace(team)
        log.info(maintenance.workspace_forgotten(team, forgotten.total, forgotten.rows))

    @app.event("app_uninstalled")
    def uninstalled(context: BoltContext) -> None:
        forget(context)

    @app.event("tokens_revoked")
    def revoked(event: dict[str, Any], context: BoltContext) -> None:
        if event.get("tokens", {}).get("bot"):
            forget(context)
        elif user_revocations is not None:
            user_revocations(event=event, context=context)
