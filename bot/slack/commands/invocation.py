"""One `/engagement` invocation as the handlers see it (Slack's form fields, typed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Invocation:
    team_id: str
    channel_id: str
    user_id: str
    text: str
    response_url: str | None = None


def invocation_from(command: Mapping[str, Any]) -> Invocation:
    """The Invocation in a slash command's form fields (Bolt's `command` payload)."""
    return Invocation(
        team_id=str(command.get("team_id") or ""),
        channel_id=str(command.get("channel_id") or ""),
        user_id=str(command.get("user_id") or ""),
        text=str(command.get("text") or ""),
        response_url=str(command.get("response_url") or "") or None,
    )
