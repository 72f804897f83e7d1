"""Validation and answers of the simulator's engagement engine, no HTTP (docs/simulator.md).

Counts are checked against the model's own primitives or the invariants, never against
numbers copied from a run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engagement import snowflake
from bot.engagement.models import Endpoint, GroupBy
from bot.simulator.engine import (
    ApiError,
    ValidRequest,
    answer,
    app_only_forbidden_metrics,
    parse_request,
)
from bot.simulator.model import EngagementModel
from bot.simulator.seeded_universe import default_universe
from bot.simulator.state import RuntimeOptions
from bot.simulator.universe import Post, Universe, ceil_hour, floor_hour, iso, load_universe
from bot.simulator.validation import MAX_BODY_BYTES
from tests.support.paths import X_API_FIXTURES

START = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
FLOOR = datetime(2014, 9, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
BRAND, CREATOR, PRIVATE, NEWCOMER = "1000000001", "1000000002", "1000000003", "1000000004"
EXAMPLES = X_API_FIXTURES
TOTALS, HOURLY, HISTORICAL = Endpoint.TOTALS, Endpoint.HOURLY_28HR, Endpoint.HISTORICAL
BY_POST = {"g": {"group_by": ["tweet.id", "engagement.type"]}}
FULL = {"g": {"group_by": ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]}}
IMPRESSIONS_TOO_OLD = (
    "Impressions & engagements for tweets older than 90 days (90 days) are not supported"
)


def doc(ids: list[Any], metrics: list[str], groupings: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "tweet_ids": ids,
        "engagement_types": metrics,
        "groupings": BY_POST if groupings is None else groupings,
        **extra,
    }


def parse(
    endpoint: Endpoint,
    body: dict[str, Any] | bytes,
    *,
    now: datetime = START,
    floor: datetime = FLOOR,
) -> ValidRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_request(endpoint, raw, now=now, floor=floor)


def rejection(endpoint: Endpoint, body: dict[str, Any] | bytes, **kwargs: Any) -> str:
    with pytest.raises(ApiError) as caught:
        parse(endpoint, body, **kwargs)
    assert caught.value.status == 400
    (message,) = caught.value.messages
    return message


Ask = Callable[..., tuple[int, dict[str, Any]]]


def asker(universe: Universe) -> Ask:
    model = EngagementModel(universe)

    def ask(
        endpoint: Endpoint,
        ids: list[Any],
        metrics: list[str],
        groupings: Any = None,
        *,
        user: str | None = BRAND,
        now: datetime = START,
        options: RuntimeOptions | None = None,
        **extra: Any,
    ) -> tuple[int, dict[str, Any]]:
        req = parse(endpoint, doc(ids, metrics, groupings, **extra), now=now)
        return answer(
            req,
            universe=universe,
            model=model,
            now=now,
            user_id=user,
            options=options or RuntimeOptions(),
        )

    return ask


@pytest.fixture
def world() -> Universe:
    return default_universe(seed=1, start_time=START)


@pytest.fixture
def ask(world: Universe) -> Ask:
    return asker(world)


def posts_of(universe: Universe, user_id: str) -> list[Post]:
    """The account's Posts, newest first (k = 0, 1, … of docs/simulator.md#default-universe)."""
    return [p for p in universe.posts.values() if p.author == user_id]


def live(universe: Universe, user_id: str) -> list[str]:
    return [str(p.id) for p in posts_of(universe, user_id) if not p.deleted]


def leaves(tree: Any) -> Iterator[Any]:
    if isinstance(tree, dict):
        for value in tree.values():
            yield from leaves(value)
    else:
        yield tree


def shape(tree: Any) -> Any:
    """The keys of a nested reply in order, leaves dropped, to compare with documented examples."""
    if isinstance(tree, dict):
        return [(key, shape(value)) for key, value in tree.items()]
    return None


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


def single_post_universe(posts: list[dict[str, Any]], start: datetime) -> Universe:
    doc_ = {"accounts": [{"user_id": "2000000001", "screen_name": "solo"}], "posts": posts}
    return load_universe(doc_, start_time=start)


# == validation (docs/simulator.md#request-bodies) =============================================

VALID = doc(["20"], ["favorites"])


@pytest.mark.parametrize(
    "body",
    [b"", b"   ", b"{", b"[]", b"null", b'"x"', b"\xff\xfe{", b'{"tweet_ids": NaN}'],
)
def test_bodies_that_are_not_a_json_object(body: bytes) -> None:
    assert rejection(TOTALS, body) == "Invalid or missing JSON request body"


def test_a_body_over_one_mebibyte_is_refused() -> None:
    padded = json.dumps({**VALID, "pad": "x" * MAX_BODY_BYTES}).encode()
    assert rejection(TOTALS, padded) == "Invalid or missing JSON request body"


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ({}, "tweet_ids"),
        ({"engagement_types": 1, "groupings": 1}, "tweet_ids"),
        ({"tweet_ids": "junk"}, "engagement_types"),
        ({"tweet_ids": [], "engagement_types": []}, "groupings"),
    ],
)
def test_required_fields_are_checked_before_their_values(
    present: dict[str, Any], missing: str
) -> None:
    assert rejection(TOTALS, present) == f"Missing required field: {missing}"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("20", "Invalid value for field: tweet_ids"),
        ([], "Invalid value for field: tweet_ids"),
        ({"id": "20"}, "Invalid value for field: tweet_ids"),
        (["Tweet ID 1"], "Invalid Tweet ID: Tweet ID 1"),
        (["12a"], "Invalid Tweet ID: 12a"),
        ([-5], "Invalid Tweet ID: -5"),
        ([True], "Invalid Tweet ID: true"),
        ([None], "Invalid Tweet ID: null"),
        (["0"], "Invalid Tweet ID: 0"),
        ([0], "Invalid Tweet ID: 0"),
        ([""], "Invalid Tweet ID: "),
        ([" 7"], "Invalid Tweet ID:  7"),
        (["+7"], "Invalid Tweet ID: +7"),
        (["١٢"], "Invalid Tweet ID: ١٢"),
        (["1" * 20], "Invalid Tweet ID: " + "1" * 20),
        ([2**63], f"Invalid Tweet ID: {2**63}"),
        ([str(2**63)], f"Invalid Tweet ID: {2**63}"),
        (["20", ["21"]], 'Invalid Tweet ID: ["21"]'),
    ],
)
def test_invalid_tweet_ids(value: Any, message: str) -> None:
    assert rejection(TOTALS, {**VALID, "tweet_ids": value}) == message


