"""The simulator over real loopback HTTP: validation, auth, ownership, Post outcomes, rate
limits and injected faults, as a client on the wire sees them (docs/simulator.md)."""

from __future__ import annotations

import gzip
import json
import time
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
import requests

from bot.simulator.server import RunningSimulator
from tests.support.simhttp import (
    BRAND,
    CREATOR,
    admin,
    bearer,
    call,
    oauth,
    posts_of,
    quiet_signing,
)
from tests.support.universe import SIM_START

PUBLIC = ["favorites", "retweets", "quote_tweets", "replies", "video_views"]
BY_POST = {"g": {"group_by": ["tweet.id", "engagement.type"]}}


def body(ids: list[str], metrics: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "tweet_ids": ids,
        "engagement_types": metrics or ["favorites"],
        "groupings": BY_POST,
        **extra,
    }


def live_ids(sim: RunningSimulator, screen_name: str, n: int) -> list[str]:
    return [p["id"] for p in posts_of(sim, screen_name) if not p["deleted"]][:n]


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "limit"), [("totals", 250), ("28hr", 25), ("historical", 25)])
def test_too_many_ids_is_rejected_per_endpoint(sim: RunningSimulator, endpoint: str, limit: int):
    ids = [str(10**15 + i) for i in range(limit + 1)]
    reply = call(sim, endpoint, body(ids), auth=oauth())
    assert reply.status == 400
    assert reply.errors == [
        f"Too many Tweet IDs: {limit + 1} (maximum {limit} per request to /{endpoint})"
    ]
    at_limit = call(sim, endpoint, body(ids[:limit]), auth=oauth())
    assert at_limit.status == 200  # unknown IDs are merely unavailable


@pytest.mark.parametrize(
    ("endpoint", "metrics", "message"),
    [
        ("totals", ["likes"], "Unknown engagement type(s): likes"),
        ("28hr", ["media_clicks"], "Unknown engagement type(s): media_clicks"),
        (
            "totals",
            ["url_clicks"],
            "Engagement type(s) not supported by the /totals endpoint: url_clicks",
        ),
        (
            "28hr",
            ["quote_tweets"],
            "Engagement type(s) not supported by the /28hr endpoint: quote_tweets",
        ),
    ],
)
def test_metric_errors(sim: RunningSimulator, endpoint: str, metrics: list[str], message: str):
    ids = live_ids(sim, "sim_brand", 1)
    reply = call(sim, endpoint, body(ids, metrics), auth=oauth())
    assert (reply.status, reply.errors) == (400, [message])


def test_more_than_three_groupings(sim: RunningSimulator):
    groupings = {f"g{i}": {"group_by": ["engagement.type"]} for i in range(4)}
    request = {
        "tweet_ids": live_ids(sim, "sim_brand", 1),
        "engagement_types": ["favorites"],
        "groupings": groupings,
    }
    reply = call(sim, "totals", request, auth=oauth())
    assert (reply.status, reply.errors) == (400, ["Too many groupings: 4 (maximum 3)"])


def test_bad_four_value_order(sim: RunningSimulator):
    order = ["engagement.day", "tweet.id", "engagement.type", "engagement.hour"]
    request = {
        "tweet_ids": live_ids(sim, "sim_brand", 1),
        "engagement_types": ["favorites"],
        "groupings": {"bad": {"group_by": order}},
    }
    reply = call(sim, "28hr", request, auth=oauth())
    assert reply.status == 400
    assert reply.errors[0].startswith("Invalid grouping 'bad': a 4-value group_by must be")


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ({"start": "2026-10-01", "end": "2026-10-30"}, "The time range must not exceed 28 days"),
        (
            {"start": "2014-08-31", "end": "2014-09-10"},
            "start must not be before 2014-09-01T00:00:00Z",
        ),
        ({"start": "2026-11-20", "end": "2026-11-28"}, "end must not be in the future"),
        ({"start": "2026-11-20"}, "start and end must be given together"),
        ({"end": "2026-11-20"}, "start and end must be given together"),
        ({"start": "2026-11-20", "end": "2026-11-19"}, "end must be after start"),
        ({"start": "20 Nov", "end": "2026-11-21"}, "Invalid start: 20 Nov"),
    ],
)
def test_historical_window_errors(sim: RunningSimulator, window: dict[str, str], message: str):
    reply = call(sim, "historical", body(live_ids(sim, "sim_brand", 1), **window), auth=oauth())
    assert (reply.status, reply.errors) == (400, [message])


