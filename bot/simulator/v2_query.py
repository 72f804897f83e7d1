"""Query parameters and problem bodies of the X API v2 subset (docs/simulator.md#x-api-v2).

Parameter errors are collected, not raised, so one 400 lists every problem as X's does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.simulator.http import SimRequest
from bot.simulator.universe import Post

Payload = dict[str, Any]

PROBLEMS = "https://api.twitter.com/2/problems/"
ID_PATTERN = "^[0-9]{1,19}$"
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Every value X accepts, so a client asking for more than we simulate is not refused; only
# created_at, author_id, text and public_metrics (and the user's protected flag) are filled in.
TWEET_FIELDS = _words(
    "article attachments author_id card_uri community_id context_annotations conversation_id "
    "created_at display_text_range edit_controls edit_history_tweet_ids entities geo id "
    "in_reply_to_user_id lang media_metadata non_public_metrics note_tweet organic_metrics "
    "possibly_sensitive promoted_metrics public_metrics referenced_tweets reply_settings "
    "scopes source text withheld"
)
USER_FIELDS = _words(
    "affiliation connection_status created_at description entities id location "
    "most_recent_tweet_id name pinned_tweet_id profile_banner_url profile_image_url protected "
    "public_metrics receives_your_dm subscription_type url username verified verified_type "
    "withheld"
)
TWEET_EXPANSIONS = _words(
    "article.cover_media article.media_entities attachments.media_keys "
    "attachments.media_source_tweet attachments.poll_ids author_id edit_history_tweet_ids "
    "entities.mentions.username entities.note.mentions.username geo.place_id "
    "in_reply_to_user_id referenced_tweets.id referenced_tweets.id.author_id"
)
USER_EXPANSIONS = frozenset({"affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id"})
FIELD_PARAMS = ("expansions", "media.fields", "place.fields", "poll.fields", "tweet.fields")
LOOKUP_PARAMS = frozenset({"ids", "user.fields", *FIELD_PARAMS})
TIMELINE_PARAMS = LOOKUP_PARAMS - {"ids"} | {
    "max_results",
    "pagination_token",
    "start_time",
    "end_time",
    "since_id",
    "until_id",
    "exclude",
}
USERNAME_PARAMS = frozenset({"expansions", "tweet.fields", "user.fields"})


# -- reading --------------------------------------------------------------------------------------


class Query:
    """Reads v2 query parameters, collecting every problem as X does before answering 400."""

    def __init__(self, request: SimRequest, allowed: frozenset[str]) -> None:
        self.values = request.query
        self.errors: list[Payload] = []
        for name in self.values:
            # OAuth 1.0a parameters may travel in the query; they are not API parameters.
            if name not in allowed and not name.startswith("oauth_"):
                known = ",".join(sorted(allowed))
                self.fail(name, f"The query parameter [{name}] is not one of [{known}]")

    def get(self, name: str) -> str | None:
        values = self.values.get(name)
        return values[0] if values else None

    def fail(self, name: str, message: str, value: str | None = None) -> None:
        shown = [value] if value is not None else self.values.get(name, [])
        self.errors.append({"parameters": {name: shown}, "message": message})

    def bad_value(self, name: str, value: str, problem: str) -> None:
        self.fail(name, f"The `{name}` query parameter value [{value}] {problem}", value)

    def choices(self, name: str, allowed: frozenset[str]) -> set[str]:
        chosen = set((self.get(name) or "").split(",")) - {""}
        for value in sorted(chosen - allowed):
            self.bad_value(name, value, f"is not one of [{', '.join(sorted(allowed))}]")
        return chosen & allowed

    def integer(self, name: str, low: int, high: int, default: int) -> int:
        raw = self.get(name)
        if raw is not None and (not raw.isdigit() or not low <= int(raw) <= high):
            self.bad_value(name, raw, f"is not between {low} and {high}")
            return default
        return default if raw is None else int(raw)

    def snowflake(self, name: str) -> int | None:
        raw = self.get(name)
        if raw is not None and not re.fullmatch(ID_PATTERN, raw):
            self.bad_value(name, raw, f"does not match {ID_PATTERN}")
            return None
        return None if raw is None else int(raw)

    def time(self, name: str) -> datetime | None:
        raw = self.get(name)
        if raw is None:
            return None
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            self.bad_value(name, raw, "is not a valid RFC3339 date-time")
            return None
        return parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)

    def cursor(self, name: str) -> int | None:
        """A next_token of ours: the base-36 ID of the previous page's oldest Post."""
        raw = self.get(name)
        if raw is not None and not re.fullmatch("[0-9a-z]{1,13}", raw):
            self.bad_value(name, raw, "is not valid")
            return None
        return None if raw is None else int(raw, 36)


def invalid(errors: list[Payload]) -> tuple[int, Payload]:
    return 400, {
        "errors": errors,
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": PROBLEMS + "invalid-request",
    }


def resource_error(kind: str, parameter: str, value: str, *, found: bool) -> Payload:
    """A per-resource error object: not found, or (when `found`) not visible to the caller."""
    if found:
        noun = "Tweet" if kind == "tweet" else kind
        detail = f"Sorry, you are not authorized to see the {noun} with {parameter}: [{value}]."
        title, problem = "Authorization Error", "not-authorized-for-resource"
    else:
        detail = f"Could not find {kind} with {parameter}: [{value}]."
        title, problem = "Not Found Error", "resource-not-found"
    return {
        "value": value,
        "detail": detail,
        "title": title,
        "resource_type": kind,
        "parameter": parameter,
        "resource_id": value,
        "type": PROBLEMS + problem,
    }


@dataclass(frozen=True)
class Fields:
    """What the caller asked to see: tweet.fields, expansions and user.fields (known values)."""

    tweet: frozenset[str]
    expansions: frozenset[str]
    user: frozenset[str]


def read_fields(query: Query, expansions: frozenset[str] = TWEET_EXPANSIONS) -> Fields:
    tweet = query.choices("tweet.fields", TWEET_FIELDS)
    expanded = query.choices("expansions", expansions)
    if "author_id" in expanded:
        tweet.add("author_id")  # X names the author on each Post it expands
    user = query.choices("user.fields", USER_FIELDS)
    return Fields(frozenset(tweet), frozenset(expanded), frozenset(user))


@dataclass(frozen=True)
class Bounds:
    """A timeline's optional limits; start_time inclusive, end_time exclusive, IDs exclusive."""

    start: datetime | None = None
    end: datetime | None = None
    since_id: int | None = None
    until_id: int | None = None
    before_id: int | None = None  # from pagination_token: the previous page's oldest ID

    def admits(self, post: Post) -> bool:
        return (
            (self.start is None or post.created_at >= self.start)
            and (self.end is None or post.created_at < self.end)
            and (self.since_id is None or post.id > self.since_id)
            and (self.until_id is None or post.id < self.until_id)
            and (self.before_id is None or post.id < self.before_id)
        )


def read_bounds(query: Query) -> Bounds:
    bounds = Bounds(
        start=query.time("start_time"),
        end=query.time("end_time"),
        since_id=query.snowflake("since_id"),
        until_id=query.snowflake("until_id"),
        before_id=query.cursor("pagination_token"),
    )
    if bounds.start is not None and bounds.end is not None and bounds.start >= bounds.end:
        query.fail("start_time", "The `start_time` query parameter value must be before `end_time`")
    return bounds


def next_token(post_id: int) -> str:
    """The opaque-looking cursor `Query.cursor` reads back: the ID in base 36."""
    text = ""
    while True:
        post_id, digit = divmod(post_id, 36)
        text = _BASE36[digit] + text
        if post_id == 0:
            return text