@pytest.mark.parametrize("text", ["1.0", "1e3", "2.50E+1"])
def test_fractional_ids_are_echoed_as_written(text: str) -> None:
    body = b'{"tweet_ids": [' + text.encode() + b'], "engagement_types": ["favorites"], '
    body += b'"groupings": {"g": {"group_by": ["engagement.type"]}}}'
    assert rejection(TOTALS, body) == f"Invalid Tweet ID: {text}"


def test_valid_ids_are_canonical_distinct_and_in_order() -> None:
    ids = ["0000000000000000005", 5, "7", str(2**63 - 1), 2**63 - 1, "5"]
    assert parse(TOTALS, {**VALID, "tweet_ids": ids}).post_ids == (5, 7, 2**63 - 1)


@pytest.mark.parametrize(("endpoint", "limit"), [(TOTALS, 250), (HOURLY, 25), (HISTORICAL, 25)])
def test_id_count_limit_counts_ids_as_sent(endpoint: Endpoint, limit: int) -> None:
    assert len(parse(endpoint, {**VALID, "tweet_ids": list(range(1, limit + 1))}).post_ids) == limit
    # Duplicates count before they are collapsed; the count is checked before the values.
    too_many = ["7"] * limit + ["junk"]
    expected = f"Too many Tweet IDs: {limit + 1} (maximum {limit} per request to /{endpoint})"
    assert rejection(endpoint, {**VALID, "tweet_ids": too_many}) == expected


@pytest.mark.parametrize(
    ("endpoint", "value", "message"),
    [
        (TOTALS, "impressions,engagements", "Invalid value for field: engagement_types"),
        (TOTALS, [], "Invalid value for field: engagement_types"),
        (TOTALS, ["favorites", 3], "Invalid value for field: engagement_types"),
        (TOTALS, ["media_clicks"], "Unknown engagement type(s): media_clicks"),
        (TOTALS, [" engagements"], "Unknown engagement type(s):  engagements"),
        (TOTALS, ["Impressions", "x", "Impressions"], "Unknown engagement type(s): Impressions, x"),
        (
            TOTALS,
            ["favorites", "url_clicks", "media_views"],
            "Engagement type(s) not supported by the /totals endpoint: url_clicks, media_views",
        ),
        (
            TOTALS,
            ["url_clicks", "nope"],  # unknown names are reported first
            "Unknown engagement type(s): nope",
        ),
        (
            HOURLY,
            ["quote_tweets"],
            "Engagement type(s) not supported by the /28hr endpoint: quote_tweets",
        ),
        (
            HISTORICAL,
            ["impressions", "quote_tweets"],
            "Engagement type(s) not supported by the /historical endpoint: quote_tweets",
        ),
    ],
)
def test_invalid_engagement_types(endpoint: Endpoint, value: Any, message: str) -> None:
    assert rejection(endpoint, {**VALID, "engagement_types": value}) == message


def test_metrics_are_distinct_in_request_order() -> None:
    metrics = ["replies", "favorites", "replies", "impressions"]
    req = parse(TOTALS, {**VALID, "engagement_types": metrics})
    assert req.metrics == ("replies", "favorites", "impressions")


GROUP_BY_SHAPE = "group_by must be a non-empty list of distinct values"
NOT_SUPPORTED = (
    "One or more of the groupBys you have specified are not supported: ({}). "
    "Please adjust your request and try again."
)


@pytest.mark.parametrize(
    ("endpoint", "groupings", "message"),
    [
        (TOTALS, [], "Invalid value for field: groupings"),
        (TOTALS, {}, "Invalid value for field: groupings"),
        (TOTALS, "g", "Invalid value for field: groupings"),
        (
            TOTALS,
            {n: {"group_by": ["engagement.type"]} for n in "abcd"},
            "Too many groupings: 4 (maximum 3)",
        ),
        (TOTALS, {"g": {}}, f"Invalid grouping 'g': {GROUP_BY_SHAPE}"),
        (TOTALS, {"g": ["tweet.id"]}, f"Invalid grouping 'g': {GROUP_BY_SHAPE}"),
        (TOTALS, {"g": {"group_by": []}}, f"Invalid grouping 'g': {GROUP_BY_SHAPE}"),
        (TOTALS, {"g": {"group_by": "tweet.id"}}, f"Invalid grouping 'g': {GROUP_BY_SHAPE}"),
        (
            TOTALS,
            {"g": {"group_by": ["engagement.type", 1]}},
            f"Invalid grouping 'g': {GROUP_BY_SHAPE}",
        ),
        (
            TOTALS,
            {"g": {"group_by": ["tweet.id", "engagement.type", "Tweet.ID"]}},
            f"Invalid grouping 'g': {GROUP_BY_SHAPE}",
        ),
        (
            TOTALS,
            {"g": {"group_by": ["tweet.ids", "engagement.type"]}},
            NOT_SUPPORTED.format("tweet.ids"),
        ),
        (
            TOTALS,
            {"g": {"group_by": ["Engagement.Day", "engagement.type", "engagement.hour"]}},
            NOT_SUPPORTED.format("Engagement.Day, engagement.hour"),
        ),
        (
            HOURLY,
            {"g": {"group_by": ["tweet.id", "engagement.minute"]}},
            NOT_SUPPORTED.format("engagement.minute"),
        ),
        (
            TOTALS,
            {"g": {"group_by": ["tweet.id"]}},
            "Invalid grouping 'g': engagement.type is required",
        ),
        (
            HOURLY,
            {
                "g": {
                    "group_by": ["engagement.day", "engagement.type", "tweet.id", "engagement.hour"]
                }
            },
            "Invalid grouping 'g': a 4-value group_by must be [tweet.id, engagement.type, "
            "engagement.day, engagement.hour] or [engagement.type, tweet.id, engagement.day, "
            "engagement.hour]",
        ),
        (
            HISTORICAL,
            {
                "a": FULL["g"],
                "b": {
                    "group_by": ["engagement.type", "tweet.id", "engagement.day", "engagement.hour"]
                },
            },
            "Only one grouping with 4 group_by values is allowed per request",
        ),
    ],
)
def test_invalid_groupings(endpoint: Endpoint, groupings: Any, message: str) -> None:
    assert rejection(endpoint, {**VALID, "groupings": groupings}) == message


