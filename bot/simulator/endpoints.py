"""The three engagement endpoints, in docs/simulator.md#processing-order.

route → fault → gzip (406) → authentication (401) → rate limit (429) → body (400) →
metric permission (403) → Post classification (400/403) → 200.
"""

from __future__ import annotations

import gzip
import time
import zlib
from datetime import datetime

from bot.engagement.models import Endpoint
from bot.simulator import auth, engine
from bot.simulator.http import SimRequest, SimResponse
from bot.simulator.ratelimit import RateDecision
from bot.simulator.state import SimState

MAX_BODY_BYTES = 1024 * 1024
GZIP_REQUIRED = (
    "This request requires gzip compression. Retry the request after setting "
    "'Accept-Encoding' header in the request to 'gzip'."
)
FAULT_BODIES = {500: "internal server error", 502: "Proxy Error", 503: "Service Unavailable"}
BAD_BODY = "Invalid or missing JSON request body"


def accepts_gzip(header: str) -> bool:
    """True when Accept-Encoding names gzip with a q-value other than 0 (`*` does not count)."""
    for item in header.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() != "gzip":
            continue
        q = params.strip().lower()
        if q.startswith("q="):
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
        return True
    return False


def rate_headers(decision: RateDecision) -> dict[str, str]:
    return {
        "x-per-minute-limit": str(decision.limit),
        "x-per-minute-remaining": str(decision.remaining),
        "x-per-minute-reset": str(decision.reset),
    }


def method_not_allowed(state: SimState, endpoint: Endpoint) -> SimResponse:
    limit = state.options.rate_limit(endpoint.value)
    decision = state.limiter.peek(limit=limit, window_s=60, now_s=state.now().timestamp())
    headers = {"Allow": "POST", **rate_headers(decision)}
    return SimResponse.errors(405, "Method not allowed", headers=headers, always_gzip=True)


def handle(state: SimState, request: SimRequest, endpoint: Endpoint) -> SimResponse:
    """Answer one POST to an engagement endpoint, logging it for GET /_sim/requests."""
    fault = state.faults.next()
    if fault.latency_ms:
        time.sleep(fault.latency_ms / 1000)  # injected latency is real time by design
    now = state.now()
    outcome = _Outcome()
    response = _answer(state, request, endpoint, fault.action, now, outcome)
    state.log_request(
        time=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        endpoint=endpoint.value,
        auth_mode=outcome.auth_mode,
        app=outcome.app,
        user=outcome.user,
        tweet_ids=outcome.tweet_ids,
        engagement_types=outcome.metrics,
        status=0 if response.reset or response.hang else response.status,
        fault=None if fault.action == "ok" else fault.action,
    )
    return response


class _Outcome:
    """What the request log records about a request, filled in as it is processed."""

    def __init__(self) -> None:
        self.auth_mode: str | None = None
        self.app: str | None = None
        self.user: str | None = None
        self.tweet_ids: list[str] = []
        self.metrics: list[str] = []


def _answer(
    state: SimState,
    request: SimRequest,
    endpoint: Endpoint,
    action: str,
    now: datetime,
    outcome: _Outcome,
) -> SimResponse:
    """The reply, step by step in the processing order of the module docstring."""
    now_s = now.timestamp()
    uncounted = _uncounted_headers(state, request, endpoint, now_s)
    injected = _injected_fault(action, uncounted)
    if injected is not None:
        return injected

    if not accepts_gzip(request.header("accept-encoding")):
        return SimResponse.errors(406, GZIP_REQUIRED, headers=uncounted)

    try:
        identity = auth.authenticate_engagement(state, request)
    except auth.AuthFailure as failure:
        outcome.app = failure.app.name if failure.app else None
        reason = f"Your account could not be authenticated. Reason: {failure.reason}"
        return SimResponse.errors(401, reason, headers=uncounted, always_gzip=True)
    outcome.auth_mode, outcome.app = identity.mode, identity.app.name
    outcome.user = identity.account.user_id if identity.account else None

    limit = identity.app.rate_limit(endpoint.value, state.options.rate_limit(endpoint.value))
    decision = state.limiter.hit(
        identity.app.name, endpoint.value, limit=limit, window_s=60, now_s=now_s
    )
    headers = rate_headers(decision)
    if not decision.allowed:
        return SimResponse.errors(429, "Exceeded rate limit", headers=headers, always_gzip=True)

    status, payload = _counted_answer(state, request, endpoint, now, outcome)
    return SimResponse.json(
        status,
        payload,
        headers=headers,
        always_gzip=True,
        truncate=_truncate_mode(state) if action == "truncate" else None,
        drip_s=_drip_s(state) if action == "drip" else None,
    )


