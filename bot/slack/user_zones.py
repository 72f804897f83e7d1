"""Each reader's Slack time zone: `Deps.reader_zone` for `run`.

An ephemeral reply is read by one person, so its hours are shown in that person's zone: Slack's
users.info `user.tz` (an IANA name), remembered per (team, user) for ZONE_SECONDS (people
travel; the answer is cheap to ask again) and, when Slack fails or names no known zone, for
MISS_SECONDS before asking again (a failing Slack is not asked on every reply). No zone: the
reply falls back to the channel's digest zone, and says so.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)

ZONE_SECONDS = 6 * 3600.0
MISS_SECONDS = 300.0
MAX_REMEMBERED = 10_000  # readers; the oldest answers are dropped past it


class UserZones:
    """`Deps.reader_zone(team_id, user_id)` → the user's IANA zone name, or None."""

    def __init__(
        self, client_for: Callable[[str], WebClient | None], *, monotonic: Callable[[], float]
    ) -> None:
        self._client_for = client_for
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._known: dict[tuple[str, str], tuple[float, str | None]] = {}

    def __call__(self, team_id: str, user_id: str) -> str | None:
        key = (team_id, user_id)
        now = self._monotonic()
        with self._lock:
            cached = self._known.get(key)
        if cached is not None:
            asked_at, zone = cached
            if now - asked_at < (ZONE_SECONDS if zone else MISS_SECONDS):
                return zone
        zone = self._ask(team_id, user_id)
        with self._lock:
            if len(self._known) >= MAX_REMEMBERED:
                self._known.pop(next(iter(self._known)))
            self._known[key] = (now, zone)
        return zone

    def _ask(self, team_id: str, user_id: str) -> str | None:
        client = self._client_for(team_id)
        if client is None:
            return None
        try:
            reply = client.users_info(user=user_id)
        except SlackApiError as error:
            log.info("users.info %s: %s; no time zone", user_id, error.response.get("error"))
            return None
        except (SlackClientError, OSError) as error:
            log.info("users.info %s failed: %s; no time zone", user_id, type(error).__name__)
            return None
        user = reply.get("user")
        name = user.get("tz") if isinstance(user, dict) else None
        return name if isinstance(name, str) and known_zone(name) else None


def known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