def test_exactly_28_days_is_allowed(sim: RunningSimulator):
    window = {"start": "2026-10-01", "end": "2026-10-29"}
    reply = call(sim, "historical", body(live_ids(sim, "sim_brand", 1), **window), auth=oauth())
    assert reply.status == 200
    assert (reply.json["start"], reply.json["end"]) == (
        "2026-10-01T00:00:00Z",
        "2026-10-29T00:00:00Z",
    )


def test_body_that_is_not_json(sim: RunningSimulator):
    reply = call(sim, "totals", None, auth=oauth(), raw=b"tweet_ids=1")
    assert (reply.status, reply.errors) == (400, ["Invalid or missing JSON request body"])


def test_gzipped_request_body_is_accepted(sim: RunningSimulator):
    raw = gzip.compress(json.dumps(body(live_ids(sim, "sim_brand", 2))).encode())
    reply = call(sim, "totals", None, auth=oauth(), raw=raw, headers={"Content-Encoding": "gzip"})
    assert reply.status == 200
    assert len(reply.json["g"]) == 2


# -- gzip and authentication -------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["identity", "*", "gzip;q=0", "deflate"])
def test_gzip_is_required(sim: RunningSimulator, accept: str):
    reply = call(
        sim,
        "totals",
        body(live_ids(sim, "sim_brand", 1)),
        auth=oauth(),
        headers={"Accept-Encoding": accept},
    )
    assert reply.status == 406
    assert "Content-Encoding" not in reply.headers  # the 406 is sent uncompressed
    assert json.loads(reply.raw)["errors"][0].startswith("This request requires gzip compression.")


def test_python_requests_default_accept_encoding_is_enough(sim: RunningSimulator):
    reply = call(
        sim,
        "totals",
        body(live_ids(sim, "sim_brand", 1)),
        auth=oauth(),
        headers={"Accept-Encoding": "gzip, deflate"},
    )
    assert reply.status == 200
    assert reply.headers["Content-Encoding"] == "gzip"


def reason(reply: Any) -> str:
    assert reply.status == 401
    prefix = "Your account could not be authenticated. Reason: "
    assert reply.errors[0].startswith(prefix)
    return str(reply.errors[0].removeprefix(prefix))


def test_bad_signature(sim: RunningSimulator):
    forged = oauth((BRAND[0], "not-the-secret"))
    assert reason(call(sim, "totals", body(live_ids(sim, "sim_brand", 1)), auth=forged)) == (
        "Invalid signature"
    )


def test_unknown_and_revoked_tokens(sim: RunningSimulator):
    ids = live_ids(sim, "sim_brand", 1)
    unknown = oauth(("1000000001-nope", "x"))
    assert reason(call(sim, "totals", body(ids), auth=unknown)) == "Access token not found"
    admin(sim, "POST", "tokens/revoke", {"access_token": BRAND[0]})
    assert reason(call(sim, "totals", body(ids), auth=oauth())) == "Access token not found"


def test_missing_or_unknown_authorization(sim: RunningSimulator):
    ids = live_ids(sim, "sim_brand", 1)
    assert reason(call(sim, "totals", body(ids))) == "Unknown Authorization Type"
    assert reason(call(sim, "totals", body(ids), auth="AAAAnope")) == "Bearer token not found"


def test_app_not_allowlisted(sim: RunningSimulator):
    disabled = ("sim-disabled-consumer-key", "sim-disabled-consumer-secret")
    reply = call(sim, "totals", body(live_ids(sim, "sim_brand", 1)), auth=oauth(None, disabled))
    assert reason(reply) == "Your application id is not authorized."


def test_bearer_reads_public_metrics_of_anyones_posts(sim: RunningSimulator):
    ids = live_ids(sim, "sim_brand", 2) + live_ids(sim, "sim_creator", 2)
    reply = call(sim, "totals", body(ids, PUBLIC), auth=bearer(sim))
    assert reply.status == 200
    assert list(reply.json["g"]) == ids
    assert all(list(v) == PUBLIC for v in reply.json["g"].values())


