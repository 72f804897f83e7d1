"""Who may change a channel's settings: `Deps.may_change` for `run`.

Connecting and disconnecting X accounts, turning digests on or off, adding or removing alerts,
snoozing and quiet hours change what a workspace or channel gets: only workspace admins and
owners (Slack's users.info `is_admin`, `is_owner`, `is_primary_owner`) and the users listed in
ENGAGEMENT_ADMINS may do them. Everything else, reads and tracking included, is open to all.
A users.info answer is remembered for CACHE_SECONDS; a Slack error means no (fail closed),
except a passing one (rate limited past bot.slack.retries' cap, 5xx, no connection): that is
SlackUnavailable, so the person hears "Slack is busy, try again" rather than a false refusal.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import Settings
from bot.errors import SlackUnavailable
from bot.slack.outbox import classify

log = logging.getLogger(__name__)

CACHE_SECONDS = 600.0
# Slack's error codes for a failure on its side that a later try may not meet.
PASSING = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def workspace_admins(
    client: WebClient, settings: Settings, *, monotonic: Callable[[], float]
) -> Callable[[str, str], bool]:
    """`Deps.may_change(team_id, user_id)`: listed in `settings.admins`, or a workspace admin or
    owner per users.info (cached for CACHE_SECONDS of `monotonic`)."""
    lock = threading.Lock()
    cache: dict[tuple[str, str], tuple[float, bool]] = {}

    def may_change(team_id: str, user_id: str) -> bool:
        if user_id in settings.admins:
            return True
        key = (team_id, user_id)
        now = monotonic()
        with lock:
            cached = cache.get(key)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            reply = client.users_info(user=user_id)
        except SlackApiError as error:
            if passing(error):
                log.warning("users.info %s: %s", user_id, error.response.get("error"))
                raise SlackUnavailable(
                    "users.info", retry_after=classify(error).retry_after
                ) from None
            log.warning(
                "users.info %s: %s; refusing the change", user_id, error.response.get("error")
            )
            return False  # not cached: the next try asks again
        except (SlackClientError, OSError) as error:
            log.warning("users.info %s: %s", user_id, type(error).__name__)
            raise SlackUnavailable("users.info") from None
        user = reply.get("user") or {}
        allowed = any(bool(user.get(flag)) for flag in ("is_admin", "is_owner", "is_primary_owner"))
        with lock:
            cache[key] = (now, allowed)
        return allowed

    return may_change


def passing(error: SlackApiError) -> bool:
    """A Slack refusal that asking again later may fix: a 429 or a 5xx."""
    status = error.response.status_code
    return bool(status == 429 or status >= 500 or error.response.get("error") in PASSING)