@pytest.mark.parametrize(
    "name",
    [
        "",
        "start",
        "end",
        "errors",
        "unavailable_tweet_ids",
        "unsupported_for_impressions_engagements_tweet_ids",
        "unsupported_for_video_views_tweet_ids",
    ],
)
def test_grouping_names_that_are_empty_or_collide(name: str) -> None:
    body = {**VALID, "groupings": {name: {"group_by": ["engagement.type"]}}}
    assert rejection(TOTALS, body).startswith(f"Invalid grouping '{name}': ")


def test_ruby_client_groupby_error_text() -> None:
    recorded = example("repo_ruby_error_examples.json")["readme_groupby_error"]["parsed"][0]
    body = {**VALID, "groupings": {"g": {"group_by": ["engagement.type", "engagement.hour"]}}}
    assert rejection(TOTALS, body) == recorded


def test_accepted_groupings_keep_names_and_order() -> None:
    groupings = {
        "Grand Totals": {"group_by": ["Engagement.Type"]},
        "by type": {
            "group_by": ["ENGAGEMENT.TYPE", "tweet.id", "engagement.day", "engagement.hour"]
        },
        "hours": {"group_by": ["engagement.hour", "engagement.type"]},
    }
    req = parse(HOURLY, {**VALID, "groupings": groupings})
    assert list(req.groupings) == ["Grand Totals", "by type", "hours"]
    assert req.groupings["by type"] == (
        GroupBy.ENGAGEMENT_TYPE,
        GroupBy.TWEET_ID,
        GroupBy.ENGAGEMENT_DAY,
        GroupBy.ENGAGEMENT_HOUR,
    )
    assert req.groupings["hours"] == (GroupBy.ENGAGEMENT_HOUR, GroupBy.ENGAGEMENT_TYPE)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (doc(["x"], ["nope"], "bad"), "Invalid Tweet ID: x"),
        (doc(["1"], ["nope"], "bad"), "Unknown engagement type(s): nope"),
        (doc(["1"], ["favorites"], "bad", start="junk"), "Invalid value for field: groupings"),
        (
            doc(["1"], ["favorites"], {"a": {"group_by": ["x"]}, "b": {"group_by": []}}),
            NOT_SUPPORTED.format("x"),
        ),
        (
            doc(["1"], ["favorites"], {"b": {"group_by": []}, "a": {"group_by": ["x"]}}),
            f"Invalid grouping 'b': {GROUP_BY_SHAPE}",
        ),
        (
            doc(["1"], ["favorites"], {n: {"group_by": ["x"]} for n in "abcd"}),
            "Too many groupings: 4 (maximum 3)",
        ),
        (doc(["1"], ["favorites"], start="junk"), "Invalid start: junk"),
    ],
)
def test_the_first_failure_in_section_5_5_order_wins(body: dict[str, Any], message: str) -> None:
    assert rejection(HISTORICAL, body) == message


# -- start / end ------------------------------------------------------------------------------


def window_of(start: Any, end: Any, **kwargs: Any) -> ValidRequest:
    return parse(HISTORICAL, {**VALID, "start": start, "end": end}, **kwargs)


@pytest.mark.parametrize(
    ("start", "end", "echo_start", "echo_end"),
    [
        ("2025-02-01", "2025-02-15", "2025-02-01T00:00:00Z", "2025-02-15T00:00:00Z"),
        ("2025-02-01T12:24Z", "2025-02-02T08:37Z", "2025-02-01T12:00:00Z", "2025-02-02T09:00:00Z"),
        (
            "2025-02-01T12:59:59.999999Z",
            "2025-02-02T08:00:00.1Z",
            "2025-02-01T12:00:00Z",
            "2025-02-02T09:00:00Z",
        ),
        (
            "2025-02-01T12:10:00Z",
            "2025-02-01T12:20:00Z",
            "2025-02-01T12:00:00Z",
            "2025-02-01T13:00:00Z",
        ),
        ("2025-01-20", "2025-02-17", "2025-01-20T00:00:00Z", "2025-02-17T00:00:00Z"),  # 28 days
        ("2025-02-28T12:00Z", "2025-03-01T12:45Z", "2025-02-28T12:00:00Z", "2025-03-01T13:00:00Z"),
    ],
)
def test_explicit_windows_are_rounded_outwards(
    start: str, end: str, echo_start: str, echo_end: str
) -> None:
    req = window_of(start, end)
    assert (req.echo_start, req.echo_end) == (echo_start, echo_end)
    assert (iso(req.start or START), iso(req.end or START)) == (echo_start, echo_end)


