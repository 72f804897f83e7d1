"""The simulator's X API v2 subset: Post lookup, user Posts, username lookup.

See docs/simulator.md#x-api-v2.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from oauthlib.oauth1 import Client

from bot.simulator import auth, v2
from bot.simulator.clock import SimClock
from bot.simulator.http import SimRequest, SimResponse
from bot.simulator.seeded_universe import default_universe
from bot.simulator.state import OptionError, SimState
from bot.simulator.texts import sentence
from bot.simulator.universe import Post, iso_ms
from bot.simulator.v2_query import TWEET_FIELDS
from tests.support.simhttp import quiet_signing

START = datetime(2025, 3, 1, 12, tzinfo=UTC)
BASE = "http://127.0.0.1:8787"
BRAND, PRIVATE, NEWCOMER = "1000000001", "1000000003", "1000000004"
TOKENS = {
    BRAND: ("1000000001-simtoken-sim_brand", "simsecret-sim_brand"),
    PRIVATE: ("1000000003-simtoken-sim_private", "simsecret-sim_private"),
}
PROBLEMS = "https://api.twitter.com/2/problems/"


def make_state() -> SimState:
    def factory() -> Any:
        return default_universe(seed=1, start_time=START)

    clock = SimClock(kind="sim", start=START, frozen=True)
    return SimState(universe_factory=factory, universe=factory(), clock=clock, mode="test")


def get(state: SimState, path: str, params: dict[str, str], *, user: str | None = None) -> Any:
    """A GET with the default app's Bearer token, or signed by oauthlib as `user`."""
    query = urlencode(params)
    if user is None:
        app = state.universe.apps[0]
        headers = {"authorization": f"Bearer {auth.bearer_token_for(state, app)}"}
    else:
        token, secret = TOKENS[user]
        client = Client(
            "sim-consumer-key",
            client_secret="sim-consumer-secret",
            resource_owner_key=token,
            resource_owner_secret=secret,
        )
        with quiet_signing():  # oauthlib logs the keys at DEBUG while signing
            _, signed, _ = client.sign(f"{BASE}{path}?{query}", http_method="GET")
        headers = {k.lower(): v for k, v in signed.items()}
    return SimRequest("GET", path, query, headers, b"", BASE)


def body(response: SimResponse) -> Any:
    return json.loads(response.body)


def posts_of(state: SimState, user_id: str, *, include_deleted: bool = False) -> list[Post]:
    posts = [p for p in state.universe.posts.values() if p.author == user_id]
    posts = [p for p in posts if include_deleted or not p.deleted]
    return sorted(posts, key=lambda p: p.id, reverse=True)


def lookup(state: SimState, params: dict[str, str], user: str | None = None) -> SimResponse:
    return v2.lookup_posts(state, get(state, "/2/tweets", params, user=user))


def timeline(
    state: SimState, user_id: str, params: dict[str, str], user: str | None = None
) -> SimResponse:
    request = get(state, f"/2/users/{user_id}/tweets", params, user=user)
    return v2.user_posts(state, request, user_id)


def by_username(state: SimState, name: str, params: dict[str, str] | None = None) -> SimResponse:
    request = get(state, f"/2/users/by/username/{name}", params or {})
    return v2.user_by_username(state, request, name)


# -- GET /2/tweets ------------------------------------------------------------------------------


def test_lookup_default_fields() -> None:
    state = make_state()
    post = posts_of(state, BRAND)[0]
    response = lookup(state, {"ids": str(post.id)})
    assert response.status == 200
    assert body(response) == {
        "data": [
            {
                "id": str(post.id),
                "text": v2.post_text(1, post),
                "edit_history_tweet_ids": [str(post.id)],
            }
        ]
    }


def test_lookup_requested_fields_and_author_expansion() -> None:
    state = make_state()
    first, second = posts_of(state, BRAND)[:2]
    params = {
        "ids": f"{first.id},{second.id}",
        "tweet.fields": "created_at,author_id,text,public_metrics",
        "expansions": "author_id",
        "user.fields": "username",
    }
    payload = body(lookup(state, params))
    assert [d["id"] for d in payload["data"]] == [str(first.id), str(second.id)]
    item = payload["data"][0]
    assert item["author_id"] == BRAND
    assert item["created_at"] == iso_ms(first.created_at)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", item["created_at"])
    assert payload["includes"] == {
        "users": [{"id": BRAND, "name": "Sim Brand", "username": "sim_brand"}]
    }


