"""What `run` serves an operator's monitoring: GET /metrics (Prometheus' text format) counting
what the simulator's own request log shows, and GET /readyz apart from /healthz."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from bot.simulator.server import RunningSimulator
from tests.support.fake_slack import FakeSlack
from tests.support.running import Running, post_command, settings_for

ENGAGEMENT_ENDPOINTS = {"totals", "28hr", "historical"}


def scrape(url: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    reply = requests.get(f"{url}/metrics", timeout=10)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def total(samples: dict[tuple[tuple[str, str], ...], float], **match: str) -> float:
    return sum(v for labels, v in samples.items() if match.items() <= dict(labels).items())


def engagement_log(sim: RunningSimulator) -> list[dict[str, Any]]:
    reply = requests.get(f"{sim.url}/_sim/requests", timeout=10)
    return [r for r in reply.json()["requests"] if r["endpoint"].strip("/") in ENGAGEMENT_ENDPOINTS]


@pytest.fixture
def running(fake: FakeSlack, sim: RunningSimulator, tmp_path: Path) -> Iterator[Running]:
    running = Running(settings_for(fake, sim, tmp_path), sim)
    yield running
    assert running.close() == 0


def owned_posts(sim: RunningSimulator, n: int) -> list[str]:
    reply = requests.get(f"{sim.url}/_sim/posts?author=sim_brand", timeout=10)
    return [p["id"] for p in reply.json()["posts"][:n]]


def answered_under(
    faults: list[str], running: Running, fake: FakeSlack, sim: RunningSimulator
) -> tuple[Counter[str], int, dict[str, dict[tuple[tuple[str, str], ...], float]]]:
    """`totals` of three owned Posts with X answering `faults` first: what the simulator saw
    (statuses, requests) and what /metrics says."""
    requests.delete(f"{sim.url}/_sim/requests", timeout=10)
    requests.put(f"{sim.url}/_sim/faults", json={"queue": faults}, timeout=10)
    ids = " ".join(owned_posts(sim, 3))
    assert post_command(running.url, f"totals {ids}", fake).status_code == 200
    fake.wait_for_responses(1)
    log = engagement_log(sim)
    return Counter(str(r["status"]) for r in log), len(log), scrape(running.url)


def test_metrics_count_the_requests_and_retries_the_simulator_saw(
    running: Running, fake: FakeSlack, sim: RunningSimulator
) -> None:
    seen, sent, metrics = answered_under(["500"], running, fake, sim)
    assert (seen["500"], seen["200"]) == (1, 1)
    counted = metrics["engagement_x_requests_total"]
    for status, n in seen.items():
        assert total(counted, status=status) == n, status
    assert total(counted) == sent
    assert total(metrics["engagement_x_retries_total"]) == 1
    assert metrics["engagement_slack_ack_seconds_count"][()] >= 1
    assert metrics["engagement_command_answer_seconds_count"][()] == 1
    assert metrics["engagement_database_bytes"][()] > 0


def test_metrics_count_a_429_whose_reset_is_too_far_to_wait_for(
    running: Running, fake: FakeSlack, sim: RunningSimulator
) -> None:
    seen, sent, metrics = answered_under(["429"], running, fake, sim)
    assert (seen["429"], sent) == (1, 1)
    assert total(metrics["engagement_x_requests_total"], status="429") == 1
    assert total(metrics.get("engagement_x_retries_total", {})) == 0
    assert total(metrics.get("engagement_x_rate_limit_waits_total", {})) == 0


def test_readyz_says_ready_apart_from_healthz(running: Running) -> None:
    ready = requests.get(f"{running.url}/readyz", timeout=10)
    assert (ready.status_code, ready.text.strip()) == (200, "ready")
