"""Slack's interactive payloads as it sends them, for the App Home, button and modal tests:
app_home_opened, block_actions on a message or in the Home tab, view_submission."""

from __future__ import annotations

from typing import Any

from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.slack_requests import interact, send_event

CHANNEL = "C0GENERAL"
ADMIN, MEMBER = "U0ADMIN", "U0BOB"


def open_home(app: Any, fake: FakeSlack, user: str = ADMIN) -> dict[str, Any]:
    """The user opens the Home tab; the view the bot published for them."""
    before = len(fake.views())
    response = send_event(app, {"type": "app_home_opened", "user": user, "tab": "home"})
    assert response.status == 200
    published = fake.views()[before:]
    assert len(published) == 1, published
    assert published[0]["_user_id"] == user
    return published[0]


def user_and_team(user: str) -> dict[str, Any]:
    return {
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "team": {"id": TEAM_ID, "domain": "fake"},
        "api_app_id": "A0ENGAGE",
        "token": "deprecated-verification-token",
        "trigger_id": "1337.42.abcdef",
    }


def press_on_message(
    app: Any,
    fake: FakeSlack,
    action: dict[str, Any],
    *,
    user: str = ADMIN,
    channel: str = CHANNEL,
    ts: str = "1790000000.000100",
    **sign: Any,
) -> Any:
    payload = {
        "type": "block_actions",
        **user_and_team(user),
        "container": {"type": "message", "message_ts": ts, "channel_id": channel},
        "channel": {"id": channel, "name": "general"},
        "message": {"type": "message", "ts": ts, "text": "alert"},
        "response_url": fake.response_url("action"),
        "actions": [{**action, "block_id": "alert_actions", "action_ts": "1790000001.0"}],
    }
    return interact(app, payload, **sign)


def press_in_home(app: Any, action: dict[str, Any], *, user: str = ADMIN) -> Any:
    payload = {
        "type": "block_actions",
        **user_and_team(user),
        "container": {"type": "view", "view_id": "V0HOME"},
        "view": {"id": "V0HOME", "type": "home", "team_id": TEAM_ID},
        "actions": [{**action, "block_id": "b", "action_ts": "1790000001.0"}],
    }
    return interact(app, payload)


def submit_view(
    app: Any, view: dict[str, Any], values: dict[str, Any], *, user: str = ADMIN
) -> Any:
    """Submit `view` (as views.open got it) with `values`: block id → the element's state."""
    payload = {
        "type": "view_submission",
        **user_and_team(user),
        "view": {
            "id": "V0MODAL",
            "team_id": TEAM_ID,
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view.get("private_metadata", ""),
            "blocks": view["blocks"],
            "state": {"values": {block: {"value": state} for block, state in values.items()}},
        },
    }
    return interact(app, payload)


def picked(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


def time_of(value: str | None) -> dict[str, Any]:
    return {"type": "timepicker", "selected_time": value}


def typed(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}
