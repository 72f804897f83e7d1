"""Slash-command ack latency of `engagement-bot run` in HTTP mode while X is slow.

    .venv/bin/python bench/ack_latency.py

Starts the simulator (500 ms of latency on every engagement request) and the bot, each in its
own process, plus a loopback fake of the Slack Web API here. Sends 200 signed `/engagement`
commands for 200 different Posts, 20 at a time, and measures how long the bot takes to answer
Slack's HTTP request (the ack), then waits until every command has been answered through its
response_url. Prints p50/p99 ack latency (aim: p99 < 300 ms: the ack never waits for X).

Then the same for interactivity: 200 button presses (Show hourly, which asks X, alternating
with Snooze 2h) and 200 view submissions (the Digest settings modal, saved), 20 at a time.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.fake_slack import BOT_TOKEN, FakeSlack  # noqa: E402 - a loopback fake, as in the tests
from tests.support.slack_requests import (  # noqa: E402
    SIGNING_SECRET,
    command_body,
    interaction_body,
    signed_headers,
)

COMMANDS = 200
CONCURRENCY = 20
PRESSES = 200
SUBMISSIONS = 200
USER = "U0ALICE"  # in ENGAGEMENT_ADMINS: the settings changes are allowed


def press(i: int, post: str, response_url: str) -> str:
    """Show hourly on an alert (asks X) for even i, Snooze 2h for odd i."""
    action = (
        {"action_id": "alert_show_hourly:0", "value": post}
        if i % 2 == 0
        else {"action_id": "alert_snooze_2h", "value": "2"}
    )
    return interaction_body(
        {
            "type": "block_actions",
            "user": {"id": USER},
            "team": {"id": "T0FAKE"},
            "channel": {"id": f"C{i:05d}"},
            "container": {"type": "message", "message_ts": f"1790000000.{i:06d}"},
            "response_url": response_url,
            "trigger_id": f"1.2.{i}",
            "actions": [{**action, "block_id": "alert_actions", "action_ts": "1.0"}],
        }
    )


def submission(i: int) -> str:
    """The Digest settings modal of channel i, submitted: on, 08:30, Europe/Paris."""
    values = {
        "digest_on": {"value": {"type": "radio_buttons", "selected_option": {"value": "on"}}},
        "digest_time": {"value": {"type": "timepicker", "selected_time": "08:30"}},
        "digest_zone": {
            "value": {"type": "static_select", "selected_option": {"value": "Europe/Paris"}}
        },
    }
    return interaction_body(
        {
            "type": "view_submission",
            "user": {"id": USER},
            "team": {"id": "T0FAKE"},
            "trigger_id": f"1.3.{i}",
            "view": {
                "id": f"V{i:05d}",
                "type": "modal",
                "callback_id": "digest_settings",
                "private_metadata": f"C{i:05d}",
                "state": {"values": values},
            },
        }
    )


def p99_of(acks: list[float]) -> float:
    return sorted(acks)[int(len(acks) * 0.99) - 1]


def percentiles(acks: list[float], baseline: list[float]) -> str:
    """p50/p99/max, and the p99 against the commands' p99 in the same run (same load)."""
    acks = sorted(acks)
    p50 = statistics.median(acks) * 1000
    ratio = p99_of(acks) / p99_of(baseline)
    return (
        f"ack p50 {p50:.0f} ms, p99 {p99_of(acks) * 1000:.0f} ms, max {acks[-1] * 1000:.0f} ms"
        f" (p99 {ratio:.2f}x the commands')"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def wait_until_up(url: str, deadline_s: float = 30) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)  # a benchmark waiting for a process to start, not a test
    raise SystemExit(f"{url} did not come up")


