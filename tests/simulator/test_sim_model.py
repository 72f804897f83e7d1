"""The engagement model and the invariants it must guarantee (docs/simulator.md#invariants).

Expectations come from the model's formulas (U, Λ, r_m in bot/simulator/model.py) or from the
invariants, never from numbers copied out of a run.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.engagement import snowflake
from bot.engagement.models import ALL_METRICS
from bot.simulator import model as model_module
from bot.simulator.model import EngagementModel, base_rate, cumulative_decay, decay
from bot.simulator.seeded_universe import default_universe
from bot.simulator.universe import Post, Universe, ceil_hour, floor_hour, load_universe, uniform

START = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
SERIES = [m for m in ALL_METRICS if m != "quote_tweets"]


@pytest.fixture(scope="module")
def universe() -> Universe:
    return default_universe(seed=1, start_time=START)


@pytest.fixture
def model(universe: Universe) -> EngagementModel:
    return EngagementModel(universe)


def one_post_universe(**post: Any) -> Universe:
    """A universe holding one Post of `@solo`."""
    doc = {
        "accounts": [{"user_id": "2000000001", "screen_name": "solo", "base_reach": 5000}],
        "posts": [{"author": "solo", **post}],
    }
    return load_universe(doc, start_time=START)


def spike_universe(age_hours: float, spikes: list[tuple[datetime, float, int]]) -> Universe:
    """One Post of reach 20,000 created `age_hours` before START, with the given spikes."""
    created = START - timedelta(hours=age_hours)
    post_id = str(snowflake.make_id(snowflake.epoch_ms(created), datacenter=1, worker=1))
    doc = {
        "accounts": [{"user_id": "2000000001", "screen_name": "solo"}],
        "posts": [{"author": "solo", "id": post_id, "reach": 20_000}],
        "spikes": [
            {"post_id": post_id, "hour": hour.isoformat(), "multiplier": m, "hours": n}
            for hour, m, n in spikes
        ],
    }
    return load_universe(doc, start_time=START)


def only_post(universe: Universe) -> Post:
    (post,) = universe.posts.values()
    return post


def hours_between(start: datetime, end: datetime) -> list[datetime]:
    count = int((end - start) / HOUR)
    return [start + j * HOUR for j in range(count)]


# -- the formulas ----------------------------------------------------------------------------


def test_rates_follow_the_table_and_kappa(model: EngagementModel, universe: Universe) -> None:
    post = next(iter(universe.posts.values()))
    assert model.rate(post, "impressions") == base_rate(post, "impressions") == 1.0
    for metric in ALL_METRICS[1:]:
        kappa = 0.75 + 0.5 * uniform(universe.seed, str(post.id), metric, "rate")
        assert model.rate(post, metric) == pytest.approx(base_rate(post, metric) * kappa)


@pytest.mark.parametrize(
    ("flag", "metric", "on", "off"),
    [
        ("has_video", "video_views", 0.20, 0.0),
        ("has_media", "media_views", 0.35, 0.0),
        ("has_media", "media_engagements", 0.01, 0.0),
        ("has_url", "url_clicks", 0.006, 0.0005),
        ("has_hashtag", "hashtag_clicks", 0.002, 0.0),
        ("has_app_card", "app_install_attempts", 0.0005, 0.0),
        ("has_app_card", "app_opens", 0.0008, 0.0),
    ],
)
def test_flag_dependent_base_rates(flag: str, metric: str, on: float, off: float) -> None:
    post = only_post(one_post_universe(age_hours=5, **{flag: True}))
    assert base_rate(post, metric) == on
    setattr(post, flag, False)
    assert base_rate(post, metric) == off


def test_unknown_metric_is_rejected(universe: Universe) -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        base_rate(next(iter(universe.posts.values())), "media_clicks")


def test_cumulative_decay_is_the_integral_of_decay() -> None:
    half_life = 7.0
    steps = 20_000
    width = 50.0 / steps
    integral = sum(decay((j + 0.5) * width, half_life) * width for j in range(steps))
    assert cumulative_decay(50.0, half_life) == pytest.approx(integral, rel=1e-6)
    assert cumulative_decay(0.0, half_life) == cumulative_decay(-3.0, half_life) == 0.0


def test_boundary_values_follow_the_formula(model: EngagementModel, universe: Universe) -> None:
    """C_m(b) = floor(R·ρ_m·Λ(age(b) + ε_m(b))) at hour boundaries of a Post without spikes."""
    spiked = {s.post_id for s in universe.spikes}
    post = next(
        p
        for p in universe.posts.values()
        if p.id not in spiked and START - p.created_at > 30 * HOUR
    )
    for metric in ("impressions", "favorites", "detail_expands"):
        for boundary in (ceil_hour(post.created_at) + j * HOUR for j in (0, 1, 5, 20)):
            index = int(boundary.timestamp()) // 3600
            epsilon = 0.8 * (uniform(universe.seed, str(post.id), metric, "jitter", index) - 0.5)
            age = (boundary - post.created_at) / HOUR + epsilon
            expected = (
                post.reach * model.rate(post, metric) * cumulative_decay(age, post.half_life_hours)
            )
            assert model.cumulative(post, metric, boundary, START) == math.floor(expected)


def test_now_inside_an_hour_is_interpolated(model: EngagementModel, universe: Universe) -> None:
    """F(now) is linear between the hour's boundary values, so C(now) follows within ±1."""
    fresh = [p for p in universe.posts.values() if 5 * HOUR < START - p.created_at < 30 * HOUR]
    post = max(fresh, key=lambda p: p.reach)
    b0 = floor_hour(START) - 2 * HOUR
    later = START + 5 * HOUR
    low = model.cumulative(post, "impressions", b0, later)
    high = model.cumulative(post, "impressions", b0 + HOUR, later)
    assert high - low > 20  # a busy hour, so the interpolation is visible
    previous = low
    for minutes in range(0, 61, 6):
        value = model.lifetime(post, "impressions", b0 + timedelta(minutes=minutes))
        assert low <= previous <= value <= high
        assert abs(value - (low + (high - low) * minutes / 60)) <= 1
        previous = value
    assert model.lifetime(post, "impressions", b0 + HOUR) == high


