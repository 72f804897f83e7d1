"""Signed slash commands to a running `engagement-bot run`, and what the fake Slack got back."""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from tests.support.fake_slack import Call, FakeSlack
from tests.support.slack_requests import command_body, signed_headers

ACK_LIMIT_S = 3.0  # Slack gives a command 3 seconds


@dataclass(frozen=True)
class Sent:
    rid: str  # the response_url id
    text: str
    status: int  # the HTTP status of the ack (0: no answer at all)
    ack_s: float


def send(
    bot_url: str,
    fake: FakeSlack,
    rid: str,
    text: str,
    *,
    channel: str = "C0GENERAL",
    session: requests.Session | None = None,
    user: str | None = None,
) -> Sent:
    who = {"user_id": user} if user else {}
    body = command_body(text, response_url=fake.response_url(rid), channel_id=channel, **who)
    started = time.perf_counter()
    try:
        reply = (session or requests).post(
            f"{bot_url}/slack/events", data=body.encode(), headers=signed_headers(body), timeout=10
        )
        status = reply.status_code
    except requests.RequestException:
        status = 0
    return Sent(rid, text, status, time.perf_counter() - started)


def send_all(
    bot_url: str,
    fake: FakeSlack,
    commands: Sequence[tuple[str, str]],
    *,
    channel: str = "C0GENERAL",
    concurrency: int = 8,
) -> list[Sent]:
    """Send (rid, text) commands, `concurrency` at a time; the acks in order."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=concurrency)
    session.mount("http://", adapter)
    with ThreadPoolExecutor(concurrency) as pool:
        return list(
            pool.map(
                lambda c: send(bot_url, fake, c[0], c[1], channel=channel, session=session),
                commands,
            )
        )


def answers(fake: FakeSlack, rids: Iterable[str]) -> dict[str, list[str]]:
    """rid → the JSON bodies the bot POSTed to its response_url and the fake accepted (200)."""
    wanted = set(rids)
    out: dict[str, list[str]] = {rid: [] for rid in wanted}
    for call in fake.calls(kind="response"):
        if call.method in wanted and call.status == 200:
            out[call.method].append(json.dumps(call.body, sort_keys=True))
    return out


def wait_answered(fake: FakeSlack, rids: Sequence[str], *, timeout: float) -> dict[str, list[str]]:
    """Wait until every rid has at least one accepted answer (or `timeout`); the answers."""
    wanted = set(rids)

    def done(calls: list[Call]) -> bool:
        got = {c.method for c in fake.calls(kind="response") if c.status == 200}
        return wanted <= got

    with contextlib.suppress(AssertionError):  # the caller counts what is missing
        fake.wait_for(done, timeout=timeout)
    return answers(fake, rids)


def tally(found: dict[str, list[str]]) -> tuple[int, int, int]:
    """(unanswered, answered, duplicated: the same payload twice to one response_url)."""
    unanswered = sum(1 for bodies in found.values() if not bodies)
    duplicated = sum(1 for bodies in found.values() if any(n > 1 for n in Counter(bodies).values()))
    return unanswered, len(found) - unanswered, duplicated


def texts(fake: FakeSlack, rid: str) -> str:
    """Every string the bot sent to response_url `rid`, joined (for loose checks)."""
    from tests.support.fake_slack import iter_texts

    return " ".join(t for c in fake.calls(rid, kind="response") for t in iter_texts(c.body))
