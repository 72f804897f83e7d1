"""Fault injection for the engagement endpoints (docs/simulator.md#fault-injection).

A config decides, for the n-th engagement request since it was set, whether to answer normally,
fail with a 5xx or 429, reset the connection, truncate the body, hang (read the request, never
answer, until the client hangs up) or drip (send the reply a byte every `drip_ms`), and how
long to wait first.
The draws come from U with the fault seed, so a request sequence always sees the same faults.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.simulator.universe import uniform

ACTIONS = ("500", "502", "503", "429", "reset", "truncate", "hang", "drip", "ok")
TRUNCATE_MODES = ("bad_gzip", "short_body")


class FaultConfigError(ValueError):
    """Raised for a malformed fault config; names the field."""


@dataclass(frozen=True)
class Burst:
    every: int = 0
    length: int = 0
    offset: int = 0


@dataclass(frozen=True)
class FaultConfig:
    seed: int = 7
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503)
    latency_ms: int = 0
    latency_jitter_ms: int = 0
    reset_rate: float = 0.0
    truncate_rate: float = 0.0
    truncate_mode: str = "bad_gzip"
    hang_rate: float = 0.0
    drip_rate: float = 0.0
    drip_ms: int = 2000  # between two bytes of a dripped reply
    burst_429: Burst = field(default_factory=Burst)
    queue: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, doc: Any) -> FaultConfig:
        if not isinstance(doc, dict):
            raise FaultConfigError("the fault config must be a JSON object")
        unknown = set(doc) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise FaultConfigError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        burst = doc.get("burst_429", {})
        if not isinstance(burst, dict) or set(burst) - {"every", "length", "offset"}:
            raise FaultConfigError("burst_429 must be {every, length, offset}")
        config = cls(
            seed=_int(doc, "seed", 7),
            error_rate=_rate(doc, "error_rate"),
            error_statuses=tuple(_statuses(doc.get("error_statuses", [500, 502, 503]))),
            latency_ms=_int(doc, "latency_ms", 0),
            latency_jitter_ms=_int(doc, "latency_jitter_ms", 0),
            reset_rate=_rate(doc, "reset_rate"),
            truncate_rate=_rate(doc, "truncate_rate"),
            truncate_mode=str(doc.get("truncate_mode", "bad_gzip")),
            hang_rate=_rate(doc, "hang_rate"),
            drip_rate=_rate(doc, "drip_rate"),
            drip_ms=_int(doc, "drip_ms", 2000),
            burst_429=Burst(**{k: _int(burst, k, 0) for k in ("every", "length", "offset")}),
            queue=tuple(str(item) for item in doc.get("queue", [])),
        )
        if config.truncate_mode not in TRUNCATE_MODES:
            raise FaultConfigError(f"truncate_mode must be one of {', '.join(TRUNCATE_MODES)}")
        bad = [item for item in config.queue if item not in ACTIONS]
        if bad:
            raise FaultConfigError(f"unknown queue item(s): {', '.join(bad)}")
        return config

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["error_statuses"] = list(self.error_statuses)
        doc["queue"] = list(self.queue)
        return doc


def _int(doc: dict[str, Any], key: str, default: int) -> int:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FaultConfigError(f"{key} must be a non-negative integer")
    return value


def _rate(doc: dict[str, Any], key: str) -> float:
    value = doc.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise FaultConfigError(f"{key} must be a number from 0 to 1")
    return float(value)


def _statuses(values: Any) -> list[int]:
    if not isinstance(values, list) or not values or any(v not in (500, 502, 503) for v in values):
        raise FaultConfigError("error_statuses must be a non-empty list of 500, 502, 503")
    return [int(v) for v in values]


@dataclass(frozen=True)
class FaultDecision:
    n: int
    action: str  # "ok" or one of ACTIONS
    latency_ms: int

    @property
    def status(self) -> int | None:
        return int(self.action) if self.action.isdigit() else None


class FaultInjector:
    """Numbers engagement requests and draws each one's fault; thread-safe."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.configure(config)

    def configure(self, config: FaultConfig | None) -> None:
        with self._lock:
            self.config = config
            self._n = 0
            self._queue = list(config.queue) if config else []

    def next(self) -> FaultDecision:
        with self._lock:
            config = self.config
            if config is None:
                return FaultDecision(0, "ok", 0)
            self._n += 1
            n = self._n
            queued = self._queue.pop(0) if self._queue else None
        action = queued or _draw(config, n)
        jitter = int(uniform(config.seed, n, "latency") * config.latency_jitter_ms)
        return FaultDecision(n, action, config.latency_ms + jitter)


def _draw(config: FaultConfig, n: int) -> str:
    burst = config.burst_429
    if burst.every > 0 and n > burst.offset and (n - burst.offset - 1) % burst.every < burst.length:
        return "429"
    if uniform(config.seed, n, "hang") < config.hang_rate:
        return "hang"
    if uniform(config.seed, n, "drip") < config.drip_rate:
        return "drip"
    if uniform(config.seed, n, "reset") < config.reset_rate:
        return "reset"
    if uniform(config.seed, n, "error") < config.error_rate:
        statuses = config.error_statuses
        return str(statuses[int(uniform(config.seed, n, "status") * len(statuses))])
    if uniform(config.seed, n, "truncate") < config.truncate_rate:
        return "truncate"
    return "ok"
