"""The project's exception tree.

    BotError
    ├── ConfigError            Settings.from_env; lists every problem at once
    ├── UserFacingError        shown to the person who typed the command
    │   └── UsageError         the text didn't parse; says what was expected
    ├── SlackUnavailable       Slack could not be asked (rate limit past the retry cap, outage)
    ├── SecretKeyError         the token key is malformed, exposed, missing or doesn't match
    ├── StoreError             the database refused (bot/store/failures.py classifies sqlite3's)
    │   ├── DatabaseCorrupt    not a SQLite file, or damaged
    │   ├── DatabaseReadOnly   the file, its directory or its mount may not be written
    │   ├── DatabaseLocked     another process held the write lock past the busy timeout
    │   ├── DatabaseFull       the disk (or the database's size limit) is full
    │   └── DatabaseUnavailable the file cannot be opened, or another I/O error
    └── EngagementAPIError     raised by any EngagementClient (bot.engagement.client)
        ├── TransportError     connection reset, timeout, truncated or undecodable body
        │   └── TimedOut       the answer's deadline passed before X answered (not retried)
        ├── UnexpectedResponse a status or a 200 body docs/simulator.md does not describe
        ├── ServerError        5xx from X
        ├── RateLimited        429 (or an error mentioning the rate limit), carries the reset time
        ├── AuthError          401 with X's reason (also the token endpoint refusing the app)
        ├── BadRequest         400 with X's message
        │   └── ProtectedPosts 400 "Tweet ID(s) are unavailable": a protected Post in the batch
        ├── NotFound           404/405: the URL is wrong (a base URL misconfigured)
        ├── GzipRequired       406
        └── Forbidden          403
            ├── ForbiddenPosts   Posts not owned by the token's user, with their IDs
            └── ForbiddenMetrics metrics the auth mode may not read

Every EngagementAPIError carries the rate-limit state of the response that caused it (None
when there was no response), so a caller can pace its next request even after a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict, Unpack

if TYPE_CHECKING:
    # Type-only: at run time this module imports nothing but the standard library.
    from bot.engagement.models import RateLimitInfo


# Exit statuses of every command, so scripts can tell them apart: done; failed; the command line
# was wrong; `query` answered but some numbers are missing for a reason that may pass.
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


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


class SlackUnavailable(BotError):
    """A Slack Web API call a command needs failed for a passing reason (429 with a wait past
    bot.slack.retries' cap, 5xx, timeout): the command stops and says so. `retry_after` is
    Slack's Retry-After in seconds when it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SecretKeyError(BotError):
    """Raised by bot.store.cipher and the store when the key that encrypts X tokens is
    malformed, sits in a key file others can read, or does not match the stored tokens. Never shows
    a key or a token."""


class StoreError(BotError):
    """The database refused a read or a write. The message is the operator's one-line reason
    (it names the file, never a value); `state` is the word a Slack reply uses for it."""

    state = "unavailable"
    # Locked and full pass: the same write is likely to succeed in a minute.
    transient = False


class DatabaseCorrupt(StoreError):
    state = "damaged"


class DatabaseReadOnly(StoreError):
    state = "read-only"


class DatabaseLocked(StoreError):
    state = "locked"
    transient = True


class DatabaseFull(StoreError):
    state = "full"
    transient = True


class DatabaseUnavailable(StoreError):
    pass


class DatabaseInUse(StoreError):
    """A running bot holds the database (`restore` refuses to pull it from under it)."""

    state = "in use"
    transient = True


class DatabaseTooNew(StoreError):
    """The database was upgraded by a newer release than this one: it is left untouched."""

    state = "from a newer release"


class ErrorDetails(TypedDict, total=False):
    """What every EngagementAPIError may carry besides its message."""

    status: int
    messages: Sequence[str]
    codes: Sequence[int]
    endpoint: str
    rate_limit: RateLimitInfo | None


class EngagementAPIError(BotError):
    """Raised by an EngagementClient when X (or the simulator) did not answer with data.

    `status` is the HTTP status (0 when there was no response), `messages` the API's error
    strings verbatim but for a trailing ';', `codes` the numeric codes of X's standard error
    objects (OAuth routes), `endpoint` what was called (e.g. "totals", "oauth2/token") and
    `rate_limit` the response's rate-limit headers.
    """

    retryable: bool = False

    def __init__(self, message: str, **details: Unpack[ErrorDetails]) -> None:
        super().__init__(message)
        self.status = details.get("status", 0)
        self.messages = list(details.get("messages", ()))
        self.codes = list(details.get("codes", ()))
        self.endpoint = details.get("endpoint", "")
        self.rate_limit = details.get("rate_limit")


class TransportError(EngagementAPIError):
    """No usable response: connection error, timeout, truncated body, bad gzip or bad JSON."""

    retryable = True


class TimedOut(TransportError):
    """The work's deadline (bot.engagement.deadline) passed while X was still answering, or before a
    retry or a rate-limit wait could end. Not retried: there is no time left to."""

    retryable = False


class UnexpectedResponse(EngagementAPIError):
    """A status docs/simulator.md#errors does not list (3xx, 409, ...) or a 200 whose JSON does
    not have the shape the request implies (e.g. a grouping nested differently from its group_by).

    Not retried: the same request would get the same answer.
    """


class ServerError(EngagementAPIError):
    """X answered 500, 502 or 503 (any 5xx): retryable with backoff."""

    retryable = True


class RateLimited(EngagementAPIError):
    """X answered 429 (or an error mentioning the rate limit).

    `reset_at` is the epoch second the current window ends (x-per-minute-reset) when X said so;
    `retry_after` the seconds to wait (reset − Date, 1 to 65 s, 60 s when the headers are
    missing; docs/simulator.md#client-retries), computed against X's Date header when present.
    """

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        reset_at: int | None,
        retry_after: float,
        **details: Unpack[ErrorDetails],
    ) -> None:
        details.setdefault("status", 429)
        super().__init__(message, **details)
        self.reset_at = reset_at
        self.retry_after = retry_after


