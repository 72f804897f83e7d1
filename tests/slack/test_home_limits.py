"""Every view and message the interactive side builds, within Slack's documented limits and
valid for slack_sdk's models (tests/support/slack_limits.py): the App Home of a workspace with
100 channels and 50 rules (every page), hostile handles, each modal, `/engagement settings`
of the channel with 50 rules, and an alert with its buttons."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.engagement.models import ALL_METRICS
from bot.render.alerts import AlertLine, alert_message
from bot.render.buttons import MAX_HOURLY_BUTTONS
from bot.render.home import (
    CHANNELS_PER_PAGE,
    AccountState,
    ChannelRow,
    HomeData,
    RecentAlert,
    home_view,
    pages_of,
    settings_message,
)
from bot.render.lists import coverage_text
from bot.render.modals import MAX_OPTIONS, alert_modal, digest_modal, quiet_modal, refused_modal
from bot.store.alert_log import Firing
from bot.store.channels import AlertRule, ChannelSettings, Coverage
from tests.support.slack_limits import assert_valid_message, assert_valid_view
from tests.support.universe import SIM_START

TEAM = "T0FAKE"
HOSTILE = "<!channel> *bold* <@U123> \u202ehandle\u202c & <https://evil.example|x>"
LONG = "x" * 500


def rule(n: int, channel: str) -> AlertRule:
    if n % 2:
        return AlertRule(n, TEAM, channel, "spike", None, None, None, None, "high", "U1", SIM_START)
    return AlertRule(
        n,
        TEAM,
        channel,
        "threshold",
        "favorites",
        10 * n,
        str(1790000000000000000 + n),
        None,
        None,
        "U1",
        SIM_START,
    )


def big_workspace() -> HomeData:
    """100 channels (one with 50 rules, hostile handles everywhere), quiet hours, snoozes."""
    rows = []
    for n in range(100):
        channel = f"C{n:08d}"
        rules = tuple(rule(k, channel) for k in range(1, 51)) if n == 0 else (rule(1, channel),)
        settings = ChannelSettings(
            TEAM,
            channel,
            digest_enabled=True,
            digest_time="09:00",
            timezone="Europe/Paris",
            snoozed_until=SIM_START + timedelta(hours=2),
            quiet_start="22:00",
            quiet_end="07:00",
            paused_reason="not_in_channel" if n == 3 else None,
        )
        authors = {r.post_id: HOSTILE + LONG for r in rules if r.post_id}
        coverage = Coverage(tuple(str(1790000000000000000 + k) for k in range(40)), (HOSTILE,) * 40)
        rows.append(ChannelRow(settings, rules, coverage, "Europe/Paris", authors))
    firing = Firing(1, "1790000000000000001", SIM_START, "impressions", 9_000, 3.5, SIM_START)
    return HomeData(
        accounts=tuple(AccountState(f"@{HOSTILE}{n}", n % 2 == 0, SIM_START) for n in range(30)),
        month="2026-11",
        calls=123_456,
        owners=30,
        channels=tuple(rows),
        recent=tuple(RecentAlert(f"C{n:08d}", firing, {firing.post_id: HOSTILE}) for n in range(5)),
        may_change=True,
        now=SIM_START,
    )


def test_every_page_of_a_100_channel_50_rule_home_tab_fits():
    data = big_workspace()
    pages = pages_of(len(data.channels))
    assert pages == -(-100 // CHANNELS_PER_PAGE)
    for page in range(pages):
        view = home_view(data, page=page)
        assert_valid_view(view)
        assert "<!channel>" not in str(view)
    for empty in (
        replace(data, channels=(), accounts=(), recent=()),
        replace(data, may_change=False),
    ):
        assert_valid_view(home_view(empty))


def test_each_modal_fits_and_offers_at_most_100_options():
    settings = ChannelSettings(TEAM, "C1", True, "09:00", "Pacific/Chatham", None, "22:00", "07:00")
    views = [
        digest_modal(
            settings,
            zone="Pacific/Chatham",
            covers=coverage_text(big_workspace().channels[0].coverage),
        ),
        digest_modal(ChannelSettings(TEAM, "C1"), zone="UTC", covers="nothing"),
        quiet_modal(settings, zone="Pacific/Chatham"),
        quiet_modal(ChannelSettings(TEAM, "C1"), zone="UTC"),
        alert_modal("C1", metrics=ALL_METRICS),
        refused_modal("Only workspace admins " + LONG),
    ]
    for view in views:
        assert_valid_view(view)
        for block in view["blocks"]:
            options = block.get("element", {}).get("options", [])
            assert len(options) <= MAX_OPTIONS


def test_settings_of_a_channel_with_50_rules_and_an_alert_with_buttons_fit():
    row = big_workspace().channels[0]
    assert_valid_message(settings_message(row, now=SIM_START))
    lines = [
        AlertLine(
            Firing(r.id, str(1790000000000000000 + k), SIM_START, "favorites", 99, None, SIM_START),
            r,
        )
        for k, r in enumerate(row.rules)
    ]
    # Real handles (X allows 15 characters); more firings than MAX_LINES are counted.
    authors = {line.firing.post_id: "sim_brand_15chr" for line in lines}
    coverage = Coverage(row.coverage.posts[:3], ("sim_brand",))
    message = alert_message(
        lines, authors=authors, zone=ZoneInfo("UTC"), held=True, coverage=coverage
    )
    assert_valid_message(message)
    (actions,) = [b for b in message.blocks if b["type"] == "actions"]
    assert len(actions["elements"]) == 1 + 2 * MAX_HOURLY_BUTTONS  # Snooze; Show hourly, Mute each


def test_the_console_draws_the_home_tab_and_a_modal_with_their_controls():
    from bot.console.console import render_view

    data = big_workspace()
    drawn = render_view(home_view(data))
    assert "#C00000000" in drawn  # a channel mention, readable
    assert "[⋯ Digest settings | New alert | Quiet hours | Resume alerts]" in drawn
    assert "[ Next channels ▶ ]" in drawn
    modal = render_view(quiet_modal(data.channels[0].settings, zone="Europe/Paris"))
    assert "Quiet from (Europe/Paris): 22:00 ▾" in modal
    assert "[ Cancel ]  [ Save ]" in modal
