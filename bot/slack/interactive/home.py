"""The App Home: published on app_home_opened for the person who opened it, and again after
they change something from it (or page through its channels)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.channels.home import home_data
from bot.render.home import home_view
from bot.slack.interactive.context import Interactive

log = logging.getLogger(__name__)

# The Homes whose redraw is queued and has not read the store yet, by (team, user).
_queued: set[tuple[str, str]] = set()
_queued_lock = threading.Lock()


def publish(client: WebClient, on: Interactive, team_id: str, user_id: str, page: int = 0) -> None:
    """views.publish the Home of `user_id` in `team_id`, from the store as it is now."""
    may_change = on.may_change(team_id, user_id)
    data = home_data(on.deps, team_id, may_change=may_change is not False, now=on.clock())
    client.views_publish(user_id=user_id, view=home_view(data, page=page))


def redraw_later(client: WebClient, on: Interactive, team_id: str, user_id: str) -> None:
    """Publish the person's Home after the work queued before it. A queued redraw reads the
    store when it runs, so it shows every change saved before then: a burst of submissions
    draws the Home once instead of once per submission, leaving the CPU to the acks."""
    key = (team_id, user_id)
    with _queued_lock:
        if key in _queued:
            return
        _queued.add(key)

    def draw() -> None:
        with _queued_lock:
            _queued.discard(key)  # before reading: a change saved from now on queues another
        publish(client, on, team_id, user_id)

    on.later(draw)


def register(app: App, on: Interactive) -> None:
    def opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab: nothing to draw
        team = str(body.get("team_id") or "")
        user = str(event.get("user") or "")
        if team and user:
            on.later(lambda: publish(client, on, team, user))

    app.event("app_home_opened")(opened)
