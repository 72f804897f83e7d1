"""One `/engagement` invocation as the handlers see it (Slack's form fields, typed)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Invocation:
    team_id: str
    channel_id: str
    user_id: str
    text: str
    response_url: str | None = None
