from __future__ import annotations

import pytest

from bot.engagement.metric_names import UnknownMetric, resolve_metric, resolve_metrics


@pytest.mark.parametrize(
    ("typed", "metric"),
    [
        ("likes", "favorites"),
        ("Reposts", "retweets"),
        ("video views", "video_views"),
        ("url-clicks", "url_clicks"),
        ("IMPRESSIONS", "impressions"),
        ("quotes", "quote_tweets"),
    ],
)
def test_names_and_aliases(typed: str, metric: str):
    assert resolve_metric(typed) == metric


def test_duplicates_collapse_in_order():
    assert resolve_metrics(["likes", "favorites", "replies", ""]) == ("favorites", "replies")


def test_unknown_metric_suggests_a_near_name():
    with pytest.raises(UnknownMetric, match="Did you mean impressions"):
        resolve_metric("impresions")