def main() -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_"))}
    simulator = start(["simulator", "--mode", "test", "--port", "0"], env)
    assert simulator.stdout is not None
    sim_url = simulator.stdout.readline().strip().removeprefix("listening on ")
    requests.put(f"{sim_url}/_sim/rate-limits", json={"default": {"totals": 10_000}}, timeout=10)
    requests.put(f"{sim_url}/_sim/faults", json={"latency_ms": 500}, timeout=10)
    posts = [p["id"] for p in requests.get(f"{sim_url}/_sim/state", timeout=10).json()["posts"]]
    with tempfile.TemporaryDirectory() as folder, FakeSlack() as fake:
        port = free_port()
        bot_env = env | {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "X_API_URL": sim_url,
            "X_OAUTH_URL": sim_url,
            "X_CONSUMER_KEY": "sim-consumer-key",
            "X_CONSUMER_SECRET": "sim-consumer-secret",
            "ENGAGEMENT_DB": str(Path(folder) / "engagement.db"),
            "PORT": str(port),
            "ENGAGEMENT_ADMINS": USER,
        }
        # Link @sim_brand, so Show hourly on its Posts asks X for their hourly series.
        link = ["accounts", "add", "--token", "1000000001-simtoken-sim_brand"]
        subprocess.run(
            [sys.executable, "-m", "bot", *link, "--secret", "simsecret-sim_brand"],
            env=bot_env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        owned = requests.get(f"{sim_url}/_sim/posts?author=sim_brand", timeout=10).json()
        brand = [p["id"] for p in owned["posts"]]
        bot = start(["run"], bot_env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base}/healthz")
            session = requests.Session()

            def send(i: int) -> tuple[float, int]:
                post = posts[i % len(posts)] if i < len(posts) else str(10**18 + i)
                body = command_body(f"totals {post}", response_url=fake.response_url(str(i)))
                started = time.perf_counter()
                reply = session.post(
                    f"{base}/slack/events",
                    data=body.encode(),
                    headers=signed_headers(body),
                    timeout=10,
                )
                elapsed = time.perf_counter() - started
                assert reply.status_code == 200, reply.status_code
                return elapsed, i

            started = time.monotonic()
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                timed = sorted(pool.map(send, range(COMMANDS)))
            acks = [elapsed for elapsed, _ in timed]
            slow = ", ".join(f"#{i + 1} ({t * 1000:.0f} ms)" for t, i in timed[-3:])
            fake.wait_for_responses(COMMANDS, timeout=300)
            answered = time.monotonic() - started

            def deliver(body: str) -> float:
                began = time.perf_counter()
                reply = session.post(
                    f"{base}/slack/events",
                    data=body.encode(),
                    headers=signed_headers(body),
                    timeout=10,
                )
                assert reply.status_code == 200, reply.status_code
                return time.perf_counter() - began

            bodies = [
                press(i, brand[i % len(brand)], fake.response_url(f"a{i}")) for i in range(PRESSES)
            ]
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                action_acks = list(pool.map(deliver, bodies))

            # Every press is answered: in the alert's thread (Show hourly) or, only to the
            # presser, through its response_url (Snooze 2h; an hourly X had nothing for).
            def answered_presses(calls: list[Any]) -> int:
                threaded = sum(
                    c.method == "chat.postMessage" and bool(c.body.get("thread_ts")) for c in calls
                )
                told = sum(c.kind == "response" and c.method.startswith("a") for c in calls)
                return threaded + told

            fake.wait_for(lambda calls: answered_presses(calls) >= PRESSES, timeout=300)
            calls = fake.calls()
            threads = sum(
                c.method == "chat.postMessage" and bool(c.body.get("thread_ts")) for c in calls
            )
            hourly_done = time.monotonic() - started - answered
            # The submissions once the presses' work is done, so each phase's acks are its own.
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                view_acks = list(pool.map(deliver, [submission(i) for i in range(SUBMISSIONS)]))
        finally:
            bot.terminate()
            bot.wait(timeout=20)
            simulator.terminate()
            simulator.wait(timeout=10)
    p50 = statistics.median(acks) * 1000
    p99 = acks[int(len(acks) * 0.99) - 1] * 1000
    print(
        f"{COMMANDS} signed /engagement commands, {CONCURRENCY} concurrent, X latency 500 ms: "
        f"ack p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {acks[-1] * 1000:.0f} ms "
        f"(aim p99 < 300 ms). Slowest: commands {slow}. Every command answered through its "
        f"response_url after {answered:.1f} s"
    )
    print(
        f"{PRESSES} signed button presses (Show hourly, which asks X, and Snooze 2h), "
        f"{CONCURRENCY} concurrent: {percentiles(action_acks, acks)} (aim p99 < 300 ms); "
        f"every press answered after {hourly_done:.1f} s "
        f"({threads} hourly series in their alert's thread)"
    )
    print(
        f"{SUBMISSIONS} signed Digest settings submissions, {CONCURRENCY} concurrent: "
        f"{percentiles(view_acks, acks)} (aim p99 < 300 ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
