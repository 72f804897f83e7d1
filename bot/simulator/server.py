"""The simulator's HTTP server on loopback: routing, gzip, the Date header, and start-up.

`start_simulator(...)` runs it in a background thread (port 0 by default) for tests, the console
and the demo; `engagement-bot simulator` runs it in the foreground.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bot.engagement.log_filters import OAUTH1_LOGGERS, drop_debug_records
from bot.engagement.models import Endpoint
from bot.simulator import admin, endpoints, oauth_flow, v2, v2_search
from bot.simulator.clock import SimClock, real_now
from bot.simulator.faults import FaultConfig
from bot.simulator.http import SimRequest, SimResponse
from bot.simulator.seeded_universe import default_universe
from bot.simulator.state import MODES, RuntimeOptions, SimState
from bot.simulator.universe import Universe, load_universe

log = logging.getLogger(__name__)

ENGAGEMENT_PATHS = {e.path: e for e in Endpoint}
_STATUSES = {s.value for s in HTTPStatus}
# A hanging fault lets go of a client that never hangs up after this long.
HANG_LIMIT_S = 600


@dataclass(frozen=True)
class SimulatorConfig:
    """Start-up options of docs/simulator.md#options (the runtime ones live in RuntimeOptions)."""

    host: str = "127.0.0.1"
    port: int = 0
    mode: str = "normal"
    seed: int | None = None
    universe: str | None = None  # path of a universe JSON file
    clock: str | None = None  # "real" | "sim"; default by mode
    start_time: datetime | None = None
    frozen: bool | None = None  # default by mode
    public_base_url: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    admin_key: str | None = None
    faults: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)


def build_state(config: SimulatorConfig) -> SimState:
    """The simulator's state for a config; raises ValueError subclasses on bad options."""
    if config.mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    factory = _universe_factory(config)
    universe = factory()
    kind = config.clock or ("real" if config.mode == "normal" else "sim")
    frozen = config.frozen if config.frozen is not None else config.mode == "test"
    state = SimState(
        universe_factory=factory,
        universe=universe,
        clock=SimClock(kind=kind, start=universe.start_time, frozen=frozen),
        mode=config.mode,
        options=RuntimeOptions().updated(config.options),
        public_base_url=config.public_base_url,
        admin_key=config.admin_key,
    )
    if config.faults is not None:
        state.faults.configure(FaultConfig.from_json(config.faults))
    return state


def _universe_factory(config: SimulatorConfig) -> Callable[[], Universe]:
    start = config.start_time or real_now().replace(microsecond=0)
    if config.universe is None:
        seed = config.seed if config.seed is not None else 1
        return lambda: default_universe(seed=seed, start_time=start)
    doc = json.loads(Path(config.universe).read_text(encoding="utf-8"))
    file_start = config.start_time
    if file_start is None and "start_time" not in doc:
        file_start = start
    return lambda: load_universe(doc, seed=config.seed, start_time=file_start)


