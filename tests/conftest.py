"""Shared fixtures: a simulator on a loopback port, and raw signed HTTP calls to it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.simulator.server import RunningSimulator, start_simulator
from tests.support.fake_slack import FakeSlack, clear_slack_env

# Every test universe starts here, so simulated numbers depend only on the seed.
SIM_START = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def _shared_simulator() -> Iterator[RunningSimulator]:
    with start_simulator(mode="test", start_time=SIM_START) as sim:
        yield sim


@pytest.fixture
def sim(_shared_simulator: RunningSimulator) -> RunningSimulator:
    """A running test-mode simulator (frozen clock at SIM_START), reset before each test."""
    _shared_simulator.state.reset()
    return _shared_simulator


def point_env_at(
    monkeypatch: pytest.MonkeyPatch,
    folder: Path,
    x_url: str,
    *,
    slack_api_url: str | None = None,
    slack_token: str | None = None,
) -> dict[str, str]:
    """The environment an operator sets to run the bot against a simulator (and a fake
    Slack), with the database in `folder` and `folder` as the working directory."""
    monkeypatch.chdir(folder)
    values = {
        "X_API_URL": x_url,
        "X_OAUTH_URL": x_url,
        "X_CONSUMER_KEY": "sim-consumer-key",
        "X_CONSUMER_SECRET": "sim-consumer-secret",
        "ENGAGEMENT_DB": str(folder / "engagement.db"),
    }
    if slack_api_url is not None:
        values["SLACK_API_URL"] = slack_api_url
    if slack_token is not None:
        values["SLACK_BOT_TOKEN"] = slack_token
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


# Every credential the test universe, the fake Slack and the tests use has one of these in it.
SECRET_MARKERS = (
    "simsecret-",  # simulated access-token secrets
    "-simtoken-",  # simulated access tokens
    "sim-consumer-secret",
    "sim-disabled-consumer-secret",
    "AAAAAAAAAAAAAAAAAAAAA",  # simulated bearer tokens
    "xoxb-fake",  # the fake Slack's bot tokens
    "xoxp-fake",  # the fake Slack's user tokens (OAuth install)
    "fake-client-secret",  # the Slack app's client secret (OAuth install)
    "fake-signing-secret",
)


@pytest.fixture(autouse=True)
def _no_secret_in_any_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Secrets stay secret: no log record of any test, at any level, holds a credential."""
    caplog.set_level(logging.DEBUG)
    yield
    records = caplog.get_records("setup") + caplog.get_records("call")
    leaked = [
        f"{r.name}: {r.getMessage()[:200]}"
        for r in records
        if any(marker in r.getMessage() for marker in SECRET_MARKERS)
    ]
    assert not leaked, f"credentials in the log: {leaked[:3]}"


@pytest.fixture(autouse=True)
def _clean_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bolt and slack_sdk read SLACK_* and proxy variables themselves: none may leak in."""

    clear_slack_env(monkeypatch)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A loopback fake of the Slack Web API (and response_url target) for one test."""
    with FakeSlack() as running:
        yield running
