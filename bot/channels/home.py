"""What a person's App Home and `/engagement settings` show, gathered from the store: the
workspace's connected accounts (can their tokens still be read? when did they last fetch?),
this month's X usage, each channel with a digest or alerts (its settings and rules), and the
latest alerts. Slack-free; bot/render/home.py lays it out."""

from __future__ import annotations

from datetime import datetime

from bot.channels.authors import post_authors
from bot.channels.coverage import channel_coverage
from bot.channels.deps import Deps
from bot.channels.digest import zone_of
from bot.errors import SecretKeyError
from bot.render.home import AccountState, ChannelRow, HomeData, RecentAlert
from bot.store import Store
from bot.store.rows import Account

RECENT = 5


def channel_row(deps: Deps, team_id: str, channel_id: str) -> ChannelRow:
    """One channel's settings, rules and coverage, with the handles its rules' Posts need."""
    store = deps.store
    settings = store.channels.settings(team_id, channel_id)
    rules = tuple(store.channels.alerts(team_id, channel_id))
    return ChannelRow(
        settings=settings,
        rules=rules,
        coverage=channel_coverage(store, team_id, channel_id),
        zone=zone_of(settings, deps).key,
        authors=post_authors(store, [r.post_id for r in rules if r.post_id]),
    )


def account_state(store: Store, account: Account) -> AccountState:
    try:
        readable = store.accounts.auth(account.user_id) is not None
    except SecretKeyError:
        readable = False
    return AccountState(account.handle, readable, store.usage.last_call(account.user_id))


def home_data(deps: Deps, team_id: str, *, may_change: bool, now: datetime) -> HomeData:
    store = deps.store
    month = now.strftime("%Y-%m")
    usage = store.usage.month(month, team_id)
    recent = store.alert_log.recent(team_id, RECENT)
    authors = post_authors(store, [f.post_id for _, f in recent])
    return HomeData(
        accounts=tuple(account_state(store, a) for a in store.accounts.listed(team_id)),
        month=month,
        calls=usage.total_calls,
        owners=usage.unique_owners,
        channels=tuple(channel_row(deps, team_id, c) for c in store.channels.configured(team_id)),
        recent=tuple(RecentAlert(channel, f, authors) for channel, f in recent),
        may_change=may_change,
        now=now,
    )
