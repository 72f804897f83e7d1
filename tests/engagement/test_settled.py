"""Settled hours (bot/engagement/settled.py): what the store holds of an hourly question."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.engagement.settled import reach, settled_until, split

H = timedelta(hours=1)
T0 = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "until"),
    [
        (datetime(2026, 11, 26, 12, 9, tzinfo=UTC), datetime(2026, 11, 26, 11, tzinfo=UTC)),
        (datetime(2026, 11, 26, 12, 10, tzinfo=UTC), datetime(2026, 11, 26, 12, tzinfo=UTC)),
        (datetime(2026, 11, 26, 12, 59, tzinfo=UTC), datetime(2026, 11, 26, 12, tzinfo=UTC)),
    ],
)
def test_an_hour_is_settled_ten_minutes_after_it_ends(now: datetime, until: datetime):
    assert settled_until(now) == until


def test_reach_is_the_shortest_span_of_the_metrics_asked():
    spans = {"impressions": (T0, T0 + 30 * H), "favorites": (T0 - 5 * H, T0 + 20 * H)}
    assert reach(spans, ["impressions", "favorites"], T0, T0 + 48 * H) == T0 + 20 * H
    assert reach(spans, ["impressions"], T0 + 2 * H, T0 + 10 * H) == T0 + 10 * H  # capped


@pytest.mark.parametrize(
    ("spans", "metrics"),
    [
        ({}, ["impressions"]),  # nothing stored
        ({"impressions": (T0 + H, T0 + 30 * H)}, ["impressions"]),  # starts after the range
        ({"impressions": (T0 - 9 * H, T0)}, ["impressions"]),  # ends where the range starts
        ({"impressions": (T0, T0 + 30 * H)}, ["impressions", "favorites"]),  # one metric of two
    ],
)
def test_reach_is_the_start_when_some_metric_is_not_covered_from_it(spans, metrics):
    assert reach(spans, metrics, T0, T0 + 9 * H) == T0


def test_split_sorts_posts_by_how_far_the_store_reaches():
    end = T0 + 48 * H
    reaches = {"1": end, "2": T0 + 40 * H, "3": T0, "4": T0 + 40 * H, "5": T0 + 44 * H}
    parts = split(reaches, ["1", "2", "3", "4", "5", "6"], T0, end)
    assert parts.stored == ("1",)
    assert parts.resume == {T0 + 40 * H: ("2", "4"), T0 + 44 * H: ("5",)}
    assert parts.fetch == ("3", "6")
