"""The fake Slack of tests/support/fake_slack.py plus a multi-workspace "Add to Slack" install.

`OAuthFakeSlack` adds what an OAuth install needs (tests/slack/test_install.py):
- oauth.v2.access (HTTP Basic client_id:client_secret, as slack_sdk sends it): a code
  "code-<TEAM>" installs into team <TEAM> and gets the bot token `team_token(TEAM)`; a code
  "code-<TEAM>-user" also gets the installer's user token `user_token(TEAM)`. A code works
  once; anything else is invalid_code; wrong client credentials are invalid_client_id.
- every issued token is accepted as well as `token`, and auth.test / users.info answer with
  the token's own team; `revoke(team)` makes that team's tokens invalid_auth.
Calls record their headers as before, so `calls()` shows which token each call carried.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from tests.support.fake_slack import (
    TIER1_RETRY_AFTER,
    Call,
    FakeSlack,
    SlackHandler,
    parse_body,
)

OAUTH_CLIENT_ID = "1111.2222"
OAUTH_CLIENT_SECRET = "fake-client-secret-0123"
INSTALLER = "U0INSTALLER"


def team_token(team: str) -> str:
    return f"xoxb-fake-{team}-bot-token"  # "xoxb-fake" is one of conftest's SECRET_MARKERS


def user_token(team: str) -> str:
    return f"xoxp-fake-{team}-user-token"


def bearer_team(call: Call) -> str | None:
    """The team whose issued token a recorded call carried (None: the base token or none)."""
    auth = call.headers.get("authorization", "")
    for prefix, suffix in (
        ("Bearer xoxb-fake-", "-bot-token"),
        ("Bearer xoxp-fake-", "-user-token"),
    ):
        if auth.startswith(prefix) and auth.endswith(suffix):
            return auth[len(prefix) : -len(suffix)]
    return None


@dataclass
class OAuthFakeSlack(FakeSlack):
    client_id: str = OAUTH_CLIENT_ID
    client_secret: str = OAUTH_CLIENT_SECRET

    def __post_init__(self) -> None:
        super().__post_init__()
        self._issued: dict[str, tuple[str, str]] = {}  # token → (team, "bot" | "user")
        self._codes: set[str] = set()
        fake = self

        class Handler(_OAuthHandler):
            owner = fake

        self.server.RequestHandlerClass = Handler

    def revoke(self, team: str) -> None:
        with self._cond:
            for token in [t for t, (tm, _) in self._issued.items() if tm == team]:
                del self._issued[token]

    def issued_team(self, authorization: str) -> tuple[str, str] | None:
        with self._cond:
            return self._issued.get(authorization.removeprefix("Bearer "))

    def exchange(self, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}":
            return {"ok": False, "error": "invalid_client_id"}
        code = str(body.get("code", ""))
        team, _, kind = code.removeprefix("code-").partition("-")
        with self._cond:
            if not code.startswith("code-") or not team or code in self._codes:
                return {"ok": False, "error": "invalid_code"}
            self._codes.add(code)
            self._issued[team_token(team)] = (team, "bot")
            if kind == "user":
                self._issued[user_token(team)] = (team, "user")
        reply: dict[str, Any] = {
            "ok": True,
            "app_id": "A0ENGAGE",
            "authed_user": {"id": INSTALLER},
            "scope": "commands,chat:write",
            "token_type": "bot",
            "access_token": team_token(team),
            "bot_user_id": f"U0BOT{team}",
            "team": {"id": team, "name": f"Team {team}"},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if kind == "user":
            reply["authed_user"] = {
                "id": INSTALLER,
                "scope": "users:read",
                "access_token": user_token(team),
                "token_type": "user",
            }
        return reply

    def answer_for(self, team: str, kind: str, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            bot = kind == "bot"
            return {
                "ok": True,
                "url": f"https://{team.lower()}.slack.test/",
                "team": f"Team {team}",
                "user": "engagement-bot" if bot else "installer",
                "team_id": team,
                "user_id": f"U0BOT{team}" if bot else INSTALLER,
                **({"bot_id": f"B0BOT{team}"} if bot else {}),
            }
        reply = self.answer(method, body)
        if method == "users.info" and reply.get("ok"):
            reply["user"]["team_id"] = team
        return reply


class _OAuthHandler(SlackHandler):
    owner: OAuthFakeSlack

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        kind, _, name = self.path.lstrip("/").partition("/")
        fake = self.owner
        issued = fake.issued_team(self.headers.get("Authorization") or "")
        oauth = kind == "api" and name == "oauth.v2.access"
        if not oauth and (kind != "api" or issued is None):
            super().do_POST()
            return
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        body = parse_body(raw, headers.get("content-type", ""))
        failure = fake._take_failure(name)
        extra: dict[str, str] = {}
        if failure is not None:
            status, reply = failure.status, {"ok": False, "error": failure.error or "fatal_error"}
        elif oauth:
            status, reply = 200, fake.exchange(body, headers)
        elif fake._strict is not None and issued and not fake._strict.admit(name, issued[0]):
            status, reply = 429, {"ok": False, "error": "ratelimited"}
            extra["Retry-After"] = str(TIER1_RETRY_AFTER)
        else:
            assert issued is not None
            status, reply = 200, fake.answer_for(issued[0], issued[1], name, body)
        data = json.dumps(reply).encode()
        self._reply(kind, name, headers, body, raw, status, data, "application/json", extra)