def test_a_post_created_inside_the_hour_starts_from_zero() -> None:
    """With s0 = c and F(c) = 0, the first hour interpolates from the creation instant."""
    universe = one_post_universe(age_hours=0.2, reach=100_000)
    post, model = only_post(universe), EngagementModel(universe)
    b1 = ceil_hour(post.created_at)
    top = model.cumulative(post, "impressions", b1, b1 + HOUR)
    assert top > 100
    for fraction in (0.25, 0.5, 0.9):
        now = post.created_at + (b1 - post.created_at) * fraction
        assert abs(model.lifetime(post, "impressions", now) - top * fraction) <= 1


def test_engagements_derive_from_impressions(model: EngagementModel, universe: Universe) -> None:
    for post in universe.posts.values():
        impressions = model.lifetime(post, "impressions", START)
        rho = model.rate(post, "engagements")
        assert model.lifetime(post, "engagements", START) == math.floor(rho * impressions)


# -- invariants ----------------------------------------------------------------------------


def test_completed_buckets_never_change(universe: Universe) -> None:
    """Invariant 2, on a fresh model for each clock so no cache can hide a difference."""
    posts = list(universe.posts.values())[:6]
    hours = hours_between(floor_hour(START) - 30 * HOUR, floor_hour(START))
    first = EngagementModel(universe)
    seen = {
        (p.id, m, h): first.bucket(p, m, h, START) for p in posts for m in SERIES for h in hours
    }
    for later in (START + timedelta(minutes=7), START + 3 * HOUR, START + timedelta(days=40)):
        fresh = EngagementModel(universe)
        for (post_id, metric, hour), value in seen.items():
            assert fresh.bucket(universe.posts[post_id], metric, hour, later) == value


def test_lifetime_is_the_sum_of_buckets(model: EngagementModel, universe: Universe) -> None:
    """Invariant 3 (without video aggregation): C(now) = Σ buckets from creation to now."""
    now = START + timedelta(minutes=17)
    for post in list(universe.posts.values())[:14]:
        hours = hours_between(floor_hour(post.created_at), ceil_hour(now))
        for metric in ("impressions", "engagements", "favorites", "video_views", "url_clicks"):
            total = sum(model.buckets(post, metric, hours[0], len(hours), now))
            assert total == model.lifetime(post, metric, now)
            assert model.window(post, metric, hours[0], hours[-1] + HOUR, now) == total