def route(state: SimState, request: SimRequest) -> SimResponse:
    """Pick the handler for a request (docs/simulator.md#endpoints)."""
    path, method = request.path, request.method
    endpoint = ENGAGEMENT_PATHS.get(path)
    if endpoint is not None:
        if method != "POST":
            return endpoints.method_not_allowed(state, endpoint)
        return endpoints.handle(state, request, endpoint)
    if path == "/_sim" or path.startswith("/_sim/"):
        return admin.handle(state, request)
    post_routes: dict[str, Callable[[SimState, SimRequest], SimResponse]] = {
        "/oauth2/token": oauth_flow.token,
        "/oauth/request_token": oauth_flow.request_token,
        "/oauth/access_token": oauth_flow.access_token,
    }
    if path in post_routes:
        if method != "POST":
            return SimResponse.errors(405, "Method not allowed", headers={"Allow": "POST"})
        return post_routes[path](state, request)
    if method == "GET":
        if path in ("/oauth/authorize", "/oauth/authenticate"):
            return oauth_flow.authorize(state, request)
        if path == "/2/tweets":
            return v2.lookup_posts(state, request)
        if path == "/2/tweets/search/recent":
            return v2_search.search_recent(state, request)
        parts = path.split("/")
        if len(parts) == 5 and parts[:3] == ["", "2", "users"] and parts[4] == "tweets":
            return v2.user_posts(state, request, parts[3])
        if len(parts) == 6 and parts[:5] == ["", "2", "users", "by", "username"]:
            return v2.user_by_username(state, request, parts[5])
    return SimResponse.errors(404, "Not found")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.address_string(), format % args)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > endpoints.MAX_BODY_BYTES + 1024:
            body = b"x" * (endpoints.MAX_BODY_BYTES + 1)  # too big: answer 400, then hang up
            self.close_connection = True
        else:
            body = self.rfile.read(length) if length > 0 else b""
        path, _, query = self.path.partition("?")
        scheme = "https" if self.server.tls else "http"
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        request = SimRequest(
            method=self.command,
            path=path,
            raw_query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            base_url=f"{scheme}://{host}",
        )
        state = self.server.state
        try:
            response = route(state, request)
        except Exception:
            log.exception("simulator error on %s %s", self.command, path)
            response = SimResponse.errors(500, "internal server error")
        self._send(response, request, state.now())

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

    def _send(self, response: SimResponse, request: SimRequest, now: datetime) -> None:
        if response.reset:
            self._reset_connection()
            return
        if response.hang:
            self._hang()
            return
        body = response.body
        gzipped = response.always_gzip or endpoints.accepts_gzip(request.header("accept-encoding"))
        if gzipped and response.status != 406:
            body = gzip.compress(body, compresslevel=5, mtime=0)
        full_length = len(body)
        if response.truncate:
            body = body[: len(body) // 2]
        headers = {
            "Date": format_datetime(now.astimezone(UTC), usegmt=True),
            "Content-Type": response.content_type,
            **({"Content-Encoding": "gzip"} if gzipped and response.status != 406 else {}),
            **response.headers,
        }
        short = response.truncate == "short_body"
        headers["Content-Length"] = str(full_length if short else len(body))
        if short or self.close_connection:
            headers["Connection"] = "close"
            self.close_connection = True
        self.log_request(response.status)
        reason = HTTPStatus(response.status).phrase if response.status in _STATUSES else ""
        head = f"{self.protocol_version} {response.status} {reason}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        # Headers and body leave in one write: two small writes would meet Nagle's algorithm
        # and the peer's delayed ACK and cost ~40 ms a response.
        payload = head.encode("latin-1") + b"\r\n" + (b"" if self.command == "HEAD" else body)
        if response.drip_s is not None:
            self._drip(payload, len(payload) - len(body), response.drip_s)
            return
        self.wfile.write(payload)

    def _hang(self) -> None:
        """Answer nothing; return once the client hangs up (or after HANG_LIMIT_S)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.settimeout(HANG_LIMIT_S)
            while self.connection.recv(1024):
                pass

    def _drip(self, payload: bytes, head: int, every: float) -> None:
        """The headers at once, then the body a byte every `every` seconds (the drip fault)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.write(payload[:head])
            for i in range(head, len(payload)):
                time.sleep(every)  # real time, like injected latency
                self.wfile.write(payload[i : i + 1])

    def _reset_connection(self) -> None:
        """Close with an RST and no response, as a dropped connection looks (the reset fault)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: SimState, tls: ssl.SSLContext | None):
        super().__init__(address, _Handler)
        self.state = state
        self.tls = tls
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)


@dataclass
class RunningSimulator:
    """A simulator serving in a background thread."""

    server: _Server
    thread: threading.Thread
    state: SimState

    @property
    def url(self) -> str:
        host, port = str(self.server.server_address[0]), int(self.server.server_address[1])
        scheme = "https" if self.server.tls else "http"
        return f"{scheme}://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def make_server(config: SimulatorConfig) -> _Server:
    # oauthlib prints the base strings it verifies (tokens in them) at DEBUG.
    drop_debug_records(OAUTH1_LOGGERS)
    state = build_state(config)
    tls = None
    if config.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(config.tls_cert, config.tls_key)
    return _Server((config.host, config.port), state, tls)


def serve_in_background(config: SimulatorConfig) -> RunningSimulator:
    server = make_server(config)
    thread = threading.Thread(target=server.serve_forever, name="x-simulator", daemon=True)
    thread.start()
    return RunningSimulator(server, thread, server.state)


@contextmanager
def start_simulator(**options: Any) -> Iterator[RunningSimulator]:
    """Run a simulator for the duration of a `with` block, e.g. start_simulator(mode="test")."""
    running = serve_in_background(SimulatorConfig(**options))
    try:
        yield running
    finally:
        running.stop()
