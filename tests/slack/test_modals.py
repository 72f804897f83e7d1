"""The settings modals end to end: opened from the App Home and `/engagement settings`
(views.open on the fake Slack), submitted as signed view_submission requests to the real Bolt
app; bad input comes back as `response_action: errors` in the modal and nothing is saved; good
input is saved; a member is refused. And interactivity through the real HTTP listener: a
forged payload is rejected, a replayed one acts once."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

import pytest
import requests

from bot.render import buttons
from bot.slack.app import build_app
from bot.slack.permissions import workspace_admins
from bot.slack.web import build_web_client
from bot.slack.wsgi import EVENTS_PATH, make_wsgi_app, serve_in_background
from tests.support.fake_slack import BOT_TOKEN, TEAM_ID
from tests.support.interactive import (
    ADMIN,
    CHANNEL,
    MEMBER,
    picked,
    press_in_home,
    press_on_message,
    submit_view,
    time_of,
    typed,
)
from tests.support.slack_app import ask, settings_for, texts
from tests.support.slack_requests import SIGNING_SECRET, interaction_body, signed_headers


@pytest.fixture
def app(fake: Any, deps: Any, sim: Any) -> Any:
    fake.admins.add(ADMIN)
    settings = settings_for(fake)
    client = build_web_client(settings, token=BOT_TOKEN)
    deps.may_change = workspace_admins(client, settings, monotonic=time.monotonic)
    return build_app(settings, deps, clock=sim.state.now, process_before_response=True)


def open_from_home(app: Any, fake: Any, what: str, user: str = ADMIN) -> dict[str, Any]:
    option = {"value": f"{what}:{CHANNEL}"}
    press_in_home(app, {"action_id": buttons.CHANNEL_MENU, "selected_option": option}, user=user)
    return fake.views("views.open")[-1]


def errors_of(response: Any) -> dict[str, str]:
    assert response.status == 200
    body = json.loads(response.body)
    assert body["response_action"] == "errors"
    return dict(body["errors"])


def test_digest_settings_show_the_current_ones_refuse_bad_input_and_save_good(app, fake, store):
    ask(app, fake, "track @sim_brand", user_id=ADMIN)
    view = open_from_home(app, fake, buttons.OPEN_DIGEST)
    assert view["callback_id"] == "digest_settings"
    assert view["private_metadata"] == CHANNEL
    assert "@sim_brand" in texts({"blocks": view["blocks"]})  # what it covers
    bad = submit_view(
        app,
        view,
        {
            "digest_on": picked("on"),
            "digest_time": time_of("25:99"),
            "digest_zone": picked("Mars/Base"),
        },
    )
    assert set(errors_of(bad)) == {"digest_time", "digest_zone"}
    assert not store.channels.settings(TEAM_ID, CHANNEL).digest_enabled
    good = submit_view(
        app,
        view,
        {
            "digest_on": picked("on"),
            "digest_time": time_of("07:45"),
            "digest_zone": picked("Asia/Tokyo"),
        },
    )
    assert (good.status, good.body) == (200, "")
    saved = store.channels.settings(TEAM_ID, CHANNEL)
    assert (saved.digest_enabled, saved.digest_time, saved.timezone) == (
        True,
        "07:45",
        "Asia/Tokyo",
    )
    (told,) = fake.api_calls("chat.postEphemeral")
    assert "07:45" in texts(told.body)
    assert "Digest: daily at 07:45 (Asia/Tokyo)" in texts({"b": fake.views()[-1]["blocks"]})


def test_quiet_hours_need_both_ends_that_differ(app, fake, store):
    view = open_from_home(app, fake, buttons.OPEN_QUIET)
    half = submit_view(app, view, {"quiet_start": time_of("22:00"), "quiet_end": time_of(None)})
    assert errors_of(half) == {"quiet_end": "Set both ends of the quiet hours, or neither."}
    same = submit_view(app, view, {"quiet_start": time_of("22:00"), "quiet_end": time_of("22:00")})
    assert "quiet_end" in errors_of(same)
    assert store.channels.settings(TEAM_ID, CHANNEL).quiet_start is None
    good = submit_view(app, view, {"quiet_start": time_of("22:00"), "quiet_end": time_of("07:00")})
    assert good.body == ""
    saved = store.channels.settings(TEAM_ID, CHANNEL)
    assert (saved.quiet_start, saved.quiet_end) == ("22:00", "07:00")


def test_a_new_alert_from_the_modal_is_checked_then_stored(app, fake, store):
    ask(app, fake, "track @sim_brand", user_id=ADMIN)
    view = open_from_home(app, fake, buttons.OPEN_ALERT)
    values = {"alert_kind": picked("threshold"), "alert_metric": picked("favorites")}
    bad = submit_view(
        app, view, {**values, "alert_threshold": typed("lots"), "alert_scope": typed("@@")}
    )
    assert set(errors_of(bad)) == {"alert_threshold", "alert_scope"}
    assert store.channels.alerts(TEAM_ID, CHANNEL) == []
    good = submit_view(
        app, view, {**values, "alert_threshold": typed("250"), "alert_scope": typed("@sim_brand")}
    )
    assert good.body == ""
    (rule,) = store.channels.alerts(TEAM_ID, CHANNEL)
    assert (rule.kind, rule.metric, rule.threshold, rule.handle) == (
        "threshold",
        "favorites",
        250,
        "sim_brand",
    )
    again = submit_view(
        app, view, {**values, "alert_threshold": typed("250"), "alert_scope": typed("@sim_brand")}
    )
    assert "already" in errors_of(again)["alert_kind"].lower()  # the command's own check


def test_a_member_gets_a_refusal_instead_of_a_form_and_cannot_submit_one(app, fake, store):
    refused = open_from_home(app, fake, buttons.OPEN_DIGEST, user=MEMBER)
    assert refused["callback_id"] == "settings_refused"
    assert "Only workspace admins" in texts({"b": refused["blocks"]})
    form = open_from_home(app, fake, buttons.OPEN_DIGEST)
    before = store.channels.settings(TEAM_ID, CHANNEL)
    values = {
        "digest_on": picked("on"),
        "digest_time": time_of("07:45"),
        "digest_zone": picked("UTC"),
    }
    errors = errors_of(submit_view(app, form, values, user=MEMBER))
    assert "Only workspace admins" in errors["digest_on"]
    assert store.channels.settings(TEAM_ID, CHANNEL) == before


def test_engagement_settings_prints_the_settings_with_buttons_that_open_the_modals(app, fake):
    ask(app, fake, "digest on 8:30 europe/paris", user_id=ADMIN)
    reply = ask(app, fake, "settings", user_id=MEMBER)
    assert "Digest: daily at 08:30 (Europe/Paris)" in texts(reply)
    actions = next(b for b in reply["blocks"] if b["type"] == "actions")
    ids = [e["action_id"] for e in actions["elements"]]
    assert f"{buttons.CHANNEL_MENU}:{buttons.OPEN_QUIET}" in ids
    payload_action = {"action_id": f"{buttons.CHANNEL_MENU}:{buttons.OPEN_QUIET}", "value": CHANNEL}
    press_on_message(app, fake, payload_action)
    assert fake.views("views.open")[-1]["callback_id"] == "quiet_hours"


def test_a_forged_action_is_rejected_and_a_replayed_one_acts_once(fake, deps, sim):
    settings = settings_for(fake)
    app = build_app(settings, deps, clock=sim.state.now, process_before_response=True)
    server = serve_in_background(
        make_wsgi_app(app, health=lambda: {"ok": True}, signing_secret=SIGNING_SECRET)
    )
    try:
        payload = {
            "type": "block_actions",
            "user": {"id": ADMIN},
            "team": {"id": TEAM_ID},
            "channel": {"id": CHANNEL},
            "container": {"type": "message", "message_ts": "1.2"},
            "response_url": fake.response_url("action"),
            "trigger_id": "1.2.3",
            "actions": [{"action_id": buttons.SNOOZE_2H, "value": "2", "block_id": "a"}],
        }
        body = interaction_body(payload)
        url = server.url + EVENTS_PATH
        forged = signed_headers(body, secret="not-the-signing-secret")
        assert requests.post(url, data=body, headers=forged, timeout=10).status_code == 401
        assert store_snoozed(deps) is None
        headers = signed_headers(body)
        assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 200
        first = store_snoozed(deps)
        assert first is not None
        assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 200
        assert len(fake.responses("action")) == 1  # the replay did nothing
    finally:
        server.stop()


def store_snoozed(deps: Any) -> Any:
    return deps.store.channels.settings(TEAM_ID, CHANNEL).snoozed_until


class HeldPool(Executor):
    """The bot's pool for work after the ack, held: what is submitted waits until `run_all()`
    runs it in order, in the test's thread (work it queues meanwhile included)."""

    def __init__(self) -> None:
        self.queued: list[Callable[[], object]] = []
        self.cond = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self.cond:
            self.queued.append(functools.partial(fn, *args, **kwargs))
            self.cond.notify_all()
        return Future()

    def wait_for(self, n: int) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.queued) >= n, timeout=10), self.queued

    def run_all(self) -> None:
        while self.queued:
            with self.cond:
                work = self.queued.pop(0)
            work()