def _injected_fault(action: str, uncounted: dict[str, str]) -> SimResponse | None:
    """The reply a fault injected before any processing stands for; None for the others
    (no fault, or one that changes how the real reply is sent)."""
    if action == "reset":
        return SimResponse(0, reset=True)
    if action == "hang":
        return SimResponse(0, hang=True)
    if not action.isdigit():
        return None
    status = int(action)
    if status == 429:
        headers = {**uncounted, "x-per-minute-remaining": "0"}
        return SimResponse.errors(429, "Exceeded rate limit", headers=headers, always_gzip=True)
    return SimResponse.errors(status, FAULT_BODIES[status], headers=uncounted, always_gzip=True)


def _counted_answer(
    state: SimState, request: SimRequest, endpoint: Endpoint, now: datetime, outcome: _Outcome
) -> tuple[int, dict[str, object]]:
    """Status and body of a request that passed authentication and the rate limit: the body
    checked (400), the metrics permitted (403), the Posts classified and counted."""
    body = _request_body(request)
    if body is None:
        return 400, {"errors": [BAD_BODY]}
    try:
        with state.lock:
            valid = engine.parse_request(endpoint, body, now=now, floor=state.historical_floor(now))
    except engine.ApiError as error:
        return error.status, {"errors": error.messages}
    outcome.tweet_ids = [str(i) for i in valid.post_ids]
    outcome.metrics = list(valid.metrics)

    if outcome.user is None:
        forbidden = engine.app_only_forbidden_metrics(valid)
        if forbidden:
            return 403, {"errors": ["Forbidden to access metrics: " + ", ".join(forbidden)]}

    with state.lock:
        status, payload = engine.answer(
            valid,
            universe=state.universe,
            model=state.model,
            now=now,
            user_id=outcome.user,
            options=state.options,
        )
        if status == 200 and outcome.user is not None:
            state.usage.setdefault(now.strftime("%Y-%m"), set()).add(outcome.user)
    return status, payload


def _uncounted_headers(
    state: SimState, request: SimRequest, endpoint: Endpoint, now_s: float
) -> dict[str, str]:
    """Headers for a reply that is not counted: the claimed app's window as it stands, or the
    default limit when no app can be identified (docs/simulator.md#per-minute-windows)."""
    default_limit = state.options.rate_limit(endpoint.value)
    app = auth.claimed_app(state, request)
    if app is None:
        return rate_headers(state.limiter.peek(limit=default_limit, window_s=60, now_s=now_s))
    limit = app.rate_limit(endpoint.value, default_limit)
    return rate_headers(
        state.limiter.current(app.name, endpoint.value, limit=limit, window_s=60, now_s=now_s)
    )


def _drip_s(state: SimState) -> float:
    config = state.faults.config
    return (config.drip_ms if config else 2000) / 1000


def _truncate_mode(state: SimState) -> str:
    config = state.faults.config
    return config.truncate_mode if config else "bad_gzip"


def _request_body(request: SimRequest) -> bytes | None:
    """The JSON body, gunzipped when Content-Encoding says so; None when unusable or too big."""
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return None
    if "gzip" in request.header("content-encoding").lower():
        try:
            decompressor = zlib.decompressobj(wbits=31)
            body = decompressor.decompress(body, MAX_BODY_BYTES + 1)
        except (zlib.error, gzip.BadGzipFile):
            return None
        if len(body) > MAX_BODY_BYTES:
            return None
    return body
