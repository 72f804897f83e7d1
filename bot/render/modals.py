"""The settings modals (views.open): Digest settings, Quiet hours, New alert; their callback
and block ids, and the reading of a submission's state into plain values.

The channel a modal changes travels in its `private_metadata` (a channel ID, nothing secret).
Validation of what was submitted lives with the use cases (bot/channels/settings.py); this
module only lays out and reads back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot.copy import home as copy
from bot.copy.words import metric_word
from bot.render.kit import Block, context, section
from bot.store.channels import ChannelSettings

DIGEST = "digest_settings"
QUIET = "quiet_hours"
ALERT = "new_alert"
REFUSED = "settings_refused"

# Slack's static select holds at most 100 options: the common zones, plus the channel's own.
ZONES = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Toronto",
    "America/Mexico_City",
    "America/Bogota",
    "America/Lima",
    "America/Santiago",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "America/Anchorage",
    "Pacific/Honolulu",
    "Atlantic/Reykjavik",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Madrid",
    "Europe/Paris",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Berlin",
    "Europe/Zurich",
    "Europe/Rome",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Europe/Kyiv",
    "Europe/Moscow",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Manila",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Pacific/Auckland",
)
MAX_OPTIONS = 100
SENSITIVITIES = ("low", "medium", "high")


def _text(value: str) -> PlainTextObject:
    return PlainTextObject(text=value, emoji=True)


def _option(label: str, value: str) -> Option:
    return Option(text=_text(label), value=value)


def _modal(
    callback_id: str, title: str, channel_id: str, blocks: Sequence[Block]
) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=callback_id,
        title=_text(title),
        submit=_text(copy.SAVE),
        close=_text(copy.CANCEL),
        private_metadata=channel_id,
        blocks=list(blocks),
    ).to_dict()


def zone_options(current: str) -> list[Option]:
    zones = list(ZONES) if current in ZONES else [current, *ZONES]
    return [_option(zone, zone) for zone in zones[:MAX_OPTIONS]]


def digest_modal(settings: ChannelSettings, *, zone: str, covers: str) -> dict[str, Any]:
    """On/off, a time picker, a time-zone select and what the digest covers."""
    on, off = _option(copy.ON, "on"), _option(copy.OFF, "off")
    zones = zone_options(zone)
    blocks = [
        section(copy.settings_title(settings.channel_id)),
        InputBlock(
            block_id="digest_on",
            label=_text(copy.DIGEST_ON_LABEL),
            element=RadioButtonsElement(
                action_id="value",
                options=[on, off],
                initial_option=on if settings.digest_enabled else off,
            ),
        ).to_dict(),
        InputBlock(
            block_id="digest_time",
            label=_text(copy.DIGEST_TIME_LABEL),
            element=TimePickerElement(action_id="value", initial_time=settings.digest_time),
        ).to_dict(),
        InputBlock(
            block_id="digest_zone",
            label=_text(copy.DIGEST_ZONE_LABEL),
            element=StaticSelectElement(
                action_id="value",
                options=zones,
                initial_option=next(o for o in zones if o.value == zone),
            ),
        ).to_dict(),
        context(copy.covers(covers)),
    ]
    return _modal(DIGEST, copy.DIGEST_SETTINGS, settings.channel_id, blocks)


def quiet_modal(settings: ChannelSettings, *, zone: str) -> dict[str, Any]:
    """Two optional time pickers: from, until (the channel's zone)."""
    blocks = [
        section(copy.settings_title(settings.channel_id)),
        InputBlock(
            block_id="quiet_start",
            label=_text(f"{copy.QUIET_START_LABEL} ({zone})"),
            optional=True,
            element=TimePickerElement(action_id="value", initial_time=settings.quiet_start),
        ).to_dict(),
        InputBlock(
            block_id="quiet_end",
            label=_text(copy.QUIET_END_LABEL),
            optional=True,
            element=TimePickerElement(action_id="value", initial_time=settings.quiet_end),
        ).to_dict(),
        context(copy.QUIET_HINT),
    ]
    return _modal(QUIET, copy.QUIET_HOURS, settings.channel_id, blocks)


def alert_modal(channel_id: str, *, metrics: Sequence[str]) -> dict[str, Any]:
    """Kind (threshold or spike), metric, threshold, sensitivity, scope."""
    kinds = [
        _option(copy.ALERT_KIND_THRESHOLD, "threshold"),
        _option(copy.ALERT_KIND_SPIKE, "spike"),
    ]
    levels = [_option(level.capitalize(), level) for level in SENSITIVITIES]
    blocks = [
        section(copy.settings_title(channel_id)),
        InputBlock(
            block_id="alert_kind",
            label=_text(copy.ALERT_KIND_LABEL),
            element=RadioButtonsElement(action_id="value", options=kinds, initial_option=kinds[0]),
        ).to_dict(),
        InputBlock(
            block_id="alert_metric",
            label=_text(copy.ALERT_METRIC_LABEL),
            element=StaticSelectElement(
                action_id="value",
                options=[_option(metric_word(m), m) for m in metrics][:MAX_OPTIONS],
            ),
        ).to_dict(),
        InputBlock(
            block_id="alert_threshold",
            label=_text(copy.ALERT_THRESHOLD_LABEL),
            optional=True,
            element=PlainTextInputElement(action_id="value", max_length=12),
        ).to_dict(),
        InputBlock(
            block_id="alert_sensitivity",
            label=_text(copy.ALERT_SENSITIVITY_LABEL),
            optional=True,
            element=StaticSelectElement(
                action_id="value", options=levels, initial_option=levels[1]
            ),
        ).to_dict(),
        InputBlock(
            block_id="alert_scope",
            label=_text(copy.ALERT_SCOPE_LABEL),
            optional=True,
            hint=_text(copy.ALERT_SCOPE_HINT),
            element=PlainTextInputElement(action_id="value", max_length=200),
        ).to_dict(),
    ]
    return _modal(ALERT, copy.NEW_ALERT, channel_id, blocks)


def refused_modal(text: str) -> dict[str, Any]:
    """What someone who may not change settings sees instead of a settings form."""
    return View(
        type="modal",
        callback_id=REFUSED,
        title=_text(copy.REFUSED_TITLE),
        close=_text(copy.CLOSE),
        blocks=[section(text)],
    ).to_dict()


def submitted(state: Mapping[str, Any]) -> dict[str, str | None]:
    """A view_submission's `view.state.values` as block id → the value picked or typed
    (None when empty): selects and radio buttons give their option's value, pickers their
    time, text inputs their text."""
    out: dict[str, str | None] = {}
    for block_id, actions in (state.get("values") or {}).items():
        if not isinstance(actions, Mapping):
            continue
        element = actions.get("value")
        if not isinstance(element, Mapping):
            continue
        option = element.get("selected_option")
        raw = (
            option.get("value")
            if isinstance(option, Mapping)
            else element.get("selected_time", element.get("value"))
        )
        out[str(block_id)] = str(raw).strip() or None if raw is not None else None
    return out
