"""What the use cases need, wired once in bot/app.py: the engagement service, the store, the
settings, and the hooks an adapter lends them (may a channel take a chart? may this person
change settings? where do X's 3-legged OAuth steps go?)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.channels.meter import NO_METER, Meter
from bot.config import Settings
from bot.engagement.client import OAuthClient
from bot.engagement.health import CallHealth
from bot.engagement.service import EngagementService
from bot.store import Store


@dataclass
class Deps:
    """What commands need; built in bot/app.py."""

    service: EngagementService
    store: Store
    settings: Settings
    can_post: Callable[[str], bool] | None = None
    # Called with (team_id, channel_id) after a channel's digest settings are saved.
    on_settings_changed: Callable[[str, str], None] | None = None
    # X's 3-legged OAuth steps (the HttpEngagementClient): `/engagement connect` and the HTTP
    # listener's /x/connect and /x/oauth/callback need it; None: connecting is not set up.
    x_oauth: OAuthClient | None = None
    # Whether (team_id, user_id) may change settings (GUARDED below); None: everyone may
    # (console, CLI). `run` uses bot.slack.permissions.workspace_admins.
    may_change: Callable[[str, str], bool] | None = None
    # Where the outcomes of calls to X and Slack are noted for /healthz
    # (bot.engagement.health); None: not noted. `run` shares one with the X client
    # (bot.app.engagement).
    health: CallHealth | None = None
    # What the running bot counts for GET /metrics (bot/channels/meter.py); `run` lends the
    # Prometheus one.
    meter: Meter = NO_METER
    # The Slack time zone (IANA name) of (team_id, user_id), for the hours of a reply only
    # they see; None: unknown (the channel's digest zone is used, and named).
    # `run` uses bot.slack.user_zones.UserZones.
    reader_zone: Callable[[str, str], str | None] | None = None
