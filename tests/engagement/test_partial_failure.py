"""Partial failure stays partial: an account X refuses, or a Post lookup X rate-limits, is
reported for that account or Post, and everything else is answered.

End to end: the X simulator over loopback (its protected account, its v2 rate limits), a real
SQLite file, the real Bolt app against the fake Slack; only the clocks are injected."""

from __future__ import annotations

import random
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_service
from bot.cli import main
from bot.copy import channel
from bot.engagement.deadline import Deadline, within
from bot.engagement.directory import PacedDirectory
from bot.engagement.models import RateLimitInfo, UserAuth
from bot.engagement.query import AccountProblem, EngagementQuery, Granularity, Reason
from bot.engagement.ratelimiter import RateLimiter
from bot.engagement.service import EngagementService
from bot.engagement.wire.v2 import parse_user_lookup
from bot.errors import TimedOut, TransportError
from bot.simulator.server import RunningSimulator
from bot.store import Store
from bot.store.cipher import TokenCipher
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.simhttp import x_client
from tests.support.slack_app import (
    ask,
    connect_brand,
    sim_admin,
    sim_posts,
    texts,
    track_before_it_went_protected,
)
from tests.support.universe import SIM_START, point_env_at

PRIVATE = UserAuth("1000000003-simtoken-sim_private", "simsecret-sim_private")
GENERAL = "C0GENERAL"
NOT_OWNED_WORDS = "only for your connected accounts"  # the Slack phrase of Reason.NOT_OWNED
UNKNOWN_WORDS = "didn't say who wrote it"  # … and of Reason.AUTHOR_UNKNOWN


def private_posts(sim: RunningSimulator) -> list[str]:
    return sim_posts(sim, "sim_private")


# --- a protected account tracked in a channel --------------------------------------------------


def test_top_with_a_protected_account_tracked_ranks_the_others_and_says_what_was_skipped(
    bot: Any, fake: FakeSlack, sim: RunningSimulator, store: Store
) -> None:
    connect_brand(store)
    reply = ask(bot, fake, "track @sim_brand")
    assert "@sim_brand" in texts(reply)
    track_before_it_went_protected(store, GENERAL, "sim_private")

    reply = ask(bot, fake, "top likes 3 7d")

    text = texts(reply)
    assert reply["response_type"] == "in_channel", text
    assert "did not answer as expected" not in text
    assert len(re.findall(r"x\.com/sim_brand/status/\d+", text)) == 3
    assert not any(post in text for post in private_posts(sim))
    assert "Left out: @sim_private (protected" in text


def test_track_of_a_protected_account_is_refused_with_the_reason(
    bot: Any, fake: FakeSlack, sim: RunningSimulator, store: Store
) -> None:
    reply = ask(bot, fake, "track @sim_private")

    text = texts(reply)
    assert reply["response_type"] == "ephemeral"
    assert "Can't track @sim_private" in text
    assert "protected" in text
    assert store.channels.tracked(TEAM_ID, GENERAL, "account") == []


def test_the_workspaces_own_protected_account_is_tracked_and_its_timeline_read_as_itself(
    bot: Any, fake: FakeSlack, sim: RunningSimulator, store: Store
) -> None:
    store.accounts.save(
        user_id="1000000003",
        screen_name="sim_private",
        auth=PRIVATE,
        workspace=TEAM_ID,
        now=SIM_START,
    )
    reply = ask(bot, fake, "track @sim_private")
    assert "Now tracking @sim_private" in texts(reply)

    text = texts(ask(bot, fake, "top likes 3 7d"))

    assert "did not answer as expected" not in text
    assert "Left out" not in text
    # Its timeline was read (with its own token: X refuses it to anyone else).
    authors = {info.author_id for info in store.posts.infos(private_posts(sim)).values()}
    assert "1000000003" in authors


def test_a_tracked_account_that_no_longer_exists_is_named_and_the_rest_ranked(
    bot: Any, fake: FakeSlack, sim: RunningSimulator, store: Store
) -> None:
    connect_brand(store)
    ask(bot, fake, "track @sim_brand")
    track_before_it_went_protected(store, GENERAL, "gone_since_then")

    text = texts(ask(bot, fake, "top likes 3 7d"))

    assert len(re.findall(r"x\.com/sim_brand/status/\d+", text)) == 3
    assert "Left out: @gone_since_then (no longer on X)" in text


