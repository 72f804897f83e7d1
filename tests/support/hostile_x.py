"""A hostile X on loopback: a tiny HTTP server in front of the simulator that misbehaves on demand.

    pass   forward the request to the simulator and relay its reply byte for byte
    hang   accept the request and never answer
    drip   answer 200 with a long body, one byte every `drip_every` seconds
    429    answer 429 with Retry-After: 900 (and an x-per-minute-reset as far away)

In any mode, `answered` lists (path, status) of every forwarded reply, and `hold_together(n,
path)` makes the requests to a path meet in groups of n before any of them is forwarded (a
barrier): a client sending them one after another breaks it (`broken`) after `patience` s.

Only the far side of the wire is faked: the bot's real HttpEngagementClient talks to it.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

_HOP = {"connection", "transfer-encoding", "content-length", "keep-alive"}


class HostileX:
    def __init__(self, upstream: str, *, mode: str = "pass", drip_every: float = 2.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.mode = mode
        self.drip_every = drip_every
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str]] = []  # (mode, path) of every request
        self.cut = threading.Event()  # set when the client hangs up on a dripping reply
        self.answered: list[tuple[str, int]] = []  # (path, status) of every forwarded reply
        self.gate: tuple[str, threading.Barrier] | None = None
        self.broken = False
        hostile = self

        class Handler(_Handler):
            owner = hostile

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def hold_together(self, count: int, path: str, *, patience: float = 10.0) -> None:
        """From now on, requests to `path` (query string aside) go on in groups of `count`."""
        self.gate = (path, threading.Barrier(count, timeout=patience))

    def paths(self) -> list[str]:
        """The path (query string aside) of every request seen."""
        with self.lock:
            return [p.split("?")[0] for _, p in self.seen]

    def requests_in(self, mode: str) -> int:
        with self.lock:
            return sum(m == mode for m, _ in self.seen)

    def close(self) -> None:
        self.stopped.set()  # hanging and dripping handlers end
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> HostileX:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Handler(BaseHTTPRequestHandler):
    owner: HostileX
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._serve(b"")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        length = int(self.headers.get("Content-Length") or 0)
        self._serve(self.rfile.read(length) if length else b"")

    def _serve(self, body: bytes) -> None:
        owner = self.owner
        mode = owner.mode
        with owner.lock:
            owner.seen.append((mode, self.path))
        if mode == "hang":
            owner.stopped.wait()
            self.close_connection = True
            return
        if mode == "drip":
            self._drip()
            return
        if mode == "429":
            reset = int(time.time()) + 900
            self._reply(
                429,
                b'{"title":"Too Many Requests","detail":"Too Many Requests","status":429}',
                {
                    "Content-Type": "application/json",
                    "Date": self.date_time_string(),
                    "Retry-After": "900",
                    "x-per-minute-reset": str(reset),
                    "x-per-minute-limit": "300",
                    "x-per-minute-remaining": "0",
                },
            )
            return
        self._forward(body)

    def _drip(self) -> None:
        owner = self.owner
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.close_connection = True
        try:
            for _ in range(100000):
                self.wfile.write(b" ")
                self.wfile.flush()
                if owner.stopped.wait(owner.drip_every):
                    return
        except OSError:
            owner.cut.set()

    def _forward(self, body: bytes) -> None:
        gate = self.owner.gate
        if gate is not None and self.path.split("?")[0] == gate[0]:
            try:
                gate[1].wait()
            except threading.BrokenBarrierError:
                self.owner.broken = True
        # Host as the client sent it: the simulator checks an OAuth 1.0a signature against the
        # URL the client signed, which is ours.
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        reply = requests.request(
            self.command,
            self.owner.upstream + self.path,
            headers=headers,
            data=body or None,
            stream=True,
            allow_redirects=False,
            timeout=10,
        )
        raw = reply.raw.read(decode_content=False)
        with self.owner.lock:
            self.owner.answered.append((self.path.split("?")[0], reply.status_code))
        kept = {k: v for k, v in reply.headers.items() if k.lower() not in _HOP}
        self._reply(reply.status_code, raw, kept)

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response_only(status)  # no Date of our own: the simulator's is relayed
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
