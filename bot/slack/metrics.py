"""The Prometheus Meter of `engagement-bot run` (the official prometheus_client), served at
GET /metrics on the HTTP listener. Names follow Prometheus' conventions: a unit suffix, `_total`
on counters; labels are endpoints, statuses and kinds, never a workspace, channel or Post (their
number is unbounded, and they are the users' data)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.channels.meter import Meter
from bot.copy import metrics

# Slack gives an ack 3 s; the answer of a command that asks X takes seconds.
_ACK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
_ANSWER_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)


class PrometheusMeter(Meter):
    def __init__(self, db_path: Path) -> None:
        self.registry = r = CollectorRegistry()
        self._requests = Counter(
            "engagement_x_requests",
            metrics.X_REQUESTS,
            ["endpoint", "status"],
            registry=r,
        )
        self._retries = _by_endpoint(Counter, "x_retries", metrics.X_RETRIES, r)
        self._request_seconds = _by_endpoint(
            Histogram, "x_request_seconds", metrics.X_REQUEST_SECONDS, r
        )
        self._waits = _by_endpoint(Counter, "x_rate_limit_waits", metrics.X_RATE_LIMIT_WAITS, r)
        self._waited = _by_endpoint(
            Counter, "x_rate_limit_wait_seconds", metrics.X_RATE_LIMIT_WAIT_SECONDS, r
        )
        self._acks = Histogram(
            "engagement_slack_ack_seconds",
            metrics.SLACK_ACK_SECONDS,
            buckets=_ACK_BUCKETS,
            registry=r,
        )
        self._answers = Histogram(
            "engagement_command_answer_seconds",
            metrics.COMMAND_ANSWER_SECONDS,
            buckets=_ANSWER_BUCKETS,
            registry=r,
        )
        self._posts = Counter(
            "engagement_scheduled_posts",
            metrics.SCHEDULED_POSTS,
            ["kind", "outcome"],
            registry=r,
        )
        self._lag = Gauge(
            "engagement_job_lag_seconds",
            metrics.JOB_LAG_SECONDS,
            ["job"],
            registry=r,
        )
        size = Gauge("engagement_database_bytes", metrics.DATABASE_BYTES, registry=r)
        size.set_function(lambda: _size(db_path))

    def x_request(self, endpoint: str, status: int, retry: int, seconds: float) -> None:
        self._requests.labels(endpoint, str(status)).inc()
        self._request_seconds.labels(endpoint).observe(seconds)
        if retry:
            self._retries.labels(endpoint).inc()

    def x_rate_wait(self, endpoint: str, seconds: float) -> None:
        self._waits.labels(endpoint).inc()
        self._waited.labels(endpoint).inc(max(seconds, 0.0))

    def acked(self, seconds: float) -> None:
        self._acks.observe(seconds)

    def answered(self, seconds: float) -> None:
        self._answers.observe(seconds)

    def posted(self, kind: str, ok: bool) -> None:
        self._posts.labels(kind, "ok" if ok else "failed").inc()

    def job_lag(self, job: str, seconds: float) -> None:
        self._lag.labels(job).set(max(seconds, 0.0))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _by_endpoint(
    kind: type[Counter] | type[Histogram], name: str, text: str, registry: CollectorRegistry
) -> Any:
    return kind(f"engagement_{name}", text, ["endpoint"], registry=registry)


def _size(db_path: Path) -> float:
    total = 0
    for path in (db_path, db_path.with_name(db_path.name + "-wal")):
        with contextlib.suppress(OSError):  # no WAL (yet): nothing to add
            total += os.stat(path).st_size
    return float(total)
