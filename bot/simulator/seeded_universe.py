"""The default universe (docs/simulator.md#default-universe): a few apps and accounts whose
Posts, ages, media and one spike all follow from the seed and the start time, so every run with
the same two sees the same world.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.engagement import snowflake
from bot.simulator.universe import DEFAULT_APP, Universe, floor_hour, iso, load_universe, uniform

# Generated Posts older than this are left out.
EARLIEST_GENERATED_POST = datetime(2010, 11, 5, tzinfo=UTC)
DISABLED_APP: dict[str, Any] = {
    "name": "not-allowlisted",
    "app_id": "28000002",
    "consumer_key": "sim-disabled-consumer-key",
    "consumer_secret": "sim-disabled-consumer-secret",
    "engagement_api_enabled": False,
}
DEFAULT_ACCOUNTS: list[dict[str, Any]] = [
    {"user_id": "1000000001", "screen_name": "sim_brand", "base_reach": 2000},
    {"user_id": "1000000002", "screen_name": "sim_creator", "base_reach": 400},
    {"user_id": "1000000003", "screen_name": "sim_private", "protected": True},
    {"user_id": "1000000004", "screen_name": "sim_newcomer", "tokens": []},
]
POSTS_PER_DEFAULT_ACCOUNT = 30


def default_universe(*, seed: int, start_time: datetime) -> Universe:
    """The default universe (docs/simulator.md#default-universe), from the seed at `start_time`."""
    universe = load_universe(
        {"apps": [DEFAULT_APP, DISABLED_APP], "accounts": DEFAULT_ACCOUNTS},
        seed=seed,
        start_time=start_time,
    )
    start = universe.start_time
    ids: dict[tuple[int, int], int] = {}
    for a, account in enumerate(universe.accounts):
        for k in range(POSTS_PER_DEFAULT_ACCOUNT):
            age_h = 1.5 * 1.45**k * (0.95 + 0.1 * uniform(seed, a, k, "age"))
            created_ms = snowflake.epoch_ms(start) - round(age_h * 3_600_000)
            created = snowflake.UNIX_EPOCH + timedelta(milliseconds=created_ms)
            if created < EARLIEST_GENERATED_POST:
                continue
            post_id = snowflake.make_id(created_ms, datacenter=1, worker=1 + a, sequence=k)
            ids[(a, k)] = post_id
            has_video = k % 3 == 0 or k == 29
            doc: dict[str, Any] = {
                "id": str(post_id),
                "author": account.user_id,
                "has_video": has_video,
                "has_media": has_video or k % 3 == 1,
                "has_url": k % 4 == 0,
                "has_hashtag": k % 2 == 0,
                "deleted": (account.screen_name, k) in {("sim_brand", 4), ("sim_creator", 12)},
            }
            if account.screen_name == "sim_creator" and k == 3 and (0, 0) in ids:
                doc["video_id"] = str(ids[(0, 0)])
            universe.add_post(doc)
    if (0, 6) in ids:
        universe.add_spike(
            {
                "post_id": str(ids[(0, 6)]),
                "hour": iso(floor_hour(start) - timedelta(hours=3)),
                "multiplier": 8,
                "hours": 1,
            }
        )
    return universe
