"""The simulator's GET /2/tweets/search/recent (docs/simulator.md#recent-search): operators,
the 7-day window, max_results, pagination, since_id, its own rate limit, Post text with
hashtags, and the admin truth list. In process: the simulator's state and handlers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from oauthlib.oauth1 import Client

from bot.simulator import admin, auth, texts, v2_search
from bot.simulator.clock import SimClock
from bot.simulator.http import SimRequest, SimResponse
from bot.simulator.seeded_universe import default_universe
from bot.simulator.state import SimState
from bot.simulator.universe import Post
from tests.support.simhttp import quiet_signing

START = datetime(2025, 3, 1, 12, tzinfo=UTC)
BASE = "http://127.0.0.1:8787"
BRAND, CREATOR = "1000000001", "1000000002"
PATH = "/2/tweets/search/recent"


def make_state() -> SimState:
    def factory() -> Any:
        return default_universe(seed=1, start_time=START)

    clock = SimClock(kind="sim", start=START, frozen=True)
    return SimState(universe_factory=factory, universe=factory(), clock=clock, mode="test")


def search(state: SimState, params: dict[str, str], *, user: bool = False) -> SimResponse:
    """A search with the default app's Bearer token, or signed as sim_brand."""
    query = urlencode(params)
    if user:
        client = Client(
            "sim-consumer-key",
            client_secret="sim-consumer-secret",
            resource_owner_key="1000000001-simtoken-sim_brand",
            resource_owner_secret="simsecret-sim_brand",
        )
        with quiet_signing():  # oauthlib logs the token at DEBUG while signing
            _, signed, _ = client.sign(f"{BASE}{PATH}?{query}", http_method="GET")
        headers = {k.lower(): v for k, v in signed.items()}
    else:
        app = state.universe.apps[0]
        headers = {"authorization": f"Bearer {auth.bearer_token_for(state, app)}"}
    return v2_search.search_recent(state, SimRequest("GET", PATH, query, headers, b"", BASE))


def body(response: SimResponse) -> Any:
    return json.loads(response.body)


def ids(response: SimResponse) -> list[str]:
    return [p["id"] for p in body(response).get("data", [])]


def in_window(state: SimState) -> list[Post]:
    """Live Posts of the last 7 days, newest first (not protected)."""
    now = state.now()
    posts = [
        p
        for p in state.universe.posts.values()
        if now - timedelta(days=7) <= p.created_at <= now
        and not p.deleted
        and not state.universe.is_protected(p)
    ]
    return sorted(posts, key=lambda p: p.id, reverse=True)


def text(state: SimState, post: Post) -> str:
    return texts.post_text(state.universe.seed, post)


def refusal(response: SimResponse) -> str:
    assert response.status == 400
    doc = body(response)
    assert doc["title"] == "Invalid Request"
    assert doc["type"] == "https://api.twitter.com/2/problems/invalid-request"
    return " | ".join(e["message"] for e in doc["errors"])


def add_posts(state: SimState, docs: list[dict[str, Any]]) -> list[Post]:
    added = [state.universe.add_post(d, now=state.now()) for d in docs]
    state.universe_changed()
    return added


# -- Post text ------------------------------------------------------------------------------------


def test_default_posts_carry_their_accounts_campaign_hashtags() -> None:
    state = make_state()
    for user_id in (BRAND, CREATOR):
        own = set(texts.account_tags(1, user_id))
        assert "springlaunch" in own
        tagged = [p for p in in_window(state) if p.author == user_id and p.has_hashtag]
        assert len(tagged) >= 4
        for post in tagged:
            found = texts.hashtags_in(text(state, post)) - {"sim"}
            assert len(found) == 1
            assert found <= own
    untagged = [p for p in in_window(state) if not p.has_hashtag]
    assert all(texts.hashtags_in(text(state, p)) <= {"sim"} for p in untagged)