@pytest.mark.parametrize(
    "value",
    [
        "2025-2-01",
        "2025-02-01T12Z",
        "2025-02-01T12:00:00+00:00",
        "2025-02-01T12:00:00",
        "2025-02-01 12:00Z",
        "2025-02-30",
        "2025-02-01T24:00Z",
        "2025-02-01T12:00:00.1234567Z",
        "2025-02-01t12:00Z",
        "2025-02-01T12:00:00z",
        "2025-02-01T12:00.5Z",
    ],
)
def test_malformed_instants(value: str) -> None:
    assert rejection(HISTORICAL, {**VALID, "start": value, "end": "2025-02-10"}) == (
        f"Invalid start: {value}"
    )
    assert rejection(HISTORICAL, {**VALID, "start": "2025-02-01", "end": value}) == (
        f"Invalid end: {value}"
    )


@pytest.mark.parametrize(("value", "shown"), [(20250201, "20250201"), (None, "null"), ([], "[]")])
def test_non_string_instants(value: Any, shown: str) -> None:
    assert rejection(HISTORICAL, {**VALID, "start": value, "end": "2025-02-02"}) == (
        f"Invalid start: {shown}"
    )


@pytest.mark.parametrize(("key", "value"), [("start", "2025-02-01"), ("end", "2025-02-02")])
def test_start_and_end_go_together(key: str, value: str) -> None:
    assert rejection(HISTORICAL, {**VALID, key: value}) == "start and end must be given together"


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2025-02-02", "2025-02-01", "end must be after start"),
        ("2025-02-02T05:00Z", "2025-02-02T05:00Z", "end must be after start"),
        ("2025-01-20", "2025-02-17T00:01Z", "The time range must not exceed 28 days"),
        ("2014-08-31T23:00Z", "2014-09-02", "start must not be before 2014-09-01T00:00:00Z"),
        ("2025-03-01T12:00Z", "2025-03-01T13:00:01Z", "end must not be in the future"),
        # The rules apply in their order: ordering and length before the floor.
        ("2014-08-02", "2014-08-01", "end must be after start"),
        ("2014-07-01", "2014-09-01", "The time range must not exceed 28 days"),
    ],
)
def test_window_rules(start: str, end: str, message: str) -> None:
    assert rejection(HISTORICAL, {**VALID, "start": start, "end": end}) == message


def test_the_365_day_floor_is_named_in_the_error() -> None:
    floor = floor_hour(START) - timedelta(days=365)
    message = rejection(
        HISTORICAL, {**VALID, "start": "2024-02-01", "end": "2024-02-10"}, floor=floor
    )
    assert message == f"start must not be before {iso(floor)}"


def test_default_historical_window() -> None:
    now = START + timedelta(seconds=17, microseconds=500_000)
    req = parse(HISTORICAL, VALID, now=now)
    assert req.end == ceil_hour(now)
    assert req.start == ceil_hour(now) - timedelta(days=28)
    assert (req.echo_start, req.echo_end) == (iso(req.start), "2025-03-01T12:30:17Z")


def test_default_window_is_raised_to_the_floor() -> None:
    now = datetime(2014, 9, 10, 5, 20, tzinfo=UTC)
    req = parse(HISTORICAL, VALID, now=now)
    assert (req.start, req.end) == (FLOOR, ceil_hour(now))
    assert req.echo_start == "2014-09-01T00:00:00Z"


@pytest.mark.parametrize(
    ("now", "buckets"),
    [(START, 29), (floor_hour(START), 28), (START + timedelta(microseconds=1), 29)],
)
def test_28hr_window(now: datetime, buckets: int) -> None:
    req = parse(HOURLY, {**VALID, "start": "junk", "end": 5}, now=now)  # ignored on /28hr
    assert req.start == floor_hour(now - timedelta(hours=28))
    assert req.end == ceil_hour(now)
    assert (req.end - req.start) / HOUR == buckets
    assert (req.echo_start, req.echo_end) == (iso(req.start), iso(req.end))


def test_totals_ignores_start_and_end() -> None:
    req = parse(TOTALS, {**VALID, "start": "junk", "end": "2014-01-01"})
    assert (req.start, req.end, req.echo_start, req.echo_end) == (None, None, None, None)


def test_app_only_forbidden_metrics() -> None:
    metrics = ["impressions", "favorites", "video_views", "engagements", "quote_tweets"]
    totals = parse(TOTALS, {**VALID, "engagement_types": metrics})
    assert app_only_forbidden_metrics(totals) == ["impressions", "engagements"]
    public = parse(TOTALS, {**VALID, "engagement_types": ["favorites", "quote_tweets"]})
    assert app_only_forbidden_metrics(public) == []
    series = parse(HOURLY, {**VALID, "engagement_types": ["favorites", "url_clicks"]})
    assert app_only_forbidden_metrics(series) == ["favorites", "url_clicks"]


# == documented example requests ==================================================================


@pytest.mark.parametrize(
    ("name", "endpoint"),
    [
        ("totals_request_public_metrics.json", TOTALS),
        ("totals_request_owned.json", TOTALS),
        ("getting_started_totals_request.json", TOTALS),
        ("28hr_request_example.json", HOURLY),
        ("historical_request_example.json", HISTORICAL),
        ("grouping_hourly_timeseries_request.json", HISTORICAL),
    ],
)
def test_documented_requests_are_accepted(name: str, endpoint: Endpoint) -> None:
    req = parse(endpoint, (EXAMPLES / name).read_bytes())
    assert req.endpoint is endpoint


