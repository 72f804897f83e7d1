"""The typed commands `/engagement` text parses into (bot.slack.parse.grammar makes them).

Plain frozen data; the grammar is `/engagement help`'s (bot.copy.usage).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from bot.engagement.post_refs import PostRef


@dataclass(frozen=True)
class Help:
    topic: str | None = None  # a subcommand name, for `help top`


@dataclass(frozen=True)
class Totals:
    posts: tuple[PostRef, ...]
    metrics: tuple[str, ...] = ()  # () = the default set


@dataclass(frozen=True)
class Hourly:
    post: PostRef
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Daily:
    post: PostRef
    start: date | None = None
    end: date | None = None  # inclusive
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Top:
    metric: str = "engagements"
    limit: int = 10
    period: str = "7d"  # 24h | 7d | 28d | 90d
    offset: int = 0  # rows before the page shown (the board's More button)


@dataclass(frozen=True)
class Track:
    posts: tuple[PostRef, ...] = ()
    handles: tuple[str, ...] = ()  # without "@"


@dataclass(frozen=True)
class Untrack:
    posts: tuple[PostRef, ...] = ()
    handles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tracked:
    pass


@dataclass(frozen=True)
class DigestOn:
    at: time | None = None  # local wall-clock time; None = keep / default 09:00
    timezone: str | None = None  # IANA name; None = keep / ENGAGEMENT_TZ


@dataclass(frozen=True)
class DigestOff:
    pass


@dataclass(frozen=True)
class DigestNow:
    pass


@dataclass(frozen=True)
class DigestPeriodOn:
    """`digest weekly <weekday> [HH:MM] [zone]` / `digest monthly <day> [HH:MM] [zone]`."""

    period: str  # "weekly" | "monthly"
    anchor: int  # weekday 0 (Monday) … 6, or day of the month 1 … 31
    at: time | None = None  # None = 09:00
    timezone: str | None = None  # IANA name; None = keep the channel's digest zone


@dataclass(frozen=True)
class DigestPeriodOff:
    period: str


@dataclass(frozen=True)
class AlertThreshold:
    metric: str
    per_hour: int
    post: PostRef | None = None
    handle: str | None = None  # None and no post = the Posts the channel covers


@dataclass(frozen=True)
class AlertSpike:
    sensitivity: str = "medium"  # low | medium | high


@dataclass(frozen=True)
class Alerts:
    pass


@dataclass(frozen=True)
class AlertOff:
    rule_id: int


@dataclass(frozen=True)
class Snooze:
    duration: timedelta


@dataclass(frozen=True)
class Quiet:
    """Local quiet hours [start, end), across midnight when start > end; both None: off."""

    start: time | None
    end: time | None


@dataclass(frozen=True)
class Connect:
    pass


@dataclass(frozen=True)
class Accounts:
    pass


@dataclass(frozen=True)
class Disconnect:
    handle: str


@dataclass(frozen=True)
class Usage:
    pass


@dataclass(frozen=True)
class CampaignNew:
    name: str
    hashtag: str | None = None  # without "#"
    from_handle: str | None = None  # the hashtag's `from:` account, without "@"


@dataclass(frozen=True)
class CampaignAdd:
    name: str
    posts: tuple[PostRef, ...] = ()
    handle: str | None = None  # an account's Posts created in [start, end]
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class CampaignShow:
    name: str
    start: date | None = None  # None: the campaign's life
    end: date | None = None  # inclusive
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class CampaignDelete:
    name: str


@dataclass(frozen=True)
class CampaignList:
    pass


@dataclass(frozen=True)
class CompareSide:
    kind: str  # "campaign" (ref: its name) | "account" (ref: handle without "@") | "post"
    ref: str


@dataclass(frozen=True)
class Compare:
    a: CompareSide
    b: CompareSide
    start: date | None = None  # None: the last 28 days
    end: date | None = None
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mute:
    """An alert's *Mute this Post* button: the channel's alerts skip this Post (not typed)."""

    post: PostRef


@dataclass(frozen=True)
class Settings:
    """The channel's digest, alerts and quiet hours, with buttons to change them."""


Command = (
    Help
    | Totals
    | Hourly
    | Daily
    | Top
    | Track
    | Untrack
    | Tracked
    | DigestOn
    | DigestOff
    | DigestNow
    | DigestPeriodOn
    | DigestPeriodOff
    | AlertThreshold
    | AlertSpike
    | Alerts
    | AlertOff
    | Snooze
    | Quiet
    | Connect
    | Accounts
    | Disconnect
    | Usage
    | CampaignNew
    | CampaignAdd
    | CampaignShow
    | CampaignDelete
    | CampaignList
    | Compare
    | Settings
    | Mute
)