def test_lookup_public_metrics_come_from_the_model() -> None:
    state = make_state()
    post = posts_of(state, BRAND)[10]
    params = {"ids": str(post.id), "tweet.fields": "public_metrics"}
    metrics = body(lookup(state, params))["data"][0]["public_metrics"]
    now = state.now()
    assert metrics == {
        "retweet_count": state.model.lifetime(post, "retweets", now),
        "reply_count": state.model.lifetime(post, "replies", now),
        "like_count": state.model.lifetime(post, "favorites", now),
        "quote_count": state.model.lifetime(post, "quote_tweets", now),
        "impression_count": state.model.lifetime(post, "impressions", now),
    }


def test_expanding_author_id_names_the_author_on_each_post() -> None:
    state = make_state()
    post = posts_of(state, BRAND)[0]
    payload = body(lookup(state, {"ids": str(post.id), "expansions": "author_id"}))
    assert payload["data"][0]["author_id"] == BRAND


def not_found(value: str) -> dict[str, str]:
    return {
        "value": value,
        "detail": f"Could not find tweet with ids: [{value}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": "ids",
        "resource_id": value,
        "type": PROBLEMS + "resource-not-found",
    }


def test_unknown_deleted_and_future_posts_are_not_found() -> None:
    state = make_state()
    live = posts_of(state, BRAND)[0]
    deleted = next(p for p in posts_of(state, BRAND, include_deleted=True) if p.deleted)
    future = state.universe.add_post({"author": "sim_brand", "created_at": "2025-03-01T13:00:00Z"})
    ids = [str(live.id), "123", str(deleted.id), str(future.id)]
    payload = body(lookup(state, {"ids": ",".join(ids)}))
    assert [d["id"] for d in payload["data"]] == [str(live.id)]
    assert payload["errors"] == [not_found("123"), not_found(ids[2]), not_found(ids[3])]
    state.clock.advance(3600)
    assert "errors" not in body(lookup(state, {"ids": str(future.id)}))


def test_only_errors_when_nothing_is_found() -> None:
    assert body(lookup(make_state(), {"ids": "1"})) == {"errors": [not_found("1")]}


def test_protected_posts_need_their_authors_user_context() -> None:
    state = make_state()
    hidden = posts_of(state, PRIVATE)[0]
    value = str(hidden.id)
    for user in (None, BRAND):
        payload = body(lookup(state, {"ids": value}, user=user))
        assert "data" not in payload
        assert payload["errors"] == [
            {
                "value": value,
                "detail": f"Sorry, you are not authorized to see the Tweet with ids: [{value}].",
                "title": "Authorization Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": value,
                "type": PROBLEMS + "not-authorized-for-resource",
            }
        ]
    assert body(lookup(state, {"ids": value}, user=PRIVATE))["data"][0]["id"] == value


def assert_invalid(response: SimResponse, *messages: str) -> None:
    assert response.status == 400
    payload = body(response)
    assert payload["title"] == "Invalid Request"
    assert payload["detail"] == "One or more parameters to your request was invalid."
    assert payload["type"] == PROBLEMS + "invalid-request"
    assert [e["message"] for e in payload["errors"]] == list(messages)


def test_lookup_parameter_errors() -> None:
    state = make_state()
    too_many = ",".join(str(1000 + i) for i in range(101))
    assert_invalid(
        lookup(state, {"ids": too_many}),
        "The number of values in the `ids` query parameter list [101] is not between 1 and 100",
    )
    assert_invalid(
        lookup(state, {"ids": "12,abc"}),
        "The `ids` query parameter value [abc] does not match ^[0-9]{1,19}$",
    )
    assert_invalid(lookup(state, {}), "The `ids` query parameter can not be empty")
    assert_invalid(
        lookup(state, {"ids": "12", "tweet.fields": "created_at,shoe_size"}),
        "The `tweet.fields` query parameter value [shoe_size] is not one of ["
        + ", ".join(sorted(TWEET_FIELDS))
        + "]",
    )
    response = lookup(state, {"ids": "12", "colour": "red"})
    assert response.status == 400
    assert body(response)["errors"][0]["parameters"] == {"colour": ["red"]}


def test_lookup_accepts_exactly_100_ids() -> None:
    ids = ",".join(str(1000 + i) for i in range(100))
    assert len(body(lookup(make_state(), {"ids": ids}))["errors"]) == 100


def test_text_is_a_deterministic_sentence() -> None:
    texts = {sentence(1, n) for n in range(50)}
    assert len(texts) > 10
    assert sentence(1, 7) == sentence(1, 7)
    assert all(0 < len(t) < 80 for t in texts)


