"""The settings modals: opened (views.open) from the App Home or `/engagement settings`, and
their submissions (view_submission). Bad input is answered in the modal itself
(`response_action: errors`, one message per field); a refusal too, and nothing changes. Good
input is saved through the command it stands for, then the person's App Home is redrawn and
they are told in the channel (only they see it)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.channels.coverage import channel_coverage
from bot.channels.digest import zone_of
from bot.copy import home as copy
from bot.engagement.models import ALL_METRICS
from bot.engagement.post_refs import PostRef, PostRefError, parse_post_ref
from bot.errors import UserFacingError
from bot.render import buttons
from bot.render import modals as views
from bot.render.lists import coverage_text
from bot.render.message import Message
from bot.slack.commands import handle, refusal
from bot.slack.commands.invocation import Invocation
from bot.slack.interactive import home
from bot.slack.interactive.context import Interactive, invocation
from bot.slack.parse import commands as c
from bot.slack.parse.values import handle as parse_handle

log = logging.getLogger(__name__)

_HH_MM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")

Values = dict[str, str | None]
Errors = dict[str, str]


def open_modal(
    what: str, channel: str, body: Mapping[str, Any], client: WebClient, on: Interactive
) -> None:
    """views.open the modal `what` (digest, quiet, alert) for `channel`, or, for someone who
    may not change it, a modal saying so."""
    inv = invocation(body, channel)
    command = OPENS.get(what)
    if command is None:
        return
    refused = refusal(command, inv, deps=on.deps)
    trigger = str(body.get("trigger_id") or "")
    if refused is not None:
        client.views_open(trigger_id=trigger, view=views.refused_modal(refused))
        return
    settings = on.deps.store.channels.settings(inv.team_id, channel)
    zone = zone_of(settings, on.deps).key
    if what == buttons.OPEN_DIGEST:
        covers = coverage_text(channel_coverage(on.deps.store, inv.team_id, channel))
        view = views.digest_modal(settings, zone=zone, covers=covers)
    elif what == buttons.OPEN_QUIET:
        view = views.quiet_modal(settings, zone=zone)
    else:
        view = views.alert_modal(channel, metrics=ALL_METRICS)
    client.views_open(trigger_id=trigger, view=view)


# What each modal changes, for the permission check before it opens.
OPENS: Mapping[str, object] = {
    buttons.OPEN_DIGEST: c.DigestOff(),
    buttons.OPEN_QUIET: c.Quiet(None, None),
    buttons.OPEN_ALERT: c.AlertSpike(),
}


# -- reading a submission into the command it stands for -----------------------------------------


def _time(value: str | None) -> time | None:
    match = _HH_MM.fullmatch(value or "")
    return time(int(match.group(1)), int(match.group(2))) if match else None


def digest_command(values: Values) -> tuple[object | None, Errors]:
    if values.get("digest_on") == "off":
        return c.DigestOff(), {}
    errors: Errors = {}
    at = _time(values.get("digest_time"))
    if at is None:
        errors["digest_time"] = copy.BAD_TIME
    zone = values.get("digest_zone") or ""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["digest_zone"] = copy.BAD_ZONE
    return (None, errors) if errors else (c.DigestOn(at=at, timezone=zone), {})


def quiet_command(values: Values) -> tuple[object | None, Errors]:
    raw_start, raw_end = values.get("quiet_start"), values.get("quiet_end")
    if not raw_start and not raw_end:
        return c.Quiet(None, None), {}
    start, end = _time(raw_start), _time(raw_end)
    if raw_start and start is None:
        return None, {"quiet_start": copy.BAD_TIME}
    if raw_end and end is None:
        return None, {"quiet_end": copy.BAD_TIME}
    if start is None or end is None:
        return None, {"quiet_end" if start else "quiet_start": copy.QUIET_BOTH}
    if start == end:
        return None, {"quiet_end": copy.QUIET_SAME}
    return c.Quiet(start, end), {}


def _scope(raw: str | None) -> tuple[PostRef | None, str | None, str | None]:
    """(Post, handle, error) of the scope field."""
    if not raw:
        return None, None, None
    if raw.startswith("@") or not any(ch.isdigit() for ch in raw.split("/")[-1]):
        name = parse_handle(raw)
        return (None, name, None) if name else (None, None, copy.BAD_SCOPE)
    try:
        return parse_post_ref(raw), None, None
    except PostRefError:
        return None, None, copy.BAD_SCOPE


def alert_command(values: Values) -> tuple[object | None, Errors]:
    kind = values.get("alert_kind") or "threshold"
    if kind == "spike":
        if values.get("alert_threshold"):
            return None, {"alert_threshold": copy.THRESHOLD_UNWANTED}
        if values.get("alert_scope"):
            return None, {"alert_scope": copy.BAD_SCOPE}
        return c.AlertSpike(values.get("alert_sensitivity") or "medium"), {}
    errors: Errors = {}
    metric = values.get("alert_metric")
    if metric not in ALL_METRICS:
        errors["alert_metric"] = copy.BAD_METRIC
    raw = values.get("alert_threshold") or ""
    per_hour = int(raw) if raw.isascii() and raw.isdigit() and int(raw) > 0 else None
    if per_hour is None:
        errors["alert_threshold"] = copy.THRESHOLD_NEEDED
    post, name, bad = _scope(values.get("alert_scope"))
    if bad:
        errors["alert_scope"] = bad
    if errors or metric is None or per_hour is None:
        return None, errors
    return c.AlertThreshold(metric, per_hour, post=post, handle=name), {}


READERS: Mapping[str, Callable[[Values], tuple[object | None, Errors]]] = {
    views.DIGEST: digest_command,
    views.QUIET: quiet_command,
    views.ALERT: alert_command,
}
# The field a refusal or a use case's complaint is shown under.
FIRST_FIELD = {views.DIGEST: "digest_on", views.QUIET: "quiet_start", views.ALERT: "alert_kind"}


# Modals whose command takes any input that passed the checks here: saved after the ack, so
# the ack never waits for the store. The New alert's command may still refuse (a duplicate, a
# channel covering nothing), which belongs in the modal: it is saved before the ack.
SAVED_AFTER_ACK = frozenset({views.DIGEST, views.QUIET})


@dataclass(frozen=True)
class Checked:
    errors: Errors
    command: object | None
    inv: Invocation
    callback: str


def check(body: Mapping[str, Any], view: Mapping[str, Any], on: Interactive) -> Checked:
    """Read and check one submission, and whether its submitter may make the change."""
    callback = str(view.get("callback_id") or "")
    inv = invocation(body, str(view.get("private_metadata") or ""))
    command, errors = READERS[callback](views.submitted(view.get("state") or {}))
    if not errors and command is not None:
        refused = refusal(command, inv, deps=on.deps)
        if refused is not None:
            errors = {FIRST_FIELD[callback]: refused}
    return Checked(errors, command, inv, callback)


def save(checked: Checked, on: Interactive) -> Message:
    """The command's change; UserFacingError when it refuses. Rescheduling the digest is
    left to after_save."""
    deps = replace(on.deps, on_settings_changed=None)
    return handle(checked.command, checked.inv, deps=deps, now=on.clock())


def save_later(client: WebClient, on: Interactive, checked: Checked) -> None:
    try:
        reply = save(checked, on)
    except UserFacingError as error:
        reply = Message(text=str(error))
    after_save(client, on, checked.inv, reply)


def after_save(client: WebClient, on: Interactive, inv: Invocation, reply: Message) -> None:
    """After the ack: reschedule the channel's digest, confirm, queue a redraw of the Home."""
    if on.deps.on_settings_changed is not None:
        on.deps.on_settings_changed(inv.team_id, inv.channel_id)
    try:
        client.chat_postEphemeral(
            channel=inv.channel_id,
            user=inv.user_id,
            text=reply.text,
            blocks=list(reply.blocks) or None,
        )
    except SlackApiError as error:  # not in the channel, say: the App Home still shows it
        log.info("settings confirmation not posted: %s", error.response.get("error"))
    home.redraw_later(client, on, inv.team_id, inv.user_id)


def register(app: App, on: Interactive) -> None:
    def submission(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        if not str(view.get("private_metadata") or "").strip():
            ack()
            return
        checked = check(body, view, on)
        if checked.errors or checked.command is None:
            ack(response_action="errors", errors=checked.errors)
            return
        if checked.callback in SAVED_AFTER_ACK:
            ack()
            on.later(lambda: save_later(client, on, checked))
            return
        try:
            reply = save(checked, on)
        except UserFacingError as error:
            ack(response_action="errors", errors={FIRST_FIELD[checked.callback]: str(error)})
            return
        ack()
        on.later(lambda: after_save(client, on, checked.inv, reply))

    for callback in READERS:
        app.view(callback)(submission)
