"""The shared fixtures: the X simulator on loopback and the fake Slack (the far sides of the
wires), a store on a SQLite file, our X client on the simulator over HTTP (`client`) or in process
(`memory_client`, tests/support/memory_x.py), the real Bolt app on both (`deps`, `bot`), and the
digest and alert jobs' bots. Helpers that are not fixtures live in tests/support/."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_service
from bot.channels.deps import Deps
from bot.config import Settings
from bot.engagement.http_client import HttpEngagementClient
from bot.simulator.server import RunningSimulator, start_simulator
from bot.slack.app import build_app
from bot.slack.web import build_web_client, channel_membership
from bot.store import Store
from bot.store.cipher import TokenCipher
from tests.support.alert_bot import AlertBot, SimPacedClock
from tests.support.clocks import FakeClock
from tests.support.digest_bot import DigestBot, set_up_channel
from tests.support.fake_slack import BOT_TOKEN, FakeSlack, clear_slack_env
from tests.support.memory_x import MemoryX
from tests.support.simhttp import x_client
from tests.support.slack_app import settings_for
from tests.support.universe import SIM_START


@pytest.fixture(scope="session")
def _shared_simulator() -> Iterator[RunningSimulator]:
    with start_simulator(mode="test", start_time=SIM_START) as sim:
        yield sim


@pytest.fixture
def sim(_shared_simulator: RunningSimulator) -> RunningSimulator:
    """A running test-mode simulator (frozen clock at SIM_START), reset before each test."""
    _shared_simulator.state.reset()
    return _shared_simulator


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


# == the store and the X client ==================================================================


@pytest.fixture
def cipher() -> TokenCipher:
    return TokenCipher.generate()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "engagement.db"


@pytest.fixture
def store(request: pytest.FixtureRequest, db_path: Path, cipher: TokenCipher) -> Iterator[Store]:
    """A new store on the SQLite file `db_path`; a module may parametrise it indirectly with
    "memory" for a ':memory:' database too (tests/store/test_store.py does)."""
    where = getattr(request, "param", "file")
    with Store.open(":memory:" if where == "memory" else db_path, cipher=cipher) as opened:
        yield opened


@pytest.fixture
def client(sim: RunningSimulator) -> Iterator[HttpEngagementClient]:
    """Our HTTP client on the loopback simulator, as the simulator's test app."""
    with x_client(sim) as made:
        yield made


@pytest.fixture
def memory_client(sim: RunningSimulator) -> MemoryX:
    """The same simulator answering in process: for tests of our code above the wire."""
    return MemoryX(sim.state)


# == the real Bolt app on the fake Slack ==========================================================


@pytest.fixture
def deps(fake: FakeSlack, store: Store, client: HttpEngagementClient) -> Deps:
    settings = settings_for(fake)
    clock = FakeClock()
    service = build_service(client, store, sleep=clock.sleep, monotonic=clock.monotonic)
    can_post = channel_membership(build_web_client(settings, token=BOT_TOKEN))
    return Deps(service, store, settings, can_post=can_post)


@pytest.fixture
def bot(fake: FakeSlack, deps: Deps, sim: RunningSimulator) -> Any:
    """The real app, dispatch returning after the reply (process_before_response)."""
    return build_app(settings_for(fake), deps, clock=sim.state.now, process_before_response=True)


# == the digest and alert jobs ====================================================================


@pytest.fixture
def settings(fake: FakeSlack) -> Settings:
    """The jobs' settings: Slack is the fake, the default time zone UTC."""
    return Settings(slack_bot_token=BOT_TOKEN, slack_api_url=fake.api_url, timezone="UTC")


@pytest.fixture
def digest_bots(sim: RunningSimulator) -> Iterator[list[DigestBot]]:
    """Every digest bot a test starts, closed after it (a test may add more processes)."""
    made: list[DigestBot] = []
    yield made
    for each in made:
        each.close()


@pytest.fixture
def digest_bot(
    digest_bots: list[DigestBot],
    sim: RunningSimulator,
    db_path: Path,
    cipher: TokenCipher,
    settings: Settings,
) -> DigestBot:
    """A digest bot whose channel digests sim_brand's Posts (set_up_channel)."""
    made = DigestBot(sim, db_path, cipher, settings)
    digest_bots.append(made)
    set_up_channel(made.store)
    return made


@pytest.fixture
def make_alert_bot(
    sim: RunningSimulator, db_path: Path, cipher: TokenCipher, settings: Settings
) -> Iterator[Callable[..., AlertBot]]:
    """Start an alert bot (a process) on the test's database; all are closed after the test."""
    made: list[AlertBot] = []

    def make(clock: SimPacedClock | None = None) -> AlertBot:
        started = AlertBot(sim, db_path, cipher, settings, clock=clock)
        made.append(started)
        return started

    yield make
    for each in made:
        each.close()