# -- authentication and rate limits -------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic eDp5"])
def test_unauthenticated_calls_get_401_with_rate_headers(header: str | None) -> None:
    headers = {"authorization": header} if header else {}
    request = SimRequest("GET", "/2/tweets", "ids=1", headers, b"", BASE)
    response = v2.lookup_posts(make_state(), request)
    assert response.status == 401
    assert body(response) == {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }
    assert response.headers["x-rate-limit-limit"] == "300"
    assert response.headers["x-rate-limit-remaining"] == "300"


def test_oauth_user_context_and_disabled_apps_are_accepted() -> None:
    state = make_state()
    assert lookup(state, {"ids": "1"}, user=BRAND).status == 200
    disabled = state.universe.app_by_key("sim-disabled-consumer-key")
    assert disabled is not None
    headers = {"authorization": f"Bearer {auth.bearer_token_for(state, disabled)}"}
    request = SimRequest("GET", "/2/tweets", "ids=1", headers, b"", BASE)
    assert v2.lookup_posts(state, request).status == 200


def test_rate_limit_per_app_per_15_minutes() -> None:
    state = make_state()
    state.options = state.options.updated({"rate_limit_v2_lookup": 2})
    first, second, third = (lookup(state, {"ids": "1"}) for _ in range(3))
    assert [r.status for r in (first, second, third)] == [200, 200, 429]
    assert [r.headers["x-rate-limit-remaining"] for r in (first, second, third)] == ["1", "0", "0"]
    reset = int(first.headers["x-rate-limit-reset"])
    assert reset % 900 == 0
    assert 0 < reset - START.timestamp() <= 900
    assert body(third) == {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
    }
    # Other endpoints have their own buckets; a new window starts afresh.
    assert by_username(state, "sim_brand").status == 200
    state.clock.set(datetime.fromtimestamp(reset, UTC))
    assert lookup(state, {"ids": "1"}).status == 200


def test_a_shorter_v2_window_for_benchmarks_of_pacing() -> None:
    state = make_state()
    state.options = state.options.updated({"rate_limit_v2_lookup": 1, "v2_window_s": 20})
    first, second = (lookup(state, {"ids": "1"}) for _ in range(2))
    assert [r.status for r in (first, second)] == [200, 429]
    reset = int(first.headers["x-rate-limit-reset"])
    assert reset % 20 == 0
    assert 0 < reset - START.timestamp() <= 20
    state.clock.set(datetime.fromtimestamp(reset, UTC))
    assert lookup(state, {"ids": "1"}).status == 200
    with pytest.raises(OptionError, match="v2_window_s"):
        state.options.updated({"v2_window_s": 0})


def test_parameter_errors_count_against_the_limit() -> None:
    state = make_state()
    response = lookup(state, {"ids": "x"})
    assert response.status == 400
    assert response.headers["x-rate-limit-remaining"] == "299"


# -- GET /2/users/<id>/tweets -------------------------------------------------------------------


def test_user_posts_newest_first_with_meta() -> None:
    state = make_state()
    expected = posts_of(state, BRAND)
    payload = body(timeline(state, BRAND, {"tweet.fields": "created_at"}))
    ids = [d["id"] for d in payload["data"]]
    assert ids == [str(p.id) for p in expected[:10]]
    assert payload["meta"]["result_count"] == 10
    assert payload["meta"]["newest_id"] == ids[0]
    assert payload["meta"]["oldest_id"] == ids[-1]
    assert "next_token" in payload["meta"]


def test_pagination_visits_every_live_post_once() -> None:
    state = make_state()
    seen: list[str] = []
    params = {"max_results": "7", "exclude": "retweets,replies"}
    while True:
        meta = (payload := body(timeline(state, BRAND, params)))["meta"]
        seen += [d["id"] for d in payload.get("data", [])]
        if "next_token" not in meta:
            break
        params["pagination_token"] = meta["next_token"]
    assert seen == [str(p.id) for p in posts_of(state, BRAND)]
    assert len(seen) == 29  # 30 generated, one deleted


def test_since_until_and_time_bounds() -> None:
    state = make_state()
    posts = posts_of(state, BRAND)
    newer, older = posts[3], posts[8]
    params = {"since_id": str(older.id), "until_id": str(newer.id)}
    ids = [d["id"] for d in body(timeline(state, BRAND, params))["data"]]
    assert ids == [str(p.id) for p in posts[4:8]]
    window = {"start_time": iso_ms(older.created_at), "end_time": iso_ms(newer.created_at)}
    ids = [d["id"] for d in body(timeline(state, BRAND, window))["data"]]
    assert ids == [str(p.id) for p in posts[4:9]]


