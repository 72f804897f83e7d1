"""The composition root: settings in, wired parts out. No logic worth a test of its own."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bot.config import Settings
from bot.engagement.executor import Executor, RateWait
from bot.engagement.http_client import HttpEngagementClient
from bot.engagement.models import APP_ONLY, Auth
from bot.engagement.service import EngagementService
from bot.errors import UserFacingError
from bot.secrets import TokenCipher, load_or_create_key, split_keys
from bot.store import Store


def open_store(settings: Settings) -> Store:
    """The SQLite store, its tokens encrypted with ENGAGEMENT_SECRET_KEY or the key file."""
    keys = split_keys(settings.secret_key) if settings.secret_key else []
    if not keys:
        settings.db_path.parent.mkdir(parents=True, exist_ok=True)
        keys = [load_or_create_key(settings.db_path)]
    return Store.open(settings.db_path, cipher=TokenCipher.from_keys(keys))


def http_client(settings: Settings) -> HttpEngagementClient:
    if settings.x_consumer_key is None or settings.x_consumer_secret is None:
        raise UserFacingError(
            "no X credentials: set X_CONSUMER_KEY and X_CONSUMER_SECRET (to try it on the "
            "simulator, run `engagement-bot simulator` and point X_API_URL and X_OAUTH_URL at it)"
        )
    return HttpEngagementClient(
        consumer_key=settings.x_consumer_key,
        consumer_secret=settings.x_consumer_secret,
        engagement_base_url=settings.x_api_url,
        oauth_base_url=settings.x_oauth_url,
        bearer_token=settings.x_bearer_token,
    )


def build_service(
    client: HttpEngagementClient,
    store: Store,
    *,
    max_workers: int = 4,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    on_wait: Callable[[RateWait], None] | None = None,
) -> EngagementService:
    """The engagement service on a real client and a real store; the clocks are the real
    ones unless a test passes its own. `on_wait` hears of each wait for a rate-limit window."""

    def auth_for(owner: str | None) -> Auth:
        if owner is None:
            return APP_ONLY
        auth = store.account_auth(owner)
        if auth is None:
            raise UserFacingError(f"account {owner} was disconnected while a query ran")
        return auth

    executor = Executor(
        client,
        auth_for=auth_for,
        sleep=sleep,
        monotonic=monotonic,
        max_workers=max_workers,
        rng=random.Random(),
        on_wait=on_wait,
    )
    return EngagementService(executor=executor, directory=client, store=store, monotonic=monotonic)


@dataclass
class Engagement:
    """What a command needs: the service, and the store and client behind it."""

    service: EngagementService
    store: Store
    client: HttpEngagementClient


@contextmanager
def engagement(
    settings: Settings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    on_wait: Callable[[RateWait], None] | None = None,
) -> Iterator[Engagement]:
    store = open_store(settings)
    try:
        with http_client(settings) as client:
            service = build_service(
                client, store, sleep=sleep, monotonic=monotonic, on_wait=on_wait
            )
            yield Engagement(service, store, client)
    finally:
        store.close()
