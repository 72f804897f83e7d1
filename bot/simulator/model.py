"""The engagement model (docs/simulator.md#engagement-model): ground-truth counts as a pure
function of the universe.

Every count is `C_m(x)`, the integer cumulative amount of metric `m` on a Post up to instant `x`.
Buckets, windows and lifetimes are differences of it, which is what makes the invariants
(stable completed buckets, totals = Σ buckets, day = Σ hours; docs/simulator.md#invariants)
hold by construction.

The values returned here are the raw model, before the response-level zeroing of the age limits
(docs/simulator.md#age-limits), which belongs to the engine. Instants are handled as epoch
seconds (floats) internally because that is several times cheaper than datetime arithmetic on
the /totals hot path.

The model never changes once built: when the universe is edited the simulator builds a new one
(`SimState.universe_changed`), so the caches below hold pure values and need no invalidation.
Their reads and writes are single dict operations, atomic under the GIL; a race only computes a
value twice.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.simulator.universe import Post, Universe, uniform

K = 0.01  # weight of the long tail
T2 = 720.0  # half-life of the long tail, hours
LN2 = math.log(2.0)
HOUR_S = 3600
JITTER_SPAN_H = 0.8  # ε_m(b) ∈ [−0.4, 0.4) hours
SPIKE_FLOOR = 0.02  # a spike adds at least this share of the Post's rate (invariant 8)
ENGAGEMENTS_BASE = 0.06

# Bounds on the caches (entries). Cleared wholesale when full: simpler than LRU bookkeeping and
# cheap, since every entry can be recomputed from the universe.
CURVE_CACHE_MAX = 100_000
BOUNDARY_CACHE_MAX = 400_000
POINT_CACHE_MAX = 200_000

# r_m for the metrics whose base rate does not depend on the Post's flags.
_FIXED_RATES: dict[str, float] = {
    "impressions": 1.0,
    "engagements": ENGAGEMENTS_BASE,
    "favorites": 0.012,
    "retweets": 0.004,
    "replies": 0.0015,
    "quote_tweets": 0.0006,
    "detail_expands": 0.012,
    "permalink_clicks": 0.0008,
    "email_tweet": 0.0001,
    "user_follows": 0.0004,
    "user_profile_clicks": 0.003,
}


def base_rate(post: Post, metric: str) -> float:
    """r_m, the base rate of `metric` for this Post's flags."""
    fixed = _FIXED_RATES.get(metric)
    if fixed is not None:
        return fixed
    flagged: dict[str, tuple[bool, float, float]] = {
        "video_views": (post.has_video, 0.20, 0.0),
        "media_views": (post.has_media, 0.35, 0.0),
        "media_engagements": (post.has_media, 0.01, 0.0),
        "url_clicks": (post.has_url, 0.006, 0.0005),
        "hashtag_clicks": (post.has_hashtag, 0.002, 0.0),
        "app_install_attempts": (post.has_app_card, 0.0005, 0.0),
        "app_opens": (post.has_app_card, 0.0008, 0.0),
    }
    if metric not in flagged:
        raise ValueError(f"unknown metric {metric!r}")
    flag, when_set, otherwise = flagged[metric]
    return when_set if flag else otherwise


def decay(age_h: float, half_life_h: float) -> float:
    """λ(a): the rate of engagement at age `a` hours, relative to the Post's reach."""
    return math.pow(2.0, -age_h / half_life_h) + K * math.pow(2.0, -age_h / T2)


def cumulative_decay(age_h: float, half_life_h: float) -> float:
    """Λ(a) = ∫₀ᵃ λ: the cumulative share reached by age `a` hours (0 before creation)."""
    if age_h <= 0:
        return 0.0
    fast = (half_life_h / LN2) * (1.0 - math.pow(2.0, -age_h / half_life_h))
    slow = K * (T2 / LN2) * (1.0 - math.pow(2.0, -age_h / T2))
    return fast + slow


def epoch_s(when: datetime) -> float:
    return when.timestamp()


