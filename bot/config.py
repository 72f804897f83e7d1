"""Settings: the environment variables of the "Configuration" table of docs/install.md, read
once at the entry point and checked whole.

`Settings.from_env(environ)` reports every missing or malformed variable in one ConfigError.
Only bot/cli.py passes os.environ in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import ConfigError

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_X_API_URL = "https://data-api.x.com"
DEFAULT_X_OAUTH_URL = "https://api.x.com"
DEFAULT_DB = "./engagement.db"
DEFAULT_PORT = 3000
DEFAULT_ALERT_MINUTES = 15
# A slash command's answer is due within this many seconds, whatever X is doing.
DEFAULT_ANSWER_SECONDS = 25


@dataclass(frozen=True)
class RetentionSettings:
    """How long the store keeps each kind of row in full (docs/retention.md says why)."""

    snapshot_days: int = 7  # totals snapshots as read; then a day's last value
    weekly_after_days: int = 100  # then a week's last value (90-day leaderboards: a day's)
    hourly_days: int = 90  # hour buckets; then whole days rolled into daily rows
    daily_days: int = 100  # daily rows; then only the last one (its running total) is kept
    call_months: int = 13  # API calls one by one; then summed per month (usage unchanged)
    forget_days: int = 180  # a Post nobody tracks, owns or read for this long is forgotten


_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


@dataclass(frozen=True)
class Settings:
    """Every variable of the "Configuration" table of docs/install.md; secrets hidden from repr."""

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
    retention: RetentionSettings = RetentionSettings()

    @property
    def has_x_credentials(self) -> bool:
        """False means: console, demo and query use the embedded simulator."""
        return self.x_consumer_key is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        read = _Reader(environ)
        port = read.whole_number("PORT", DEFAULT_PORT, 1, 65535, "a port number")
        alert_minutes = read.whole_number(
            "ENGAGEMENT_ALERT_MINUTES", DEFAULT_ALERT_MINUTES, 1, 60, "minutes"
        )
        answer_seconds = read.whole_number(
            "ENGAGEMENT_ANSWER_SECONDS", DEFAULT_ANSWER_SECONDS, 3, 600, "seconds"
        )
        admins = read.admins("ENGAGEMENT_ADMINS")
        retention = read.retention()
        timezone = read.timezone("ENGAGEMENT_TZ")
        key, secret = read.pair("X_CONSUMER_KEY", "X_CONSUMER_SECRET")
        client_id, client_secret = read.pair("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
        settings = cls(
            slack_bot_token=read.text("SLACK_BOT_TOKEN"),
            slack_signing_secret=read.text("SLACK_SIGNING_SECRET"),
            slack_app_token=read.text("SLACK_APP_TOKEN"),
            slack_client_id=client_id,
            slack_client_secret=client_secret,
            slack_api_url=read.url("SLACK_API_URL", DEFAULT_SLACK_API_URL),
            x_api_url=read.url("X_API_URL", DEFAULT_X_API_URL),
            x_oauth_url=read.url("X_OAUTH_URL", DEFAULT_X_OAUTH_URL),
            x_consumer_key=key,
            x_consumer_secret=secret,
            x_bearer_token=read.text("X_BEARER_TOKEN"),
            db_path=Path(read.text("ENGAGEMENT_DB") or DEFAULT_DB),
            secret_key=read.text("ENGAGEMENT_SECRET_KEY"),
            timezone=timezone,
            public_url=read.url("ENGAGEMENT_PUBLIC_URL", f"http://localhost:{port}"),
            port=port,
            alert_minutes=alert_minutes,
            answer_seconds=answer_seconds,
            admins=admins,
            retention=retention,
        )
        if read.problems:
            raise ConfigError(read.problems)
        return settings


class _Reader:
    """Reads variables from one environment, noting every malformed one in `problems` (in the
    order read) instead of stopping at the first, so one ConfigError can list them all."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.problems: list[str] = []

    def text(self, name: str) -> str | None:
        """The value without surrounding blanks; None when unset or blank."""
        value = self._environ.get(name, "").strip()
        return value or None

    def url(self, name: str, default: str) -> str:
        value = self.text(name) or default
        if not value.startswith(("http://", "https://")):
            self.problems.append(f"{name} must start with http:// or https:// (got {value!r})")
        return value

    def whole_number(self, name: str, default: int, low: int, high: int, unit: str) -> int:
        """A whole number from `low` to `high`; `default` when unset or malformed."""
        raw = self.text(name)
        if raw is None:
            return default
        if raw.isdigit() and low <= int(raw) <= high:
            return int(raw)
        self.problems.append(f"{name} must be {unit} from {low} to {high} (got {raw!r})")
        return default

    def retention(self) -> RetentionSettings:
        """ENGAGEMENT_KEEP_*: each at least what the features reading those rows need."""
        default = RetentionSettings()
        snapshots = self.whole_number(
            "ENGAGEMENT_KEEP_SNAPSHOT_DAYS", default.snapshot_days, 1, 3650, "days"
        )
        return RetentionSettings(
            snapshot_days=snapshots,
            weekly_after_days=self.whole_number(
                "ENGAGEMENT_KEEP_DAILY_SNAPSHOT_DAYS",
                max(default.weekly_after_days, snapshots),
                max(snapshots, 91),
                36500,
                "days (at least ENGAGEMENT_KEEP_SNAPSHOT_DAYS and 91)",
            ),
            hourly_days=self.whole_number(
                "ENGAGEMENT_KEEP_HOURLY_DAYS", default.hourly_days, 2, 36500, "days"
            ),
            daily_days=self.whole_number(
                "ENGAGEMENT_KEEP_DAILY_DAYS", default.daily_days, 91, 36500, "days"
            ),
            call_months=self.whole_number(
                "ENGAGEMENT_KEEP_CALL_MONTHS", default.call_months, 1, 1200, "months"
            ),
            forget_days=self.whole_number(
                "ENGAGEMENT_FORGET_POSTS_DAYS", default.forget_days, 91, 36500, "days"
            ),
        )

    def admins(self, name: str) -> frozenset[str]:
        """Comma-separated Slack user IDs."""
        admins = frozenset(
            part.strip() for part in (self.text(name) or "").split(",") if part.strip()
        )
        if bad := sorted(a for a in admins if not _SLACK_USER_ID.fullmatch(a)):
            self.problems.append(
                f"{name} must be comma-separated Slack user IDs such as U012AB3CD "
                f"(got {', '.join(map(repr, bad))})"
            )
        return admins

    def timezone(self, name: str) -> str:
        """An IANA zone name; UTC when unset."""
        timezone = self.text(name) or "UTC"
        if timezone == "UTC":  # the default needs no zone database: zoneinfo is not imported
            return timezone
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.problems.append(
                f"{name} must be an IANA zone such as Europe/Paris (got {timezone!r})"
            )
        return timezone

    def pair(self, first: str, second: str) -> tuple[str | None, str | None]:
        """Two variables that mean something only together (a key and its secret)."""
        one, other = self.text(first), self.text(second)
        if (one is None) != (other is None):
            self.problems.append(f"{first} and {second} must be set together")
        return one, other


# The variables Settings reads, for the docs' table check.
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
    "ENGAGEMENT_KEEP_SNAPSHOT_DAYS",
    "ENGAGEMENT_KEEP_DAILY_SNAPSHOT_DAYS",
    "ENGAGEMENT_KEEP_HOURLY_DAYS",
    "ENGAGEMENT_KEEP_DAILY_DAYS",
    "ENGAGEMENT_KEEP_CALL_MONTHS",
    "ENGAGEMENT_FORGET_POSTS_DAYS",
)
