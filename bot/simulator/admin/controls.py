"""Routes that steer how the API behaves and show what it saw: faults, rate limits, token
revocation, runtime options, the request log and monthly usage."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bot.engagement.models import Endpoint
from bot.simulator.admin.routing import AdminError, json_body
from bot.simulator.admin.views import options_view, rate_limits_view
from bot.simulator.faults import FaultConfig
from bot.simulator.http import SimRequest
from bot.simulator.state import SimState


def get_faults(state: SimState, request: SimRequest, _: list[str]) -> Any:
    return state.faults.config.to_json() if state.faults.config else {}


def put_faults(state: SimState, request: SimRequest, _: list[str]) -> Any:
    config = FaultConfig.from_json(json_body(request))
    state.faults.configure(config)
    return config.to_json()


def clear_faults(state: SimState, request: SimRequest, _: list[str]) -> Any:
    state.faults.configure(None)
    return {}


def get_rate_limits(state: SimState, request: SimRequest, _: list[str]) -> Any:
    return rate_limits_view(state)


def put_rate_limits(state: SimState, request: SimRequest, _: list[str]) -> Any:
    doc = json_body(request)
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
    return rate_limits_view(state)


def reset_rate_limits(state: SimState, request: SimRequest, args: list[str]) -> Any:
    if args != ["reset"]:
        raise AdminError(404, f"no admin route POST {request.path}")
    state.limiter.reset()
    return {"reset": True}


def revoke(state: SimState, request: SimRequest, args: list[str]) -> Any:
    if args != ["revoke"]:
        raise AdminError(404, f"no admin route POST {request.path}")
    doc = json_body(request)
    if isinstance(doc.get("access_token"), str):
        state.revoked_access_tokens.add(doc["access_token"])
    elif isinstance(doc.get("bearer_token"), str):
        state.revoked_bearer_tokens.add(doc["bearer_token"])
    else:
        raise AdminError(400, 'give {"access_token": t} or {"bearer_token": t}')
    return {"revoked": True}


def put_options(state: SimState, request: SimRequest, _: list[str]) -> Any:
    state.options = state.options.updated(json_body(request))
    return options_view(state)


def request_log(state: SimState, request: SimRequest, _: list[str]) -> Any:
    since = request.query_value("since") or "0"
    if not since.isdigit():
        raise AdminError(400, "since must be a whole number")
    entries = [asdict(e) for e in state.request_log if e.n > int(since)]
    return {"requests": entries}


def clear_request_log(state: SimState, request: SimRequest, _: list[str]) -> Any:
    state.request_log.clear()
    return {"requests": []}


def usage(state: SimState, request: SimRequest, _: list[str]) -> Any:
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