@pytest.mark.parametrize(
    ("name", "endpoint", "message"),
    [
        ("totals_request_post_format_example.json", TOTALS, "Invalid Tweet ID: Tweet ID 1"),
        ("28hr_request_post_format_example.json", HOURLY, "Invalid Tweet ID: Tweet ID 1"),
        ("historical_request_post_format_example.json", HISTORICAL, "Invalid Tweet ID: Tweet ID 1"),
        ("grouping_grand_totals_request.json", TOTALS, "Missing required field: tweet_ids"),
        (
            "repo_ruby_readme_engagement_types_fragment.json",
            HOURLY,
            "Missing required field: tweet_ids",
        ),
    ],
)
def test_documented_fragments_and_placeholders_are_rejected(
    name: str, endpoint: Endpoint, message: str
) -> None:
    assert rejection(endpoint, (EXAMPLES / name).read_bytes()) == message


def test_getting_started_request_normalizes_ids_and_case() -> None:
    req = parse(TOTALS, (EXAMPLES / "getting_started_totals_request.json").read_bytes())
    assert req.post_ids == (1260294888811347969, 850006245121695744)
    assert req.groupings == {"engagement-types-by-id": (GroupBy.TWEET_ID, GroupBy.ENGAGEMENT_TYPE)}


def test_28hr_example_reply_has_the_documented_shape() -> None:
    published = example("28hr_response_example.json")
    now = datetime(2015, 9, 15, 21, 30, tzinfo=UTC)
    universe = single_post_universe(
        [{"id": "123456789", "author": "solo", "created_at": "2015-09-14T10:00:00Z"}], START
    )
    req = parse(HOURLY, (EXAMPLES / "28hr_request_example.json").read_bytes(), now=now)
    status, body = answer(
        req,
        universe=universe,
        model=EngagementModel(universe),
        now=now,
        user_id="2000000001",
        options=RuntimeOptions(),
    )
    assert status == 200
    assert (body["start"], body["end"]) == (published["start"], published["end"])
    assert shape(body) == shape(published)


def test_historical_example_reply_has_the_documented_shape() -> None:
    published = example("historical_response_example.json")
    posts = [
        {"id": pid, "author": "solo", "created_at": "2015-07-20T08:00:00Z"}
        for pid in ("123456789", "223456789", "323456789")
    ]
    universe = single_post_universe(posts, START)
    now = datetime(2015, 9, 1, tzinfo=UTC)
    req = parse(HISTORICAL, (EXAMPLES / "historical_request_example.json").read_bytes(), now=now)
    status, body = answer(
        req,
        universe=universe,
        model=EngagementModel(universe),
        now=now,
        user_id="2000000001",
        options=RuntimeOptions(),
    )
    assert status == 200
    assert shape(body) == shape(published)
    assert list(body["types-by-tweet-id"]["223456789"]) == list(req.metrics)


def test_hour_of_day_example_reply_has_the_documented_shape() -> None:
    published = example("repo_ruby_readme_hourly_timeseries_response.json")
    (post_id,) = published["hourly_timeseries"]["impressions"]
    universe = single_post_universe([{"id": post_id, "author": "solo"}], START)
    now = datetime(2016, 2, 9, 19, 43, tzinfo=UTC)
    groupings = {
        "hourly_timeseries": {"group_by": ["engagement.type", "tweet.id", "engagement.hour"]}
    }
    req = parse(HISTORICAL, doc([post_id], ["impressions"], groupings), now=now)
    status, body = answer(
        req,
        universe=universe,
        model=EngagementModel(universe),
        now=now,
        user_id="2000000001",
        options=RuntimeOptions(),
    )
    assert status == 200
    assert (body["start"], body["end"]) == (published["start"], published["end"])
    assert shape(body) == shape(published)


def test_public_metrics_example_reply_has_the_documented_shape() -> None:
    published = example("totals_response_public_metrics.json")
    request = example("totals_request_public_metrics.json")
    posts = [{"id": pid, "author": "solo", "has_video": True} for pid in request["tweet_ids"]]
    universe = single_post_universe(posts, START)
    now = datetime(2018, 12, 10, tzinfo=UTC)  # days after the example's Posts
    status, body = answer(
        parse(TOTALS, request, now=now),
        universe=universe,
        model=EngagementModel(universe),
        now=now,
        user_id=None,
        options=RuntimeOptions(),
    )
    assert status == 200
    assert list(body) == list(published)
    for post_id, metrics in published["perTweetMetricsUnowned"].items():
        assert set(body["perTweetMetricsUnowned"][post_id]) == set(metrics)


# == classification (docs/simulator.md#classification) ============================================


def test_unknown_and_deleted_posts_are_unavailable(world: Universe, ask: Ask) -> None:
    deleted = next(str(p.id) for p in posts_of(world, BRAND) if p.deleted)
    alive = live(world, BRAND)[0]
    status, body = ask(TOTALS, [deleted, alive, "42", deleted], ["favorites"])
    assert status == 200
    assert body["errors"] == ["2 Tweet ID(s) are unavailable"]
    assert body["unavailable_tweet_ids"] == [deleted, "42"]
    assert list(body["g"]) == [alive]


@pytest.mark.parametrize("user", [PRIVATE, BRAND, None])
def test_a_protected_author_fails_the_whole_request(
    world: Universe, ask: Ask, user: str | None
) -> None:
    ids = [live(world, BRAND)[0], live(world, PRIVATE)[0], "42"]
    assert ask(TOTALS, ids, ["favorites"], user=user) == (
        400,
        {"errors": ["Tweet ID(s) are unavailable"]},
    )