class _Curve:
    """F_m for one (Post, metric): everything of the model that does not depend on the instant."""

    __slots__ = (
        "created",
        "amplitude",
        "half_life",
        "spike_ends",
        "spike_extras",
        "prefix",
        "segment",
    )

    def __init__(
        self,
        *,
        created: float,
        amplitude: float,
        half_life: float,
        spikes: list[tuple[float, float]],
        prefix: bytes,
    ) -> None:
        self.created = created
        self.amplitude = amplitude  # R × ρ_m
        self.half_life = half_life
        self.prefix = prefix  # the U(p, m, "jitter", …) text up to the hour index
        # The last hour interpolated in, as (hour index, s0, F(s0), F(b1) − F(s0), b1 − s0):
        # a running clock asks for a new `now` inside the same hour on every request.
        self.segment: tuple[int, float, float, float, float] | None = None
        # X_m(h), keyed by the end of its hour h + 1h: it counts in F(b) once h + 1h ≤ b.
        ends, extras = [], []
        for hour, multiplier in spikes:
            age = (hour - created) / HOUR_S
            extra = (multiplier - 1.0) * amplitude * max(decay(age + 0.5, half_life), SPIKE_FLOOR)
            ends.append(hour + HOUR_S)
            extras.append(extra)
        self.spike_ends = tuple(ends)
        self.spike_extras = tuple(extras)

    def jitter(self, hour_index: int) -> float:
        """ε_m(b) in hours, from U(p, m, "jitter", i) with i the epoch-hour index of b."""
        digest = hashlib.sha256(self.prefix + str(hour_index).encode("ascii")).digest()
        return JITTER_SPAN_H * (int.from_bytes(digest[:8], "big") / 2**64 - 0.5)

    def at_boundary(self, hour_index: int) -> float:
        """F_m(b) at the hour boundary b = hour_index × 1h."""
        boundary = hour_index * HOUR_S
        if boundary <= self.created or self.amplitude == 0.0:
            return 0.0
        age = (boundary - self.created) / HOUR_S + self.jitter(hour_index)
        value = self.amplitude * cumulative_decay(age, self.half_life)
        for end, extra in zip(self.spike_ends, self.spike_extras, strict=True):
            if end <= boundary:
                value += extra
        return value


