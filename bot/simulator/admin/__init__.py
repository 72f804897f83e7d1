"""The test-only admin interface `/_sim/` (docs/simulator.md#admin-interface): state, clock,
universe edits, ground truth, faults, rate limits, revocation, options, the request log and usage.

Enabled only in `test` and `demo` modes; plain JSON, never rate-limited or faulted.

    routing   the handler signature, AdminError, the JSON body
    views     objects as JSON
    world     state, reset, clock; accounts, Posts and spikes
    truth     a Post's series from the model; the Posts a recent search matches
    controls  faults, rate limits, revocation, options, request log, usage
"""

from __future__ import annotations

import hmac

from bot.simulator.admin import controls, truth, world
from bot.simulator.admin.routing import AdminError, Handler
from bot.simulator.faults import FaultConfigError
from bot.simulator.http import SimRequest, SimResponse
from bot.simulator.state import OptionError, SimState
from bot.simulator.universe import UniverseError


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


# (method, first path segment after /_sim/, number of segments) → handler
_ROUTES: dict[tuple[str, str, int], Handler] = {
    ("GET", "state", 1): world.snapshot,
    ("POST", "reset", 1): world.reset,
    ("GET", "clock", 1): world.get_clock,
    ("POST", "clock", 1): world.set_clock,
    ("POST", "accounts", 1): world.add_account,
    ("PATCH", "accounts", 2): world.patch_account,
    ("POST", "posts", 1): world.add_post,
    ("PATCH", "posts", 2): world.patch_post,
    ("GET", "posts", 1): world.list_posts,
    ("POST", "spikes", 1): world.add_spike,
    ("GET", "spikes", 1): world.list_spikes,
    ("DELETE", "spikes", 1): world.clear_spikes,
    ("GET", "series", 1): truth.series,
    ("GET", "search", 1): truth.search,
    ("GET", "faults", 1): controls.get_faults,
    ("PUT", "faults", 1): controls.put_faults,
    ("DELETE", "faults", 1): controls.clear_faults,
    ("GET", "rate-limits", 1): controls.get_rate_limits,
    ("PUT", "rate-limits", 1): controls.put_rate_limits,
    ("POST", "rate-limits", 2): controls.reset_rate_limits,
    ("POST", "tokens", 2): controls.revoke,
    ("PUT", "options", 1): controls.put_options,
    ("GET", "requests", 1): controls.request_log,
    ("DELETE", "requests", 1): controls.clear_request_log,
    ("GET", "usage", 1): controls.usage,
}