def test_a_protected_post_fails_the_whole_request(world: Universe, ask: Ask) -> None:
    first, second = posts_of(world, BRAND)[:2]
    second.protected = True
    status, body = ask(HOURLY, [str(first.id), str(second.id)], ["impressions"])
    assert (status, body) == (400, {"errors": ["Tweet ID(s) are unavailable"]})


def test_foreign_posts_are_listed_in_request_order(world: Universe, ask: Ask) -> None:
    brand, creator = live(world, BRAND), live(world, CREATOR)
    ids = [brand[0], creator[1], brand[1], creator[0]]
    status, body = ask(TOTALS, ids, ["favorites"], user=BRAND)
    assert status == 403
    assert body == {"errors": [f"Forbidden to access tweets: {creator[1]}, {creator[0]}"]}


def test_foreign_posts_per_author(world: Universe, ask: Ask) -> None:
    creator, newcomer = live(world, CREATOR), live(world, NEWCOMER)
    ids = [newcomer[0], creator[0], live(world, BRAND)[0], newcomer[1]]
    options = RuntimeOptions(forbidden_format="per-author")
    status, body = ask(HISTORICAL, ids, ["favorites"], user=BRAND, options=options)
    assert status == 403
    assert body["errors"] == [
        f"Forbidden to access tweets for author id {NEWCOMER}: {newcomer[0]}, {newcomer[1]}",
        f"Forbidden to access tweets for author id {CREATOR}: {creator[0]}",
    ]


def test_app_only_never_sees_foreign_and_deleted_beats_foreign(world: Universe, ask: Ask) -> None:
    ids = [live(world, BRAND)[0], live(world, CREATOR)[0]]
    assert ask(TOTALS, ids, ["favorites"], user=None)[0] == 200
    deleted = next(str(p.id) for p in posts_of(world, CREATOR) if p.deleted)
    status, body = ask(TOTALS, [deleted, ids[0]], ["favorites"], user=BRAND)
    assert (status, body["unavailable_tweet_ids"]) == (200, [deleted])


# == the 200 body (docs/simulator.md#responses, #per-post-outcomes) ===============================


def by_age(world: Universe, user: str, low: timedelta, high: timedelta, video: bool) -> Post:
    return next(
        p
        for p in posts_of(world, user)
        if not p.deleted and low < START - p.created_at < high and (p.has_video or not video)
    )


def test_mixed_totals_reply(world: Universe, ask: Ask) -> None:
    """Unavailable, 90-day and 1800-day rules together in one /totals request."""
    model = EngagementModel(world)
    a = by_age(world, BRAND, timedelta(0), 3 * DAY, video=True)
    b = by_age(world, BRAND, 120 * DAY, 1000 * DAY, video=False)
    c = by_age(world, BRAND, 1800 * DAY, 5000 * DAY, video=True)
    d = next(p for p in posts_of(world, BRAND) if p.deleted)
    ids = [str(p.id) for p in (a, b, c, d)]
    status, body = ask(TOTALS, ids, ["impressions", "favorites", "video_views"])
    assert status == 200
    assert list(body) == [
        "errors",
        "unavailable_tweet_ids",
        "unsupported_for_impressions_engagements_tweet_ids",
        "unsupported_for_video_views_tweet_ids",
        "g",
    ]
    assert body["errors"] == ["1 Tweet ID(s) are unavailable", IMPRESSIONS_TOO_OLD]
    assert body["unavailable_tweet_ids"] == [ids[3]]
    assert body["unsupported_for_impressions_engagements_tweet_ids"] == [ids[1], ids[2]]
    assert body["unsupported_for_video_views_tweet_ids"] == [ids[2]]
    g = body["g"]
    assert list(g) == ids[:3]
    assert g[ids[0]] == {
        "impressions": str(model.lifetime(a, "impressions", START)),
        "favorites": str(model.lifetime(a, "favorites", START)),
        "video_views": str(model.totals_video_views(a, START)),
    }
    assert g[ids[1]]["impressions"] == g[ids[2]]["impressions"] == "0"
    assert g[ids[2]]["video_views"] == "0"
    assert g[ids[2]]["favorites"] == str(model.lifetime(c, "favorites", START)) != "0"


def test_the_90_day_rule_needs_the_metrics_and_the_endpoint(world: Universe, ask: Ask) -> None:
    old = str(by_age(world, BRAND, 120 * DAY, 1000 * DAY, video=False).id)
    assert list(ask(TOTALS, [old], ["favorites"])[1]) == ["g"]
    status, body = ask(HISTORICAL, [old], ["engagements"], FULL)
    assert "errors" not in body
    assert "unsupported_for_impressions_engagements_tweet_ids" not in body
    options = RuntimeOptions(impressions_age_limit_endpoints=frozenset({"totals", "historical"}))
    status, body = ask(HISTORICAL, [old], ["engagements", "retweets"], FULL, options=options)
    assert body["errors"] == [IMPRESSIONS_TOO_OLD]
    assert body["unsupported_for_impressions_engagements_tweet_ids"] == [old]
    assert set(leaves(body["g"][old]["engagements"])) == {"0"}


@pytest.mark.parametrize("endpoint", [HOURLY, HISTORICAL])
def test_video_views_older_than_1800_days_read_zero_everywhere(
    world: Universe, ask: Ask, endpoint: Endpoint
) -> None:
    old = by_age(world, BRAND, 1800 * DAY, 5000 * DAY, video=True)
    status, body = ask(endpoint, [str(old.id)], ["video_views", "impressions"], FULL)
    assert status == 200
    assert "errors" not in body
    assert body["unsupported_for_video_views_tweet_ids"] == [str(old.id)]
    assert set(leaves(body["g"][str(old.id)]["video_views"])) == {"0"}


