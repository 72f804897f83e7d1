"""The project's exception tree.

    BotError
    ├── ConfigError            Settings.from_env; lists every problem at once
    ├── UserFacingError        shown to the person who typed the command
    │   └── UsageError         the text didn't parse; says what was expected
    └── EngagementAPIError     raised by any EngagementClient (bot.engagement.client)
        ├── TransportError     connection reset, timeout, truncated or undecodable body
        ├── ServerError        5xx from X
        ├── RateLimited        429, carries the reset time
        ├── AuthError          401 with X's reason
        ├── BadRequest         400 with X's message
        │   └── ProtectedPosts 400 "Tweet ID(s) are unavailable": a protected Post in the batch
        ├── GzipRequired       406
        └── Forbidden          403
            ├── ForbiddenPosts   Posts not owned by the token's user, with their IDs
            └── ForbiddenMetrics metrics the auth mode may not read
"""

from __future__ import annotations

from collections.abc import Sequence


class BotError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(BotError):
    """Raised by Settings.from_env with every missing or malformed variable at once."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class UserFacingError(BotError):
    """A known reason a command stopped; its text is shown to the user as is."""


class UsageError(UserFacingError):
    """Raised by the parsers when text does not fit the grammar; says what was expected."""


class EngagementAPIError(BotError):
    """Raised by an EngagementClient when X (or the simulator) did not answer with data.

    `status` is the HTTP status (0 when there was no response) and `messages` the API's error
    strings, verbatim but for a trailing ';'.
    """

    retryable: bool = False

    def __init__(
        self, message: str, *, status: int = 0, messages: Sequence[str] = (), endpoint: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.messages = list(messages)
        self.endpoint = endpoint


class TransportError(EngagementAPIError):
    """No usable response: connection error, timeout, truncated body, bad gzip or bad JSON."""

    retryable = True


class ServerError(EngagementAPIError):
    """X answered 500, 502 or 503: retryable with backoff."""

    retryable = True


class RateLimited(EngagementAPIError):
    """X answered 429 (or an error mentioning the rate limit).

    `reset_at` is the epoch second the current window ends (x-per-minute-reset) when X said so;
    `retry_after` the seconds to wait, computed against X's Date header when present.
    """

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        reset_at: int | None,
        retry_after: float,
        status: int = 429,
        messages: Sequence[str] = (),
        endpoint: str = "",
    ) -> None:
        super().__init__(message, status=status, messages=messages, endpoint=endpoint)
        self.reset_at = reset_at
        self.retry_after = retry_after


class AuthError(EngagementAPIError):
    """X answered 401; `reason` is the text after 'Reason: ' (e.g. 'Access token not found')."""

    def __init__(self, message: str, *, reason: str, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.reason = reason

    @property
    def app_not_authorized(self) -> bool:
        """True when X has not enabled the app for the Engagement API (ask the account manager)."""
        return "application id is not authorized" in self.reason.lower()


class BadRequest(EngagementAPIError):
    """X answered 400: the request itself is wrong; retrying will not help."""


class ProtectedPosts(BadRequest):
    """X answered 400 'Tweet ID(s) are unavailable': at least one Post of the batch is protected."""


class GzipRequired(EngagementAPIError):
    """X answered 406: the request did not accept gzip."""


class Forbidden(EngagementAPIError):
    """X answered 403."""


class ForbiddenPosts(Forbidden):
    """403 'Forbidden to access tweets': `post_ids` are not owned by the token's user."""

    def __init__(self, message: str, *, post_ids: Sequence[str], **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.post_ids = list(post_ids)


class ForbiddenMetrics(Forbidden):
    """403 'Forbidden to access metrics': `metrics` need user context (or are not allowed)."""

    def __init__(self, message: str, *, metrics: Sequence[str], **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.metrics = list(metrics)