def test_empty_page_has_only_meta() -> None:
    state = make_state()
    newest = posts_of(state, BRAND)[0]
    payload = body(timeline(state, BRAND, {"since_id": str(newest.id)}))
    assert payload == {"meta": {"result_count": 0}}


def test_future_and_deleted_posts_never_appear() -> None:
    state = make_state()
    future = state.universe.add_post({"author": BRAND, "created_at": "2025-03-02T00:00:00Z"})
    ids = {d["id"] for d in body(timeline(state, BRAND, {"max_results": "100"}))["data"]}
    deleted = {str(p.id) for p in posts_of(state, BRAND, include_deleted=True) if p.deleted}
    assert str(future.id) not in ids
    assert not ids & deleted
    state.clock.advance(86_400)
    newest = body(timeline(state, BRAND, {}))["data"][0]["id"]
    assert newest == str(future.id)


def test_only_the_3200_most_recent_posts_are_reachable() -> None:
    state = make_state()
    for i in range(3300):
        when = START - timedelta(minutes=10 + i)
        state.universe.add_post({"author": NEWCOMER, "created_at": when.isoformat()})
    params = {"max_results": "100"}
    count, pages = 0, 0
    while True:
        payload = body(timeline(state, NEWCOMER, params))
        count, pages = count + payload["meta"]["result_count"], pages + 1
        if "next_token" not in payload["meta"]:
            break
        params["pagination_token"] = payload["meta"]["next_token"]
    assert (count, pages) == (3200, 32)


def test_protected_accounts_posts_need_their_own_user_context() -> None:
    state = make_state()
    for user in (None, BRAND):
        response = timeline(state, PRIVATE, {}, user=user)
        assert response.status == 403
        assert body(response)["type"] == PROBLEMS + "not-authorized-for-resource"
    own = body(timeline(state, PRIVATE, {}, user=PRIVATE))
    assert own["meta"]["result_count"] == 10


def test_unknown_user_is_a_not_found_error() -> None:
    payload = body(timeline(make_state(), "42", {}))
    assert payload["errors"][0]["detail"] == "Could not find user with id: [42]."
    assert payload["errors"][0]["resource_type"] == "user"


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("max_results", "4", "is not between 5 and 100"),
        ("max_results", "101", "is not between 5 and 100"),
        ("exclude", "quotes", "is not one of [replies, retweets]"),
        ("since_id", "abc", "does not match ^[0-9]{1,19}$"),
        ("until_id", "-1", "does not match ^[0-9]{1,19}$"),
        ("start_time", "yesterday", "is not a valid RFC3339 date-time"),
        ("pagination_token", "NOT-OURS", "is not valid"),
    ],
)
def test_user_posts_parameter_errors(name: str, value: str, problem: str) -> None:
    message = f"The `{name}` query parameter value [{value}] {problem}"
    assert_invalid(timeline(make_state(), BRAND, {name: value}), message)


def test_start_time_must_be_before_end_time() -> None:
    params = {"start_time": "2025-03-01T00:00:00Z", "end_time": "2025-02-01T00:00:00Z"}
    assert_invalid(
        timeline(make_state(), BRAND, params),
        "The `start_time` query parameter value must be before `end_time`",
    )


def test_user_id_must_be_numeric() -> None:
    request = get(make_state(), "/2/users/brand/tweets", {})
    response = v2.user_posts(make_state(), request, "brand")
    assert_invalid(response, "The `id` query parameter value [brand] does not match ^[0-9]{1,19}$")


# -- GET /2/users/by/username/<name> ------------------------------------------------------------


def test_username_lookup_is_case_insensitive() -> None:
    payload = body(by_username(make_state(), "SIM_Brand"))
    assert payload == {"data": {"id": BRAND, "name": "Sim Brand", "username": "sim_brand"}}


def test_username_lookup_honours_protected() -> None:
    payload = body(by_username(make_state(), "sim_private", {"user.fields": "protected"}))
    assert payload["data"]["protected"] is True


def test_unknown_username_is_a_not_found_error() -> None:
    response = by_username(make_state(), "nobody_here")
    assert response.status == 200
    assert body(response) == {
        "errors": [
            {
                "value": "nobody_here",
                "detail": "Could not find user with username: [nobody_here].",
                "title": "Not Found Error",
                "resource_type": "user",
                "parameter": "username",
                "resource_id": "nobody_here",
                "type": PROBLEMS + "resource-not-found",
            }
        ]
    }


def test_malformed_username_is_400() -> None:
    assert_invalid(
        by_username(make_state(), "no-dashes"),
        "The `username` query parameter value [no-dashes] does not match ^[A-Za-z0-9_]{1,15}$",
    )
