"""Snowflake Post IDs: an ID's creation time, and IDs for a time (docs/simulator.md#post-ids)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

TWITTER_EPOCH_MS = 1288834974657
# Below this an ID is a pre-snowflake sequential ID whose creation time is unknown.
PRE_SNOWFLAKE_LIMIT = 10**12
MAX_POST_ID = 2**63 - 1
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def is_decimal_id(text: str) -> bool:
    """Whether `text` is written as a Post ID is: ASCII digits only (str.isdigit alone also
    takes "²" and other scripts' digits, which int() then refuses or misreads)."""
    return text.isascii() and text.isdigit()


def is_snowflake(post_id: int) -> bool:
    """Whether the ID encodes its creation time (beyond MAX_POST_ID it is no Post's ID, and its
    "time" would overflow any date)."""
    return PRE_SNOWFLAKE_LIMIT <= post_id <= MAX_POST_ID


def created_at_ms(post_id: int) -> int | None:
    """Milliseconds since the Unix epoch encoded in a snowflake, or None for a pre-snowflake ID."""
    if not is_snowflake(post_id):
        return None
    return (post_id >> 22) + TWITTER_EPOCH_MS


def created_at(post_id: int) -> datetime | None:
    ms = created_at_ms(post_id)
    if ms is None:
        return None
    return UNIX_EPOCH + timedelta(milliseconds=ms)


def make_id(ms: int, *, datacenter: int = 0, worker: int = 0, sequence: int = 0) -> int:
    """The snowflake for a creation time in epoch milliseconds."""
    if ms < TWITTER_EPOCH_MS:
        raise ValueError(f"{ms} ms is before the snowflake epoch")
    if not (0 <= datacenter < 32 and 0 <= worker < 32 and 0 <= sequence < 4096):
        raise ValueError("datacenter and worker must be 0-31, sequence 0-4095")
    return ((ms - TWITTER_EPOCH_MS) << 22) | (datacenter << 17) | (worker << 12) | sequence


def smallest_id_at(when: datetime) -> int:
    """The smallest ID minted at or after `when`: a 'created at or after' bound."""
    return make_id(epoch_ms(when))


def epoch_ms(when: datetime) -> int:
    """Whole milliseconds since the Unix epoch, exactly (no float rounding)."""
    return (when - UNIX_EPOCH) // timedelta(milliseconds=1)