def test_text_is_the_same_every_run() -> None:
    first, second = make_state(), make_state()
    assert [text(first, p) for p in in_window(first)] == [
        text(second, p) for p in in_window(second)
    ]


# -- operators ------------------------------------------------------------------------------------


def test_a_hashtag_finds_every_post_of_the_window_whose_text_has_it_in_any_case() -> None:
    state = make_state()
    expected = [str(p.id) for p in in_window(state) if "#springlaunch" in text(state, p).split()]
    assert expected
    assert ids(search(state, {"query": "#SpringLaunch", "max_results": "100"})) == expected


def test_from_takes_a_handle_in_any_case_or_a_user_id() -> None:
    state = make_state()
    expected = [str(p.id) for p in in_window(state) if p.author == CREATOR]
    for who in ("sim_creator", "SIM_Creator", CREATOR):
        assert ids(search(state, {"query": f"from:{who}", "max_results": "100"})) == expected


def test_and_or_parentheses_and_negation() -> None:
    state = make_state()
    window = in_window(state)

    def tags(p: Post) -> set[str]:
        return set(texts.hashtags_in(text(state, p)))

    own = texts.account_tags(1, CREATOR)[1]
    cases = {
        f"#springlaunch OR #{own} from:sim_creator": lambda p: (
            "springlaunch" in tags(p) or (own in tags(p) and p.author == CREATOR)
        ),
        f"(#springlaunch OR #{own}) from:sim_creator": lambda p: (
            bool({"springlaunch", own} & tags(p)) and p.author == CREATOR
        ),
        "#springlaunch -from:sim_brand": lambda p: "springlaunch" in tags(p) and p.author != BRAND,
        "#springlaunch -is:retweet": lambda p: "springlaunch" in tags(p),
        "from:sim_brand -(#springlaunch OR #sim)": lambda p: (
            p.author == BRAND and not {"springlaunch", "sim"} & tags(p)
        ),
    }
    for query, rule in cases.items():
        expected = [str(p.id) for p in window if rule(p)]
        assert expected, query
        assert ids(search(state, {"query": query, "max_results": "100"})) == expected, query


def test_is_retweet_matches_nothing_since_the_simulator_has_no_retweets() -> None:
    state = make_state()
    assert body(search(state, {"query": "from:sim_brand is:retweet"})) == {
        "meta": {"result_count": 0}
    }


@pytest.mark.parametrize(
    ("query", "operator"),
    [
        ("#springlaunch lang:en", "lang"),
        ("has:media from:sim_brand", "has"),
        ("#springlaunch is:reply", "is:reply"),
        ("@sim_brand", "@"),
        ("to:sim_brand", "to"),
    ],
)
def test_other_operators_are_refused_with_x_message_naming_them(query: str, operator: str) -> None:
    state = make_state()
    response = search(state, {"query": query})
    message = refusal(response)
    assert f"Reference to invalid operator '{operator}'" in message
    assert body(response)["errors"][0]["parameters"] == {"query": [query]}
    assert response.headers["x-rate-limit-remaining"] == "449"  # a 400 is counted


@pytest.mark.parametrize("query", ["-is:retweet", "is:retweet", "-#springlaunch"])
def test_a_query_needs_something_to_match(query: str) -> None:
    assert "non-negation term" in refusal(search(make_state(), {"query": query}))


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("(#springlaunch OR #blackfriday", "Missing closing parenthesis"),
        ("#springlaunch)", "Unexpected closing parenthesis"),
        ('"big news', "Missing closing quote"),
        ("#springlaunch OR", "empty clause"),
    ],
)
def test_malformed_queries_are_refused(query: str, problem: str) -> None:
    assert problem in refusal(search(make_state(), {"query": query}))


def test_an_empty_or_too_long_query_is_refused() -> None:
    state = make_state()
    assert "can not be empty" in refusal(search(state, {"query": "  "}))
    assert "can not be empty" in refusal(search(state, {}))
    assert "512" in refusal(search(state, {"query": "#" + "a" * 512}))
    assert search(state, {"query": "#" + "a" * 511}).status == 200