class EngagementModel:
    """Ground-truth engagement counts for every Post of one universe."""

    def __init__(self, universe: Universe) -> None:
        self.universe = universe
        self.seed = universe.seed
        self._spikes = _spike_hours(universe)
        self._videos = _video_index(universe.posts.values())
        self._curves: dict[tuple[int, str], _Curve] = {}
        self._boundaries: dict[tuple[int, str, int], float] = {}
        self._points: dict[tuple[int, str, float], int] = {}
        self._video_totals: dict[tuple[str, float], int] = {}

    # -- public API (datetimes) ----------------------------------------------------------------
    def cumulative(self, post: Post, metric: str, at: datetime, now: datetime) -> int:
        """C_m(min(at, now))."""
        return self.cumulative_at(post, metric, min(epoch_s(at), epoch_s(now)))

    def bucket(self, post: Post, metric: str, hour: datetime, now: datetime) -> int:
        """The bucket [hour, hour+1h) seen at `now`; 0 for a bucket that has not started."""
        start = math.floor(epoch_s(hour) / HOUR_S) * HOUR_S
        now_s = epoch_s(now)
        if start >= now_s:
            return 0
        end = min(float(start + HOUR_S), now_s)
        return self.cumulative_at(post, metric, end) - self.cumulative_at(post, metric, start)

    def window(self, post: Post, metric: str, start: datetime, end: datetime, now: datetime) -> int:
        """Engagement inside [start, end) seen at `now`: C_m(min(end, now)) − C_m(start)."""
        now_s = epoch_s(now)
        upper = self.cumulative_at(post, metric, min(epoch_s(end), now_s))
        lower = self.cumulative_at(post, metric, min(epoch_s(start), now_s))
        return max(upper - lower, 0)

    def lifetime(self, post: Post, metric: str, now: datetime) -> int:
        """C_m(now) for this Post alone (no video aggregation)."""
        return self.cumulative_at(post, metric, epoch_s(now))

    def totals_video_views(self, post: Post, now: datetime) -> int:
        """/totals video views: C(now) summed over the non-deleted Posts sharing the video."""
        return self.totals_video_views_at(post, epoch_s(now))

    def buckets(
        self, post: Post, metric: str, start: datetime, hours: int, now: datetime
    ) -> list[int]:
        """The `hours` consecutive buckets from the hour-aligned `start`, seen at `now`."""
        return self.buckets_at(post, metric, epoch_s(start), hours, epoch_s(now))

    # -- the same in epoch seconds, for callers that convert `now` once per request --------------
    def cumulative_at(self, post: Post, metric: str, at: float) -> int:
        """C_m(at), `at` in epoch seconds."""
        key = (post.id, metric, at)
        value = self._points.get(key)
        if value is None:
            value = self._compute_c(post, metric, at)
            if len(self._points) >= POINT_CACHE_MAX:
                self._points.clear()
            self._points[key] = value
        return value

    def totals_video_views_at(self, post: Post, now: float) -> int:
        key = (post.video_id, now)
        value = self._video_totals.get(key)
        if value is None:
            sharing = self._videos.get(post.video_id, (post,))
            value = sum(
                self.cumulative_at(other, "video_views", now)
                for other in sharing
                if not other.deleted
            )
            if len(self._video_totals) >= POINT_CACHE_MAX:
                self._video_totals.clear()
            self._video_totals[key] = value
        return value

    def buckets_at(
        self, post: Post, metric: str, start: float, hours: int, now: float
    ) -> list[int]:
        """Buckets [start + j h, start + (j+1) h) for j < hours; those not yet begun are 0."""
        first = math.floor(start / HOUR_S)
        if metric == "engagements":
            rho = self._curve(post, metric).amplitude
            impressions = self._series_points(post, "impressions", first, hours + 1, now)
            points = [math.floor(rho * c) for c in impressions]
        else:
            points = self._series_points(post, metric, first, hours + 1, now)
        return [points[j + 1] - points[j] for j in range(hours)]

    def rate(self, post: Post, metric: str) -> float:
        """ρ_m = r_m × κ_m, with κ_impressions = 1 and κ_m = 0.75 + 0.5·U(p, m, "rate")."""
        r = base_rate(post, metric)
        if metric == "impressions":
            return r
        return r * (0.75 + 0.5 * uniform(self.seed, str(post.id), metric, "rate"))

    # -- internals -------------------------------------------------------------------------------
    def _series_points(
        self, post: Post, metric: str, first: int, count: int, now: float
    ) -> list[int]:
        """C_m(min(b, now)) at `count` consecutive boundaries b from hour index `first`."""
        curve = self._curve(post, metric)
        if curve.amplitude == 0.0:
            return [0] * count
        points: list[int] = []
        for index in range(first, first + count):
            boundary = index * HOUR_S
            if boundary >= now:
                # Every later boundary is capped at now too.
                points.extend([self.cumulative_at(post, metric, now)] * (first + count - index))
                break
            if boundary <= curve.created:
                points.append(0)
            else:
                points.append(math.floor(self._f_boundary(post, metric, index)))
        return points

    def _compute_c(self, post: Post, metric: str, at: float) -> int:
        if metric == "engagements":
            # C_engagements = floor(ρ_engagements × C_impressions): engagements ≤ impressions.
            impressions = self.cumulative_at(post, "impressions", at)
            return math.floor(self._curve(post, metric).amplitude * impressions)
        return math.floor(self._f(post, metric, at))

    def _f(self, post: Post, metric: str, at: float) -> float:
        """F_m(at): exact at hour boundaries, linear between them (the 'now' rule)."""
        curve = self._curve(post, metric)
        if at <= curve.created or curve.amplitude == 0.0:
            return 0.0
        index = math.floor(at / HOUR_S)
        segment = curve.segment
        if segment is None or segment[0] != index:
            segment = self._segment(post, metric, curve, index)
            curve.segment = segment  # one attribute store: atomic, so safe across threads
        _, s0, f0, rise, span = segment
        return f0 + rise * (at - s0) / span

    def _segment(
        self, post: Post, metric: str, curve: _Curve, index: int
    ) -> tuple[int, float, float, float, float]:
        """The hour [b0, b1) as interpolated at now: from s0 = max(b0, c), with F(c) = 0."""
        start = float(index * HOUR_S)
        end = start + HOUR_S
        if curve.created >= start:
            s0, f0 = curve.created, 0.0  # a Post created inside this hour starts from zero
        else:
            s0, f0 = start, self._f_boundary(post, metric, index)
        f1 = self._f_boundary(post, metric, index + 1)
        return (index, s0, f0, f1 - f0, end - s0)

    def _f_boundary(self, post: Post, metric: str, hour_index: int) -> float:
        key = (post.id, metric, hour_index)
        value = self._boundaries.get(key)
        if value is None:
            value = self._curve(post, metric).at_boundary(hour_index)
            if len(self._boundaries) >= BOUNDARY_CACHE_MAX:
                self._boundaries.clear()
            self._boundaries[key] = value
        return value

    def _curve(self, post: Post, metric: str) -> _Curve:
        """The per-(Post, metric) constants. For engagements, `amplitude` holds ρ_engagements."""
        key = (post.id, metric)
        curve = self._curves.get(key)
        if curve is None:
            rho = self.rate(post, metric)
            amplitude = rho if metric == "engagements" else post.reach * rho
            curve = _Curve(
                created=epoch_s(post.created_at),
                amplitude=amplitude,
                half_life=post.half_life_hours,
                spikes=self._spikes.get(post.id, []),
                prefix=f"{self.seed}|{post.id}|{metric}|jitter|".encode(),
            )
            if len(self._curves) >= CURVE_CACHE_MAX:
                self._curves.clear()
            self._curves[key] = curve
        return curve


def _spike_hours(universe: Universe) -> dict[int, list[tuple[float, float]]]:
    """Post ID → [(hour start in epoch seconds, combined multiplier M_h)], hours ≥ creation."""
    combined: dict[int, dict[float, float]] = {}
    for spike in universe.spikes:
        post = universe.posts.get(spike.post_id)
        if post is None:
            continue
        hours = combined.setdefault(post.id, {})
        for j in range(spike.hours):
            hour = spike.hour + timedelta(hours=j)
            if hour < post.created_at:
                continue  # spike hours before the Post existed are ignored
            start = epoch_s(hour)
            hours[start] = hours.get(start, 1.0) * spike.multiplier  # overlaps multiply
    return {pid: sorted(hours.items()) for pid, hours in combined.items()}


def _video_index(posts: Iterable[Post]) -> dict[str, tuple[Post, ...]]:
    """video_id → every Post carrying it (deleted ones included; filtered at read time)."""
    index: dict[str, list[Post]] = {}
    for post in posts:
        index.setdefault(post.video_id, []).append(post)
    return {video: tuple(group) for video, group in index.items()}
