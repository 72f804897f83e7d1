"""Slack refusing a channel, as its owner would want it handled: an archived channel, the bot
removed, a revoked token pause the channel (and the next `/engagement` there says why); a
429 is retried after Retry-After; anything else fails this run only. The X simulator, a SQLite
file and the loopback fake Slack, as in test_digest."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.channels.digest import Status
from bot.channels.outbox import Action, pause_channel, pause_note, resume
from bot.config import Settings
from bot.render.digest import digest_message
from bot.render.replies import error_message
from bot.simulator.server import RunningSimulator
from bot.slack import retries
from bot.slack.outbox import classify, with_pause_note
from bot.store.channels import ChannelSettings
from bot.store.cipher import TokenCipher
from tests.support.digest_bot import CHANNEL, DAY, NOW, DigestBot, quiet_data, set_up_channel
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.slack_limits import assert_valid_message


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """bot.slack.retries' 429 handler sleeps Retry-After (+ up to 1 s of jitter) with
    time.sleep: recorded here instead, so no test waits."""
    sleeps: list[float] = []
    monkeypatch.setattr(retries, "time", SimpleNamespace(sleep=sleeps.append))
    return sleeps


def delivered(fake: FakeSlack) -> int:
    """chat.postMessage calls Slack accepted (refused ones are recorded too)."""
    return sum(c.status == 200 for c in fake.api_calls("chat.postMessage"))


def channel(digest_bot: DigestBot) -> ChannelSettings:
    return digest_bot.store.channels.settings(TEAM_ID, CHANNEL)


# --- pausing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("is_archived", "archived"),
        ("channel_not_found", "could not find this channel"),
        ("not_in_channel", "removed from this channel"),
        ("account_inactive", "deactivated"),
        ("invalid_auth", "no longer accepts the bot's token"),
        ("token_revoked", "revoked"),
        ("missing_scope", "lacks a Slack permission"),
    ],
)
def test_a_refusal_no_retry_fixes_pauses_the_channel_and_says_why(
    digest_bot: DigestBot, fake: FakeSlack, code: str, words: str
) -> None:
    fake.fail_next("chat.postMessage", error=code)

    outcome = digest_bot.digest()

    assert outcome.status is Status.PAUSED
    assert words in (outcome.reason or "")
    paused = channel(digest_bot)
    assert paused.paused_at == NOW
    assert paused.paused_reason == outcome.reason
    assert code in paused.paused_reason
    assert paused.digest_enabled  # resuming brings the digest back as it was
    assert digest_bot.store.digests.get(TEAM_ID, CHANNEL, DAY) is None  # the claim was released
    note = pause_note(paused)
    assert note == (
        f"Digests and alerts are paused here since Thu 26 Nov 2026: {paused.paused_reason}. "
        "`/engagement digest on` resumes them."
    )


def test_a_paused_channel_is_skipped_until_resumed(digest_bot: DigestBot, fake: FakeSlack) -> None:
    fake.not_member.add(CHANNEL)  # the bot was removed: Slack's own answer, not a script
    assert digest_bot.digest().status is Status.PAUSED
    calls = len(fake.api_calls("chat.postMessage"))

    later = digest_bot.digest(now=NOW + timedelta(hours=1))

    assert later.status is Status.PAUSED
    assert "removed from this channel" in (later.reason or "")
    assert len(fake.api_calls("chat.postMessage")) == calls  # not even tried
    assert digest_bot.store.digests.get(TEAM_ID, CHANNEL, DAY) is None

    fake.not_member.clear()  # someone invited the bot back and typed /engagement digest on
    assert resume(digest_bot.store, TEAM_ID, CHANNEL, now=NOW + timedelta(hours=2))
    assert pause_note(channel(digest_bot)) is None
    assert not resume(digest_bot.store, TEAM_ID, CHANNEL, now=NOW + timedelta(hours=2))
    assert digest_bot.digest(now=NOW + timedelta(hours=2)).status is Status.POSTED
    assert [c.status for c in fake.api_calls("chat.postMessage")] == [200, 200]


def test_a_revoked_token_pauses_the_channel(
    sim: RunningSimulator, tmp_path: Path, fake: FakeSlack, settings: Settings
) -> None:
    made = DigestBot(sim, tmp_path / "engagement.db", TokenCipher.generate(), settings)
    try:
        set_up_channel(made.store)
        fake.token = "xoxb-the-new-one"  # the app was reinstalled: our token no longer works

        outcome = made.digest()

        assert outcome.status is Status.PAUSED
        assert "invalid_auth" in (outcome.reason or "")
    finally:
        made.close()


def test_a_second_pause_keeps_the_first_reason_and_time(digest_bot: DigestBot) -> None:
    pause_channel(digest_bot.store, TEAM_ID, CHANNEL, "first", NOW)
    again = pause_channel(digest_bot.store, TEAM_ID, CHANNEL, "second", NOW + timedelta(days=1))

    assert (again.paused_reason, again.paused_at) == ("first", NOW)
    assert channel(digest_bot).paused_reason == "first"
    assert channel(digest_bot).digest_enabled


# --- not pausing -------------------------------------------------------------------------------


def test_a_passing_failure_fails_this_run_only(digest_bot: DigestBot, fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", error="internal_error")

    failed = digest_bot.digest()

    assert failed.status is Status.FAILED
    assert channel(digest_bot).paused_reason is None
    assert digest_bot.digest().status is Status.POSTED


def test_a_429_is_retried_after_retry_after_and_posted_once(
    digest_bot: DigestBot, fake: FakeSlack, slept: list[float]
) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=1)

    outcome = digest_bot.digest()

    assert outcome.status is Status.POSTED
    assert [c.status for c in fake.api_calls("chat.postMessage")] == [429, 200]
    assert delivered(fake) == 1
    assert len(slept) == 1
    assert 1 <= slept[0] < 2
    assert channel(digest_bot).paused_reason is None


def test_429s_past_the_clients_retries_fail_the_run_without_pausing(
    digest_bot: DigestBot, fake: FakeSlack, slept: list[float]
) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=4, times=3)

    outcome = digest_bot.digest()

    assert outcome.status is Status.FAILED
    assert len(slept) == 2  # CappedRateLimitRetryHandler(max_retry_count=2)
    assert channel(digest_bot).paused_reason is None
    assert digest_bot.store.digests.get(TEAM_ID, CHANNEL, DAY) is None


def test_a_429_asking_for_longer_than_the_cap_is_not_slept_on(
    digest_bot: DigestBot, fake: FakeSlack, slept: list[float]
) -> None:
    # Sleeping 20 s would hold the thread (and whatever queues behind it) for nothing: the run
    # fails now and the scheduler tries again later.
    fake.fail_next("chat.postMessage", status=429, retry_after=20)

    outcome = digest_bot.digest()

    assert outcome.status is Status.FAILED
    assert slept == []
    assert [c.status for c in fake.api_calls("chat.postMessage")] == [429]
    assert channel(digest_bot).paused_reason is None


# --- the pieces --------------------------------------------------------------------------------


def slack_error(code: str, status: int = 200, headers: dict[str, str] | None = None) -> Exception:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.test/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": code},
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError(code, response)


def test_classify() -> None:
    assert classify(slack_error("is_archived")).action is Action.PAUSE
    assert classify(slack_error("msg_too_long")).action is Action.RETRY  # ours, not the channel's
    limited = classify(slack_error("ratelimited", 429, {"Retry-After": "30"}))
    assert (limited.action, limited.code, limited.retry_after) == (Action.RETRY, "ratelimited", 30)
    assert classify(ConnectionError("down")).action is Action.RETRY
    assert classify(ConnectionError("down")).code == "ConnectionError"


def test_a_pause_note_fits_above_any_reply() -> None:
    settings = ChannelSettings(
        TEAM_ID, CHANNEL, paused_reason="a <weird> & long reason " * 40, paused_at=NOW
    )
    note = pause_note(settings)
    assert note is not None

    for message in (digest_message(quiet_data()), error_message("no such Post")):
        noted = with_pause_note(message, note)
        assert_valid_message(noted)
        assert noted.text.startswith("Digests and alerts are paused here since")
        assert "&lt;weird&gt;" in str(noted.blocks[0])
    plain = replace(error_message("x"), blocks=())
    assert with_pause_note(plain, note).blocks == ()
    assert with_pause_note(plain, None) is plain


def test_a_paused_channel_hears_why_at_its_next_command_and_digest_on_resumes(tmp_path):
    from bot.channels.deps import Deps
    from bot.channels.outbox import pause_channel
    from bot.config import Settings
    from bot.slack.commands import Invocation, run
    from bot.store import Store
    from bot.store.cipher import TokenCipher

    with Store.open(tmp_path / "p.db", cipher=TokenCipher.generate()) as store:
        deps = Deps(service=None, store=store, settings=Settings())  # type: ignore[arg-type]
        pause_channel(store, "T1", "C1", "the channel was archived", NOW)
        reply = run(Invocation("T1", "C1", "U1", "tracked"), deps=deps, now=NOW)
        assert "paused" in (reply.text + str(reply.blocks)).lower()
        run(Invocation("T1", "C1", "U1", "digest on 9:00"), deps=deps, now=NOW)
        assert store.channels.settings("T1", "C1").paused_reason is None
        again = run(Invocation("T1", "C1", "U1", "tracked"), deps=deps, now=NOW)
        assert "paused" not in (again.text + str(again.blocks)).lower()


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": ["20"]}, 20.0),  # a retry handler's map: lists of values
        ({"retry-after": "60"}, 60.0),  # an error response's map: single values
        ({"Retry-After": "inf"}, None),  # never a wait without end
        ({"Retry-After": "-5"}, None),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_one_reading_of_retry_after_for_every_slack_caller(
    headers: dict[str, object], seconds: float | None
) -> None:
    from bot.slack.retries import retry_after

    assert retry_after(headers) == seconds
