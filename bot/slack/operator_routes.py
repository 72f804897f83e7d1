"""The HTTP listener's routes for whoever runs the bot: /healthz, /readyz and /metrics."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.channels.meter import Meter

if TYPE_CHECKING:
    from wsgiref.types import StartResponse

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
OPERATOR_PATHS = (HEALTH_PATH, READY_PATH, METRICS_PATH)
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"

Health = Callable[[], dict[str, Any]]
Ready = Callable[[], str | None]  # None: ready; else why not


def operator_route(
    path: str,
    method: str,
    health: Health,
    ready: Ready | None,
    meter: Meter,
    start_response: StartResponse,
) -> list[bytes]:
    """GET /healthz: are X and Slack answering (200 with the state, 503 with the reason);
    GET /readyz: can this process serve (200 "ready", or 503 and why not); GET /metrics: the
    meter's exposition in Prometheus' text format (404 when it counts nothing)."""
    if path == HEALTH_PATH:
        return _health_route(health, method, start_response)
    if path == READY_PATH:
        why = ready() if ready is not None else None
        return text_reply(start_response, 200 if why is None else 503, why or "ready")
    exposition = meter.exposition()
    if exposition is None:
        return text_reply(start_response, 404, "Not Found")
    start_response("200 OK", [("Content-Type", PROMETHEUS_TEXT)])
    return [exposition]


def _health_route(health: Health, method: str, start_response: StartResponse) -> list[bytes]:
    """GET /healthz: 200 with the state while all is well, 503 with the reason when not."""
    if method not in ("GET", "HEAD"):
        return text_reply(start_response, 405, "Method Not Allowed", [("Allow", "GET, HEAD")])
    state = health()
    body = json.dumps(state).encode()
    start_response(
        "200 OK" if state.get("ok") else "503 Service Unavailable",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [b"" if method == "HEAD" else body]


REASONS = {
    200: "OK",
    503: "Service Unavailable",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    410: "Gone",
    413: "Payload Too Large",
    502: "Bad Gateway",
}


def text_reply(
    start_response: StartResponse,
    status: int,
    text: str,
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    body = (text + "\n").encode()
    start_response(
        f"{status} {REASONS.get(status, 'Error')}",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *(headers or []),
        ],
    )
    return [body]
