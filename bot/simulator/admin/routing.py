"""What every admin route shares: the handler's signature, the error that becomes its reply,
and the JSON object it reads from the request body."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.simulator.http import SimRequest
from bot.simulator.state import SimState


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# A route's handler: the state, the request and the path segments after the route's name.
Handler = Callable[[SimState, SimRequest, list[str]], Any]


def json_body(request: SimRequest) -> dict[str, Any]:
    try:
        doc = json.loads(request.body or b"{}")
    except ValueError:
        raise AdminError(400, "body must be JSON") from None
    if not isinstance(doc, dict):
        raise AdminError(400, "body must be a JSON object")
    return doc