def test_bearer_may_not_read_private_metrics_or_series(sim: RunningSimulator):
    token = bearer(sim)
    ids = live_ids(sim, "sim_brand", 1)
    reply = call(sim, "totals", body(ids, ["impressions", "favorites", "engagements"]), auth=token)
    assert (reply.status, reply.errors) == (
        403,
        ["Forbidden to access metrics: impressions, engagements"],
    )
    reply = call(sim, "28hr", body(ids, ["favorites"]), auth=token)
    assert (reply.status, reply.errors) == (403, ["Forbidden to access metrics: favorites"])


def test_oauth_without_token_is_app_only(sim: RunningSimulator):
    ids = live_ids(sim, "sim_creator", 1)
    assert call(sim, "totals", body(ids, PUBLIC), auth=oauth(None)).status == 200
    assert call(sim, "28hr", body(ids), auth=oauth(None)).status == 403


# -- ownership and Post outcomes -----------------------------------------------------------------


def test_one_foreign_post_rejects_the_whole_request(sim: RunningSimulator):
    mine = live_ids(sim, "sim_brand", 2)
    theirs = live_ids(sim, "sim_creator", 1)
    reply = call(sim, "totals", body([mine[0], theirs[0], mine[1]]), auth=oauth())
    assert (reply.status, reply.errors) == (403, [f"Forbidden to access tweets: {theirs[0]}"])

    admin(sim, "PUT", "options", {"forbidden_format": "per-author"})
    reply = call(sim, "28hr", body([mine[0], theirs[0]]), auth=oauth())
    assert reply.status == 403
    assert reply.errors == [f"Forbidden to access tweets for author id 1000000002: {theirs[0]}"]


def test_each_owner_reads_only_their_own(sim: RunningSimulator):
    assert (
        call(sim, "28hr", body(live_ids(sim, "sim_creator", 3)), auth=oauth(CREATOR)).status == 200
    )


def test_deleted_post_is_unavailable_and_the_rest_answered(sim: RunningSimulator):
    posts = posts_of(sim, "sim_brand")
    deleted = next(p["id"] for p in posts if p["deleted"])
    alive = [p["id"] for p in posts if not p["deleted"]][:2]
    reply = call(sim, "totals", body([alive[0], deleted, alive[1]]), auth=oauth())
    assert reply.status == 200
    assert reply.json["unavailable_tweet_ids"] == [deleted]
    assert reply.json["errors"] == ["1 Tweet ID(s) are unavailable"]
    assert list(reply.json["g"]) == alive


def test_protected_post_fails_the_request_even_for_its_owner(sim: RunningSimulator):
    private = live_ids(sim, "sim_private", 1)
    token = ("1000000003-simtoken-sim_private", "simsecret-sim_private")
    reply = call(sim, "totals", body(private), auth=oauth(token))
    assert (reply.status, reply.errors) == (400, ["Tweet ID(s) are unavailable"])
    mine = live_ids(sim, "sim_brand", 1)
    admin(sim, "PATCH", f"posts/{mine[0]}", {"protected": True})
    assert call(sim, "totals", body(mine), auth=bearer(sim)).status == 400


def age_of(post: dict[str, Any]) -> timedelta:
    from bot.simulator.universe import parse_time

    return SIM_START - parse_time(post["created_at"], "created_at")


def test_old_posts_lose_impressions_on_totals_and_video_views_after_1800_days(
    sim: RunningSimulator,
):
    posts = [p for p in posts_of(sim, "sim_brand") if not p["deleted"]]
    young = next(p for p in posts if age_of(p) < timedelta(days=90) and p["has_video"])
    middle = next(p for p in posts if timedelta(days=90) < age_of(p) < timedelta(days=1800))
    ancient = next(p for p in posts if age_of(p) > timedelta(days=1800) and p["has_video"])
    ids = [young["id"], middle["id"], ancient["id"]]
    reply = call(
        sim, "totals", body(ids, ["impressions", "favorites", "video_views"]), auth=oauth()
    )
    assert reply.status == 200
    doc = reply.json
    assert doc["unsupported_for_impressions_engagements_tweet_ids"] == [middle["id"], ancient["id"]]
    assert doc["unsupported_for_video_views_tweet_ids"] == [ancient["id"]]
    assert doc["errors"] == [
        "Impressions & engagements for tweets older than 90 days (90 days) are not supported"
    ]
    assert doc["g"][middle["id"]]["impressions"] == "0"
    assert doc["g"][ancient["id"]]["video_views"] == "0"
    assert int(doc["g"][young["id"]]["impressions"]) > 0
    assert int(doc["g"][ancient["id"]]["favorites"]) > 0  # other metrics stay real