def test_a_burst_of_submissions_saves_each_and_redraws_the_home_once_with_the_last(
    fake, deps, sim, store
):
    settings = settings_for(fake)
    deps.may_change = workspace_admins(
        build_web_client(settings, token=BOT_TOKEN), settings, monotonic=time.monotonic
    )
    fake.admins.add(ADMIN)
    held = HeldPool()
    app = build_app(settings, deps, clock=sim.state.now, quick=held)
    view = {"callback_id": "digest_settings", "private_metadata": CHANNEL, "blocks": []}
    for n, at in enumerate(("07:00", "07:15", "07:30"), start=1):
        values = {
            "digest_on": picked("on"),
            "digest_time": time_of(at),
            "digest_zone": picked("UTC"),
        }
        response = submit_view(app, view, values)
        assert (response.status, response.body) == (200, "")  # acked before anything is saved
        held.wait_for(n)  # its save queued, in the order submitted
    assert fake.views() == []
    held.run_all()
    assert store.channels.settings(TEAM_ID, CHANNEL).digest_time == "07:30"
    assert len(fake.api_calls("chat.postEphemeral")) == 3  # each submitter told
    (home,) = fake.views()  # one redraw stands for the three changes
    assert "Digest: daily at 07:30 (UTC)" in texts({"b": home["blocks"]})