class AuthError(EngagementAPIError):
    """X answered 401; `reason` is the text after 'Reason: ' (e.g. 'Access token not found').

    Also raised when /oauth2/token refuses the app's key and secret, and by the 3-legged flow
    when a request token is unknown or expired.
    """

    def __init__(self, message: str, *, reason: str, **details: Unpack[ErrorDetails]) -> None:
        super().__init__(message, **details)
        self.reason = reason

    @property
    def app_not_authorized(self) -> bool:
        """True when X has not enabled the app for the Engagement API (ask the account manager)."""
        return "application id is not authorized" in self.reason.lower()


class BadRequest(EngagementAPIError):
    """X answered 400: the request itself is wrong; retrying will not help."""


class ProtectedPosts(BadRequest):
    """X answered 400 'Tweet ID(s) are unavailable': at least one Post of the batch is protected."""


class NotFound(EngagementAPIError):
    """X answered 404 or 405: the path does not exist, usually a misconfigured base URL."""


class GzipRequired(EngagementAPIError):
    """X answered 406: the request did not accept gzip."""


class Forbidden(EngagementAPIError):
    """X answered 403."""


class ForbiddenPosts(Forbidden):
    """403 'Forbidden to access tweets': `post_ids` are not owned by the token's user."""

    def __init__(
        self, message: str, *, post_ids: Sequence[str], **details: Unpack[ErrorDetails]
    ) -> None:
        super().__init__(message, **details)
        self.post_ids = list(post_ids)


class ForbiddenMetrics(Forbidden):
    """403 'Forbidden to access metrics': `metrics` need user context (or are not allowed)."""

    def __init__(
        self, message: str, *, metrics: Sequence[str], **details: Unpack[ErrorDetails]
    ) -> None:
        super().__init__(message, **details)
        self.metrics = list(metrics)