def test_buckets_agree_with_bucket(model: EngagementModel, universe: Universe) -> None:
    post = list(universe.posts.values())[3]
    start = floor_hour(post.created_at) - 2 * HOUR
    now = START + timedelta(minutes=41)
    listed = model.buckets(post, "favorites", start, 30, now)
    assert listed == [model.bucket(post, "favorites", start + j * HOUR, now) for j in range(30)]


def test_counts_are_sane_in_every_bucket(model: EngagementModel, universe: Universe) -> None:
    """Invariant 6: non-negative, engagements ≤ impressions, 0 before creation and after now."""
    for post in list(universe.posts.values())[:20]:
        start = floor_hour(post.created_at) - 3 * HOUR
        impressions = model.buckets(post, "impressions", start, 60, START)
        engagements = model.buckets(post, "engagements", start, 60, START)
        assert all(e <= i for e, i in zip(engagements, impressions, strict=True))
        assert min(impressions + engagements) >= 0
        assert impressions[:3] == [0, 0, 0]
        assert model.cumulative(post, "impressions", post.created_at, START) == 0
        assert model.bucket(post, "impressions", ceil_hour(START), START) == 0
        assert model.bucket(post, "impressions", floor_hour(START) + 5 * HOUR, START) == 0


def test_cumulative_is_capped_at_now(model: EngagementModel, universe: Universe) -> None:
    post = next(iter(universe.posts.values()))
    future = START + timedelta(days=3)
    assert model.cumulative(post, "favorites", future, START) == model.lifetime(
        post, "favorites", START
    )


def test_favorites_beat_retweets_beat_replies(model: EngagementModel, universe: Universe) -> None:
    """Invariant 7 for Posts older than 7 days with at least 100 favorites."""
    checked = 0
    for post in universe.posts.values():
        favorites = model.lifetime(post, "favorites", START)
        if START - post.created_at > timedelta(days=7) and favorites >= 100:
            retweets = model.lifetime(post, "retweets", START)
            assert favorites > retweets > model.lifetime(post, "replies", START)
            checked += 1
    assert checked > 0


# -- spikes (invariant 8) --------------------------------------------------------------------


def spike_floor(model: EngagementModel, post: Post, metric: str, multiplier: float) -> int:
    return math.floor((multiplier - 1) * 0.02 * post.reach * model.rate(post, metric)) - 1


@pytest.mark.parametrize("age_hours", [6.5, 24 * 400])
def test_a_completed_spike_hour_is_large(age_hours: float) -> None:
    hour = floor_hour(START) - 3 * HOUR
    universe = spike_universe(age_hours, [(hour, 8, 1)])
    post, model = only_post(universe), EngagementModel(universe)
    baseline = EngagementModel(spike_universe(age_hours, []))
    for metric in ("impressions", "favorites", "retweets", "detail_expands"):
        spiked = model.bucket(post, metric, hour, START)
        assert spiked >= spike_floor(model, post, metric, 8)
        assert spiked > baseline.bucket(post, metric, hour, START)
        # Only the spike hour grows; later hours carry the same base curve (±1 from flooring).
        after = hour + HOUR
        difference = model.bucket(post, metric, after, START) - baseline.bucket(
            post, metric, after, START
        )
        assert abs(difference) <= 1


def test_default_universe_spike(model: EngagementModel, universe: Universe) -> None:
    (spike,) = universe.spikes
    post = universe.posts[spike.post_id]
    for metric in ("impressions", "favorites"):
        value = model.bucket(post, metric, spike.hour, START)
        assert value >= spike_floor(model, post, metric, spike.multiplier)


def test_overlapping_spikes_multiply() -> None:
    hour = floor_hour(START) - 5 * HOUR
    combined = spike_universe(30, [(hour, 2, 1), (hour - HOUR, 3, 2)])
    single = spike_universe(30, [(hour - HOUR, 3, 1), (hour, 6, 1)])
    post_a, post_b = only_post(combined), only_post(single)
    model_a, model_b = EngagementModel(combined), EngagementModel(single)
    for h in hours_between(hour - 3 * HOUR, floor_hour(START)):
        assert model_a.bucket(post_a, "impressions", h, START) == model_b.bucket(
            post_b, "impressions", h, START
        )


