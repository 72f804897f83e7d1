"""Slash-command requests as Slack sends them: a form body signed with the signing secret (v0),
dispatched through `app.dispatch(BoltRequest(...))` as Bolt's own scenario tests do, or POSTed to
a running server.

The signature is computed here from Slack's definition, not with slack_sdk, so the two check
each other (test_slack_app compares them once).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App, BoltRequest, BoltResponse

SIGNING_SECRET = "fake-signing-secret-0123456789abcdef"
FORM = "application/x-www-form-urlencoded"


def command_body(
    text: str,
    *,
    response_url: str,
    command: str = "/engagement",
    team_id: str = "T0FAKE",
    channel_id: str = "C0GENERAL",
    user_id: str = "U0ALICE",
) -> str:
    """The form body of a slash command, with the fields Slack sends."""
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "team_domain": "fake",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": "alice",
            "command": command,
            "text": text,
            "api_app_id": "A0ENGAGE",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
    )


def signature(body: str, *, secret: str, timestamp: int) -> str:
    """`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` (api.slack.com verifying requests)."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "content-type": FORM,
        "x-slack-request-timestamp": str(ts),
        "x-slack-signature": signature(body, secret=secret, timestamp=ts),
    }


def dispatch(
    app: App,
    body: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    headers: dict[str, Any] | None = None,
) -> BoltResponse:
    """Sign `body` (unless `headers` are given) and run it through the app as Slack would."""
    sent = (
        headers if headers is not None else signed_headers(body, secret=secret, timestamp=timestamp)
    )
    return app.dispatch(BoltRequest(body=body, headers=sent))


def slash(
    app: App,
    text: str,
    *,
    response_url: str,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    **fields: str,
) -> BoltResponse:
    """`/engagement <text>` typed in a channel, signed and dispatched."""
    body = command_body(text, response_url=response_url, **fields)
    return dispatch(app, body, secret=secret, timestamp=timestamp)


def interaction_body(payload: dict[str, Any]) -> str:
    """An interactivity request (block_actions, view_submission) as Slack sends it: a form
    with one field, `payload`, holding the JSON."""
    import json

    return urlencode({"payload": json.dumps(payload)})


def interact(app: App, payload: dict[str, Any], **sign: Any) -> BoltResponse:
    """A signed interactivity request dispatched through the app."""
    return dispatch(app, interaction_body(payload), **sign)


def event_body(event: dict[str, Any], *, team_id: str = "T0FAKE") -> str:
    """An Events API delivery (event_callback) as Slack POSTs it, JSON."""
    import json

    return json.dumps(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "api_app_id": "A0ENGAGE",
            "event": event,
            "type": "event_callback",
            "event_id": "Ev0" + str(abs(hash(json.dumps(event, sort_keys=True))))[:10],
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team_id, "user_id": "U0BOT", "is_bot": True}],
        }
    )


def send_event(app: App, event: dict[str, Any], *, team_id: str = "T0FAKE") -> BoltResponse:
    body = event_body(event, team_id=team_id)
    headers = signed_headers(body) | {"content-type": "application/json"}
    return dispatch(app, body, headers=headers)
