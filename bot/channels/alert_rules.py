"""The alert rules' verdicts: functions of the numbers, the rule and the clock (no I/O; bad
quiet hours saved by hand are logged and ignored).

    spike / threshold_hit   a spike against the hours before, or more than N in the hour
    judge                   a rule's verdict on one Post's last complete hour: a Firing or None
    hour_values             an owned Post's complete hours up to the judged one, oldest first
    channel_quiet           inside the channel's quiet hours (alerts then wait)
    cooled_down             may a rule fire on a Post again
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.engagement.windows import floor_hour
from bot.store.alert_log import Firing
from bot.store.channels import AlertRule, ChannelSettings

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
BASELINE_HOURS = 6  # a spike's baseline: the mean of up to this many complete hours before
MIN_BASELINE_HOURS = 3  # fewer known hours before (a new Post): no spike verdict yet
SPIKE_FACTOR: Mapping[str, float] = {"low": 5.0, "medium": 3.0, "high": 2.0}
MIN_SPIKE_COUNT = 50  # a spike hour has at least this many events …
MIN_SPIKE_RISE = 30  # … and at least this many above the baseline (2 → 8 is no spike)
SPIKE_METRIC = "impressions"  # what a spike rule watches on owned Posts
UNOWNED_SPIKE_METRIC = "favorites"  # … and on unowned ones (public metrics only)


@dataclass(frozen=True)
class Spike:
    value: int
    baseline: float  # the mean of the hours before
    factor: float  # the sensitivity's multiple of the baseline that was needed


def spike(values: Sequence[int], sensitivity: str | None) -> Spike | None:
    """Judge the last of `values` (complete hours, oldest first) against the mean of up to
    BASELINE_HOURS before it. A spike needs the sensitivity's multiple of the baseline (low 5×,
    medium 3×, high 2×) and volume: ≥ MIN_SPIKE_COUNT and ≥ baseline + MIN_SPIKE_RISE."""
    if len(values) < MIN_BASELINE_HOURS + 1:
        return None
    current = values[-1]
    history = values[-1 - BASELINE_HOURS : -1]
    baseline = sum(history) / len(history)
    factor = SPIKE_FACTOR.get(sensitivity or "medium", SPIKE_FACTOR["medium"])
    if current < MIN_SPIKE_COUNT or current < baseline + MIN_SPIKE_RISE:
        return None
    if current < factor * baseline:
        return None
    return Spike(current, baseline, factor)


def threshold_hit(value: int | None, threshold: int | None) -> bool:
    """The rule means "more than N per hour"."""
    return value is not None and threshold is not None and value > threshold


def parse_clock(text: str) -> time:
    """ "HH:MM" (24-hour) → time; ValueError otherwise."""
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2):
        raise ValueError(f"{text!r} is not HH:MM")
    return time(int(hours), int(minutes))


def in_quiet_hours(local: time, start: time | None, end: time | None) -> bool:
    """[start, end) in local wall-clock time, across midnight when start > end; start == end
    or either missing: no quiet hours."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def channel_quiet(settings: ChannelSettings, now: datetime, zone: ZoneInfo) -> bool:
    if not settings.quiet_start or not settings.quiet_end:
        return False
    try:
        start, end = parse_clock(settings.quiet_start), parse_clock(settings.quiet_end)
    except ValueError:
        log.warning("ignoring bad quiet hours of %s", settings.channel_id)
        return False
    return in_quiet_hours(now.astimezone(zone).time(), start, end)


def cooled_down(last_fired: datetime | None, now: datetime, cooldown: timedelta) -> bool:
    """May the rule fire on the Post again?"""
    return last_fired is None or now - last_fired >= cooldown


def rule_metric(rule: AlertRule, *, owned: bool) -> str:
    if rule.metric:
        return rule.metric
    return SPIKE_METRIC if owned else UNOWNED_SPIKE_METRIC


def judge(
    rule: AlertRule,
    post_id: str,
    metric: str,
    hour: datetime,
    values: Sequence[int],
    *,
    now: datetime,
) -> Firing | None:
    """`values`: complete hours oldest first, the last being `hour`."""
    if not values:
        return None
    if rule.kind == "spike":
        found = spike(values, rule.sensitivity)
        if found is None:
            return None
        return Firing(rule.id, post_id, hour, metric, found.value, found.baseline, now)
    if threshold_hit(values[-1], rule.threshold):
        return Firing(rule.id, post_id, hour, metric, values[-1], None, now)
    return None


def hour_values(
    buckets: Mapping[datetime | date, int | None], hour: datetime, created: datetime | None
) -> list[int]:
    """The counts of the hours up to `hour` (oldest first), from the first complete hour after
    the Post was created; stops at a missing hour so the judged hour is always `hour`."""
    values: list[int] = []
    first = floor_hour(created) + HOUR if created is not None else None
    for back in range(BASELINE_HOURS, -1, -1):
        bucket = hour - back * HOUR
        count = buckets.get(bucket)
        if (first is not None and bucket < first and back) or count is None:
            values = []  # an unknown or partial hour: the baseline starts after it
            continue
        values.append(count)
    return values