def test_a_hashtag_nobody_used_answers_an_empty_page() -> None:
    response = search(make_state(), {"query": "#nobodyusesthis"})
    assert response.status == 200
    assert body(response) == {"meta": {"result_count": 0}}


# -- the 7-day window -----------------------------------------------------------------------------


def test_only_the_last_7_days_are_searched() -> None:
    state = make_state()
    everything = [p for p in state.universe.posts.values() if p.author == BRAND and not p.deleted]
    older = [p for p in everything if p.created_at < state.now() - timedelta(days=7)]
    assert older  # the default universe has years of Posts
    found = ids(search(state, {"query": "from:sim_brand", "max_results": "100"}))
    assert found == [str(p.id) for p in in_window(state) if p.author == BRAND]
    assert not {str(p.id) for p in older} & set(found)


def test_a_start_time_before_the_window_is_refused_with_x_message() -> None:
    state = make_state()
    floor = state.now() - timedelta(days=7)
    too_old = (floor - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    message = refusal(search(state, {"query": "#springlaunch", "start_time": too_old}))
    assert message == (
        f"Invalid 'start_time':'{too_old}'. 'start_time' must be on or after "
        f"{floor.strftime('%Y-%m-%dT%H:%MZ')}"
    )
    inside = (floor + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert search(state, {"query": "#springlaunch", "start_time": inside}).status == 200


def test_start_and_end_time_narrow_the_search() -> None:
    state = make_state()
    now = state.now()
    start, end = now - timedelta(days=3), now - timedelta(hours=5)
    params = {
        "query": "from:sim_brand",
        "max_results": "100",
        "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_time": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    expected = [
        str(p.id) for p in in_window(state) if p.author == BRAND and start <= p.created_at < end
    ]
    assert expected
    assert ids(search(state, params)) == expected


def test_an_end_time_less_than_10_seconds_ago_is_refused() -> None:
    state = make_state()
    recent = (state.now() - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "minimum of 10 seconds" in refusal(
        search(state, {"query": "#springlaunch", "end_time": recent})
    )


def test_a_since_id_from_before_the_window_is_refused() -> None:
    state = make_state()
    old = min(p.id for p in state.universe.posts.values())
    assert "'since_id' must be a tweet id created after" in refusal(
        search(state, {"query": "#springlaunch", "since_id": str(old)})
    )


# -- pages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["9", "101", "0", "ten"])
def test_max_results_outside_10_to_100_is_refused(value: str) -> None:
    message = refusal(search(make_state(), {"query": "#springlaunch", "max_results": value}))
    assert f"[{value}] is not between 10 and 100" in message


def test_pages_of_max_results_follow_next_token_to_every_match_once() -> None:
    state = make_state()
    docs = [
        {"author": "sim_creator", "age_hours": 1 + i * 3, "hashtags": ["bigsale"]}
        for i in range(25)
    ]
    add_posts(state, docs)
    pages: list[list[str]] = []
    params = {"query": "#bigsale"}  # default max_results: 10
    while True:
        doc = body(search(state, params))
        pages.append([p["id"] for p in doc["data"]])
        assert doc["meta"]["result_count"] == len(pages[-1])
        assert doc["meta"]["newest_id"] == pages[-1][0]
        assert doc["meta"]["oldest_id"] == pages[-1][-1]
        if "next_token" not in doc["meta"]:
            break
        params = {"query": "#bigsale", "next_token": doc["meta"]["next_token"]}
    assert [len(p) for p in pages] == [10, 10, 5]
    found = [i for page in pages for i in page]
    assert found == sorted(found, key=int, reverse=True)
    assert len(set(found)) == 25


def test_max_results_100_and_pagination_token_are_honoured() -> None:
    state = make_state()
    add_posts(
        state,
        [{"author": "sim_brand", "age_hours": 1 + i, "hashtags": ["bigsale"]} for i in range(120)],
    )
    first = body(search(state, {"query": "#bigsale", "max_results": "100"}))
    assert first["meta"]["result_count"] == 100
    second = body(
        search(
            state,
            {
                "query": "#bigsale",
                "max_results": "100",
                "pagination_token": first["meta"]["next_token"],
            },
        )
    )
    assert second["meta"]["result_count"] == 20
    assert "next_token" not in second["meta"]


def test_since_id_returns_only_newer_matches() -> None:
    state = make_state()
    everything = ids(search(state, {"query": "#springlaunch", "max_results": "100"}))
    middle = everything[len(everything) // 2]
    newer = ids(search(state, {"query": "#springlaunch", "max_results": "100", "since_id": middle}))
    assert newer == [i for i in everything if int(i) > int(middle)]


def test_authors_are_expanded_with_their_handles() -> None:
    state = make_state()
    params = {
        "query": "#springlaunch",
        "max_results": "100",
        "expansions": "author_id",
        "user.fields": "username",
        "tweet.fields": "created_at,public_metrics",
    }
    doc = body(search(state, params))
    authors = {p["author_id"] for p in doc["data"]}
    assert {u["id"]: u["username"] for u in doc["includes"]["users"]} == {
        a: state.universe.account_by_id(a).screen_name for a in authors
    }
    assert all("created_at" in p and "public_metrics" in p for p in doc["data"])


# -- rate limit -----------------------------------------------------------------------------------


def test_its_own_rate_limit_450_app_only_then_429() -> None:
    state = make_state()
    state.options = state.options.updated({"rate_limit_v2_search": 3})
    replies = [search(state, {"query": "#springlaunch"}) for _ in range(4)]
    assert [r.status for r in replies] == [200, 200, 200, 429]
    assert [r.headers["x-rate-limit-remaining"] for r in replies] == ["2", "1", "0", "0"]
    assert body(replies[-1])["title"] == "Too Many Requests"
    assert make_state().options.rate_limit("v2_search") == 450
    # Another endpoint's window is untouched.
    assert make_state().options.rate_limit("v2_search_user") == 180


def test_user_context_counts_against_the_users_own_window() -> None:
    state = make_state()
    user = search(state, {"query": "#springlaunch"}, user=True)
    app = search(state, {"query": "#springlaunch"})
    assert user.headers["x-rate-limit-limit"] == "180"
    assert user.headers["x-rate-limit-remaining"] == "179"
    assert app.headers["x-rate-limit-limit"] == "450"
    assert app.headers["x-rate-limit-remaining"] == "449"


# -- the truth list -------------------------------------------------------------------------------


def test_the_admin_truth_list_is_every_match_the_api_pages_through() -> None:
    state = make_state()
    add_posts(
        state,
        [{"author": "sim_creator", "age_hours": 2 + i, "hashtags": ["bigsale"]} for i in range(30)],
    )
    query = "#bigsale OR #springlaunch"
    request = SimRequest("GET", "/_sim/search", urlencode({"query": query}), {}, b"", BASE)
    truth = json.loads(admin.handle(state, request).body)["post_ids"]
    paged: list[str] = []
    params = {"query": query, "max_results": "10"}
    while True:
        doc = body(search(state, params))
        paged += [p["id"] for p in doc.get("data", [])]
        if "next_token" not in doc["meta"]:
            break
        params["next_token"] = doc["meta"]["next_token"]
    assert paged == truth
    assert len(truth) > 30


def test_the_admin_truth_list_refuses_what_x_refuses() -> None:
    state = make_state()
    request = SimRequest("GET", "/_sim/search", urlencode({"query": "lang:en"}), {}, b"", BASE)
    response = admin.handle(state, request)
    assert response.status == 400
    assert "'lang'" in json.loads(response.body)["error"]