# -- rate limits -------------------------------------------------------------------------------


def test_rate_limit_counts_down_then_429_with_reset(sim: RunningSimulator):
    admin(sim, "PUT", "rate-limits", {"default": {"28hr": 3}})
    ids = live_ids(sim, "sim_brand", 1)
    remaining = []
    for _ in range(3):
        reply = call(sim, "28hr", body(ids), auth=oauth())
        assert reply.status == 200
        remaining.append(int(reply.headers["x-per-minute-remaining"]))
    assert remaining == [2, 1, 0]
    refused = call(sim, "28hr", body(ids), auth=oauth())
    assert (refused.status, refused.errors) == (429, ["Exceeded rate limit"])
    reset = int(refused.headers["x-per-minute-reset"])
    now = parsedate_to_datetime(refused.headers["Date"]).timestamp()
    assert 0 < reset - now <= 60
    assert reset % 60 == 0
    # other endpoints have their own bucket; the next minute has a fresh one
    assert call(sim, "totals", body(ids), auth=oauth()).status == 200
    admin(sim, "POST", "clock", {"advance_seconds": 60})
    assert call(sim, "28hr", body(ids), auth=oauth()).headers["x-per-minute-remaining"] == "2"


def test_rate_limit_headers_are_on_errors_too(sim: RunningSimulator):
    reply = call(sim, "totals", body(["12a"]), auth=oauth())
    assert reply.status == 400
    assert reply.headers["x-per-minute-limit"] == "60"
    assert reply.headers["x-per-minute-remaining"] == "59"


# -- faults ------------------------------------------------------------------------------------


def set_faults(sim: RunningSimulator, config: dict[str, Any]) -> None:
    admin(sim, "PUT", "faults", config)


@pytest.mark.parametrize(
    ("status", "text"),
    [("500", "internal server error"), ("502", "Proxy Error"), ("503", "Service Unavailable")],
)
def test_injected_server_errors(sim: RunningSimulator, status: str, text: str):
    set_faults(sim, {"queue": [status]})
    ids = live_ids(sim, "sim_brand", 1)
    reply = call(sim, "totals", body(ids), auth=oauth())
    assert (reply.status, reply.errors) == (int(status), [text])
    assert "x-per-minute-remaining" in reply.headers
    assert call(sim, "totals", body(ids), auth=oauth()).status == 200


def test_injected_429_burst(sim: RunningSimulator):
    set_faults(sim, {"burst_429": {"every": 4, "length": 2, "offset": 1}})
    ids = live_ids(sim, "sim_brand", 1)
    statuses = [call(sim, "totals", body(ids), auth=oauth()).status for _ in range(7)]
    assert statuses == [200, 429, 429, 200, 200, 429, 429]


def test_injected_connection_reset(sim: RunningSimulator):
    set_faults(sim, {"queue": ["reset"]})
    with pytest.raises(requests.ConnectionError):
        call(sim, "totals", body(live_ids(sim, "sim_brand", 1)), auth=oauth())
    log = admin(sim, "GET", "requests")["requests"]
    assert log[-1]["fault"] == "reset"


def test_injected_truncation_breaks_the_gzip_stream(sim: RunningSimulator):
    set_faults(sim, {"queue": ["truncate"], "truncate_mode": "bad_gzip"})
    reply = call(sim, "totals", body(live_ids(sim, "sim_brand", 3)), auth=oauth())
    assert reply.status == 200
    assert int(reply.headers["Content-Length"]) == len(reply.raw)
    with pytest.raises((EOFError, OSError)):
        gzip.decompress(reply.raw)


def test_injected_short_body_is_an_incomplete_read(sim: RunningSimulator):
    set_faults(sim, {"queue": ["truncate"], "truncate_mode": "short_body"})
    with pytest.raises(requests.exceptions.ChunkedEncodingError), quiet_signing():
        _ = requests.post(
            sim.url + "/insights/engagement/totals",
            json=body(live_ids(sim, "sim_brand", 3)),
            headers={"Accept-Encoding": "gzip"},
            auth=oauth(),
            timeout=10,
        ).content


def test_an_injected_hang_answers_nothing(sim: RunningSimulator):
    set_faults(sim, {"queue": ["hang"]})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(
            sim.url + "/insights/engagement/totals",
            json=body(live_ids(sim, "sim_brand", 1)),
            headers={"Accept-Encoding": "gzip"},
            auth=oauth(),
            timeout=0.5,
        )
    assert call(sim, "totals", body(live_ids(sim, "sim_brand", 1)), auth=oauth()).status == 200
    log = admin(sim, "GET", "requests")["requests"]
    assert [(e["status"], e["fault"]) for e in log[-2:]] == [(0, "hang"), (200, None)]


