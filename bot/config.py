"""Settings: the environment variables of the README's "Configuration" table, read once at
the entry point and checked whole.

`Settings.from_env(environ)` reports every missing or malformed variable in one ConfigError.
Only bot/cli.py passes os.environ in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_X_API_URL = "https://data-api.x.com"
DEFAULT_X_OAUTH_URL = "https://api.x.com"
DEFAULT_DB = "./engagement.db"
DEFAULT_PORT = 3000
DEFAULT_ALERT_MINUTES = 15
# A slash command's answer is due within this many seconds, whatever X is doing.
DEFAULT_ANSWER_SECONDS = 25
_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


@dataclass(frozen=True)
class Settings:
    """Every variable of the README's "Configuration" table; secrets hidden from repr."""

    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_client_id: str | None = None
    slack_client_secret: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    x_api_url: str = DEFAULT_X_API_URL
    x_oauth_url: str = DEFAULT_X_OAUTH_URL
    x_consumer_key: str | None = None
    x_consumer_secret: str | None = field(default=None, repr=False)
    x_bearer_token: str | None = field(default=None, repr=False)
    db_path: Path = Path(DEFAULT_DB)
    secret_key: str | None = field(default=None, repr=False)
    timezone: str = "UTC"
    public_url: str = f"http://localhost:{DEFAULT_PORT}"
    port: int = DEFAULT_PORT
    alert_minutes: int = DEFAULT_ALERT_MINUTES  # how often alert rules are evaluated
    answer_seconds: float = DEFAULT_ANSWER_SECONDS  # a command's answer is due within this
    # Slack user IDs who may change settings besides the workspace admins and owners.
    admins: frozenset[str] = frozenset()

    @property
    def has_x_credentials(self) -> bool:
        """False means: console, demo and query use the embedded simulator."""
        return self.x_consumer_key is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        problems: list[str] = []

        def get(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        def url(name: str, default: str) -> str:
            value = get(name) or default
            if not value.startswith(("http://", "https://")):
                problems.append(f"{name} must start with http:// or https:// (got {value!r})")
            return value

        port = DEFAULT_PORT
        if (raw_port := get("PORT")) is not None:
            if raw_port.isdigit() and 0 < int(raw_port) < 65536:
                port = int(raw_port)
            else:
                problems.append(f"PORT must be a port number from 1 to 65535 (got {raw_port!r})")

        alert_minutes = DEFAULT_ALERT_MINUTES
        if (raw_minutes := get("ENGAGEMENT_ALERT_MINUTES")) is not None:
            if raw_minutes.isdigit() and 1 <= int(raw_minutes) <= 60:
                alert_minutes = int(raw_minutes)
            else:
                problems.append(
                    f"ENGAGEMENT_ALERT_MINUTES must be minutes from 1 to 60 (got {raw_minutes!r})"
                )

        answer_seconds = DEFAULT_ANSWER_SECONDS
        if (raw_seconds := get("ENGAGEMENT_ANSWER_SECONDS")) is not None:
            if raw_seconds.isdigit() and 3 <= int(raw_seconds) <= 600:
                answer_seconds = int(raw_seconds)
            else:
                problems.append(
                    f"ENGAGEMENT_ANSWER_SECONDS must be seconds from 3 to 600 (got {raw_seconds!r})"
                )

        admins = frozenset(
            part.strip() for part in (get("ENGAGEMENT_ADMINS") or "").split(",") if part.strip()
        )
        if bad := sorted(a for a in admins if not _SLACK_USER_ID.fullmatch(a)):
            problems.append(
                "ENGAGEMENT_ADMINS must be comma-separated Slack user IDs such as U012AB3CD "
                f"(got {', '.join(map(repr, bad))})"
            )

        timezone = get("ENGAGEMENT_TZ") or "UTC"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                f"ENGAGEMENT_TZ must be an IANA zone such as Europe/Paris (got {timezone!r})"
            )

        key, secret = get("X_CONSUMER_KEY"), get("X_CONSUMER_SECRET")
        if (key is None) != (secret is None):
            problems.append("X_CONSUMER_KEY and X_CONSUMER_SECRET must be set together")
        client_id, client_secret = get("SLACK_CLIENT_ID"), get("SLACK_CLIENT_SECRET")
        if (client_id is None) != (client_secret is None):
            problems.append("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET must be set together")

        settings = cls(
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_client_id=client_id,
            slack_client_secret=client_secret,
            slack_api_url=url("SLACK_API_URL", DEFAULT_SLACK_API_URL),
            x_api_url=url("X_API_URL", DEFAULT_X_API_URL),
            x_oauth_url=url("X_OAUTH_URL", DEFAULT_X_OAUTH_URL),
            x_consumer_key=key,
            x_consumer_secret=secret,
            x_bearer_token=get("X_BEARER_TOKEN"),
            db_path=Path(get("ENGAGEMENT_DB") or DEFAULT_DB),
            secret_key=get("ENGAGEMENT_SECRET_KEY"),
            timezone=timezone,
            public_url=url("ENGAGEMENT_PUBLIC_URL", f"http://localhost:{port}"),
            port=port,
            alert_minutes=alert_minutes,
            answer_seconds=answer_seconds,
            admins=admins,
        )
        if problems:
            raise ConfigError(problems)
        return settings


# The variables Settings reads, for the README's table check.
ENVIRONMENT_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_API_URL",
    "X_API_URL",
    "X_OAUTH_URL",
    "X_CONSUMER_KEY",
    "X_CONSUMER_SECRET",
    "X_BEARER_TOKEN",
    "ENGAGEMENT_DB",
    "ENGAGEMENT_SECRET_KEY",
    "ENGAGEMENT_TZ",
    "ENGAGEMENT_PUBLIC_URL",
    "PORT",
    "ENGAGEMENT_ALERT_MINUTES",
    "ENGAGEMENT_ANSWER_SECONDS",
    "ENGAGEMENT_ADMINS",
)