def test_pre_snowflake_ids_are_older_than_every_limit() -> None:
    recent = (START - 2 * DAY).isoformat()
    universe = single_post_universe(
        [{"id": "123456789", "author": "solo", "created_at": recent, "has_video": True}], START
    )
    ask = asker(universe)
    status, body = ask(
        TOTALS, ["123456789"], ["impressions", "video_views", "favorites"], user="2000000001"
    )
    assert body["unsupported_for_impressions_engagements_tweet_ids"] == ["123456789"]
    assert body["unsupported_for_video_views_tweet_ids"] == ["123456789"]
    post = universe.posts[123456789]
    expected = EngagementModel(universe).lifetime(post, "favorites", START)
    assert body["g"]["123456789"]["favorites"] == str(expected) != "0"


def test_public_metrics_before_2015_09_15_read_zero_on_historical_only() -> None:
    now = datetime(2015, 9, 15, 20, tzinfo=UTC)
    created = datetime(2015, 9, 13, 9, tzinfo=UTC)
    post_id = str(snowflake.make_id(snowflake.epoch_ms(created)))
    universe = single_post_universe([{"id": post_id, "author": "solo", "reach": 50_000}], now)
    model, post, ask = EngagementModel(universe), universe.posts[int(post_id)], asker(universe)
    metrics = ["favorites", "retweets", "replies", "impressions"]
    window = {"start": "2015-09-13T06:00Z", "end": "2015-09-15T20:00Z"}
    _, historical = ask(HISTORICAL, [post_id], metrics, FULL, user="2000000001", now=now, **window)
    _, hourly = ask(HOURLY, [post_id], metrics, FULL, user="2000000001", now=now)
    cutoff = datetime(2015, 9, 15, tzinfo=UTC)
    assert "errors" not in historical
    for body, endpoint in ((historical, HISTORICAL), (hourly, HOURLY)):
        before_cutoff = 0
        for metric in metrics:
            for day, hours in body["g"][post_id][metric].items():
                for hour, value in hours.items():
                    instant = datetime.fromisoformat(f"{day}T{hour}:00:00+00:00")
                    truth = model.bucket(post, metric, instant, now)
                    blank = endpoint is HISTORICAL and metric != "impressions" and instant < cutoff
                    assert value == ("0" if blank else str(truth))
                    if metric == "favorites" and instant < cutoff:
                        before_cutoff += truth
        assert before_cutoff > 0  # so the zeros above are the rule, not an empty model


# -- grouping semantics (docs/simulator.md#nesting) ----------------------------------------------


def test_grand_totals_sum_the_available_posts(world: Universe, ask: Ask) -> None:
    ids = live(world, BRAND)[:6] + ["42"]
    metrics = ["favorites", "retweets", "video_views"]
    groupings = {"per": BY_POST["g"], "Grand Totals": {"group_by": ["engagement.type"]}}
    for endpoint in (TOTALS, HOURLY):
        _, body = ask(endpoint, ids, metrics, groupings)
        for metric in metrics:
            per_post = sum(int(v) for pid in ids[:6] for v in leaves(body["per"][pid][metric]))
            assert body["Grand Totals"][metric] == str(per_post)


def test_time_levels_are_consistent(world: Universe, ask: Ask) -> None:
    """Invariant 5: day = Σ hours, hour of day = Σ over days, window = Σ buckets."""
    ids = live(world, BRAND)[:8]
    groupings = {
        "full": FULL["g"],
        "days": {"group_by": ["tweet.id", "engagement.type", "engagement.day"]},
        "hod": {"group_by": ["engagement.type", "tweet.id", "engagement.hour"]},
    }
    _, body = ask(HISTORICAL, ids, ["impressions", "engagements"], groupings)
    _, sums = ask(HISTORICAL, ids, ["impressions", "engagements"])
    for pid in ids:
        for metric in ("impressions", "engagements"):
            full = body["full"][pid][metric]
            assert len(full) == 29  # 28 days from ceil_hour(now) back, across 29 dates
            assert sum(len(hours) for hours in full.values()) == 28 * 24
            for day, hours in full.items():
                assert body["days"][pid][metric][day] == str(sum(int(v) for v in hours.values()))
            hod = body["hod"][metric][pid]
            assert list(hod) == [f"{h:02d}" for h in range(24)]
            for hour, value in hod.items():
                assert value == str(sum(int(h[hour]) for h in full.values() if hour in h))
            window = sum(int(v) for v in leaves(full))
            assert sums["g"][pid][metric] == str(window)


def test_hour_then_day_lists_only_days_holding_that_hour(world: Universe, ask: Ask) -> None:
    ids = live(world, BRAND)[:3]
    groupings = {"g": {"group_by": ["engagement.hour", "engagement.type", "engagement.day"]}}
    _, body = ask(HOURLY, ids, ["favorites"], groupings)
    req = parse(HOURLY, VALID)
    assert req.start is not None
    assert req.end is not None
    expected: dict[str, list[str]] = {}
    instant = req.start
    while instant < req.end:
        expected.setdefault(instant.strftime("%H"), []).append(instant.strftime("%Y-%m-%d"))
        instant += HOUR
    assert {hour: list(v["favorites"]) for hour, v in body["g"].items()} == dict(
        sorted(expected.items())
    )


