"""What the running bot counts, for an operator's dashboard (`GET /metrics`): the Meter the
adapters tell as things happen. The use cases and adapters know only this protocol; `run` lends
them the Prometheus one (bot/slack/metrics.py), everything else the silent NO_METER, so a
one-shot command never imports a metrics library."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.engagement.call_outcomes import RateWait, RequestLog


class Meter(Protocol):
    def x_request(self, endpoint: str, status: int, retry: int, seconds: float) -> None:
        """One request to X's engagement API answered (status 0: no answer), `retry` > 0 for
        a retry of an earlier attempt."""

    def x_rate_wait(self, endpoint: str, seconds: float) -> None:
        """A wait for an endpoint's rate-limit window to reset, about to start."""

    def acked(self, seconds: float) -> None:
        """A signed Slack request answered over HTTP (the ack Slack waits 3 s for)."""

    def answered(self, seconds: float) -> None:
        """A slash command's reply delivered, `seconds` after the command arrived."""

    def posted(self, kind: str, ok: bool) -> None:
        """A scheduled post (`digest` or `alert` pass) done: posted (or nothing to post), or
        failed."""

    def job_lag(self, job: str, seconds: float) -> None:
        """A scheduled job started `seconds` after its scheduled time."""

    def exposition(self) -> bytes | None:
        """The metrics in Prometheus' text format; None when nothing is counted."""


class _NoMeter:
    def x_request(self, endpoint: str, status: int, retry: int, seconds: float) -> None:
        pass

    def x_rate_wait(self, endpoint: str, seconds: float) -> None:
        pass

    def acked(self, seconds: float) -> None:
        pass

    def answered(self, seconds: float) -> None:
        pass

    def posted(self, kind: str, ok: bool) -> None:
        pass

    def job_lag(self, job: str, seconds: float) -> None:
        pass

    def exposition(self) -> bytes | None:
        return None


NO_METER: Meter = _NoMeter()


def waits_told(
    meter: Meter, *, also: Callable[[RateWait], None] | None
) -> Callable[[RateWait], None]:
    """The executor's on_wait: each rate-limit wait counted, then told to `also` (progress)."""

    def told(wait: RateWait) -> None:
        meter.x_rate_wait(str(wait.endpoint), wait.seconds)
        if also is not None:
            also(wait)

    return told


def requests_counted(meter: Meter) -> Callable[[RequestLog], None]:
    """The executor's on_request: each request to X counted by endpoint and status."""

    def counted(request: RequestLog) -> None:
        meter.x_request(str(request.endpoint), request.status, request.retry, request.elapsed)

    return counted
