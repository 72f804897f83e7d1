"""Slack's Socket Mode side, for the loopback fake Slack: a real WebSocket server (the
`websockets` package, sync API) on 127.0.0.1, port 0.

`apps.connections.open` on the fake hands out `url()` (ws://127.0.0.1:<port>/link/?ticket=N).
A client that connects is greeted with Slack's `hello`; each text frame it sends is an ack
({"envelope_id": …, "payload": …?}), recorded. `push(type, payload)` sends an envelope of that
type ("slash_commands", "interactive", "events_api") to the connected client and returns its
ack (AssertionError when none comes within the timeout), the way Slack delivers requests in
Socket Mode; `push_command(text)` builds a slash command's payload first.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

APP_ID = "A0FAKE"


class FakeSocketMode:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._connections: list[ServerConnection] = []
        self._acks: dict[str, dict[str, Any]] = {}
        self._tickets = itertools.count(1)
        self.envelopes: list[dict[str, Any]] = []  # what was pushed, in order
        self.connected_paths: list[str] = []  # each connection's request path
        self.server: Server = serve(self._session, "127.0.0.1", 0)
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="fake-slack-socket", daemon=True
        )
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.socket.getsockname()[1])

    def url(self) -> str:
        """A fresh connection URL, as apps.connections.open answers each time."""
        return f"ws://127.0.0.1:{self.port}/link/?ticket={next(self._tickets)}"

    def close(self) -> None:
        with self._cond:
            connections = list(self._connections)
        for connection in connections:
            connection.close()
        self.server.shutdown()
        self.thread.join(timeout=5)

    # -- what tests do ----------------------------------------------------------------------------

    def wait_connected(self, timeout: float = 10.0) -> ServerConnection:
        with self._cond:
            if not self._cond.wait_for(lambda: self._connections, timeout=timeout):
                raise AssertionError("no Socket Mode client connected")
            return self._connections[-1]

    def push(
        self, envelope_type: str, payload: dict[str, Any], *, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Deliver one envelope to the connected client; its ack, once it comes."""
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": envelope_type != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        connection = self.wait_connected(timeout)
        with self._cond:
            self.envelopes.append(envelope)
        connection.send(json.dumps(envelope))
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, timeout=timeout):
                raise AssertionError(f"no ack for the {envelope_type} envelope in {timeout}s")
            return self._acks[envelope_id]

    def push_command(
        self,
        text: str,
        *,
        response_url: str,
        user_id: str = "U0ALICE",
        channel_id: str = "C0CHAN",
        team_id: str = "T0FAKE",
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        payload = {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "team_domain": "fake",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/engagement",
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": f"{int(time.time())}.trigger",
        }
        return self.push("slash_commands", payload, timeout=timeout)

    # -- the server side -------------------------------------------------------------------------

    def _session(self, connection: ServerConnection) -> None:
        with self._cond:
            self._connections.append(connection)
            self.connected_paths.append(connection.request.path if connection.request else "")
            self._cond.notify_all()
        hello = {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
            "connection_info": {"app_id": APP_ID},
        }
        try:
            connection.send(json.dumps(hello))
            for frame in connection:
                ack = json.loads(frame)
                if isinstance(ack, dict) and isinstance(ack.get("envelope_id"), str):
                    with self._cond:
                        self._acks[ack["envelope_id"]] = ack
                        self._cond.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                self._connections.remove(connection)
                self._cond.notify_all()
