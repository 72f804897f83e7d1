"""The test-only admin interface `/_sim/` (docs/simulator.md#admin-interface): state, clock,
universe edits, ground truth, faults, rate limits, revocation, options, the request log and usage.

Enabled only in `test` and `demo` modes; plain JSON, never rate-limited or faulted.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from bot.engagement.models import ALL_METRICS, Endpoint
from bot.simulator.faults import FaultConfig, FaultConfigError
from bot.simulator.http import SimRequest, SimResponse
from bot.simulator.state import OptionError, SimState
from bot.simulator.universe import (
    Account,
    Post,
    UniverseError,
    ceil_hour,
    floor_hour,
    iso,
    iso_ms,
    parse_time,
)

MAX_SERIES_VALUES = 500_000


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


Handler = Callable[[SimState, SimRequest, list[str]], Any]


def handle(state: SimState, request: SimRequest) -> SimResponse:
    """Dispatch one /_sim/ request; 404 everywhere when the mode has no admin interface."""
    if not state.admin_enabled:
        return SimResponse.errors(404, "Not found")
    if state.admin_key is not None:
        given = request.header("x-sim-admin-key")
        if not hmac.compare_digest(given.encode(), state.admin_key.encode()):
            return SimResponse.json(401, {"error": "missing or wrong X-Sim-Admin-Key"})
    parts = [p for p in request.path.split("/")[2:] if p]
    route = _ROUTES.get((request.method, parts[0] if parts else "", len(parts)))
    if route is None:
        return SimResponse.json(404, {"error": f"no admin route {request.method} {request.path}"})
    try:
        with state.lock:
            result = route(state, request, parts[1:])
    except AdminError as error:
        return SimResponse.json(error.status, {"error": str(error)})
    except (UniverseError, OptionError, FaultConfigError) as error:
        return SimResponse.json(400, {"error": str(error)})
    return SimResponse.json(200, result)


def _body(request: SimRequest) -> dict[str, Any]:
    try:
        doc = json.loads(request.body or b"{}")
    except ValueError:
        raise AdminError(400, "body must be JSON") from None
    if not isinstance(doc, dict):
        raise AdminError(400, "body must be a JSON object")
    return doc


# -- views ------------------------------------------------------------------------------------


def _account_view(account: Account) -> dict[str, Any]:
    return {
        "user_id": account.user_id,
        "screen_name": account.screen_name,
        "protected": account.protected,
        "base_reach": account.base_reach,
        "tokens": [asdict(t) for t in account.tokens],
    }


def _post_view(state: SimState, post: Post) -> dict[str, Any]:
    author = state.universe.account_by_id(post.author)
    view = asdict(post)
    view.update(
        id=str(post.id),
        author_screen_name=author.screen_name if author else None,
        created_at=iso_ms(post.created_at),
    )
    return view


def _clock_view(state: SimState) -> dict[str, Any]:
    return {"now": iso(state.now()), "mode": state.clock.mode}


# -- routes -----------------------------------------------------------------------------------


def _state(state: SimState, request: SimRequest, _: list[str]) -> Any:
    universe = state.universe
    options = asdict(state.options)
    options["impressions_age_limit_endpoints"] = sorted(
        state.options.impressions_age_limit_endpoints
    )
    return {
        "seed": universe.seed,
        "mode": state.mode,
        "start_time": iso(universe.start_time),
        "clock": _clock_view(state),
        "options": options,
        "apps": [
            {
                "name": a.name,
                "app_id": a.app_id,
                "consumer_key": a.consumer_key,
                "consumer_secret": a.consumer_secret,
                "engagement_api_enabled": a.engagement_api_enabled,
                "callback_urls": a.callback_urls,
            }
            for a in universe.apps
        ],
        "accounts": [_account_view(a) for a in universe.accounts],
        "posts": [_post_view(state, p) for p in universe.posts.values()],
        "spikes": [_spike_view(s) for s in universe.spikes],
        "faults": state.faults.config.to_json() if state.faults.config else None,
    }


def _spike_view(spike: Any) -> dict[str, Any]:
    return {
        "post_id": str(spike.post_id),
        "hour": iso(spike.hour),
        "multiplier": spike.multiplier,
        "hours": spike.hours,
    }


def _reset(state: SimState, request: SimRequest, _: list[str]) -> Any:
    state.reset()
    return {"reset": True, "clock": _clock_view(state)}


def _get_clock(state: SimState, request: SimRequest, _: list[str]) -> Any:
    return _clock_view(state)


def _set_clock(state: SimState, request: SimRequest, _: list[str]) -> Any:
    doc = _body(request)
    if not set(doc) & {"now", "advance_seconds", "mode"}:
        raise AdminError(400, "give now, advance_seconds and/or mode")
    if "now" in doc:
        state.clock.set(parse_time(doc["now"], "now"))
    if "advance_seconds" in doc:
        seconds = doc["advance_seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise AdminError(400, "advance_seconds must be a number")
        state.clock.advance(seconds)
    if "mode" in doc:
        if doc["mode"] == "frozen":
            state.clock.freeze()
        elif doc["mode"] == "running":
            state.clock.resume()
        else:
            raise AdminError(400, "mode must be 'frozen' or 'running'")
    return _clock_view(state)


def _add_account(state: SimState, request: SimRequest, _: list[str]) -> Any:
    account = state.universe.add_account(_body(request))
    state.universe_changed()
    return _account_view(account)


def _patch_account(state: SimState, request: SimRequest, args: list[str]) -> Any:
    account = state.universe.account_by_id(args[0])
    if account is None:
        raise AdminError(404, f"no account {args[0]}")
    doc = _body(request)
    if set(doc) != {"protected"} or not isinstance(doc["protected"], bool):
        raise AdminError(400, 'body must be {"protected": true|false}')
    account.protected = doc["protected"]
    state.universe_changed()
    return _account_view(account)


def _add_post(state: SimState, request: SimRequest, _: list[str]) -> Any:
    """One Post object, or `{"posts": [...]}` to add many with one rebuild of the model."""
    doc = _body(request)
    many = doc.get("posts") if set(doc) == {"posts"} else None
    if many is not None and not isinstance(many, list):
        raise AdminError(400, "posts must be a list of Post objects")
    now = state.now()
    added: list[Post] = []
    try:
        for item in many or [doc]:
            added.append(state.universe.add_post(item, now=now))
    except (UniverseError, TypeError, AttributeError) as error:
        for post in added:  # all or nothing
            del state.universe.posts[post.id]
        raise AdminError(400, f"post {len(added) + 1}: {error}") from None
    state.universe_changed()
    if many is None:
        return _post_view(state, added[0])
    return {"posts": [_post_view(state, p) for p in added]}


def _patch_post(state: SimState, request: SimRequest, args: list[str]) -> Any:
    post = state.universe.posts.get(int(args[0])) if args[0].isdigit() else None
    if post is None:
        raise AdminError(404, f"no Post {args[0]}")
    doc = _body(request)
    if not doc or set(doc) - {"deleted", "protected"}:
        raise AdminError(400, 'body must hold "deleted" and/or "protected"')
    for key, value in doc.items():
        if not isinstance(value, bool):
            raise AdminError(400, f"{key} must be true or false")
        setattr(post, key, value)
    state.universe_changed()
    return _post_view(state, post)


def _list_posts(state: SimState, request: SimRequest, _: list[str]) -> Any:
    author = request.query_value("author")
    posts = list(state.universe.posts.values())
    if author:
        account = state.universe.account(author)
        if account is None:
            raise AdminError(404, f"no account {author}")
        posts = [p for p in posts if p.author == account.user_id]
    return {"posts": [_post_view(state, p) for p in posts]}


def _add_spike(state: SimState, request: SimRequest, _: list[str]) -> Any:
    spike = state.universe.add_spike(_body(request))
    state.universe_changed()
    return _spike_view(spike)


def _list_spikes(state: SimState, request: SimRequest, _: list[str]) -> Any:
    return {"spikes": [_spike_view(s) for s in state.universe.spikes]}


def _clear_spikes(state: SimState, request: SimRequest, _: list[str]) -> Any:
    state.universe.spikes.clear()
    state.universe_changed()
    return {"spikes": []}


def _series(state: SimState, request: SimRequest, _: list[str]) -> Any:
    raw_id = request.query_value("tweet_id") or ""
    post = state.universe.posts.get(int(raw_id)) if raw_id.isdigit() else None
    if post is None:
        raise AdminError(404, f"no Post {raw_id!r}")
    now = state.now()
    metrics = [m for m in (request.query_value("metrics") or "").split(",") if m] or list(
        ALL_METRICS
    )
    unknown = [m for m in metrics if m not in ALL_METRICS]
    if unknown:
        raise AdminError(400, f"unknown metric(s): {', '.join(unknown)}")
    start = _time_arg(request, "start", floor_hour(post.created_at))
    end = min(_time_arg(request, "end", ceil_hour(now)), ceil_hour(now))
    start, end = floor_hour(start), ceil_hour(end)
    hours = max(int((end - start) / timedelta(hours=1)), 0)
    if hours * len(metrics) > MAX_SERIES_VALUES:
        raise AdminError(400, "range too long: narrow start/end or metrics")
    model = state.model
    buckets: dict[str, dict[str, int]] = {}
    for metric in metrics:
        series = buckets[metric] = {}
        for i in range(hours):
            hour = start + timedelta(hours=i)
            if hour < now:
                series[iso(hour)] = model.bucket(post, metric, hour, now)
    lifetime = {m: model.lifetime(post, m, now) for m in metrics}
    return {"tweet_id": str(post.id), "buckets": buckets, "lifetime": lifetime}


def _time_arg(request: SimRequest, name: str, default: datetime) -> datetime:
    value = request.query_value(name)
    if not value:
        return default
    return parse_time(value if "T" in value else value + "T00:00:00Z", name)


def _get_faults(state: SimState, request: SimRequest, _: list[str]) -> Any:
    return state.faults.config.to_json() if state.faults.config else {}


def _put_faults(state: SimState, request: SimRequest, _: list[str]) -> Any:
    config = FaultConfig.from_json(_body(request))
    state.faults.configure(config)
    return config.to_json()


def _clear_faults(state: SimState, request: SimRequest, _: list[str]) -> Any:
    state.faults.configure(None)
    return {}


def _rate_limits_view(state: SimState) -> dict[str, Any]:
    return {
        app.name: {
            e.value: app.rate_limit(e.value, state.options.rate_limit(e.value)) for e in Endpoint
        }
        for app in state.universe.apps
    }


def _get_rate_limits(state: SimState, request: SimRequest, _: list[str]) -> Any:
    return _rate_limits_view(state)


def _put_rate_limits(state: SimState, request: SimRequest, _: list[str]) -> Any:
    doc = _body(request)
    endpoints = {e.value for e in Endpoint}
    for name, limits in doc.items():
        app = state.universe.app_by_name(name)
        if app is None:
            raise AdminError(404, f"no app {name!r}")
        if not isinstance(limits, dict):
            raise AdminError(400, f"limits of {name!r} must be an object")
        for endpoint, value in limits.items():
            if endpoint not in endpoints:
                raise AdminError(400, f"unknown endpoint {endpoint!r}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise AdminError(400, f"{name}.{endpoint} must be a non-negative integer")
        app.rate_limits.update(limits)
    return _rate_limits_view(state)


def _reset_rate_limits(state: SimState, request: SimRequest, args: list[str]) -> Any:
    if args != ["reset"]:
        raise AdminError(404, f"no admin route POST {request.path}")
    state.limiter.reset()
    return {"reset": True}


def _revoke(state: SimState, request: SimRequest, args: list[str]) -> Any:
    if args != ["revoke"]:
        raise AdminError(404, f"no admin route POST {request.path}")
    doc = _body(request)
    if isinstance(doc.get("access_token"), str):
        state.revoked_access_tokens.add(doc["access_token"])
    elif isinstance(doc.get("bearer_token"), str):
        state.revoked_bearer_tokens.add(doc["bearer_token"])
    else:
        raise AdminError(400, 'give {"access_token": t} or {"bearer_token": t}')
    return {"revoked": True}


def _put_options(state: SimState, request: SimRequest, _: list[str]) -> Any:
    state.options = state.options.updated(_body(request))
    options = asdict(state.options)
    options["impressions_age_limit_endpoints"] = sorted(
        state.options.impressions_age_limit_endpoints
    )
    return options


def _requests(state: SimState, request: SimRequest, _: list[str]) -> Any:
    since = request.query_value("since") or "0"
    if not since.isdigit():
        raise AdminError(400, "since must be a whole number")
    entries = [asdict(e) for e in state.request_log if e.n > int(since)]
    return {"requests": entries}


def _clear_requests(state: SimState, request: SimRequest, _: list[str]) -> Any:
    state.request_log.clear()
    return {"requests": []}


def _usage(state: SimState, request: SimRequest, _: list[str]) -> Any:
    months = {}
    for month, users in sorted(state.usage.items()):
        accounts = [state.universe.account_by_id(u) for u in sorted(users)]
        months[month] = {
            "unique_owner_accounts": len(users),
            "accounts": [
                {"user_id": u, "screen_name": a.screen_name if a else None}
                for u, a in zip(sorted(users), accounts, strict=True)
            ],
        }
    return {"months": months}


# (method, first path segment after /_sim/, number of segments) → handler
_ROUTES: dict[tuple[str, str, int], Handler] = {
    ("GET", "state", 1): _state,
    ("POST", "reset", 1): _reset,
    ("GET", "clock", 1): _get_clock,
    ("POST", "clock", 1): _set_clock,
    ("POST", "accounts", 1): _add_account,
    ("PATCH", "accounts", 2): _patch_account,
    ("POST", "posts", 1): _add_post,
    ("PATCH", "posts", 2): _patch_post,
    ("GET", "posts", 1): _list_posts,
    ("POST", "spikes", 1): _add_spike,
    ("GET", "spikes", 1): _list_spikes,
    ("DELETE", "spikes", 1): _clear_spikes,
    ("GET", "series", 1): _series,
    ("GET", "faults", 1): _get_faults,
    ("PUT", "faults", 1): _put_faults,
    ("DELETE", "faults", 1): _clear_faults,
    ("GET", "rate-limits", 1): _get_rate_limits,
    ("PUT", "rate-limits", 1): _put_rate_limits,
    ("POST", "rate-limits", 2): _reset_rate_limits,
    ("POST", "tokens", 2): _revoke,
    ("PUT", "options", 1): _put_options,
    ("GET", "requests", 1): _requests,
    ("DELETE", "requests", 1): _clear_requests,
    ("GET", "usage", 1): _usage,
}
