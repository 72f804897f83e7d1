"""bot.engagement.wire against the documented bodies in tests/fixtures/x_api/ (X's documentation
examples), plus the cases those bodies leave out. Pure: no I/O."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.engagement import wire
from bot.engagement.models import (
    APP_ONLY,
    DAILY,
    HOURLY,
    PER_POST,
    AccessGrant,
    AppCredentials,
    Endpoint,
    EngagementRequest,
    EngagementResult,
    GroupBy,
    Grouping,
    MissingReason,
    RateLimitInfo,
    RequestToken,
    UserAuth,
)
from bot.engagement.wire.request import canonical_post_ids
from bot.errors import (
    AuthError,
    BadRequest,
    EngagementAPIError,
    Forbidden,
    ForbiddenMetrics,
    ForbiddenPosts,
    GzipRequired,
    NotFound,
    ProtectedPosts,
    RateLimited,
    ServerError,
    UnexpectedResponse,
)
from tests.support.paths import X_API_FIXTURES

FIXTURES = X_API_FIXTURES
NO_LIMITS = RateLimitInfo()
T, E, D, H = (
    GroupBy.TWEET_ID,
    GroupBy.ENGAGEMENT_TYPE,
    GroupBy.ENGAGEMENT_DAY,
    GroupBy.ENGAGEMENT_HOUR,
)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


# (file, endpoint, grouping name, group_by) — the group_by column of the examples' README.
RESPONSES = [
    ("totals_response_public_metrics.json", "totals", "perTweetMetricsUnowned", (T, E)),
    ("totals_response_owned.json", "totals", "perTweetMetricsOwned", (T, E)),
    ("totals_response_unavailable_tweet_ids.json", "totals", "group1", (T, E)),
    ("28hr_response_example.json", "28hr", "hourly-time-series", (T, E, D, H)),
    ("28hr_response_unavailable_tweet_ids.json", "28hr", "group1", (T, E)),
    ("historical_response_example.json", "historical", "types-by-tweet-id", (T, E)),
    ("historical_response_unavailable_tweet_ids.json", "historical", "group1", (T, E)),
    ("grouping_grand_totals_response.json", "totals", "Grand Totals", (E,)),
    ("getting_started_totals_response.json", "totals", "grouping name", (T, E)),
    ("video_views_unsupported_response.json", "totals", "grouping name", (T, E)),
    ("repo_voxfeed_fixture_totals_response.json", "totals", "totals", (T, E)),
    (
        "repo_ruby_readme_hourly_timeseries_response.json",
        "historical",
        "hourly_timeseries",
        (E, T, H),
    ),
    ("repo_ruby_client_by_tweet_type_response.json", "totals", "by_tweet_type", (T, E)),
]


def leaves(node: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    if not isinstance(node, dict):
        return {path: node}
    found: dict[tuple[str, ...], Any] = {}
    for key, child in node.items():
        found.update(leaves(child, (*path, key)))
    return found


def request_for(
    body: Any, endpoint: str, name: str, group_by: tuple[GroupBy, ...]
) -> EngagementRequest:
    """The request a documented reply answers: its Posts and metrics read off the reply."""
    paths = leaves(body[name])
    ids = {p[group_by.index(T)] for p in paths} if T in group_by else {"1"}
    ids |= set(body.get("unavailable_tweet_ids", []))
    metrics = {p[group_by.index(E)] for p in paths}
    return EngagementRequest(
        Endpoint(endpoint),
        tuple(sorted(ids)),
        tuple(sorted(metrics)),
        groupings=(Grouping(name, group_by),),
    )


def parse(
    name: str, endpoint: str, grouping: str, group_by: tuple[GroupBy, ...]
) -> EngagementResult:
    body = fixture(name)
    return wire.parse_response(request_for(body, endpoint, grouping, group_by), body, NO_LIMITS)


@pytest.mark.parametrize(("name", "endpoint", "grouping", "group_by"), RESPONSES)
def test_every_documented_response_parses_with_its_group_by(name, endpoint, grouping, group_by):
    body = fixture(name)
    result = parse(name, endpoint, grouping, group_by)
    parsed = result.grouping(grouping)
    raw = leaves(body[grouping])
    assert leaves(dict(parsed.tree)) == {path: int(value) for path, value in raw.items()}
    assert len(parsed.cells) == len(raw)
    for cell in parsed.cells:
        assert cell.metric in {path[group_by.index(E)] for path in raw}


def test_public_metrics_values_per_post():
    result = parse(*RESPONSES[0])
    assert result.value("1067094924124872705", "video_views") == 5754512
    assert result.value("1021817816134156288", "favorites") == 530
    assert result.missing_reason("1021817816134156288", "video_views") is None
    assert result.errors == ()
    assert result.start is None
    assert result.end is None


def test_integer_counts_and_unavailable_posts():
    result = parse(*RESPONSES[4])  # 28hr, "retweets": 26 as a JSON number
    assert result.value("423456789", "retweets") == 26
    assert result.unavailable_ids == ("323456789",)
    assert result.value("323456789", "favorites") is None
    assert result.missing_reason("323456789", "favorites") is MissingReason.UNAVAILABLE


def test_voxfeed_fixture_mixes_string_and_integer_counts_and_keeps_errors():
    result = parse(*RESPONSES[10])
    assert result.errors == ("1 Tweet ID(s) are unavailable",)
    assert result.value("423456789", "retweets") == 26
    assert result.value("123456789", "retweets") == 88


def test_unsupported_video_views_are_missing_not_zero():
    result = parse(*RESPONSES[9])
    for post_id in ("479311209565413376", "477139122520219648"):
        assert result.value(post_id, "video_views") is None
        assert result.missing_reason(post_id, "video_views") is MissingReason.VIDEO_VIEWS_TOO_OLD
        assert result.value(post_id, "impressions") is not None
    assert result.value("1397568983931392004", "video_views") == 17902
    cell = result.grouping("grouping name").cells_for("479311209565413376", "video_views")[0]
    assert cell.count is None
    assert cell.missing is MissingReason.VIDEO_VIEWS_TOO_OLD


def test_unsupported_impressions_are_missing_and_make_sums_partial():
    body = {
        "errors": [
            "1 Tweet ID(s) are unavailable",
            "Impressions & engagements for tweets older than 90 days (90 days) are not supported",
        ],
        "unavailable_tweet_ids": ["4"],
        "unsupported_for_impressions_engagements_tweet_ids": ["2", "3"],
        "unsupported_for_video_views_tweet_ids": ["3"],
        "g": {
            "1": {"impressions": "18211", "favorites": "204", "video_views": "3120"},
            "2": {"impressions": "0", "favorites": "311", "video_views": "0"},
            "3": {"impressions": "0", "favorites": "57", "video_views": "0"},
        },
        "sum": {"impressions": "18211", "favorites": "572", "video_views": "3120"},
    }
    request = EngagementRequest(
        Endpoint.TOTALS,
        ("1", "2", "3", "4"),
        ("impressions", "favorites", "video_views"),
        groupings=(Grouping("g", (T, E)), Grouping("sum", (E,))),
    )
    result = wire.parse_response(request, body, NO_LIMITS)
    assert result.value("1", "impressions") == 18211
    assert result.value("2", "impressions") is None
    assert result.missing_reason("2", "engagements") is MissingReason.IMPRESSIONS_TOO_OLD
    assert result.value("2", "video_views") == 0  # a real zero: B has no video
    assert result.value("3", "video_views") is None
    assert result.value("3", "favorites") == 57
    sums = {c.metric: c for c in result.grouping("sum").cells}
    assert all(c.partial for c in sums.values())  # Post 4 is gone from every sum
    assert sums["favorites"].count == 572


def test_hour_of_day_without_day_level():
    result = parse(*RESPONSES[11])
    cells = result.grouping("hourly_timeseries").cells
    assert [c.hour for c in cells] == list(range(24))
    assert all(c.day is None and c.bucket is None for c in cells)
    raw = fixture(RESPONSES[11][0])["hourly_timeseries"]["impressions"]["695310089847111681"]
    assert result.value("695310089847111681", "impressions") == sum(map(int, raw.values())) == 412
    assert result.end == datetime(2016, 2, 9, 19, 43, tzinfo=UTC)  # not on the hour (C7)


def test_four_level_nesting_gives_hourly_buckets_and_days():
    result = parse(*RESPONSES[3])
    hourly = result.hourly("123456789", "impressions")
    assert len(hourly) == 29
    assert min(hourly) == result.start == datetime(2015, 9, 14, 17, tzinfo=UTC)
    assert max(hourly) + timedelta(hours=1) == result.end  # end is exclusive
    assert hourly[datetime(2015, 9, 14, 18, tzinfo=UTC)] == 412
    assert result.daily("123456789", "impressions") == {
        date(2015, 9, 14): 1739,
        date(2015, 9, 15): 18,
    }
    assert result.value("123456789", "impressions") == 1757


def test_the_grouping_guide_day_level_is_not_hour_of_day():
    """C5: the guide shows a day level for [tweet.id, engagement.type, engagement.hour]."""
    body = fixture("grouping_hourly_timeseries_response.json")
    name = "Tweets_MetricType_TimeSeries"
    request = EngagementRequest(
        Endpoint.HISTORICAL,
        ("697506383516729344",),
        ("impressions", "engagements"),
        groupings=(Grouping(name, (T, E, H)),),
    )
    with pytest.raises(UnexpectedResponse, match="Tweets_MetricType_TimeSeries"):
        wire.parse_response(request, body, NO_LIMITS)
    as_published = wire.parse_response(
        EngagementRequest(
            Endpoint.HISTORICAL,
            ("697506383516729344",),
            ("impressions", "engagements"),
            groupings=(Grouping(name, (T, E, D, H)),),
        ),
        body,
        NO_LIMITS,
    )
    assert as_published.value("697506383516729344", "engagements") == 17


def historical_body(start: str, end: str, days: list[str], favorites: str = "5") -> dict[str, Any]:
    return {
        "start": start,
        "end": end,
        "daily": {
            "7": {"favorites": {d: favorites for d in days}, "impressions": {d: "9" for d in days}}
        },
        "window": {"7": {"favorites": "50", "impressions": "90"}},
    }


def historical_request(start: datetime, end: datetime) -> EngagementRequest:
    return EngagementRequest(
        Endpoint.HISTORICAL,
        ("7",),
        ("favorites", "impressions"),
        auth=UserAuth("t", "s"),
        groupings=(Grouping("daily", DAILY.group_by), Grouping("window", PER_POST.group_by)),
        start=start,
        end=end,
    )


def test_historical_public_metrics_before_2015_09_15_are_missing():
    days = [f"2015-09-{d:02d}" for d in range(10, 20)]
    start, end = datetime(2015, 9, 10, tzinfo=UTC), datetime(2015, 9, 20, tzinfo=UTC)
    body = historical_body("2015-09-10T00:00:00Z", "2015-09-20T00:00:00Z", days)
    result = wire.parse_response(historical_request(start, end), body, NO_LIMITS)
    daily = result.daily("7", "favorites")
    assert [daily[date(2015, 9, d)] for d in range(10, 20)] == [None] * 5 + [5] * 5
    assert all(v == 9 for v in result.daily("7", "impressions").values())
    missing = [c for c in result.grouping("daily").cells if c.missing]
    assert {c.missing for c in missing} == {MissingReason.NOT_RECORDED}
    window = {c.metric: c for c in result.grouping("window").cells}
    assert window["favorites"].partial
    assert window["favorites"].count == 50
    assert not window["impressions"].partial


def test_historical_window_wholly_before_the_floor_reports_favorites_missing():
    start, end = datetime(2015, 8, 1, tzinfo=UTC), datetime(2015, 8, 15, tzinfo=UTC)
    body = historical_body("2015-08-01T00:00:00Z", "2015-08-15T00:00:00Z", ["2015-08-01"], "0")
    result = wire.parse_response(historical_request(start, end), body, NO_LIMITS)
    assert result.value("7", "favorites") is None
    assert result.value("7", "impressions") == 90


def test_unknown_keys_and_any_key_order_are_tolerated():
    body = fixture("totals_response_public_metrics.json")
    grouping = body["perTweetMetricsUnowned"]
    shuffled = {
        "future_field": {"anything": [1, 2]},
        "perTweetMetricsUnowned": {
            k: dict(reversed(v.items())) for k, v in reversed(grouping.items())
        },
    }
    request = request_for(body, "totals", "perTweetMetricsUnowned", (T, E))
    one = wire.parse_response(request, body, NO_LIMITS)
    other = wire.parse_response(request, shuffled, NO_LIMITS)
    for post_id in request.post_ids:
        for metric in request.metrics:
            assert one.value(post_id, metric) == other.value(post_id, metric)


def test_negative_integer_counts_are_tolerated():
    request = EngagementRequest(Endpoint.HOURLY_28HR, ("5",), ("impressions",), groupings=(HOURLY,))
    body = {"hourly": {"5": {"impressions": {"2024-01-01": {"00": -2, "01": "-1", "02": "3"}}}}}
    result = wire.parse_response(request, body, NO_LIMITS)
    assert list(result.hourly("5", "impressions").values()) == [-2, -1, 3]


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"other": {}},
        {"per_post": {"5": {"impressions": "12a"}}},
        {"per_post": {"5": {"impressions": True}}},
        {"per_post": {"5": {"impressions": 1.5}}},
        {"per_post": {"5": "3"}},
        {"per_post": {"5": {"impressions": {"x": "1"}}}},
    ],
)
def test_bodies_that_do_not_match_the_request_raise_unexpected_response(body):
    request = EngagementRequest(Endpoint.TOTALS, ("5",), ("impressions",))
    with pytest.raises(UnexpectedResponse) as caught:
        wire.parse_response(request, body, NO_LIMITS)
    assert not caught.value.retryable


def test_hour_keys_must_be_hours():
    request = EngagementRequest(Endpoint.HOURLY_28HR, ("5",), ("impressions",), groupings=(HOURLY,))
    body = {"hourly": {"5": {"impressions": {"2024-01-01": {"24": "1"}}}}}
    with pytest.raises(UnexpectedResponse, match="not an hour"):
        wire.parse_response(request, body, NO_LIMITS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2015-11-19T02:27:50Z", datetime(2015, 11, 19, 2, 27, 50, tzinfo=UTC)),
        ("2015-08-01", datetime(2015, 8, 1, tzinfo=UTC)),
        ("2015-08-01T00:00:00.123Z", datetime(2015, 8, 1, 0, 0, 0, 123000, tzinfo=UTC)),
        ("yesterday", None),
        (17, None),
    ],
)
def test_echoed_instants_are_parsed_leniently(value, expected):
    assert wire.parse_instant(value) == expected


# --- Request bodies ------------------------------------------------------------------------------


def test_documented_public_metrics_request_is_reproduced_exactly():
    documented = fixture("totals_request_public_metrics.json")
    request = EngagementRequest(
        Endpoint.TOTALS,
        tuple(documented["tweet_ids"]),
        tuple(documented["engagement_types"]),
        groupings=(Grouping("perTweetMetricsUnowned", (T, E)),),
    )
    assert wire.request_body(request) == documented


def test_documented_28hr_request_is_reproduced_exactly():
    documented = fixture("28hr_request_example.json")
    request = EngagementRequest(
        Endpoint.HOURLY_28HR,
        ("123456789",),
        ("impressions", "engagements"),
        groupings=(Grouping("hourly-time-series", HOURLY.group_by),),
    )
    assert wire.request_body(request) == documented


def test_documented_owned_and_historical_requests_are_reproduced():
    owned = fixture("totals_request_owned.json")
    request = EngagementRequest(
        Endpoint.TOTALS,
        tuple(owned["tweet_ids"]),
        tuple(owned["engagement_types"]),
        auth=UserAuth("1-token", "secret"),
        groupings=(Grouping("perTweetMetricsOwned", (T, E)),),
    )
    assert wire.request_body(request) == owned
    historical = fixture("historical_request_example.json")
    request = EngagementRequest(
        Endpoint.HISTORICAL,
        tuple(historical["tweet_ids"]),
        tuple(historical["engagement_types"]),
        auth=UserAuth("1-token", "secret"),
        groupings=(Grouping("types-by-tweet-id", (T, E)),),
        start=datetime(2015, 8, 1, tzinfo=UTC),
        end=datetime(2015, 8, 15, tzinfo=UTC),
    )
    # The docs send date-only bounds; we always send the hour form the API echoes back.
    expected = historical | {"start": "2015-08-01T00:00:00Z", "end": "2015-08-15T00:00:00Z"}
    assert wire.request_body(request) == expected


def test_ids_are_canonical_distinct_and_in_order():
    request = EngagementRequest(
        Endpoint.TOTALS, ("0042", "7", "42", 850006245121695744), ("favorites",)
    )  # type: ignore[arg-type]
    assert wire.request_body(request)["tweet_ids"] == ["42", "7", "850006245121695744"]


def test_today_s_19_digit_ids_are_canonical_up_to_the_largest():
    for good in ("2125914965406781440", str(2**63 - 1), "1000000000000000000"):
        assert wire.canonical_post_id(good) == good


@pytest.mark.parametrize(
    "bad",
    ["Tweet ID 1", "12a", "", "-5", -5, 0, 2**63, str(2**63), "9" * 19] + [True, 1.0, None, "١٢"],
)
def test_invalid_post_ids_are_rejected_before_sending(bad):
    with pytest.raises(ValueError, match="invalid Post ID"):
        wire.canonical_post_id(bad)


def test_metrics_are_checked_and_filtered_per_endpoint():
    totals = EngagementRequest(Endpoint.TOTALS, ("1",), ("favorites", "url_clicks", "favorites"))
    assert wire.request_body(totals)["engagement_types"] == ["favorites"]
    hourly = EngagementRequest(Endpoint.HOURLY_28HR, ("1",), ("quote_tweets", "url_clicks"))
    assert wire.request_body(hourly)["engagement_types"] == ["url_clicks"]
    with pytest.raises(ValueError, match="unknown metric"):
        wire.request_body(EngagementRequest(Endpoint.TOTALS, ("1",), ("media_clicks",)))
    with pytest.raises(ValueError, match="served"):
        wire.request_body(EngagementRequest(Endpoint.TOTALS, ("1",), ("url_clicks",)))


@pytest.mark.parametrize(
    ("endpoint", "groupings", "problem"),
    [
        ("totals", (), "between 1 and 3"),
        ("28hr", tuple(Grouping(f"g{i}", (T, E)) for i in range(4)), "between 1 and 3"),
        ("totals", (Grouping("a", (T,)),), "engagement.type is required"),
        ("totals", (Grouping("a", (T, E, E)),), "distinct"),
        ("totals", (Grouping("a", (T, E, D)),), "day or hour"),
        ("28hr", (Grouping("a", (E, D, T, H)),), "documented orders"),
        ("28hr", (Grouping("a", HOURLY.group_by), Grouping("b", HOURLY.group_by)), "only one"),
        ("28hr", (Grouping("errors", (T, E)),), "reserved"),
        ("28hr", (Grouping("a", (T, E)), Grouping("a", (E,))), "distinct"),
    ],
)
def test_groupings_are_checked(endpoint, groupings, problem):
    request = EngagementRequest(Endpoint(endpoint), ("1",), ("favorites",), groupings=groupings)
    with pytest.raises(ValueError, match=problem):
        wire.request_body(request)


def test_too_many_ids_for_the_endpoint():
    wire.request_body(
        EngagementRequest(Endpoint.TOTALS, tuple(map(str, range(1, 251))), ("favorites",))
    )
    with pytest.raises(ValueError, match="at most 250"):
        wire.request_body(
            EngagementRequest(Endpoint.TOTALS, tuple(map(str, range(1, 252))), ("favorites",))
        )
    with pytest.raises(ValueError, match="at most 25"):
        wire.request_body(
            EngagementRequest(Endpoint.HISTORICAL, tuple(map(str, range(1, 27))), ("favorites",))
        )


def test_historical_window_is_sent_on_whole_hours():
    request = EngagementRequest(
        Endpoint.HISTORICAL,
        ("1",),
        ("impressions",),
        start=datetime(2024, 5, 1, 12, 24, tzinfo=UTC),
        end=datetime(2024, 5, 2, 8, 37, tzinfo=UTC),
    )
    body = wire.request_body(request)
    assert (body["start"], body["end"]) == ("2024-05-01T12:00:00Z", "2024-05-02T09:00:00Z")
    assert "start" not in wire.request_body(
        EngagementRequest(Endpoint.HISTORICAL, ("1",), ("impressions",))
    )


@pytest.mark.parametrize(
    ("endpoint", "start", "end", "problem"),
    [
        (
            "totals",
            datetime(2024, 5, 1, tzinfo=UTC),
            datetime(2024, 5, 2, tzinfo=UTC),
            "only sent to /historical",
        ),
        ("historical", datetime(2024, 5, 1, tzinfo=UTC), None, "together"),
        ("historical", datetime(2024, 5, 1), datetime(2024, 5, 2), "timezone-aware"),
        (
            "historical",
            datetime(2024, 5, 2, tzinfo=UTC),
            datetime(2024, 5, 1, tzinfo=UTC),
            "after start",
        ),
        (
            "historical",
            datetime(2024, 5, 1, tzinfo=UTC),
            datetime(2024, 5, 29, 0, 1, tzinfo=UTC),
            "28 days",
        ),
    ],
)
def test_bad_windows_are_rejected(endpoint, start, end, problem):
    request = EngagementRequest(Endpoint(endpoint), ("1",), ("impressions",), start=start, end=end)
    with pytest.raises(ValueError, match=problem):
        wire.request_body(request)


def test_exactly_28_days_is_allowed():
    start = datetime(2024, 5, 1, tzinfo=UTC)
    request = EngagementRequest(
        Endpoint.HISTORICAL, ("1",), ("impressions",), start=start, end=start + timedelta(days=28)
    )
    assert wire.request_body(request)["end"] == "2024-05-29T00:00:00Z"


# --- Errors -------------------------------------------------------------------------------------


def error(status: int, body: Any, **kwargs: Any) -> EngagementAPIError | None:
    return wire.error_for(
        status, body, endpoint="totals", rate_limit=kwargs.pop("rate_limit", NO_LIMITS), **kwargs
    )


def documented_fragment(index: int) -> Any:
    return json.loads(
        "{"
        + fixture("errors_and_status_codes.json")["error_messages"]["rows"][index][
            "error_message_fragment"
        ]
        + "}"
    )


def ruby_rows() -> list[Any]:
    rows = fixture("repo_ruby_error_examples.json")["client_comment_examples"]["rows"]
    return [json.loads(row.rstrip(".").replace("=>", ":")) for row in rows]


def test_documented_401_reason():
    exc = error(401, documented_fragment(0))
    assert isinstance(exc, AuthError)
    assert exc.reason == "Access token not found"
    assert not exc.app_not_authorized


def test_documented_partial_results_on_200_are_not_errors():
    assert error(200, documented_fragment(1)) is None
    too_old = "Impressions & engagements for tweets older than 90 days (90 days) are not supported"
    assert error(200, {"errors": [too_old]}) is None


def test_documented_forbidden_tweets_message():
    body = {"errors": ["Forbidden to access tweets: 1054424731825229824, 1045709644067471360"]}
    exc = error(403, body)
    assert isinstance(exc, ForbiddenPosts)
    assert exc.post_ids == ["1054424731825229824", "1045709644067471360"]


def test_faq_strings_with_a_trailing_semicolon():
    rows = fixture("errors_and_status_codes.json")["faq_error_examples"]["rows"]
    auth = error(401, {"errors": [rows[0]]})
    assert isinstance(auth, AuthError)
    assert auth.reason == "Unknown Authorization Type"
    assert auth.messages == [
        "Your account could not be authenticated. Reason: Unknown Authorization Type"
    ]
    forbidden = error(403, {"errors": [rows[1]]})
    assert isinstance(forbidden, ForbiddenPosts)
    assert forbidden.post_ids == ["1054424731825229824"]


def test_ruby_client_forbidden_metrics():
    exc = error(403, ruby_rows()[0])
    assert isinstance(exc, ForbiddenMetrics)
    assert exc.metrics == ["retweets"]
    both = error(403, {"errors": ["Forbidden to access metrics: impressions, engagements"]})
    assert isinstance(both, ForbiddenMetrics)
    assert both.metrics == ["impressions", "engagements"]


def test_ruby_client_internal_server_error():
    exc = error(500, ruby_rows()[1])
    assert isinstance(exc, ServerError)
    assert exc.retryable
    assert exc.messages == ["internal server error"]


def test_per_author_forbidden_strings_are_combined():
    body = ruby_rows()[2]
    exc = error(403, body)
    assert isinstance(exc, ForbiddenPosts)
    assert len(exc.post_ids) == 25
    assert exc.post_ids[:4] == [
        "640022366307745792",
        "640026211712786432",
        "640026277605339136",
        "640027450420756481",
    ]
    assert "1114564404" not in exc.post_ids
    assert "18435372" not in exc.post_ids


def test_unsupported_group_by_is_a_plain_bad_request():
    text = fixture("repo_ruby_error_examples.json")["readme_groupby_error"]["parsed"]
    exc = error(400, {"errors": text})
    assert type(exc) is BadRequest
    assert not exc.retryable


def test_protected_posts_are_told_apart_from_the_partial_message():
    assert type(error(400, {"errors": ["Tweet ID(s) are unavailable"]})) is ProtectedPosts
    assert type(error(400, {"errors": ["Tweet ID(s) are unavailable;"]})) is ProtectedPosts
    assert type(error(400, {"errors": ["1 Tweet ID(s) are unavailable"]})) is BadRequest


def test_app_not_allowlisted():
    reason = "Your application id is not authorized."
    exc = error(401, {"errors": [f"Your account could not be authenticated. Reason: {reason}"]})
    assert isinstance(exc, AuthError)
    assert exc.app_not_authorized


GZIP_MESSAGE = (
    "This request requires gzip compression. Retry the request after setting "
    "'Accept-Encoding' header in the request to 'gzip'."
)


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (406, {"errors": [GZIP_MESSAGE]}, GzipRequired),
        (404, {"errors": ["Not found"]}, NotFound),
        (405, {"errors": ["Method not allowed"]}, NotFound),
        (502, None, ServerError),
        (503, {"errors": ["Service Unavailable"]}, ServerError),
        (403, {"errors": ["Something else"]}, Forbidden),
        (409, None, UnexpectedResponse),
        (302, None, UnexpectedResponse),
    ],
)
def test_statuses_map_to_their_exceptions(status, body, kind):
    exc = error(status, body)
    assert type(exc) is kind
    assert exc.status == status


def test_oauth_route_error_objects():
    token = wire.error_for(
        403,
        {
            "errors": [
                {
                    "code": 99,
                    "label": "authenticity_token_error",
                    "message": "Unable to verify your credentials",
                }
            ]
        },
        endpoint="oauth2/token",
        rate_limit=None,
    )
    assert isinstance(token, AuthError)
    assert token.reason == "Unable to verify your credentials"
    assert token.codes == [99]
    expired = error(401, {"errors": [{"code": 89, "message": "Invalid or expired token."}]})
    assert isinstance(expired, AuthError)
    assert expired.codes == [89]
    callback = error(
        403,
        {
            "errors": [
                {"code": 415, "message": "Callback URL not approved for this client application."}
            ]
        },
    )
    assert type(callback) is Forbidden
    assert callback.codes == [415]
    v1 = error(404, {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]})
    assert isinstance(v1, NotFound)
    assert v1.messages == ["Sorry, that page does not exist"]


DATE = "Thu, 26 Nov 2026 12:30:20 GMT"


def limits(**headers: str) -> RateLimitInfo:
    return wire.parse_rate_limit({"Date": DATE, **headers})


def test_rate_limit_headers_are_parsed():
    info = limits(
        **{
            "X-Per-Minute-Limit": "60",
            "x-per-minute-remaining": "0",
            "x-per-minute-reset": "1795696260",
        }
    )
    assert (info.limit, info.remaining, info.reset_at, info.window_seconds) == (
        60,
        0,
        1795696260,
        60,
    )
    assert info.exhausted
    assert info.date == datetime(2026, 11, 26, 12, 30, 20, tzinfo=UTC)
    v2 = limits(
        **{
            "x-rate-limit-limit": "300",
            "x-rate-limit-remaining": "299",
            "x-rate-limit-reset": "1795697100",
        }
    )
    assert (v2.limit, v2.remaining, v2.window_seconds, v2.exhausted) == (300, 299, 900, False)
    assert wire.parse_rate_limit({}) == RateLimitInfo()
    assert (
        wire.parse_rate_limit({"date": "garbage", "x-per-minute-reset": "soon"}) == RateLimitInfo()
    )


@pytest.mark.parametrize(
    ("reset", "wait"),
    [("1795696260", 40.0), ("1795696221", 1.0), ("1795696000", 1.0), ("1795699999", 65.0)],
)
def test_429_waits_until_reset_measured_by_the_date_header(reset, wait):
    info = limits(
        **{"x-per-minute-limit": "60", "x-per-minute-remaining": "0", "x-per-minute-reset": reset}
    )
    exc = error(429, {"errors": ["Exceeded rate limit"]}, rate_limit=info)
    assert isinstance(exc, RateLimited)
    assert exc.retryable
    assert exc.reset_at == int(reset)
    assert exc.retry_after == wait
    assert exc.rate_limit is info


def test_429_without_headers_waits_60_seconds():
    exc = error(429, None, rate_limit=None)
    assert isinstance(exc, RateLimited)
    assert exc.reset_at is None
    assert exc.retry_after == 60.0


def test_missing_date_falls_back_to_the_given_now():
    info = wire.parse_rate_limit({"x-per-minute-reset": "1795696260"})
    now = datetime(2026, 11, 26, 12, 30, 50, tzinfo=UTC)
    exc = error(429, {"errors": ["Exceeded rate limit"]}, rate_limit=info, now=now)
    assert isinstance(exc, RateLimited)
    assert exc.retry_after == 10.0


def test_any_error_mentioning_the_rate_limit_is_rate_limited_even_on_200():
    assert isinstance(error(200, {"errors": ["Exceeded Rate Limit;"], "g": {}}), RateLimited)
    assert isinstance(error(503, {"errors": ["rate limit exceeded"]}), RateLimited)


def test_v2_problem_bodies():
    too_many = wire.error_for(
        429,
        {
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        endpoint="2/tweets",
        rate_limit=limits(**{"x-rate-limit-reset": "1795697100"}),
    )
    assert isinstance(too_many, RateLimited)
    assert too_many.retry_after == 880.0  # a 15-minute window: not capped at 65 s
    invalid = error(
        400,
        {"title": "Invalid Request", "detail": "The `ids` query parameter value [x] is not valid"},
    )
    assert type(invalid) is BadRequest
    assert invalid.messages == ["The `ids` query parameter value [x] is not valid"]
    assert isinstance(
        error(
            401,
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
        ),
        AuthError,
    )


# --- v2 bodies and the token reply --------------------------------------------------------------


def test_v2_post_lookup():
    body = {
        "data": [
            {
                "id": "20",
                "text": "hello",
                "author_id": "12",
                "created_at": "2026-11-20T09:15:02.000Z",
                "edit_history_tweet_ids": ["20"],
                "public_metrics": {"like_count": 3, "retweet_count": "1"},
            }
        ],
        "includes": {"users": [{"id": "12", "name": "Jack", "username": "jack"}]},
        "errors": [
            {
                "value": "21",
                "detail": "Could not find tweet with ids: [21].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": "21",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ],
    }
    lookup = wire.parse_post_lookup(body, NO_LIMITS)
    (post,) = lookup.posts
    assert (post.id, post.author_id, post.author_username) == ("20", "12", "jack")
    assert post.created_at == datetime(2026, 11, 20, 9, 15, 2, tzinfo=UTC)
    assert post.public_metrics == {"like_count": 3, "retweet_count": 1}
    assert lookup.unavailable == {"21": "Not Found Error"}
    assert wire.error_for(200, body, endpoint="2/tweets", rate_limit=None) is None


def test_v2_user_posts_page_and_empty_page():
    page = wire.parse_post_page(
        {
            "data": [{"id": "9", "text": "x"}],
            "meta": {"result_count": 1, "newest_id": "9", "oldest_id": "9", "next_token": "abc"},
        },
        NO_LIMITS,
    )
    assert [p.id for p in page.posts] == ["9"]
    assert page.next_token == "abc"
    empty = wire.parse_post_page({"meta": {"result_count": 0}}, NO_LIMITS)
    assert empty.posts == ()
    assert empty.result_count == 0
    assert empty.next_token is None


def test_v2_user_by_username():
    found = wire.parse_user_lookup(
        {"data": {"id": "12", "name": "Jack", "username": "jack"}}, NO_LIMITS
    )
    assert found.user is not None
    assert found.user.id == "12"
    unknown = {
        "errors": [
            {"title": "Not Found Error", "detail": "Could not find user with username: [nobody]."}
        ]
    }
    assert wire.parse_user_lookup(unknown, NO_LIMITS).user is None


def test_bearer_token_is_kept_exactly_as_sent():
    token = "AAAA%2FAAA%3DAAAAAAAA"
    assert wire.parse_bearer_token({"token_type": "bearer", "access_token": token}) == token
    with pytest.raises(UnexpectedResponse):
        wire.parse_bearer_token({"token_type": "mac", "access_token": token})


def test_secrets_stay_out_of_reprs():
    shown = " ".join(
        repr(value)
        for value in (
            UserAuth("1-SECRET_TOKEN", "SECRET_SECRET"),
            EngagementRequest(
                Endpoint.TOTALS,
                ("1",),
                ("favorites",),
                auth=UserAuth("1-SECRET_TOKEN", "SECRET_SECRET"),
            ),
            AppCredentials("key", "SECRET_CONSUMER"),
            RequestToken("SECRET_TOKEN", "SECRET_SECRET"),
            AccessGrant("1-SECRET_TOKEN", "SECRET_SECRET", "1", "jack"),
            APP_ONLY,
        )
    )
    assert "SECRET" not in shown
    assert UserAuth("1000000001-x", "y").user_id == "1000000001"
    token, secret = RequestToken("a", "b")
    assert (token, secret) == ("a", "b")


def test_importing_the_core_does_not_import_requests():
    code = "import sys, bot.engagement, bot.engagement.wire; print('requests' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "ids",
    [
        ["2125914965406781440", str(2**63 - 1), "1000000000000000000", "7", "95"],
        ["0042", "42"],  # a leading zero
        ["9" * 18, "12", str(2**63 - 1)],
        ["1", 850006245121695744],  # a number
        ["8" * 19, "9" * 3],  # the greatest text is short, a 19-digit one is in range
        [],
    ],
)
def test_a_list_of_ids_is_canonical_exactly_as_each_one_is(ids):
    assert canonical_post_ids(ids) == [wire.canonical_post_id(i) for i in ids]


@pytest.mark.parametrize("bad", ["", "-5", str(2**63), "9" * 19, "1\n2", "١٢", "1 ", True])
def test_a_list_with_one_bad_id_is_refused(bad):
    with pytest.raises(ValueError, match="invalid Post ID"):
        canonical_post_ids(["2125914965406781440", bad, "7"])