def test_spike_hours_before_creation_are_ignored() -> None:
    created_hour = floor_hour(START - timedelta(hours=10))
    universe = spike_universe(10, [(created_hour - HOUR, 50, 1), (created_hour, 50, 1)])
    plain = spike_universe(10, [])
    post, model, base = only_post(universe), EngagementModel(universe), EngagementModel(plain)
    # The Post is created inside `created_hour`, so both spike hours start before it.
    assert model.lifetime(post, "impressions", START) == base.lifetime(
        only_post(plain), "impressions", START
    )


# -- video views on /totals --------------------------------------------------------------------


def test_totals_video_views_sum_the_shared_video(
    model: EngagementModel, universe: Universe
) -> None:
    groups: dict[str, list[Post]] = {}
    for post in universe.posts.values():
        groups.setdefault(post.video_id, []).append(post)
    shared = [g for g in groups.values() if len(g) > 1]
    assert shared, "the default universe shares one video between two Posts"
    for group in shared:
        expected = sum(model.lifetime(p, "video_views", START) for p in group if not p.deleted)
        for post in group:
            assert model.totals_video_views(post, START) == expected
    lone = next(g[0] for g in groups.values() if len(g) == 1 and g[0].has_video)
    assert model.totals_video_views(lone, START) == model.lifetime(lone, "video_views", START)


def test_deleted_posts_do_not_add_video_views() -> None:
    doc = {
        "accounts": [{"user_id": "2000000001", "screen_name": "solo"}],
        "posts": [
            {"author": "solo", "age_hours": 30, "has_video": True, "video_id": "v"},
            {"author": "solo", "age_hours": 20, "has_video": True, "video_id": "v"},
            {
                "author": "solo",
                "age_hours": 10,
                "has_video": True,
                "video_id": "v",
                "deleted": True,
            },
        ],
    }
    universe = load_universe(doc, start_time=START)
    model = EngagementModel(universe)
    first, second, gone = universe.posts.values()
    views = [model.lifetime(p, "video_views", START) for p in (first, second, gone)]
    assert min(views) > 0
    assert model.totals_video_views(first, START) == views[0] + views[1]


# -- determinism and caches ----------------------------------------------------------------------


def test_same_universe_same_numbers_other_seed_other_numbers() -> None:
    a = default_universe(seed=1, start_time=START)
    b = default_universe(seed=1, start_time=START)
    c = default_universe(seed=2, start_time=START)
    post_a, post_b = next(iter(a.posts.values())), next(iter(b.posts.values()))
    hours = (floor_hour(post_a.created_at), 20)
    assert EngagementModel(a).buckets(post_a, "impressions", *hours, START) == EngagementModel(
        b
    ).buckets(post_b, "impressions", *hours, START)
    model_c = EngagementModel(c)
    assert [model_c.lifetime(p, "impressions", START) for p in c.posts.values()] != [
        EngagementModel(a).lifetime(p, "impressions", START) for p in a.posts.values()
    ]


def test_caches_stay_bounded(monkeypatch: pytest.MonkeyPatch, universe: Universe) -> None:
    monkeypatch.setattr(model_module, "POINT_CACHE_MAX", 50)
    monkeypatch.setattr(model_module, "BOUNDARY_CACHE_MAX", 200)
    monkeypatch.setattr(model_module, "CURVE_CACHE_MAX", 20)
    model = EngagementModel(universe)
    reference = EngagementModel(universe)
    for minute in range(0, 300, 7):
        now = START + timedelta(minutes=minute)
        for post in list(universe.posts.values())[:10]:
            for metric in ("impressions", "favorites", "retweets"):
                assert model.lifetime(post, metric, now) == reference.lifetime(post, metric, now)
            assert model.totals_video_views(post, now) == reference.totals_video_views(post, now)
    assert len(model._points) <= 50
    assert len(model._boundaries) <= 200
    assert len(model._curves) <= 20
    assert len(model._video_totals) <= 50
