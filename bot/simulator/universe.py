"""The simulated world: apps, accounts, Posts and spikes (docs/simulator.md#universe).

A universe comes from a JSON document (`load_universe`) or from a seed
(bot.simulator.seeded_universe.default_universe).
Objects are mutable because the admin interface edits them; the simulator's state lock guards
every change.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.engagement import snowflake
from bot.engagement.models import Endpoint

DEFAULT_RATE_LIMIT = 60


class UniverseError(ValueError):
    """Raised when a universe document (file or admin request) is malformed; says which field."""


def uniform(seed: int, *parts: object) -> float:
    """U(parts…): a deterministic uniform number in [0, 1) from the seed and `parts`."""
    text = str(seed) + "|" + "|".join(str(p) for p in parts)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def parse_time(value: object, what: str) -> datetime:
    """An ISO 8601 instant ending in Z (or with an offset), as an aware UTC datetime."""
    if not isinstance(value, str):
        raise UniverseError(f"{what} must be an ISO 8601 string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UniverseError(f"{what} is not an ISO 8601 instant: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def floor_hour(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def ceil_hour(when: datetime) -> datetime:
    floored = floor_hour(when)
    return floored if floored == when else floored + timedelta(hours=1)


@dataclass
class App:
    name: str
    app_id: str
    consumer_key: str
    consumer_secret: str
    engagement_api_enabled: bool = True
    callback_urls: list[str] = field(default_factory=list)
    rate_limits: dict[str, int] = field(default_factory=dict)

    def rate_limit(self, endpoint: str, default: int) -> int:
        return self.rate_limits.get(endpoint, default)


@dataclass
class Token:
    app: str
    access_token: str
    access_token_secret: str


@dataclass
class Account:
    user_id: str
    screen_name: str
    protected: bool = False
    base_reach: int = 1000
    tokens: list[Token] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.screen_name.replace("_", " ").title()


@dataclass
class Post:
    id: int
    author: str  # user_id
    created_at: datetime
    deleted: bool = False
    protected: bool = False
    has_video: bool = False
    video_id: str = ""
    has_media: bool = False
    has_url: bool = False
    has_hashtag: bool = False
    has_app_card: bool = False
    reach: int = 1000
    half_life_hours: float = 8.0
    hashtags: tuple[str, ...] | None = None  # None: drawn from the seed (bot.simulator.texts)


@dataclass
class Spike:
    post_id: int
    hour: datetime
    multiplier: float = 2.0
    hours: int = 1


@dataclass
class Universe:
    seed: int
    start_time: datetime
    apps: list[App]
    accounts: list[Account]
    posts: dict[int, Post]
    spikes: list[Spike]
    _sequence: int = 0

    # -- lookups -----------------------------------------------------------------------------
    def app_by_key(self, consumer_key: str) -> App | None:
        return next((a for a in self.apps if a.consumer_key == consumer_key), None)

    def app_by_name(self, name: str) -> App | None:
        return next((a for a in self.apps if a.name == name), None)

    def account(self, user_id_or_name: str) -> Account | None:
        wanted = user_id_or_name.lstrip("@").lower()
        for account in self.accounts:
            if account.user_id == wanted or account.screen_name.lower() == wanted:
                return account
        return None

    def account_by_id(self, user_id: str) -> Account | None:
        return next((a for a in self.accounts if a.user_id == user_id), None)

    def token(self, app: App, access_token: str) -> tuple[Account, Token] | None:
        for account in self.accounts:
            for token in account.tokens:
                if token.app == app.name and token.access_token == access_token:
                    return account, token
        return None

    def is_protected(self, post: Post) -> bool:
        author = self.account_by_id(post.author)
        return post.protected or (author is not None and author.protected)

    # -- building ----------------------------------------------------------------------------
    def next_snowflake(self, created: datetime) -> int:
        """A fresh ID for a Post created at `created` (datacenter 1, worker 1)."""
        ms = snowflake.epoch_ms(created)
        while True:
            post_id = snowflake.make_id(ms, datacenter=1, worker=1, sequence=self._sequence % 4096)
            self._sequence += 1
            if post_id not in self.posts:
                return post_id

    def add_account(self, doc: Mapping[str, Any]) -> Account:
        account = _account_from(doc, self.apps)
        if self.account_by_id(account.user_id) or self.account(account.screen_name):
            raise UniverseError(f"account {account.user_id} / @{account.screen_name} exists")
        self.accounts.append(account)
        return account

    def add_post(self, doc: Mapping[str, Any], *, now: datetime | None = None) -> Post:
        post = _post_from(doc, self, now=now)
        if post.id in self.posts:
            raise UniverseError(f"Post {post.id} exists")
        self.posts[post.id] = post
        return post

    def add_spike(self, doc: Mapping[str, Any]) -> Spike:
        spike = _spike_from(doc)
        if spike.post_id not in self.posts:
            raise UniverseError(f"spike for unknown Post {spike.post_id}")
        self.spikes.append(spike)
        return spike


# -- documents to objects ------------------------------------------------------------------------


def _require(doc: Mapping[str, Any], key: str, what: str) -> Any:
    if key not in doc:
        raise UniverseError(f"{what}: missing required field {key!r}")
    return doc[key]


def _bool(doc: Mapping[str, Any], key: str, default: bool, what: str) -> bool:
    value = doc.get(key, default)
    if not isinstance(value, bool):
        raise UniverseError(f"{what}.{key} must be true or false, got {value!r}")
    return value


def _number(doc: Mapping[str, Any], key: str, default: float, what: str) -> float:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise UniverseError(f"{what}.{key} must be a non-negative number, got {value!r}")
    return float(value)


def _app_from(doc: Mapping[str, Any]) -> App:
    name = str(_require(doc, "name", "app"))
    limits = doc.get("rate_limits", {})
    if not isinstance(limits, dict):
        raise UniverseError(f"app {name}: rate_limits must be an object")
    for endpoint, value in limits.items():
        if endpoint not in {e.value for e in Endpoint} or not isinstance(value, int) or value < 0:
            raise UniverseError(f"app {name}: bad rate limit {endpoint!r}: {value!r}")
    app_id = str(doc.get("app_id") or 28000000 + int(uniform(0, "app", name) * 999999))
    return App(
        name=name,
        app_id=app_id,
        consumer_key=str(_require(doc, "consumer_key", f"app {name}")),
        consumer_secret=str(_require(doc, "consumer_secret", f"app {name}")),
        engagement_api_enabled=_bool(doc, "engagement_api_enabled", True, f"app {name}"),
        callback_urls=[str(u) for u in doc.get("callback_urls", [])],
        rate_limits={k: int(v) for k, v in limits.items()},
    )


def _account_from(doc: Mapping[str, Any], apps: list[App]) -> Account:
    user_id = str(_require(doc, "user_id", "account"))
    if not user_id.isdigit():
        raise UniverseError(f"account user_id must be digits, got {user_id!r}")
    screen_name = str(_require(doc, "screen_name", f"account {user_id}")).lstrip("@")
    what = f"account @{screen_name}"
    if "tokens" in doc:
        tokens = []
        for t in doc["tokens"]:
            tokens.append(
                Token(
                    app=str(_require(t, "app", what)),
                    access_token=str(_require(t, "access_token", what)),
                    access_token_secret=str(_require(t, "access_token_secret", what)),
                )
            )
    else:
        tokens = [
            Token(app.name, f"{user_id}-simtoken-{screen_name}", f"simsecret-{screen_name}")
            for app in apps
        ]
    return Account(
        user_id=user_id,
        screen_name=screen_name,
        protected=_bool(doc, "protected", False, what),
        base_reach=int(_number(doc, "base_reach", 1000, what)),
        tokens=tokens,
    )


def _post_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise UniverseError(f"Post id must be digits, got {value!r}")
    post_id = int(value)
    if not 1 <= post_id <= snowflake.MAX_POST_ID:
        raise UniverseError(f"Post id out of range: {value!r}")
    return post_id


def _post_from(doc: Mapping[str, Any], universe: Universe, *, now: datetime | None) -> Post:
    author = universe.account(str(_require(doc, "author", "post")))
    if author is None:
        raise UniverseError(f"post: unknown author {doc['author']!r}")
    created: datetime | None = None
    if "created_at" in doc:
        created = parse_time(doc["created_at"], "post.created_at")
    elif "age_hours" in doc:
        if now is None:
            raise UniverseError("post.age_hours needs a clock")
        created = now - timedelta(hours=_number(doc, "age_hours", 0, "post"))
    if "id" in doc:
        post_id = _post_id(doc["id"])
        if created is None:
            created = snowflake.created_at(post_id)
            if created is None:
                raise UniverseError(f"post {post_id}: a pre-snowflake ID needs created_at")
    else:
        if created is None:
            raise UniverseError("post: give id, created_at or age_hours")
        post_id = universe.next_snowflake(created)
    what = f"post {post_id}"
    key = str(post_id)
    seed = universe.seed
    has_video = _bool(doc, "has_video", False, what)
    reach_default = math.floor(author.base_reach * (0.2 + 1.8 * uniform(seed, key, "reach")))
    return Post(
        id=post_id,
        author=author.user_id,
        created_at=created.replace(microsecond=created.microsecond // 1000 * 1000),
        deleted=_bool(doc, "deleted", False, what),
        protected=_bool(doc, "protected", False, what),
        has_video=has_video,
        video_id=str(doc.get("video_id") or key),
        has_media=_bool(doc, "has_media", has_video, what),
        has_url=_bool(doc, "has_url", uniform(seed, key, "url") < 0.4, what),
        has_hashtag=_bool(doc, "has_hashtag", uniform(seed, key, "hashtag") < 0.5, what),
        has_app_card=_bool(doc, "has_app_card", False, what),
        reach=int(_number(doc, "reach", reach_default, what)),
        half_life_hours=_number(
            doc, "half_life_hours", 3 + 21 * uniform(seed, key, "half_life"), what
        )
        or 1.0,
        hashtags=_hashtags(doc, what),
    )


def _hashtags(doc: Mapping[str, Any], what: str) -> tuple[str, ...] | None:
    value = doc.get("hashtags")
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(t, str) and t.lstrip("#").replace("_", "a").isalnum() for t in value
    ):
        raise UniverseError(f"{what}.hashtags must be a list of hashtags, got {value!r}")
    return tuple(t.lstrip("#") for t in value)


def _spike_from(doc: Mapping[str, Any]) -> Spike:
    multiplier = _number(doc, "multiplier", 2, "spike")
    if multiplier < 1:
        raise UniverseError(f"spike.multiplier must be >= 1, got {multiplier}")
    hours = doc.get("hours", 1)
    if isinstance(hours, bool) or not isinstance(hours, int) or hours < 1:
        raise UniverseError(f"spike.hours must be a positive integer, got {hours!r}")
    return Spike(
        post_id=_post_id(_require(doc, "post_id", "spike")),
        hour=floor_hour(parse_time(_require(doc, "hour", "spike"), "spike.hour")),
        multiplier=multiplier,
        hours=hours,
    )


def load_universe(
    doc: Mapping[str, Any], *, seed: int | None = None, start_time: datetime | None = None
) -> Universe:
    """A universe from its JSON document; `seed`/`start_time` override the document's."""
    if not isinstance(doc, Mapping):
        raise UniverseError("a universe must be a JSON object")
    chosen_seed = seed if seed is not None else int(doc.get("seed", 1))
    if start_time is None:
        if "start_time" not in doc:
            raise UniverseError("start_time is required when no clock is given")
        start_time = parse_time(doc["start_time"], "start_time")
    apps = [_app_from(a) for a in doc.get("apps") or [DEFAULT_APP]]
    universe = Universe(chosen_seed, start_time.replace(microsecond=0), apps, [], {}, [])
    for a in doc.get("accounts", []):
        universe.add_account(a)
    for p in doc.get("posts", []):
        universe.add_post(p, now=universe.start_time)
    for s in doc.get("spikes", []):
        universe.add_spike(s)
    return universe


DEFAULT_APP: dict[str, Any] = {
    "name": "default",
    "app_id": "28000001",
    "consumer_key": "sim-consumer-key",
    "consumer_secret": "sim-consumer-secret",
}
