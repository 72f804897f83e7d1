"""A loopback fake of the Slack Web API, the file upload URL and response_url, for tests.

`FakeSlack()` serves on 127.0.0.1, port 0, in a daemon thread. It records every request it gets
(`Call`: kind, method, headers, parsed body, raw bytes) and answers:

- `POST /api/<method>`: auth.test, chat.postMessage, chat.postEphemeral, conversations.info,
  conversations.history (what chat.postMessage put in the channel, with metadata; replies
  posted with thread_ts are not in it: in non-marketplace mode conversations.replies lists a
  thread, its parent first),
  files.getUploadURLExternal (an upload URL on the fake itself), files.completeUploadExternal,
  users.info (`is_admin`/`is_owner` true for the users in `admins`, `tz` from `zones` when the
  user is in it, user_not_found for `missing`);
  users.info (`is_admin`/`is_owner` true for the users in `admins`, user_not_found for `missing`),
  views.publish / views.open / views.update (`views(method)` lists what they got);
  any other method gets `unknown_method`. A token other than `token` gets `invalid_auth`.
- `POST /upload/<file_id>`: the raw file bytes (kind "upload").
- `POST /response/<id>`: the response_url target for respond() (kind "response").
- Socket Mode: `apps.connections.open` (with `app_token`, not the bot token) answers a ws://
  URL of a real WebSocket server (tests/support/fake_socket.py, started on first use) that
  greets with `hello`; `push(type, payload)` delivers an envelope over it and returns the ack,
  `push_command(text)` a slash command.

Channels: `missing` → channel_not_found; `not_member` → conversations.info says is_member false,
and chat.postMessage / files.completeUploadExternal answer not_in_channel.

Scripted failures: `fail_next("chat.postMessage", status=429, retry_after=1)` (then normal),
`fail_next("files.completeUploadExternal", error="not_in_channel")`, `fail_next(m, status=503)`.
Use "response" as the method to fail the response_url.

Tests wait on what arrived with `wait_for(...)` (a condition with a timeout), never by sleeping.

`FakeSlack(non_marketplace=True, clock=...)` answers as Slack does for a distributed app without
Marketplace approval: conversations.history and conversations.replies are Tier 1, one call per
minute per method and workspace on the fake's own `clock` (epoch seconds; tests drive it), else
429 with `Retry-After: 60`; their pages hold at most 15 messages (`limit` above is cut to 15),
with a `next_cursor` while more remain; `oldest`, `latest` and `inclusive` are honoured.
chat.postMessage gives each message a ts from the clock, and `others_post(...)` adds messages
people post in a channel. `throttled()` lists the 429s it sent (method, team, at).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest

from tests.support.fake_socket import FakeSocketMode

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-1-A0FAKE-fake-app-token"  # Socket Mode's app-level token
TEAM_ID = "T0FAKE"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"


# Every variable slack_bolt / slack_sdk read on their own (grep of their source), the proxies
# slack_sdk would route even loopback calls through, and the project's own SLACK_API_URL.
SLACK_ENVIRONMENT = (
    "SLACK_API_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_BOT_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_INSTALL_PATH",
    "SLACK_REDIRECT_URI",
    "SLACK_REDIRECT_URI_PATH",
    "SLACK_SCOPES",
    "SLACK_SIGNING_SECRET",
    "SLACK_USER_SCOPES",
    "SLACK_VERIFICATION_TOKEN",
    "SLACK_API_URL",
    "SKIP_SLACK_SDK_WARNING",
    "SLACKCLIENT_SKIP_DEPRECATION",
    *(
        p
        for name in ("http", "https", "all", "no")
        for p in (f"{name}_proxy", f"{name.upper()}_PROXY")
    ),
)


def clear_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bolt and slack_sdk read these on their own (with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET
    Bolt ignores the bot token and turns to its OAuth flow; a proxy variable sends even loopback
    calls through the proxy): none may leak in from the developer's shell."""
    for name in SLACK_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@dataclass(frozen=True)
class Call:
    kind: str  # "api" | "upload" | "response"
    method: str  # the API method, the file ID, or the response_url id
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]  # form fields or JSON object; {} for raw uploads
    raw: bytes
    status: int  # what the fake answered


