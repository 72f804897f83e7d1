"""`/engagement digest weekly|monthly …` end to end through the real app: the schedule is
saved in the store, the confirmation says when and in which zone, bad input gets a short
specific answer and changes nothing."""

from __future__ import annotations

import pytest

from bot.store.digest_schedules import DigestSchedule
from tests.support.fake_slack import TEAM_ID
from tests.support.slack_app import ask, texts

CHANNEL = "C0GENERAL"  # where `ask` types


def test_weekly_and_monthly_reports_are_scheduled_and_turned_off(bot, fake, store):
    text = texts(ask(bot, fake, "digest weekly monday at 9:30 Europe/Paris"))
    assert "Weekly report on: every Monday at 09:30 Europe/Paris" in text
    assert "comparing them with the 7 days before those" in text
    text = texts(ask(bot, fake, "digest monthly 31st"))
    assert "Monthly report on: on day 31 (or the month's last day) of every month at 09:00" in text
    assert "Europe/Paris" in text  # the channel's digest zone, set by the weekly one
    assert store.digest_schedules.of_channel(TEAM_ID, CHANNEL) == [
        DigestSchedule(TEAM_ID, CHANNEL, "monthly", 31, "09:00"),
        DigestSchedule(TEAM_ID, CHANNEL, "weekly", 0, "09:30"),
    ]
    assert store.channels.settings(TEAM_ID, CHANNEL).timezone == "Europe/Paris"

    assert "Weekly report off" in texts(ask(bot, fake, "digest weekly off"))
    assert "no weekly report" in texts(ask(bot, fake, "digest weekly off"))
    assert [s.period for s in store.digest_schedules.of_channel(TEAM_ID, CHANNEL)] == ["monthly"]


@pytest.mark.parametrize(
    ("typed", "fragment"),
    [
        ("digest weekly", "needs a weekday"),
        ("digest weekly funday 09:00", "needs a weekday"),
        ("digest monthly 32 09:00", "day of the month (1 to 31"),
        ("digest monthly 1 25:00", "25:00"),
        ("digest monthly 1 09:00 Mars/Olympus", "Mars/Olympus"),
        ("digest weekly off now", "takes nothing"),
    ],
)
def test_bad_report_settings_get_a_specific_answer_and_change_nothing(
    bot, fake, store, typed, fragment
):
    text = texts(ask(bot, fake, typed))
    assert fragment in text
    assert "Usage:" in text
    assert store.digest_schedules.of_channel(TEAM_ID, CHANNEL) == []


def test_help_names_the_report_grammar(bot, fake):
    text = texts(ask(bot, fake, "help digest"))
    assert "digest weekly &lt;weekday&gt; [HH:MM]" in text
    assert "digest monthly &lt;day&gt; [HH:MM]" in text