def test_every_bucket_is_present_and_counts_are_digit_strings(world: Universe, ask: Ask) -> None:
    model = EngagementModel(world)
    post = posts_of(world, BRAND)[0]  # ~1.5 hours old: most buckets are before it existed
    _, body = ask(HOURLY, [str(post.id)], ["impressions", "url_clicks"], FULL)
    series = body["g"][str(post.id)]["impressions"]
    assert sum(len(hours) for hours in series.values()) == 29
    assert all(isinstance(v, str) and v.isdigit() for v in leaves(body["g"]))
    for day, hours in series.items():
        for hour, value in hours.items():
            instant = datetime.fromisoformat(f"{day}T{hour}:00:00+00:00")
            assert value == str(model.bucket(post, "impressions", instant, START))


def test_groupings_when_no_post_is_available(world: Universe, ask: Ask) -> None:
    groupings = {
        "by post": {"group_by": ["engagement.type", "tweet.id"]},
        "grand": {"group_by": ["engagement.type"]},
        "daily": {"group_by": ["engagement.type", "engagement.day"]},
    }
    status, body = ask(HOURLY, ["42", "43"], ["favorites", "replies"], groupings)
    assert status == 200
    assert body["by post"] == {}
    assert body["grand"] == {"favorites": "0", "replies": "0"}
    assert body["daily"] == {
        m: {"2025-02-28": "0", "2025-03-01": "0"} for m in ("favorites", "replies")
    }


def test_totals_video_views_aggregate_but_series_do_not(world: Universe, ask: Ask) -> None:
    model = EngagementModel(world)
    groups: dict[str, list[Post]] = {}
    for post in world.posts.values():
        groups.setdefault(post.video_id, []).append(post)
    sharer = next(g for g in groups.values() if len(g) > 1)[-1]
    pid = str(sharer.id)
    owner = sharer.author
    _, totals = ask(TOTALS, [pid], ["video_views"], user=owner)
    assert totals["g"][pid]["video_views"] == str(model.totals_video_views(sharer, START))
    assert model.totals_video_views(sharer, START) > model.lifetime(sharer, "video_views", START)
    start = floor_hour(sharer.created_at).strftime("%Y-%m-%dT%H:%MZ")
    window = {"start": start, "end": iso(ceil_hour(START))}
    _, series = ask(HISTORICAL, [pid], ["video_views"], user=owner, **window)
    assert series["g"][pid]["video_views"] == str(model.lifetime(sharer, "video_views", START))


def test_answers_are_deterministic(world: Universe) -> None:
    ids = live(world, BRAND)[:10] + live(world, CREATOR)[:3] + ["42"]
    groupings = {**FULL, "hod": {"group_by": ["engagement.hour", "engagement.type"]}}
    first = asker(world)(HOURLY, ids, ["impressions", "favorites"], groupings, user=None)
    again = asker(default_universe(seed=1, start_time=START))(
        HOURLY, ids, ["impressions", "favorites"], groupings, user=None
    )
    assert json.dumps(first) == json.dumps(again)


# == property: /totals = Σ /historical, /28hr = /historical (docs/simulator.md#sums-agree) ========

PROPERTY_METRICS = ["impressions", "engagements", "favorites", "retweets", "replies", "video_views"]


def historical_sums(ask: Ask, pid: str, created: datetime, now: datetime) -> dict[str, int]:
    """Σ of /historical over consecutive ≤ 28-day windows from creation to now."""
    sums = dict.fromkeys(PROPERTY_METRICS, 0)
    start, end = floor_hour(created), ceil_hour(now)
    while start < end:
        stop = min(start + timedelta(days=28), end)
        _, body = ask(
            HISTORICAL,
            [pid],
            PROPERTY_METRICS,
            user="2000000001",
            now=now,
            start=iso(start),
            end=iso(stop),
        )
        for metric in PROPERTY_METRICS:
            sums[metric] += int(body["g"][pid][metric])
        start = stop
    return sums


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    age_hours=st.integers(min_value=0, max_value=700),
    age_extra_s=st.integers(min_value=60, max_value=3600),
    reach=st.integers(min_value=1, max_value=500_000),
    half_life=st.floats(min_value=1.0, max_value=48.0),
    has_video=st.booleans(),
    clock_s=st.integers(min_value=0, max_value=7200),
    spike=st.one_of(st.none(), st.tuples(st.integers(0, 700), st.floats(1.0, 30.0))),
)
def test_totals_equal_historical_sums_and_28hr_matches_historical(
    age_hours: int,
    age_extra_s: int,
    reach: int,
    half_life: float,
    has_video: bool,
    clock_s: int,
    spike: tuple[int, float] | None,
) -> None:
    created = START - timedelta(
        hours=age_hours, seconds=age_extra_s, milliseconds=age_extra_s % 997
    )
    pid = str(snowflake.make_id(snowflake.epoch_ms(created), datacenter=1, worker=1))
    post = {"id": pid, "author": "solo", "reach": reach, "half_life_hours": half_life}
    doc_ = {
        "accounts": [{"user_id": "2000000001", "screen_name": "solo"}],
        "posts": [{**post, "has_video": has_video}],
        "spikes": [
            {
                "post_id": pid,
                "hour": iso(floor_hour(created) + spike[0] * HOUR),
                "multiplier": spike[1],
            }
        ]
        if spike
        else [],
    }
    universe = load_universe(doc_, start_time=START)
    now = START + timedelta(seconds=clock_s)
    ask = asker(universe)
    _, totals = ask(TOTALS, [pid], PROPERTY_METRICS, user="2000000001", now=now)
    expected = {m: str(v) for m, v in historical_sums(ask, pid, created, now).items()}
    assert totals["g"][pid] == expected

    _, hourly = ask(HOURLY, [pid], PROPERTY_METRICS, FULL, user="2000000001", now=now)
    _, historical = ask(
        HISTORICAL,
        [pid],
        PROPERTY_METRICS,
        FULL,
        user="2000000001",
        now=now,
        start=hourly["start"],
        end=hourly["end"],
    )
    assert hourly == historical