def test_digest_now_in_a_channel_tracking_a_protected_account_answers_with_the_others(
    bot: Any, fake: FakeSlack, store: Store
) -> None:
    connect_brand(store)
    ask(bot, fake, "track @sim_brand")
    track_before_it_went_protected(store, GENERAL, "sim_private")

    reply = ask(bot, fake, "digest now")

    text = texts(reply)
    assert reply["response_type"] == "in_channel", text
    assert "did not answer as expected" not in text
    assert "Left out: @sim_private (protected" in text


# --- a rate-limited Post lookup ------------------------------------------------------------------


class SimClock:
    """Injected monotonic time; waiting moves the simulator's clock (and its rate windows)."""

    def __init__(self, sim: RunningSimulator) -> None:
        self.sim = sim
        self.t = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        sim_admin(self.sim, "POST", "clock", {"advance_seconds": seconds})
        self.t += seconds


@pytest.fixture
def x_store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "x.db", cipher=TokenCipher.generate()) as opened:
        opened.accounts.save(
            user_id="1000000001",
            screen_name="sim_brand",
            auth=UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand"),
            workspace=None,
            now=SIM_START,
        )
        yield opened


def service_on(sim: RunningSimulator, store: Store, clock: SimClock) -> Iterator[EngagementService]:
    with x_client(sim) as client:
        yield build_service(client, store, sleep=clock.sleep, monotonic=clock.monotonic)


