"""Creation times read from Post IDs."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.engagement.snowflake import MAX_POST_ID, created_at, make_id
from bot.engagement.windows import creation


def test_a_snowflake_gives_the_time_it_was_made_for():
    made = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)

    assert created_at(make_id(int(made.timestamp() * 1000))) == made


def test_the_largest_post_id_has_a_time_and_a_larger_number_has_none():
    assert created_at(MAX_POST_ID) is not None
    # 22 digits: no Post's ID; reading a time from it raised OverflowError in the renderer.
    assert creation("1" * 22) is None
    assert created_at(MAX_POST_ID + 1) is None