def test_an_injected_drip_sends_the_whole_reply_a_byte_at_a_time(sim: RunningSimulator):
    set_faults(sim, {"queue": ["drip"], "drip_ms": 5})
    started = time.monotonic()
    reply = call(sim, "totals", body(live_ids(sim, "sim_brand", 1)), auth=oauth())
    assert reply.status == 200
    assert reply.json["g"]  # the whole reply, valid gzip and JSON
    assert time.monotonic() - started >= 0.005 * len(reply.raw)


def test_injected_latency(sim: RunningSimulator):
    set_faults(sim, {"latency_ms": 300})
    started = time.monotonic()
    reply = call(sim, "totals", body(live_ids(sim, "sim_brand", 1)), auth=oauth())
    assert reply.status == 200
    assert time.monotonic() - started >= 0.3


def test_faulted_requests_are_not_counted(sim: RunningSimulator):
    set_faults(sim, {"queue": ["503", "503"]})
    ids = live_ids(sim, "sim_brand", 1)
    call(sim, "totals", body(ids), auth=oauth())
    call(sim, "totals", body(ids), auth=oauth())
    assert call(sim, "totals", body(ids), auth=oauth()).headers["x-per-minute-remaining"] == "59"


# -- routing -----------------------------------------------------------------------------------


def test_unknown_path_and_wrong_method(sim: RunningSimulator):
    assert requests.get(sim.url + "/insights/engagement/totals/", timeout=5).status_code == 404
    reply = requests.get(sim.url + "/insights/engagement/totals", timeout=5)
    assert reply.status_code == 405
    assert reply.headers["Allow"] == "POST"


def test_date_header_is_the_simulator_clock(sim: RunningSimulator):
    reply = call(sim, "totals", body(live_ids(sim, "sim_brand", 1)), auth=oauth())
    assert parsedate_to_datetime(reply.headers["Date"]) == SIM_START


def test_concurrent_requests_each_get_their_own_answer(sim: RunningSimulator):
    from concurrent.futures import ThreadPoolExecutor

    admin(sim, "PUT", "rate-limits", {"default": {"totals": 1000}})
    ids = live_ids(sim, "sim_brand", 25)
    expected = {i: call(sim, "totals", body([i], PUBLIC), auth=oauth()).json["g"] for i in ids}

    def fetch(i: str) -> tuple[str, Any]:
        return i, call(sim, "totals", body([i], PUBLIC), auth=oauth()).json["g"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(fetch, ids * 4))
    assert all(answer == expected[i] for i, answer in results)


def test_admin_interface_is_off_in_normal_mode():
    from bot.simulator.server import start_simulator

    with start_simulator(mode="normal", start_time=SIM_START) as normal:
        assert requests.get(normal.url + "/_sim/state", timeout=5).status_code == 404


def test_admin_adds_many_posts_at_once_or_none(sim: RunningSimulator):
    before = len(admin(sim, "GET", "posts")["posts"])
    added = admin(
        sim,
        "POST",
        "posts",
        {"posts": [{"author": "sim_brand", "age_hours": h} for h in (1, 2, 3)]},
    )["posts"]
    assert len(added) == 3
    bad = requests.post(
        sim.url + "/_sim/posts",
        timeout=5,
        json={
            "posts": [{"author": "sim_brand", "age_hours": 4}, {"author": "nobody", "age_hours": 4}]
        },
    )
    assert bad.status_code == 400
    assert "post 2" in bad.json()["error"]
    assert len(admin(sim, "GET", "posts")["posts"]) == before + 3


def test_fault_replies_show_the_callers_own_window(sim: RunningSimulator):
    admin(sim, "PUT", "rate-limits", {"default": {"totals": 5}})
    ids = live_ids(sim, "sim_brand", 1)
    call(sim, "totals", body(ids), auth=oauth())
    set_faults(sim, {"queue": ["503"]})
    reply = call(sim, "totals", body(ids), auth=oauth())
    assert reply.status == 503
    assert (reply.headers["x-per-minute-limit"], reply.headers["x-per-minute-remaining"]) == (
        "5",
        "4",
    )