def spend_the_lookup_window(sim: RunningSimulator) -> None:
    """One lookup allowed per 15 minutes, used up by another client of the same app."""
    sim_admin(sim, "PUT", "options", {"rate_limit_v2_lookup": 1})
    token = requests.post(
        f"{sim.url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=("sim-consumer-key", "sim-consumer-secret"),
        timeout=10,
    ).json()["access_token"]
    reply = requests.get(
        f"{sim.url}/2/tweets?ids=1", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert reply.status_code == 200


def sim_now(sim: RunningSimulator) -> datetime:
    now = sim_admin(sim, "GET", "clock")["now"]
    return datetime.fromisoformat(now.replace("Z", "+00:00"))


def test_owned_posts_are_never_reported_not_owned_when_the_lookup_is_rate_limited(
    sim: RunningSimulator, x_store: Store
) -> None:
    """X answers 429 on /2/tweets, its window resetting 30 s later: the lookup waits for it
    (on the injected clock), and the owned Posts' private numbers come back."""
    owned = sim_posts(sim, "sim_brand")[:3]
    sim_admin(sim, "POST", "clock", {"now": "2026-11-26T12:44:30Z"})  # 30 s before a reset
    spend_the_lookup_window(sim)
    clock = SimClock(sim)
    for service in service_on(sim, x_store, clock):
        query = EngagementQuery(tuple(owned), ("impressions", "favorites"))
        report = service.report(query, now=sim_now(sim))

    assert 30 <= sum(clock.slept) <= 32  # the rest of the window, once
    assert dict(report.missing) == {}
    for post in owned:
        assert report.totals[post]["impressions"].count is not None


def test_owned_posts_whose_lookup_stays_rate_limited_are_author_unknown_never_not_owned(
    bot: Any, fake: FakeSlack, sim: RunningSimulator, store: Store
) -> None:
    """The window stays shut far longer than a reply may wait: no wait, no guess. Public
    numbers still come back; the rest says "author unknown, try again", never "connect"."""
    connect_brand(store)
    owned = sim_posts(sim, "sim_brand")[:2]
    sim_admin(sim, "PUT", "options", {"rate_limit_v2_lookup": 0})

    totals = texts(ask(bot, fake, f"totals {' '.join(owned)}"))
    hourly = texts(ask(bot, fake, f"hourly {owned[0]}"))

    for text in (totals, hourly):
        assert UNKNOWN_WORDS in text, text
        assert NOT_OWNED_WORDS not in text
    assert re.search(r"\d+ likes?", totals)  # public totals are answered all the same


def test_top_leaves_out_posts_of_unknown_authorship_and_says_so(
    bot: Any, fake: FakeSlack, sim: RunningSimulator, store: Store
) -> None:
    connect_brand(store)
    ask(bot, fake, f"track {' '.join(sim_posts(sim, 'sim_brand')[2:5])}")
    sim_admin(sim, "PUT", "options", {"rate_limit_v2_lookup": 0})

    text = texts(ask(bot, fake, "top likes 3 7d"))

    assert f"Left out: 3 Posts (X {UNKNOWN_WORDS}" in text
    assert "count from the bot's own readings" not in text  # not ranked as someone else's


def test_query_hourly_says_author_unknown_when_the_lookup_stays_rate_limited(
    sim: RunningSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    point_env_at(monkeypatch, tmp_path, sim.url)
    token = ["--token", "1000000001-simtoken-sim_brand", "--secret", "simsecret-sim_brand"]
    assert main(["accounts", "add", *token]) == 0
    sim_admin(sim, "PUT", "options", {"rate_limit_v2_lookup": 0})
    capsys.readouterr()

    main(["query", "hourly", sim_posts(sim, "sim_brand")[0]])

    out = capsys.readouterr().out
    assert "author unknown right now — try again" in out
    assert "needs the author's connected X account" not in out


def test_posts_of_unknown_authorship_are_answered_once_the_lookup_window_reopens(
    sim: RunningSimulator, x_store: Store
) -> None:
    owned = sim_posts(sim, "sim_brand")[:2]
    sim_admin(sim, "PUT", "options", {"rate_limit_v2_lookup": 0})
    clock = SimClock(sim)
    for service in service_on(sim, x_store, clock):
        query = EngagementQuery(tuple(owned), ("impressions",), Granularity.HOUR)
        first = service.report(query, now=sim_now(sim))
        assert clock.slept == []  # a 15-minute window is not waited for
        sim_admin(sim, "PUT", "options", {"rate_limit_v2_lookup": 300})
        clock.sleep(15 * 60)  # the user tries again later
        second = service.report(query, now=sim_now(sim))

    assert set(first.missing.values()) == {Reason.AUTHOR_UNKNOWN}
    assert dict(second.missing) == {}
    assert set(second.series) == set(owned)


# --- the property ---------------------------------------------------------------------------------

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def mixes(draw: st.DrawFn) -> dict[str, Any]:
    """A few Posts of each kind, which of them X deleted, how the lookups fail, and how
    flaky the engagement endpoints are."""
    return {
        "owned": draw(st.integers(0, 3)),
        "unowned": draw(st.integers(0, 2)),
        "protected": draw(st.integers(0, 2)),
        "private_connected": draw(st.booleans()),  # sim_private's own token is linked
        "deleted": draw(st.lists(st.booleans(), min_size=5, max_size=5)),
        # lookups allowed per 15-minute window: 0 (always 429), 1, or X's usual 300
        "lookups": draw(st.sampled_from([0, 1, 300])),
        "lookup_reset_in": draw(st.sampled_from([20, 600])),  # seconds to the window's end
        "error_rate": draw(st.sampled_from([0.0, 0.3])),
        "granularities": draw(
            st.lists(st.sampled_from([Granularity.TOTAL, Granularity.HOUR]), min_size=1, max_size=3)
        ),
    }


class Sim:
    """The running simulator, printed briefly in failing examples (its own repr is huge)."""

    def __init__(self, running: RunningSimulator) -> None:
        self.url, self.state = running.url, running.state

    def __repr__(self) -> str:
        return "sim"


@pytest.fixture
def quiet_sim(sim: RunningSimulator) -> Sim:
    return Sim(sim)


@PROPERTY
@given(mix=mixes())
def test_no_post_of_a_connected_author_is_ever_reported_not_owned(
    mix: dict[str, Any], quiet_sim: Any, tmp_path_factory: Any
) -> None:
    sim = quiet_sim
    sim.state.reset()  # each example starts from the same universe
    brand, creator = sim_posts(sim, "sim_brand"), sim_posts(sim, "sim_creator")
    private = private_posts(sim)[: mix["protected"]]
    owned = [*brand[: mix["owned"]], *(private if mix["private_connected"] else [])]
    posts = list(dict.fromkeys([*owned, *creator[: mix["unowned"]], *private]))
    if not posts:
        return
    for post, gone in zip(posts, mix["deleted"], strict=False):
        if gone:
            sim_admin(sim, "PATCH", f"posts/{post}", {"deleted": True})
    end = datetime(2026, 11, 26, 12, 45, tzinfo=UTC)
    at = end - timedelta(seconds=mix["lookup_reset_in"])
    sim_admin(sim, "POST", "clock", {"now": f"{at:%Y-%m-%dT%H:%M:%SZ}"})
    sim_admin(sim, "PUT", "options", {"rate_limit_v2_lookup": mix["lookups"]})
    if mix["error_rate"]:
        sim_admin(sim, "PUT", "faults", {"error_rate": mix["error_rate"], "seed": 3})

    path = tmp_path_factory.mktemp("mix") / "x.db"
    with Store.open(path, cipher=TokenCipher.generate()) as store:
        store.accounts.save(
            user_id="1000000001",
            screen_name="sim_brand",
            auth=UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand"),
            workspace=None,
            now=SIM_START,
        )
        if mix["private_connected"]:
            store.accounts.save(
                user_id="1000000003",
                screen_name="sim_private",
                auth=PRIVATE,
                workspace=None,
                now=SIM_START,
            )
        for service in service_on(sim, store, SimClock(sim)):
            for granularity in mix["granularities"]:
                query = EngagementQuery(tuple(posts), ("impressions", "favorites"), granularity)
                report = service.report(query, now=sim_now(sim), fresh=True)
                wrongly = [
                    post
                    for post in owned
                    if any(
                        why is Reason.NOT_OWNED
                        for (p, _), why in report.missing.items()
                        if p == post
                    )
                    or any(
                        v.reason is Reason.NOT_OWNED for v in report.totals.get(post, {}).values()
                    )
                ]
                assert wrongly == [], (granularity, report.missing)


# --- v2 retries and suspended accounts -----------------------------------------------------------


def test_a_v2_call_that_cannot_connect_is_retried_with_backoff_then_fails(
    sim: RunningSimulator,
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = SimClock(sim)
    with x_client(f"http://127.0.0.1:{port}", bearer_token="preset") as client:
        directory = PacedDirectory(
            client,
            limiter=RateLimiter(monotonic=clock.monotonic, sleep=clock.sleep),
            sleep=clock.sleep,
            monotonic=clock.monotonic,
            rng=random.Random(1),
            max_retries=3,
        )
        with pytest.raises(TransportError, match="connection refused"):
            directory.user_by_username("sim_brand")
    assert [int(s) for s in clock.slept] == [1, 2, 4]  # 1, 2, 4 s plus up to 20 % jitter


def test_a_v2_call_under_a_command_deadline_stops_retrying_when_the_answer_is_due(
    sim: RunningSimulator,
) -> None:
    """A lookup made for a slash command does not back off past the command's deadline: it
    fails as timed out (the reply then says 'author unknown'), not after 1 + 2 + 4 s."""
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = SimClock(sim)
    with x_client(f"http://127.0.0.1:{port}", bearer_token="preset") as client:
        directory = PacedDirectory(
            client,
            limiter=RateLimiter(monotonic=clock.monotonic, sleep=clock.sleep),
            sleep=clock.sleep,
            monotonic=clock.monotonic,
            rng=random.Random(1),
            max_retries=3,
        )
        due = Deadline.after(2.5, clock.monotonic)
        with within(due), pytest.raises(TimedOut):
            directory.user_by_username("sim_brand")
    assert [int(s) for s in clock.slept] == [1]  # the 2 s backoff would end past the deadline


def test_a_suspended_account_is_told_apart_from_an_unknown_handle() -> None:
    suspended = {
        "errors": [
            {
                "value": "gone",
                "detail": "User has been suspended: [gone].",
                "title": "Forbidden",
                "resource_type": "user",
                "parameter": "username",
                "resource_id": "gone",
            }
        ]
    }
    unknown = {
        "errors": [
            {"title": "Not Found Error", "detail": "Could not find user with username: [gone]."}
        ]
    }
    assert parse_user_lookup(suspended, RateLimitInfo()).suspended
    assert not parse_user_lookup(unknown, RateLimitInfo()).suspended
    assert "suspended" in channel.track_refused("@gone", AccountProblem.SUSPENDED)
