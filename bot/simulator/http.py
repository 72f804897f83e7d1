"""Transport-neutral request and response values for the simulator's route handlers.

Handlers are functions `(state, SimRequest) -> SimResponse`; `server.py` turns sockets into
these and back, and applies gzip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

JSON_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class SimRequest:
    method: str
    path: str  # without the query string
    raw_query: str
    headers: Mapping[str, str]  # keys lower-case
    body: bytes
    # scheme://host[:port] as the client addressed us, for OAuth base strings
    base_url: str

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.raw_query, keep_blank_values=True)

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    @property
    def form(self) -> dict[str, list[str]]:
        """The body as a form, when the request says it is one."""
        if "application/x-www-form-urlencoded" not in self.header("content-type").lower():
            return {}
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)


@dataclass
class SimResponse:
    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    # Engagement endpoints gzip everything but the 406 (docs/simulator.md#gzip).
    always_gzip: bool = False
    # Fault injection: close the socket with no reply, or send half the gzipped body.
    reset: bool = False
    truncate: str | None = None  # "bad_gzip" | "short_body"
    hang: bool = False  # read the request, answer nothing until the client hangs up
    drip_s: float | None = None  # send the reply one byte every drip_s seconds

    @classmethod
    def json(cls, status: int, payload: Any, **kwargs: Any) -> SimResponse:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return cls(status, body, JSON_TYPE, **kwargs)

    @classmethod
    def errors(cls, status: int, *messages: str, **kwargs: Any) -> SimResponse:
        """The engagement endpoints' error shape: `{"errors": ["<message>", …]}`."""
        return cls.json(status, {"errors": list(messages)}, **kwargs)

    @classmethod
    def html(cls, status: int, text: str, **kwargs: Any) -> SimResponse:
        return cls(status, text.encode("utf-8"), "text/html; charset=utf-8", **kwargs)

    @classmethod
    def form(cls, status: int, fields: Mapping[str, str], **kwargs: Any) -> SimResponse:
        from urllib.parse import urlencode

        body = urlencode(fields).encode("ascii")
        return cls(status, body, "application/x-www-form-urlencoded", **kwargs)
