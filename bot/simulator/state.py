"""Everything the running simulator knows: universe, clock, options, counters and logs.

Route handlers read and change it under `state.lock`. Data is a pure function of the universe and
the clock (docs/simulator.md#clock), so the engagement model is rebuilt whenever the universe
is edited.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.simulator.clock import SimClock
from bot.simulator.faults import FaultInjector
from bot.simulator.model import EngagementModel
from bot.simulator.ratelimit import RateLimiter
from bot.simulator.universe import Universe, floor_hour

MODES = ("normal", "test", "demo")
DEFAULT_FLOOR = datetime(2014, 9, 1, tzinfo=UTC)


class OptionError(ValueError):
    """Raised when an option value is malformed; names the option."""


@dataclass(frozen=True)
class RuntimeOptions:
    """The runtime options of docs/simulator.md#options (changeable with PUT /_sim/options)."""

    historical_floor: str = "2014-09-01"  # a date, or "365d"
    forbidden_format: str = "documented"  # or "per-author"
    impressions_age_limit_endpoints: frozenset[str] = frozenset({"totals"})
    rate_limit_totals: int = 60
    rate_limit_28hr: int = 60
    rate_limit_historical: int = 60
    oauth_timestamp_window_s: int = 0  # 0 = off
    oauth_nonce_check: bool = False
    # v2 limits per app per 15 minutes
    rate_limit_v2_lookup: int = 300
    rate_limit_v2_user_posts: int = 1500
    rate_limit_v2_username: int = 300
    rate_limit_v2_search: int = 450  # recent search, app-only
    rate_limit_v2_search_user: int = 180  # recent search, per user in user context
    v2_window_s: int = 900  # the v2 windows' length: X's 15 minutes; shorter for benchmarks

    def updated(self, changes: dict[str, Any]) -> RuntimeOptions:
        """A copy with `changes` applied; raises OptionError naming the first bad one."""
        known = {f.name: f for f in fields(self)}
        converted: dict[str, Any] = {}
        for name, value in changes.items():
            key = name.replace("-", "_")
            if key not in known:
                raise OptionError(f"unknown option {name!r}")
            converted[key] = _convert(key, value, getattr(self, key))
        return replace(self, **converted)

    def rate_limit(self, endpoint: str) -> int:
        value: int = getattr(self, "rate_limit_" + endpoint)
        return value


def _convert(key: str, value: Any, current: Any) -> Any:
    if key == "forbidden_format":
        if value not in ("documented", "per-author"):
            raise OptionError("forbidden_format must be 'documented' or 'per-author'")
        return value
    if key == "historical_floor":
        if value != "365d":
            try:
                datetime.fromisoformat(str(value))
            except ValueError:
                raise OptionError("historical_floor must be YYYY-MM-DD or '365d'") from None
        return str(value)
    if key == "impressions_age_limit_endpoints":
        items = value.split(",") if isinstance(value, str) else list(value)
        names = frozenset(str(i).strip().lstrip("/") for i in items if str(i).strip())
        if not names <= {"totals", "28hr", "historical"}:
            raise OptionError("impressions_age_limit_endpoints: use totals, 28hr, historical")
        return names
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "yes", "on"):
            return True
        if str(value).lower() in ("false", "0", "no", "off"):
            return False
        raise OptionError(f"{key} must be true or false")
    if isinstance(current, int):
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise OptionError(f"{key} must be a whole number") from None
        if number < 0 or isinstance(value, bool):
            raise OptionError(f"{key} must be a non-negative whole number")
        if key == "v2_window_s" and number < 1:
            raise OptionError("v2_window_s must be at least 1")
        return number
    return value


@dataclass
class RequestToken:
    """A 3-legged OAuth request token, single use, 15 minutes."""

    token: str
    secret: str
    app: str
    callback: str
    issued_at: datetime
    verifier: str | None = None
    approved_user_id: str | None = None
    used: bool = False


@dataclass
class RequestLogEntry:
    n: int
    time: str
    endpoint: str
    auth_mode: str | None
    app: str | None
    user: str | None
    tweet_ids: list[str]
    engagement_types: list[str]
    status: int
    fault: str | None


@dataclass
class SimState:
    """The mutable world behind the server. Hold `lock` while reading or changing it."""

    universe_factory: Callable[[], Universe]
    universe: Universe
    clock: SimClock
    mode: str = "normal"
    options: RuntimeOptions = field(default_factory=RuntimeOptions)
    public_base_url: str | None = None
    admin_key: str | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    model: EngagementModel = field(init=False)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    faults: FaultInjector = field(default_factory=FaultInjector)
    revoked_access_tokens: set[str] = field(default_factory=set)
    revoked_bearer_tokens: set[str] = field(default_factory=set)
    seen_nonces: set[tuple[str, str]] = field(default_factory=set)
    request_tokens: dict[str, RequestToken] = field(default_factory=dict)
    request_log: list[RequestLogEntry] = field(default_factory=list)
    # month "YYYY-MM" -> owner user_ids queried with user context and answered 200
    usage: dict[str, set[str]] = field(default_factory=dict)
    _log_counter: int = 0

    def __post_init__(self) -> None:
        self.model = EngagementModel(self.universe)
        self.initial_options = self.options
        self.initial_clock = (self.clock.kind, self.clock.mode == "frozen")

    @property
    def admin_enabled(self) -> bool:
        return self.mode in ("test", "demo")

    def now(self) -> datetime:
        return self.clock.now()

    def universe_changed(self) -> None:
        """Call after editing the universe: cached engagement values are stale."""
        self.model = EngagementModel(self.universe)

    def historical_floor(self, now: datetime) -> datetime:
        if self.options.historical_floor == "365d":
            return floor_hour(now) - timedelta(days=365)
        return datetime.fromisoformat(self.options.historical_floor).replace(tzinfo=UTC)

    def log_request(self, **entry: Any) -> None:
        """Append to the request log of GET /_sim/requests (bounded to the last 10,000)."""
        with self.lock:
            self._log_counter += 1
            self.request_log.append(RequestLogEntry(n=self._log_counter, **entry))
            if len(self.request_log) > 10_000:
                del self.request_log[:1_000]

    def reset(self) -> None:
        """POST /_sim/reset: reload the universe, clock back to start_time, clear everything."""
        with self.lock:
            self.universe = self.universe_factory()
            self.universe_changed()
            kind, frozen = self.initial_clock
            self.clock = SimClock(kind=kind, start=self.universe.start_time, frozen=frozen)
            self.options = self.initial_options
            self.limiter.reset()
            self.revoked_access_tokens.clear()
            self.revoked_bearer_tokens.clear()
            self.seen_nonces.clear()
            self.request_tokens.clear()
            self.request_log.clear()
            self.usage.clear()
            self.faults.configure(None)
