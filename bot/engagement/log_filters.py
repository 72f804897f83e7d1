"""Third-party loggers that print secrets at DEBUG, kept quiet even under `--debug`.

oauthlib signs with our keys and logs them; slack_sdk's clients log each request's URL (a
response_url is a credential to post in the channel) and body (a one-time connect link). A
filter on each such logger drops its DEBUG records only; warnings and errors still get through.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable


class _DropDebug(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def drop_debug_records(names: Iterable[str]) -> None:
    """Filter out DEBUG records of these loggers (idempotent). A logger's filters see only the
    records it creates itself, not its children's, so `names` are the exact loggers."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropDebug) for f in logger.filters):
            logger.addFilter(_DropDebug())


# Loggers of the OAuth 1.0a libraries that print Authorization headers, signature base strings
# or tokens at DEBUG, when signing (our client) and when verifying (the simulator).
OAUTH1_LOGGERS = (
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
    "requests_oauthlib.oauth1_auth",
    "requests_oauthlib.oauth1_session",
)
