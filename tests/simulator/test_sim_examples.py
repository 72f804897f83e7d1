"""Every documented example request (X's documentation examples, tests/fixtures/x_api/) sent to
the simulator: the valid ones are answered in the documented shape, the others get the error
docs/simulator.md describes, and each resolution in tests/fixtures/x_api/README.md holds
(C1–C19)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.simulator.server import RunningSimulator
from tests.support.paths import X_API_FIXTURES
from tests.support.simhttp import admin, bearer, call, oauth
from tests.support.universe import SIM_START

EXAMPLES = X_API_FIXTURES


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


def add_post(sim: RunningSimulator, post_id: str, created_at: str | None = None) -> None:
    doc: dict[str, Any] = {"id": post_id, "author": "sim_brand"}
    if created_at:
        doc["created_at"] = created_at
    admin(sim, "POST", "posts", doc)


def test_totals_public_metrics_example(sim: RunningSimulator):
    request = example("totals_request_public_metrics.json")
    for post_id in request["tweet_ids"]:
        add_post(sim, post_id)
    reply = call(sim, "totals", request, auth=bearer(sim))
    assert reply.status == 200
    documented = example("totals_response_public_metrics.json")
    # The 2018 Posts are over 1800 days old today, so the video-views list joins the grouping.
    assert set(reply.json) == set(documented) | {"unsupported_for_video_views_tweet_ids"}
    assert reply.json["unsupported_for_video_views_tweet_ids"] == request["tweet_ids"]
    grouping = reply.json["perTweetMetricsUnowned"]
    assert set(grouping) == set(documented["perTweetMetricsUnowned"])
    for counts in grouping.values():
        assert list(counts) == request["engagement_types"]  # C4: exactly what was asked
        assert all(isinstance(v, str) and v.isdigit() for v in counts.values())  # C1: strings
    assert "start" not in reply.json  # C2: /totals echoes no window


def test_totals_owned_example_gives_only_requested_metrics(sim: RunningSimulator):
    request = example("totals_request_owned.json")
    for post_id in request["tweet_ids"]:
        add_post(sim, post_id)
    reply = call(sim, "totals", request, auth=oauth())
    assert reply.status == 200
    grouping = reply.json["perTweetMetricsOwned"]
    assert list(grouping) == request["tweet_ids"]
    for counts in grouping.values():
        assert list(counts) == request["engagement_types"]  # no quote_tweets (C4)
    # both Posts are from 2018: older than 90 days, so no lifetime impressions on /totals (C11)
    assert reply.json["unsupported_for_impressions_engagements_tweet_ids"] == request["tweet_ids"]


def test_getting_started_example_with_integer_ids_and_capitalised_group_by(sim: RunningSimulator):
    request = example("getting_started_totals_request.json")
    for post_id in request["tweet_ids"]:
        add_post(sim, str(post_id))
    reply = call(sim, "totals", request, auth=bearer(sim))
    assert reply.status == 200
    # C6: integer IDs accepted and echoed as strings; reply keyed by the request's own name
    assert list(reply.json) == ["engagement-types-by-id"]
    assert list(reply.json["engagement-types-by-id"]) == [str(i) for i in request["tweet_ids"]]


def test_28hr_example_has_29_hourly_buckets_and_an_exclusive_end(sim: RunningSimulator):
    request = example("28hr_request_example.json")
    created = SIM_START - timedelta(hours=40)
    add_post(sim, request["tweet_ids"][0], created.strftime("%Y-%m-%dT%H:%M:%SZ"))  # C16
    reply = call(sim, "28hr", request, auth=oauth())
    assert reply.status == 200
    doc = reply.json
    assert (doc["start"], doc["end"]) == ("2026-11-25T08:00:00Z", "2026-11-26T13:00:00Z")  # C8
    series = doc["hourly-time-series"][request["tweet_ids"][0]]
    assert list(series) == ["impressions", "engagements"]
    days = series["impressions"]
    assert list(days) == ["2026-11-25", "2026-11-26"]
    assert sum(len(hours) for hours in days.values()) == 29
    assert list(days["2026-11-25"])[0] == "08"
    assert list(days["2026-11-26"])[-1] == "12"


def test_historical_example_echoes_rounded_dates(sim: RunningSimulator):
    request = example("historical_request_example.json")
    for post_id in request["tweet_ids"]:
        add_post(sim, post_id, "2015-07-01T00:00:00Z")
    reply = call(sim, "historical", request, auth=oauth())
    assert reply.status == 200
    assert (reply.json["start"], reply.json["end"]) == (
        "2015-08-01T00:00:00Z",
        "2015-08-15T00:00:00Z",
    )
    grouping = reply.json["types-by-tweet-id"]
    assert list(grouping) == request["tweet_ids"]
    assert all(list(v) == request["engagement_types"] for v in grouping.values())


def test_hour_without_day_is_hour_of_day(sim: RunningSimulator):
    request = example("grouping_hourly_timeseries_request.json")
    add_post(sim, request["tweet_ids"][0])
    reply = call(sim, "historical", request, auth=oauth())
    assert reply.status == 200
    # C5: no day level, only the hours of day inside the 17:00–21:00 window
    per_metric = reply.json["Tweets_MetricType_TimeSeries"][request["tweet_ids"][0]]
    assert {k: list(v) for k, v in per_metric.items()} == {
        "impressions": ["17", "18", "19", "20"],
        "engagements": ["17", "18", "19", "20"],
    }
    # C5: the Post was created at 19:44, so nothing happened in the hours before
    assert per_metric["impressions"]["17"] == per_metric["impressions"]["18"] == "0"


@pytest.mark.parametrize(
    ("name", "endpoint", "message"),
    [
        ("totals_request_post_format_example.json", "totals", "Invalid Tweet ID: Tweet ID 1"),
        ("28hr_request_post_format_example.json", "28hr", "Invalid Tweet ID: Tweet ID 1"),
        (
            "historical_request_post_format_example.json",
            "historical",
            "Invalid Tweet ID: Tweet ID 1",
        ),
        ("grouping_grand_totals_request.json", "totals", "Missing required field: tweet_ids"),
    ],
)
def test_placeholder_and_fragment_examples_are_rejected(
    sim: RunningSimulator, name: str, endpoint: str, message: str
):
    reply = call(sim, endpoint, example(name), auth=oauth())
    assert (reply.status, reply.errors) == (400, [message])


def test_grand_totals_sum_over_posts(sim: RunningSimulator):
    request = dict(example("grouping_grand_totals_request.json"))
    ids = [
        p["id"] for p in admin(sim, "GET", "posts?author=sim_brand")["posts"] if not p["deleted"]
    ]
    request["tweet_ids"] = ids[:5]
    request["groupings"] = {
        **request["groupings"],
        "per": {"group_by": ["tweet.id", "engagement.type"]},
    }
    doc = call(sim, "totals", request, auth=oauth()).json
    for metric in request["engagement_types"]:
        assert int(doc["Grand Totals"][metric]) == sum(int(doc["per"][i][metric]) for i in ids[:5])


def test_historical_default_window_echoes_now_to_the_second(sim: RunningSimulator):
    request = example("historical_request_post_format_example.json")
    request["tweet_ids"] = [p["id"] for p in admin(sim, "GET", "posts?author=sim_brand")["posts"]][
        :1
    ]
    reply = call(sim, "historical", request, auth=oauth())
    assert reply.status == 200
    assert reply.json["start"] == "2026-10-29T13:00:00Z"  # ceil_hour(now) - 28 days
    assert reply.json["end"] == "2026-11-26T12:30:00Z"  # now, to the second (C7)


# -- the remaining resolutions of fixtures/x_api/README.md, one test each --------------------------


def brand_ids(sim: RunningSimulator) -> list[str]:
    return [
        p["id"] for p in admin(sim, "GET", "posts?author=sim_brand")["posts"] if not p["deleted"]
    ]


def test_c9_floor_is_2014_09_01_or_one_year_by_option(sim: RunningSimulator):
    request = {
        "tweet_ids": brand_ids(sim)[:1],
        "engagement_types": ["impressions"],
        "groupings": {"g": {"group_by": ["tweet.id", "engagement.type"]}},
        "start": "2014-09-01",
        "end": "2014-09-20",
    }
    assert call(sim, "historical", request, auth=oauth()).status == 200
    admin(sim, "PUT", "options", {"historical_floor": "365d"})
    reply = call(sim, "historical", request, auth=oauth())
    assert (reply.status, reply.errors) == (400, ["start must not be before 2025-11-26T12:00:00Z"])


def test_c11_old_posts_keep_impressions_on_series_endpoints(sim: RunningSimulator):
    old = next(
        p
        for p in admin(sim, "GET", "posts?author=sim_brand")["posts"]
        if p["created_at"] < "2026-06-01"
    )
    request = {
        "tweet_ids": [old["id"]],
        "engagement_types": ["impressions"],
        "groupings": {"g": {"group_by": ["tweet.id", "engagement.type"]}},
    }
    reply = call(sim, "historical", request, auth=oauth())
    assert reply.status == 200
    assert "unsupported_for_impressions_engagements_tweet_ids" not in reply.json
    admin(sim, "PUT", "options", {"impressions_age_limit_endpoints": "totals,historical"})
    reply = call(sim, "historical", request, auth=oauth())
    assert reply.json["unsupported_for_impressions_engagements_tweet_ids"] == [old["id"]]


def test_c15_bearer_on_historical_is_forbidden(sim: RunningSimulator):
    request = {
        "tweet_ids": brand_ids(sim)[:1],
        "engagement_types": ["favorites", "retweets"],
        "groupings": {"g": {"group_by": ["tweet.id", "engagement.type"]}},
    }
    reply = call(sim, "historical", request, auth=bearer(sim))
    assert (reply.status, reply.errors) == (
        403,
        ["Forbidden to access metrics: favorites, retweets"],
    )


def test_c16_tiny_ids_are_unavailable_unless_defined_and_older_than_every_limit(
    sim: RunningSimulator,
):
    request = {
        "tweet_ids": ["123456789"],
        "engagement_types": ["impressions", "video_views"],
        "groupings": {"g": {"group_by": ["tweet.id", "engagement.type"]}},
    }
    reply = call(sim, "totals", request, auth=oauth())
    assert reply.json["unavailable_tweet_ids"] == ["123456789"]
    created = (SIM_START - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    admin(
        sim,
        "POST",
        "posts",
        {"id": "123456789", "author": "sim_brand", "created_at": created, "has_video": True},
    )
    reply = call(sim, "totals", request, auth=oauth())
    assert reply.json["unsupported_for_impressions_engagements_tweet_ids"] == ["123456789"]
    assert reply.json["unsupported_for_video_views_tweet_ids"] == ["123456789"]


def test_c18_unsupported_video_views_list_without_an_errors_string(sim: RunningSimulator):
    ancient = next(
        p
        for p in admin(sim, "GET", "posts?author=sim_brand")["posts"]
        if p["created_at"] < "2021-01-01" and p["has_video"]
    )
    request = {
        "tweet_ids": [ancient["id"]],
        "engagement_types": ["favorites", "video_views"],
        "groupings": {"grouping name": {"group_by": ["tweet.id", "engagement.type"]}},
    }
    doc = call(sim, "totals", request, auth=bearer(sim)).json
    assert doc["unsupported_for_video_views_tweet_ids"] == [ancient["id"]]
    assert doc["grouping name"][ancient["id"]]["video_views"] == "0"
    assert "errors" not in doc


def test_c19_the_documented_field_names_not_the_prose_ones(sim: RunningSimulator):
    prose = {
        "tweets": brand_ids(sim)[:1],
        "engagements": ["favorites"],
        "groupings": {"g": {"group_by": ["engagement.type"]}},
    }
    reply = call(sim, "totals", prose, auth=oauth())
    assert (reply.status, reply.errors) == (400, ["Missing required field: tweet_ids"])
