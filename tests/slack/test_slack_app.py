"""The Bolt app as Slack drives it: signed slash commands through `app.dispatch`, Web API calls
and respond() answered by a loopback fake Slack.

The first part runs the wiring with a stand-in for `commands.run` (our own seam); the end-to-end
part at the bottom runs the real `commands.run` against the X simulator and a SQLite file.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier

from bot.channels.meter import NO_METER
from bot.copy.usage import SUBCOMMANDS
from bot.errors import ConfigError, RateLimited, ServerError, UsageError, UserFacingError
from bot.render.message import Chart, Message
from bot.slack.app import COMMAND, build_app
from bot.slack.parse.grammar import parse
from bot.slack.retries import CappedRateLimitRetryHandler
from bot.slack.web import channel_membership
from tests.support.fake_slack import BOT_TOKEN, FakeSlack
from tests.support.slack_app import (
    StandIn,
    ask,
    connect_brand,
    settings_for,
    sim_admin,
    sim_posts,
    texts,
    x_requests,
)
from tests.support.slack_requests import (
    SIGNING_SECRET,
    command_body,
    dispatch,
    signature,
    signed_headers,
    slash,
)
from tests.support.universe import SIM_START

NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def make_app(
    fake: FakeSlack,
    run: Any,
    *,
    background: bool = False,
    can_post: Callable[[str], bool] | None = None,
    **kwargs: Any,
) -> Any:
    settings = settings_for(fake)
    return build_app(
        settings,
        SimpleNamespace(can_post=can_post, health=None, meter=NO_METER),  # type: ignore[arg-type]
        clock=lambda: NOW,
        process_before_response=not background,
        run=run,
        **kwargs,
    )


def ref_in(text: str) -> str:
    found = re.search(r"\bref `?([0-9a-f]{8})\b", text)
    assert found, text
    return found.group(1)


# -- construction --------------------------------------------------------------------------------


def test_build_app_calls_nothing_and_points_the_client_at_the_configured_api(fake):
    app = make_app(fake, StandIn(Message("hi")))
    assert fake.calls() == []  # no auth.test: authorize= supplies the token
    assert app.client.base_url == fake.api_url
    assert app.client.token == BOT_TOKEN  # jobs post with app.client outside any request
    kinds = {type(h) for h in app.client.retry_handlers}
    assert kinds == {
        ConnectionErrorRetryHandler,
        CappedRateLimitRetryHandler,
        ServerErrorRetryHandler,
    }


def test_build_app_needs_a_bot_token_and_refuses_the_oauth_variables(fake):
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        build_app(settings_for(fake, slack_bot_token=None), None, clock=lambda: NOW)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="SLACK_CLIENT_ID"):
        build_app(
            settings_for(fake, slack_client_id="1.2", slack_client_secret="s"),
            None,  # type: ignore[arg-type]
            clock=lambda: NOW,
        )


def test_our_signature_is_slacks():
    body = command_body("help", response_url="http://127.0.0.1:1/response/1")
    ts = 1_790_000_000
    expected = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=str(ts), body=body)
    assert signature(body, secret=SIGNING_SECRET, timestamp=ts) == expected


# -- acking and replying -------------------------------------------------------------------------


def test_a_command_is_acked_empty_and_answered_ephemerally_through_response_url(fake):
    run = StandIn(Message("Usage: …", blocks=({"type": "divider"},)))
    app = make_app(fake, run)
    response = slash(app, "  Help  ", response_url=fake.response_url("r1"))
    assert (response.status, response.body) == (200, "")
    (invocation,) = run.invocations
    assert (invocation.team_id, invocation.channel_id, invocation.user_id) == (
        "T0FAKE",
        "C0GENERAL",
        "U0ALICE",
    )
    assert invocation.text == "  Help  "  # parsing is the dispatcher's job
    assert run.nows == [NOW]
    assert fake.responses("r1") == [
        {"text": "Usage: …", "blocks": [{"type": "divider"}], "response_type": "ephemeral"}
    ]
    assert fake.api_calls() == []


def test_a_team_wide_answer_goes_in_channel_with_its_continuations_as_follow_ups(fake):
    tail = (Message("part 2", ephemeral=False), Message("part 3", ephemeral=False))
    app = make_app(fake, StandIn(Message("part 1", ephemeral=False, continuation=tail)))
    slash(app, "top", response_url=fake.response_url())
    replies = fake.responses()
    assert [r["text"] for r in replies] == ["part 1", "part 2", "part 3"]
    assert {r["response_type"] for r in replies} == {"in_channel"}
    assert "blocks" not in replies[0]


def test_no_more_than_five_posts_go_to_one_response_url(fake, caplog):
    tail = tuple(Message(f"part {i}") for i in range(2, 8))
    app = make_app(fake, StandIn(Message("part 1", continuation=tail)))
    slash(app, "daily 1", response_url=fake.response_url())
    assert [r["text"] for r in fake.responses()] == [f"part {i}" for i in range(1, 6)]
    assert "reply dropped" in caplog.text


def test_a_failing_response_url_is_logged_not_raised(fake, caplog):
    fake.fail_next("response", status=404)
    app = make_app(fake, StandIn(Message("hello")))
    assert slash(app, "help", response_url=fake.response_url()).status == 200
    assert "response_url answered 404" in caplog.text


@pytest.mark.parametrize(("status", "retry_after"), [(429, 0), (500, None), (503, None)])
def test_a_busy_response_url_is_retried_and_the_answer_arrives_once(fake, status, retry_after):
    fake.fail_next("response", status=status, retry_after=retry_after)
    app = make_app(fake, StandIn(Message("hello")))
    assert slash(app, "help", response_url=fake.response_url("busy")).status == 200
    assert [r["text"] for r in fake.responses("busy")] == ["hello"]


def overflowing(chart: Chart | None = None) -> Message:
    return Message(
        "page 1",
        ephemeral=False,
        chart=chart,
        continuation=(Message("page 2", ephemeral=False), Message("page 3", ephemeral=False)),
    )


def test_an_overflowing_team_wide_answer_is_threaded_where_the_bot_may_post(fake):
    app = make_app(fake, StandIn(overflowing(CHART)), can_post=lambda channel: True)
    slash(app, "top", response_url=fake.response_url())
    assert fake.responses() == []
    first, *rest = fake.api_calls("chat.postMessage")
    assert first.body["channel"] == "C0GENERAL"
    assert "thread_ts" not in first.body
    assert [c.body["text"] for c in rest] == ["page 2", "page 3"]
    assert {c.body["thread_ts"] for c in rest} == {"1790000000.000100"}
    (complete,) = fake.api_calls("files.completeUploadExternal")
    assert complete.body["thread_ts"] == "1790000000.000100"


def test_threading_waits_out_a_429(fake):
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    app = make_app(fake, StandIn(overflowing()), can_post=lambda channel: True)
    slash(app, "top", response_url=fake.response_url())
    assert [c.status for c in fake.api_calls("chat.postMessage")] == [429, 200, 200, 200]
    assert fake.responses() == []


@pytest.mark.parametrize("may_post", [False, True])
def test_without_a_thread_the_pages_go_through_response_url(fake, may_post):
    if may_post:  # conversations.info said yes, but chat.postMessage says no
        fake.fail_next("chat.postMessage", error="not_in_channel")
    app = make_app(fake, StandIn(overflowing()), can_post=lambda channel: may_post)
    slash(app, "top", response_url=fake.response_url())
    assert [r["text"] for r in fake.responses()] == ["page 1", "page 2", "page 3"]
    assert len(fake.api_calls("chat.postMessage")) == int(may_post)


# -- charts --------------------------------------------------------------------------------------

CHART = Chart(filename="engagement-hourly.png", png=PNG, title="Impressions, last 28 hours")


def test_a_chart_is_uploaded_into_the_channel_in_three_steps(fake):
    app = make_app(fake, StandIn(Message("numbers", ephemeral=False, chart=CHART)))
    slash(app, "hourly 1", response_url=fake.response_url(), channel_id="C0CHARTS")
    steps = [(c.kind, c.method) for c in fake.calls() if c.kind != "response"]
    assert steps == [
        ("api", "files.getUploadURLExternal"),
        ("upload", "F00001"),
        ("api", "files.completeUploadExternal"),
    ]
    get_url, upload, complete = (c for c in fake.calls() if c.kind != "response")
    assert get_url.body["filename"] == "engagement-hourly.png"
    assert int(get_url.body["length"]) == len(PNG)
    assert upload.raw == PNG
    assert complete.body["channel_id"] == "C0CHARTS"
    assert '"title": "Impressions, last 28 hours"' in complete.body["files"]
    assert get_url.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert [r["text"] for r in fake.responses()] == ["numbers"]


@pytest.mark.parametrize(
    ("channel", "setup"),
    [
        ("C0OUTSIDE", lambda fake: fake.not_member.add("C0OUTSIDE")),
        ("C0GONE", lambda fake: fake.missing.add("C0GONE")),
    ],
    ids=["not_in_channel", "channel_not_found"],
)
def test_a_chart_the_bot_may_not_post_becomes_an_invite_hint(fake, channel, setup):
    setup(fake)
    app = make_app(fake, StandIn(Message("numbers", ephemeral=False, chart=CHART)))
    response = slash(app, "hourly 1", response_url=fake.response_url(), channel_id=channel)
    assert response.status == 200
    first, hint = fake.responses()
    assert first["text"] == "numbers"
    assert hint["response_type"] == "ephemeral"
    assert "/invite @engagement-bot" in hint["text"]


def test_another_upload_error_is_reported_with_a_ref_not_a_crash(fake, caplog):
    fake.fail_next("files.completeUploadExternal", error="internal_error")
    app = make_app(fake, StandIn(Message("numbers", ephemeral=False, chart=CHART)))
    slash(app, "hourly 1", response_url=fake.response_url())
    _, note = fake.responses()
    assert "chart couldn't be attached" in note["text"]
    assert f"(ref {ref_in(note['text'])})" in caplog.text


def test_can_post_asks_conversations_info(fake):
    fake.not_member.add("C0OUTSIDE")
    fake.missing.add("G0SECRET")
    app = make_app(fake, StandIn(Message("x")))
    can_post = channel_membership(app.client)
    assert can_post("C0GENERAL") is True
    assert can_post("C0OUTSIDE") is False
    assert can_post("G0SECRET") is False


# -- errors --------------------------------------------------------------------------------------


def test_an_unexpected_error_gets_a_ref_and_a_generic_reply_never_the_exception(fake, caplog):
    app = make_app(fake, StandIn(RuntimeError("database is locked at /var/secret/path")))
    with caplog.at_level(logging.INFO):
        response = slash(app, "top", response_url=fake.response_url())
    assert (response.status, response.body) == (200, "")  # not Bolt's 500: the reply went out
    (reply,) = fake.responses()
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("Something went wrong")
    assert "database is locked" not in reply["text"]
    ref = ref_in(reply["text"])
    (record,) = [r for r in caplog.records if ref in r.getMessage()]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert "database is locked" in caplog.text
    assert "C0GENERAL" in record.getMessage()


def test_a_user_facing_error_that_escapes_is_shown_as_is(fake):
    app = make_app(fake, StandIn(UserFacingError("No connected account @nobody.")))
    slash(app, "disconnect @nobody", response_url=fake.response_url())
    (reply,) = fake.responses()
    assert reply["text"].endswith("No connected account @nobody.")
    assert reply["response_type"] == "ephemeral"


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (ServerError("X answered 503", status=503), "not answering properly"),
        (RateLimited("429", reset_at=None, retry_after=42.0), "about 42 s"),
    ],
)
def test_an_x_failure_that_escapes_gets_a_clear_reply(fake, error, says):
    app = make_app(fake, StandIn(error))
    slash(app, "123", response_url=fake.response_url())
    text = fake.responses()[0]["text"]
    assert says in text
    assert "X" in text
    ref_in(text)


def test_no_token_or_secret_reaches_the_log(fake, caplog):
    app = make_app(fake, StandIn(Message("numbers", ephemeral=False, chart=CHART)))
    with caplog.at_level(logging.DEBUG):
        slash(app, "hourly 1", response_url=fake.response_url())
        app.client.chat_postMessage(channel="C0GENERAL", text="digest")
    # slack_sdk would log each request (URL, body) at DEBUG: the level is on, its records are
    # dropped whole, since URLs and bodies carry response_urls and connect links.
    assert logging.getLogger("slack_sdk.web.base_client").isEnabledFor(logging.DEBUG)
    assert [r for r in caplog.records if r.name.startswith("slack_sdk")] == []
    assert BOT_TOKEN not in caplog.text
    assert SIGNING_SECRET not in caplog.text


# -- request verification ------------------------------------------------------------------------


def test_a_forged_or_stale_request_is_refused_with_401(fake):
    run = StandIn(Message("hi"))
    app = make_app(fake, run)
    body = command_body("help", response_url=fake.response_url())
    assert dispatch(app, body, secret="not-the-secret").status == 401
    stale = int(time.time()) - 301
    assert dispatch(app, body, timestamp=stale).status == 401
    tampered = signed_headers(body)
    assert dispatch(app, body.replace("help", "top"), headers=tampered).status == 401
    assert run.invocations == []
    assert fake.calls() == []
    assert dispatch(app, body, timestamp=int(time.time()) - 299).status == 200


def test_only_the_engagement_command_is_registered(fake):
    app = make_app(fake, StandIn(Message("hi")))
    body = command_body("help", response_url=fake.response_url(), command="/other")
    assert dispatch(app, body).status == 404
    assert COMMAND == "/engagement"


# -- threading: ack first, work later ------------------------------------------------------------


@pytest.fixture
def pool() -> Iterator[Any]:
    from concurrent.futures import ThreadPoolExecutor

    executor = ThreadPoolExecutor(max_workers=4)
    yield executor
    executor.shutdown(wait=True, cancel_futures=True)


def test_the_ack_leaves_before_the_command_finishes(fake, pool):
    release = threading.Event()

    def slow(invocation: Any) -> Message:
        assert release.wait(10)
        return Message("late answer")

    app = make_app(fake, StandIn(slow), background=True, executor=pool)
    started = time.monotonic()
    response = slash(app, "totals 1", response_url=fake.response_url())
    assert (response.status, response.body) == (200, "")
    assert time.monotonic() - started < 1.0
    assert fake.responses() == []
    release.set()
    assert fake.wait_for_responses(1)[0]["text"] == "late answer"


def test_slow_commands_never_starve_the_ack(fake, pool):
    """Twelve commands stuck on X at once: more than Bolt's listener threads and our workers,
    yet every one is acked at once (Bolt's default pool of 5 would 404 the sixth)."""
    release = threading.Event()

    def slow(invocation: Any) -> Message:
        assert release.wait(20)
        return Message(f"answer {invocation.text}")

    app = make_app(fake, StandIn(slow), background=True, executor=pool)
    for i in range(12):
        started = time.monotonic()
        assert slash(app, str(i), response_url=fake.response_url(str(i))).status == 200
        assert time.monotonic() - started < 1.0
    release.set()
    replies = fake.wait_for_responses(12)
    assert sorted(r["text"] for r in replies) == sorted(f"answer {i}" for i in range(12))


def test_an_error_after_the_ack_still_reaches_the_user(fake, pool, caplog):
    app = make_app(fake, StandIn(KeyError("boom")), background=True, executor=pool)
    assert slash(app, "top", response_url=fake.response_url()).status == 200
    (reply,) = fake.wait_for_responses(1)
    assert reply["text"].startswith("Something went wrong")
    assert ref_in(reply["text"]) in caplog.text


# -- Slack's rate limits and errors: retried by the client ---------------------------------------


def test_a_429_is_retried_after_retry_after(fake):
    app = make_app(fake, StandIn(Message("x")))
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    reply = app.client.chat_postMessage(channel="C0GENERAL", text="digest")
    assert reply["ok"] is True
    assert time.monotonic() - started >= 1.0  # waited Retry-After
    assert [c.status for c in fake.api_calls("chat.postMessage")] == [429, 200]


def test_a_429_during_a_chart_upload_is_retried_on_the_request_client(fake):
    fake.fail_next("files.completeUploadExternal", status=429, retry_after=0)
    app = make_app(fake, StandIn(Message("numbers", ephemeral=False, chart=CHART)))
    slash(app, "hourly 1", response_url=fake.response_url())
    assert [c.status for c in fake.api_calls("files.completeUploadExternal")] == [429, 200]
    assert [r["text"] for r in fake.responses()] == ["numbers"]


def test_a_5xx_is_retried(fake):
    app = make_app(fake, StandIn(Message("x")))
    fake.fail_next("chat.postMessage", status=503)
    assert app.client.chat_postMessage(channel="C0GENERAL", text="digest")["ok"] is True
    assert [c.status for c in fake.api_calls("chat.postMessage")] == [503, 200]


# == end to end: the real commands.run, the X simulator, a SQLite file ==========================


def test_e2e_help_is_ephemeral_and_covers_every_subcommand(bot, fake):
    for text in ("", "help", "HELP"):
        reply = ask(bot, fake, text)
        assert reply["response_type"] == "ephemeral"
        words = set(re.findall(r"[a-z]+", texts(reply)))
        assert set(SUBCOMMANDS) <= words, set(SUBCOMMANDS) - words
    assert fake.api_calls() == []


def test_e2e_totals_are_xs_numbers(bot, fake, sim):
    post = sim_posts(sim, "sim_creator")[0]
    truth = sim_admin(sim, "GET", f"series?tweet_id={post}&metrics=favorites")
    likes = truth["lifetime"]["favorites"]
    reply = ask(bot, fake, f"https://x.com/sim_creator/status/{post}")
    assert reply["response_type"] == "ephemeral"
    assert f"{likes:,} like" in reply["text"]
    assert len(x_requests(sim)) >= 1


def test_e2e_an_hourly_chart_is_uploaded_where_the_bot_is_a_member(bot, fake, sim, store):
    connect_brand(store)
    post = sim_posts(sim, "sim_brand")[0]
    reply = ask(bot, fake, f"hourly {post}", channel_id="C0MEMBER")
    assert "impressions" in reply["text"]
    steps = [c.method for c in fake.calls() if c.kind != "response"]
    assert steps == [
        "conversations.info",
        "files.getUploadURLExternal",
        steps[2],  # the upload URL's file ID
        "files.completeUploadExternal",
    ]
    (upload,) = fake.calls(kind="upload")
    assert upload.raw.startswith(b"\x89PNG")
    assert fake.api_calls("files.completeUploadExternal")[0].body["channel_id"] == "C0MEMBER"


def test_e2e_no_chart_is_attempted_where_the_bot_is_not_a_member(bot, fake, sim, store):
    connect_brand(store)
    fake.not_member.add("C0OUTSIDE")
    post = sim_posts(sim, "sim_brand")[0]
    reply = ask(bot, fake, f"hourly {post}", channel_id="C0OUTSIDE")
    assert "impressions" in reply["text"]
    assert [c.method for c in fake.api_calls()] == ["conversations.info"]
    assert fake.calls(kind="upload") == []


def test_e2e_a_refused_upload_falls_back_to_an_invite_hint(bot, fake, sim, store):
    connect_brand(store)
    fake.fail_next("files.completeUploadExternal", error="not_in_channel")
    post = sim_posts(sim, "sim_brand")[0]
    ask(bot, fake, f"hourly {post}")
    hint = fake.responses()[-1]
    assert hint["response_type"] == "ephemeral"
    assert "/invite @engagement-bot" in hint["text"]


def test_e2e_the_ack_does_not_wait_for_x(fake, deps, sim, pool):
    """X takes 1.5 s a call: the ack still leaves at once; the answer follows via respond()."""
    app = build_app(settings_for(fake), deps, clock=sim.state.now, executor=pool)
    sim_admin(sim, "PUT", "faults", {"latency_ms": 1500})
    post = sim_posts(sim, "sim_creator")[0]
    started = time.monotonic()
    response = slash(app, post, response_url=fake.response_url())
    acked = time.monotonic() - started
    assert (response.status, response.body) == (200, "")
    assert acked < 1.0
    assert fake.responses() == []
    (reply,) = fake.wait_for_responses(1, timeout=30)
    assert time.monotonic() - started >= 1.5
    assert "like" in reply["text"]


def test_e2e_a_forged_or_stale_request_never_reaches_x(bot, fake, sim):
    body = command_body(sim_posts(sim, "sim_creator")[0], response_url=fake.response_url())
    assert dispatch(bot, body, secret="forged").status == 401
    assert dispatch(bot, body, timestamp=int(time.time()) - 301).status == 401
    assert x_requests(sim) == []
    assert fake.calls() == []


def test_e2e_slack_429s_are_waited_out(bot, fake, sim, store):
    """A reply posted to the channel with app.client, as the digest job posts: Slack says 429
    once, the client waits Retry-After and sends it again. Uploads retry the same way."""
    reply = ask(bot, fake, sim_posts(sim, "sim_creator")[0])
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    posted = bot.client.chat_postMessage(
        channel="C0GENERAL", text=reply["text"], blocks=reply["blocks"]
    )
    assert posted["ok"] is True
    calls = fake.api_calls("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].body["text"] == reply["text"]

    connect_brand(store)
    fake.fail_next("files.completeUploadExternal", status=429, retry_after=0)
    ask(bot, fake, f"hourly {sim_posts(sim, 'sim_brand')[0]}")
    assert [c.status for c in fake.api_calls("files.completeUploadExternal")] == [429, 200]


@pytest.mark.parametrize("fault", ["503", "reset"])
def test_e2e_an_x_outage_is_explained_and_the_bot_carries_on(bot, fake, sim, fault, caplog):
    first, second = sim_posts(sim, "sim_creator")[:2]
    sim_admin(sim, "PUT", "faults", {"queue": [fault] * 6})  # every attempt of one request
    reply = ask(bot, fake, first)
    assert reply["response_type"] == "ephemeral"
    assert "X didn't answer" in texts(reply)
    assert "Something went wrong" not in texts(reply)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    sim_admin(sim, "DELETE", "faults")
    after = ask(bot, fake, second)
    assert "like" in after["text"]
    assert "X didn't answer" not in texts(after)


ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",))
TEXTS = st.one_of(
    st.text(ALPHABET, max_size=60),
    st.builds(
        lambda word, rest: f"{word} {rest}",
        st.sampled_from(SUBCOMMANDS),
        st.text(ALPHABET, max_size=40),
    ),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=TEXTS)
def test_e2e_any_text_is_acked_and_answered_without_a_crash(bot, fake, text, caplog):
    before = len(fake.responses())
    caplog.clear()
    response = slash(bot, text, response_url=fake.response_url())
    assert (response.status, response.body) == (200, "")
    replies = fake.responses()[before:]
    assert len(replies) >= 1
    assert "Something went wrong" not in texts(replies[0])
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    try:
        parse(text, today=SIM_START.date())
    except UsageError:
        assert [r["response_type"] for r in replies] == ["ephemeral"]
