"""Reply bodies: read up to a size cap and by a due time, inflated, decoded as JSON.

A reply is read in chunks so that a flood stops at MAX_BODY_BYTES and a body drip-fed past
its due time is cut (an alarm shuts the socket under the blocked read). What cannot be read
becomes an EngagementAPIError with a secret-free message, or None when the status says enough.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import zlib

import requests

from bot.engagement.deadline import ALARM
from bot.engagement.models import RateLimitInfo
from bot.errors import TransportError, UnexpectedResponse

# The largest reply body read (after gzip): X's biggest documented reply is a few MB; a bigger
# one is refused rather than held in memory.
MAX_BODY_BYTES = 32 << 20
_CHUNK = 64 << 10


class TooLarge(ValueError):
    """An inflated body passed MAX_BODY_BYTES."""


class Overdue(Exception):
    """The reply was still arriving when it was due."""


def read_body(response: requests.Response, label: str, *, due: float | None = None) -> bytes:
    """The (gzip-decoded) body; UnexpectedResponse once it passes MAX_BODY_BYTES, Overdue
    when it is not all in by the monotonic instant `due`: the connection is cut then, which
    ends a read that each trickling byte would otherwise keep alive."""
    cut = threading.Event()

    def cut_off() -> None:
        cut.set()
        _shut(response)

    alarm = ALARM.at(due, cut_off) if due is not None else None
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise too_large(label, response.status_code)
            chunks.append(chunk)
    except (requests.RequestException, OSError):
        if cut.is_set():
            raise Overdue from None
        raise
    finally:
        if alarm is not None:
            ALARM.cancel(alarm)
    if cut.is_set():
        raise Overdue  # cut just as the last bytes came: they may be short
    return b"".join(chunks)


def _shut(response: requests.Response) -> None:
    """Shut the reply's socket from another thread: a recv blocked on it returns at once
    (closing it would not wake it)."""
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):  # already closed: nothing is reading it
            sock.shutdown(socket.SHUT_RDWR)
    else:
        response.close()


def preload(response: requests.Response, label: str) -> requests.Response:
    """A response hook: the body read now, up to MAX_BODY_BYTES (requests then keeps it)."""
    response._content = read_body(response, label)
    return response


def too_large(label: str, status: int) -> UnexpectedResponse:
    """Not a TransportError: asking again would only fetch the same flood."""
    limit = MAX_BODY_BYTES >> 20
    return UnexpectedResponse(
        f"{label}: the reply is larger than {limit} MB", status=status, endpoint=label
    )


def _gunzip(raw: bytes) -> bytes:
    """One gzip member, inflated a chunk at a time up to MAX_BODY_BYTES (a bomb of a few KB
    must not fill memory)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    parts: list[bytes] = []
    size = 0
    while raw and not inflater.eof:
        part = inflater.decompress(raw, _CHUNK)
        raw = inflater.unconsumed_tail
        size += len(part)
        if size > MAX_BODY_BYTES:
            raise TooLarge
        parts.append(part)
    if not inflater.eof:
        raise EOFError("truncated gzip")
    return b"".join(parts)


def decode(
    response: requests.Response,
    raw: bytes,
    label: str,
    info: RateLimitInfo,
    *,
    required: bool | None = None,
) -> object:
    """The body as JSON. An undecodable body is a TransportError (worth asking again) for a
    2xx, and for a 4xx that says it is JSON: X's 400s and 403s are told apart by their text
    (protected or foreign Posts), so one cut off in transit must not pass for a final
    refusal. Other bodies (a proxy's error page, a 429, a 5xx) are None: the status says
    enough."""
    if required is None:
        status = response.status_code
        claims_json = "json" in response.headers.get("Content-Type", "").lower()
        required = 200 <= status < 300 or (400 <= status < 500 and status != 429 and claims_json)
    must_parse = required
    try:
        if raw[:2] == b"\x1f\x8b":  # gzip that the headers did not announce
            raw = _gunzip(raw)
        return json.loads(raw)
    except TooLarge:
        if not must_parse:
            return None
        raise too_large(label, response.status_code) from None
    except (ValueError, OSError, EOFError, zlib.error, RecursionError) as exc:
        if not must_parse:
            return None
        raise TransportError(
            f"{label}: undecodable body ({type(exc).__name__})",
            status=response.status_code,
            endpoint=label,
            rate_limit=info,
        ) from None