@dataclass(frozen=True)
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None


@dataclass
class FakeSlack:
    token: str = BOT_TOKEN
    missing: set[str] = field(default_factory=set)
    not_member: set[str] = field(default_factory=set)
    admins: set[str] = field(default_factory=set)  # users.info says is_admin and is_owner
    zones: dict[str, str] = field(default_factory=dict)  # users.info's `tz` of these users
    non_marketplace: bool = False  # Tier 1 history with 15-message pages (module docstring)
    clock: Callable[[], float] = time.time  # the non-Marketplace mode's time, epoch seconds
    app_token: str = APP_TOKEN

    def __post_init__(self) -> None:
        self._strict = _StrictHistory(self.clock) if self.non_marketplace else None
        self._cond = threading.Condition()
        self._calls: list[Call] = []
        self._failures: dict[str, list[Failure]] = {}
        self._files = 0
        self._socket: FakeSocketMode | None = None
        fake = self

        class Handler(SlackHandler):
            owner = fake

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-slack"
        )
        self.thread.daemon = True
        self.thread.start()

    # -- addresses --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, id: str = "1") -> str:  # noqa: A002 - Slack's word
        return f"{self.url}/response/{id}"

    def token_for(self, method: str) -> str:
        """apps.connections.open takes the app-level token; every other method the bot's."""
        return self.app_token if method == "apps.connections.open" else self.token

    @property
    def socket_mode(self) -> FakeSocketMode:
        """The Socket Mode WebSocket server, started on first use."""
        with self._cond:
            if self._socket is None:
                self._socket = FakeSocketMode()
            return self._socket

    def push(
        self, envelope_type: str, payload: dict[str, Any], *, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Deliver an envelope over Socket Mode (slash_commands, interactive, events_api); the
        client's ack."""
        return self.socket_mode.push(envelope_type, payload, timeout=timeout)

    def push_command(self, text: str, **fields: Any) -> dict[str, Any]:
        """`/engagement text` over Socket Mode, replying to this fake's response_url."""
        fields.setdefault("response_url", self.response_url())
        return self.socket_mode.push_command(text, **fields)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> FakeSlack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- scripting --------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` fail: HTTP `status` (429 → ratelimited with
        Retry-After), or 200 with `{"ok": false, "error": error}`."""
        if status == 429:
            error = error or "ratelimited"
            retry_after = 1 if retry_after is None else retry_after
        with self._cond:
            self._failures.setdefault(method, []).extend(
                [Failure(status, error, retry_after)] * times
            )

    def others_post(
        self, channel: str, count: int, *, every: float = 1.0, start: float | None = None
    ) -> list[str]:
        """`count` messages by people in `channel`, `every` seconds apart from `start` (epoch
        seconds; default the clock's now) (non-Marketplace mode); their ts."""
        assert self._strict is not None, "others_post needs FakeSlack(non_marketplace=True)"
        start = self.clock() if start is None else start
        return [
            self._strict.add(
                channel, {"text": f"chatter {n}"}, user="U0PERSON", at=start + n * every
            )
            for n in range(count)
        ]

    def channel_messages(self, channel: str) -> list[dict[str, Any]]:
        """What is in `channel` in non-Marketplace mode, oldest first (the bot's have its
        user id, BOT_USER_ID)."""
        if self._strict is None:
            return []
        with self._strict.lock:
            return [dict(m) for m in self._strict.channels.get(channel, [])]

    def throttled(self) -> list[tuple[str, str, float]]:
        """The 429s the non-Marketplace mode sent: (method, team, clock time)."""
        return list(self._strict.throttled) if self._strict is not None else []

    def tier1_log(self) -> list[tuple[str, str, float, bool]]:
        """Every Tier 1 call in non-Marketplace mode: (method, team, clock time, admitted)."""
        return list(self._strict.log) if self._strict is not None else []

    def unhonoured_429s(self) -> list[tuple[str, str, float]]:
        """429s after which the same method and workspace was called again before its
        Retry-After had passed."""
        log = self.tier1_log()
        out = []
        for n, (method, team, at, admitted) in enumerate(log):
            if admitted:
                continue
            after = [c for c in log[n + 1 :] if c[:2] == (method, team)]
            if after and after[0][2] < at + TIER1_RETRY_AFTER:
                out.append((method, team, at))
        return out

    # -- what arrived -----------------------------------------------------------------------------

    def calls(self, method: str | None = None, *, kind: str | None = None) -> list[Call]:
        with self._cond:
            return [
                c
                for c in self._calls
                if (method is None or c.method == method) and (kind is None or c.kind == kind)
            ]

    def api_calls(self, method: str | None = None) -> list[Call]:
        return self.calls(method, kind="api")

    def responses(self, id: str | None = None) -> list[dict[str, Any]]:  # noqa: A002
        """The JSON payloads POSTed to response_url(id) (any id when None), in order."""
        return [c.body for c in self.calls(id, kind="response") if c.status == 200]

    def wait_for(
        self, predicate: Callable[[list[Call]], bool], *, timeout: float = 10.0
    ) -> list[Call]:
        """Block until predicate(all calls so far) holds; AssertionError after `timeout`."""
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(list(self._calls)), timeout=timeout):
                raise AssertionError(
                    f"fake Slack: condition not met in {timeout} s; calls were "
                    f"{[(c.kind, c.method, c.status) for c in self._calls]}"
                )
            return list(self._calls)

    def wait_for_responses(self, n: int = 1, *, timeout: float = 10.0) -> list[dict[str, Any]]:
        self.wait_for(
            lambda calls: sum(c.kind == "response" and c.status == 200 for c in calls) >= n,
            timeout=timeout,
        )
        return self.responses()

    # -- serving (called by the handler thread) ---------------------------------------------------

    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _take_failure(self, method: str) -> Failure | None:
        with self._cond:
            queue = self._failures.get(method)
            return queue.pop(0) if queue else None

    def _next_file_id(self) -> str:
        with self._cond:
            self._files += 1
            return f"F{self._files:05d}"

    def _channel_error(self, channel: str, *, needs_membership: bool) -> str | None:
        if not channel or channel in self.missing:
            return "channel_not_found"
        if needs_membership and channel in self.not_member:
            return "not_in_channel"
        return None

    def _history(self, channel: str) -> dict[str, Any]:
        """The messages chat.postMessage put in `channel`, newest first, with their metadata."""
        if error := self._channel_error(channel, needs_membership=True):
            return {"ok": False, "error": error}
        posted = [  # replies in a thread are not in the channel's history
            c.body
            for c in self.api_calls("chat.postMessage")
            if c.status == 200 and c.body.get("channel") == channel and not c.body.get("thread_ts")
        ]
        messages = [
            {"type": "message", "ts": "1790000000.000100", "text": body.get("text", "")}
            | ({"metadata": body["metadata"]} if body.get("metadata") else {})
            for body in reversed(posted)
        ]
        return {"ok": True, "messages": messages, "has_more": False}

    def answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """The JSON reply for an API method that did not fail on purpose."""
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_mode.url()}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.test/",
                "team": "Fake",
                "user": "engagement-bot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
        if method == "chat.postMessage":
            channel = str(body.get("channel", ""))
            if error := self._channel_error(channel, needs_membership=True):
                return {"ok": False, "error": error}
            if self._strict is not None:
                ts = self._strict.add(channel, body, user=BOT_USER_ID)
                return {"ok": True, "channel": channel, "ts": ts, "message": body}
            return {"ok": True, "channel": channel, "ts": "1790000000.000100", "message": body}
        if method in ("conversations.history", "conversations.replies") and self._strict:
            channel = str(body.get("channel", ""))
            if error := self._channel_error(channel, needs_membership=True):
                return {"ok": False, "error": error}
            return self._strict.page(method, channel, body)
        if method == "conversations.history":
            return self._history(str(body.get("channel", "")))
        if method == "chat.postEphemeral":
            if error := self._channel_error(str(body.get("channel", "")), needs_membership=False):
                return {"ok": False, "error": error}
            return {"ok": True, "message_ts": "1790000000.000200"}
        if method == "conversations.info":
            channel = str(body.get("channel", ""))
            if error := self._channel_error(channel, needs_membership=False):
                return {"ok": False, "error": error}
            return {
                "ok": True,
                "channel": {"id": channel, "is_member": channel not in self.not_member},
            }
        if method == "users.info":
            user = str(body.get("user", ""))
            if not user or user in self.missing:
                return {"ok": False, "error": "user_not_found"}
            admin = user in self.admins
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "team_id": TEAM_ID,
                    "is_admin": admin,
                    "is_owner": admin,
                    "is_primary_owner": False,
                }
                | ({"tz": self.zones[user]} if user in self.zones else {}),
            }
        if method == "files.getUploadURLExternal":
            file_id = self._next_file_id()
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            channel = str(body.get("channel_id", ""))
            if error := self._channel_error(channel, needs_membership=True):
                return {"ok": False, "error": error}
            files = json.loads(body["files"]) if isinstance(body.get("files"), str) else []
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        if method in VIEW_METHODS:
            return self._view(method, body)
        return {"ok": False, "error": "unknown_method"}

    def _view(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """views.publish (user_id), views.open (trigger_id), views.update (view_id): the view
        must be JSON (a string when form-encoded) with a type; it is echoed with an id."""
        raw = body.get("view")
        try:
            view = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            view = None
        if not isinstance(view, dict) or "type" not in view:
            return {"ok": False, "error": "invalid_arguments"}
        needs = {"views.publish": "user_id", "views.open": "trigger_id", "views.update": "view_id"}
        if not body.get(needs[method]):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": {"id": f"V{self._next_file_id()[1:]}", **view}}

    def views(self, method: str = "views.publish") -> list[dict[str, Any]]:
        """The views sent with `method` that Slack accepted, in order, with who they were for
        (`_user_id` / `_trigger_id`)."""
        out = []
        for call in self.api_calls(method):
            if call.status != 200:
                continue
            raw = call.body.get("view")
            view = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
            view["_user_id"] = call.body.get("user_id")
            view["_trigger_id"] = call.body.get("trigger_id")
            out.append(view)
        return out


VIEW_METHODS = ("views.publish", "views.open", "views.update")
TIER1 = ("conversations.history", "conversations.replies")
TIER1_PER_MINUTE = 1
TIER1_RETRY_AFTER = 60
TIER1_PAGE = 15


def _micros(ts: str) -> int:
    """A ts ("seconds.micros") as an exact integer, for ordering and comparing."""
    seconds, _, fraction = ts.partition(".")
    return int(seconds) * 10**6 + int((fraction + "000000")[:6])


class _StrictHistory:
    """The non-Marketplace mode's channels and Tier 1 budget (see the module docstring)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.channels: dict[str, list[dict[str, Any]]] = {}  # oldest first
        self.calls: dict[tuple[str, str], list[float]] = {}  # (method, team) → admitted at
        self.throttled: list[tuple[str, str, float]] = []
        self.log: list[tuple[str, str, float, bool]] = []  # (method, team, at, admitted)
        self.last = 0

    def admit(self, method: str, team: str) -> bool:
        if method not in TIER1:
            return True
        now = self.clock()
        with self.lock:
            recent = [t for t in self.calls.get((method, team), []) if now - t < 60]
            admitted = len(recent) < TIER1_PER_MINUTE
            self.log.append((method, team, now, admitted))
            if not admitted:
                self.throttled.append((method, team, now))
                return False
            self.calls[(method, team)] = [*recent, now]
            return True

    def add(self, channel: str, body: dict[str, Any], *, user: str, at: float | None = None) -> str:
        with self.lock:
            micros = max(round((self.clock() if at is None else at) * 10**6), self.last + 1)
            self.last = micros
            ts = f"{micros // 10**6}.{micros % 10**6:06d}"
            message = {"type": "message", "user": user, "ts": ts, "text": body.get("text", "")}
            if body.get("metadata"):
                message["metadata"] = body["metadata"]
            if body.get("thread_ts"):
                message["thread_ts"] = str(body["thread_ts"])
            messages = self.channels.setdefault(channel, [])
            messages.append(message)
            messages.sort(key=lambda m: _micros(m["ts"]))
        return ts

    def page(self, method: str, channel: str, body: dict[str, Any]) -> dict[str, Any]:
        inclusive = str(body.get("inclusive", "")).lower() in ("1", "true")
        oldest = _micros(str(body.get("oldest") or "0"))
        latest = _micros(str(body["latest"])) if body.get("latest") else None
        parent = str(body.get("ts") or "")

        def inside(ts: int) -> bool:
            above = ts >= oldest if inclusive else ts > oldest
            below = latest is None or (ts <= latest if inclusive else ts < latest)
            return above and below

        def listed(message: dict[str, Any]) -> bool:
            """history: the channel's messages, not replies; replies: the thread's parent
            first, then its replies in the window (oldest first, as Slack lists them)."""
            thread = message.get("thread_ts")
            if method == "conversations.replies":
                return message["ts"] == parent or (
                    thread == parent and inside(_micros(message["ts"]))
                )
            return (thread is None or thread == message["ts"]) and inside(_micros(message["ts"]))

        with self.lock:
            ordered = self.channels.get(channel, [])
            if method == "conversations.history":
                ordered = list(reversed(ordered))
            found = [m for m in ordered if listed(m)]
        limit = min(int(body.get("limit") or TIER1_PAGE), TIER1_PAGE)
        start = int(str(body.get("cursor") or "offset:0").partition(":")[2] or 0)
        messages = found[start : start + limit]
        more = start + limit < len(found)
        reply: dict[str, Any] = {"ok": True, "messages": messages, "has_more": more}
        reply["response_metadata"] = {"next_cursor": f"offset:{start + limit}" if more else ""}
        return reply


class SlackHandler(BaseHTTPRequestHandler):
    owner: FakeSlack
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        kind, _, name = self.path.lstrip("/").partition("/")
        fake = self.owner
        if kind == "upload":
            self._reply(kind, name, headers, {}, raw, 200, b"OK - %d" % len(raw), "text/plain")
            return
        body = parse_body(raw, headers.get("content-type", ""))
        failure = fake._take_failure(name if kind == "api" else kind)
        if kind == "response":
            status = failure.status if failure and failure.status != 200 else 200
            self._reply(kind, name, headers, body, raw, status, b"ok", "text/html")
            return
        if kind != "api":
            self._reply(kind, name, headers, body, raw, 404, b"not found", "text/plain")
            return
        extra: dict[str, str] = {}
        if failure is not None and failure.status >= 500:
            self._reply(kind, name, headers, body, raw, failure.status, b"oops", "text/plain")
            return
        if failure is not None:
            status, reply = failure.status, {"ok": False, "error": failure.error}
            if failure.retry_after is not None:
                extra["Retry-After"] = str(failure.retry_after)
        elif headers.get("authorization") != f"Bearer {fake.token_for(name)}":
            status, reply = 200, {"ok": False, "error": "invalid_auth"}
        elif fake._strict is not None and not fake._strict.admit(name, TEAM_ID):
            status, reply = 429, {"ok": False, "error": "ratelimited"}
            extra["Retry-After"] = str(TIER1_RETRY_AFTER)
        else:
            status, reply = 200, fake.answer(name, body)
        data = json.dumps(reply).encode()
        self._reply(kind, name, headers, body, raw, status, data, "application/json", extra)

    def _reply(
        self,
        kind: str,
        name: str,
        headers: dict[str, str],
        body: dict[str, Any],
        raw: bytes,
        status: int,
        data: bytes,
        content_type: str,
        extra: dict[str, str] | None = None,
    ) -> None:
        # Record before answering: once a client call returns, its record is there to assert on.
        self.owner._record(Call(kind, name, headers, body, raw, status))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name_, value in (extra or {}).items():
            self.send_header(name_, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            parsed = json.loads(text) if text else {}
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return dict(parse_qsl(text, keep_blank_values=True))


def iter_texts(payload: dict[str, Any]) -> Iterator[str]:
    """Every string in a message payload (text and block texts), for loose assertions."""
    stack: list[Any] = [payload]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
