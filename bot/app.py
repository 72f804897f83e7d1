"""The composition root: settings in, wired parts out. No logic worth a test of its own."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bot.config import Settings
from bot.copy import messages
from bot.engagement.directory import PacedDirectory
from bot.engagement.executor import Executor, RateWait
from bot.engagement.health import CallHealth
from bot.engagement.http_client import HttpEngagementClient
from bot.engagement.models import APP_ONLY, Auth
from bot.engagement.service import EngagementService
from bot.errors import SecretKeyError, UserFacingError
from bot.store import Store
from bot.store.cipher import TokenCipher, create_key, key_path_for, read_key, split_keys


def open_store(settings: Settings) -> Store:
    """The SQLite store, sealed with ENGAGEMENT_SECRET_KEY or the key file beside it, checked
    before anything uses it: SecretKeyError (one line, naming the setting or the file) when the
    key does not open what the file holds sealed, or when the key file is gone but sealed data
    remains. A key file is made only for a database with nothing sealed in it."""
    keys = split_keys(settings.secret_key) if settings.secret_key else []
    source = "ENGAGEMENT_SECRET_KEY"
    if not keys:
        source = f"the key file {key_path_for(settings.db_path)}"
        settings.db_path.parent.mkdir(parents=True, exist_ok=True)
        key = read_key(settings.db_path)
        if key is None:
            return _open_with_new_key(settings)
        keys = [key]
    store = Store.open(settings.db_path, cipher=TokenCipher.from_keys(keys))
    try:
        if failed := store.sealed.unopenable():
            raise SecretKeyError(
                messages.key_mismatch(
                    source, str(settings.db_path), messages.sealed_summary(failed)
                )
            )
    except BaseException:
        store.close()
        raise
    return store


def _open_with_new_key(settings: Settings) -> Store:
    """No key file: make one, unless the database holds data sealed with a key (then the file
    was lost, and a new key would orphan that data and seal new data differently)."""
    store = Store.open(settings.db_path, cipher=TokenCipher.generate())
    try:
        held = {noun: n for noun, n in store.sealed.counts().items() if n}
    finally:
        store.close()
    if held:
        raise SecretKeyError(
            messages.key_missing(
                str(key_path_for(settings.db_path)),
                str(settings.db_path),
                messages.sealed_summary(held),
            )
        )
    return Store.open(
        settings.db_path, cipher=TokenCipher.from_keys([create_key(settings.db_path)])
    )


NO_X_CREDENTIALS = (
    "no X credentials: set X_CONSUMER_KEY and X_CONSUMER_SECRET (to try it on the "
    "simulator, run `engagement-bot simulator` and point X_API_URL and X_OAUTH_URL at it)"
)


def http_client(settings: Settings, *, health: CallHealth | None = None) -> HttpEngagementClient:
    key, secret = settings.x_consumer_key, settings.x_consumer_secret
    if key is None or secret is None:
        raise UserFacingError(NO_X_CREDENTIALS)
    return HttpEngagementClient(
        consumer_key=key,
        consumer_secret=secret,
        engagement_base_url=settings.x_api_url,
        oauth_base_url=settings.x_oauth_url,
        bearer_token=settings.x_bearer_token,
        health=health,
    )


def build_service(
    client: HttpEngagementClient,
    store: Store,
    *,
    max_workers: int = 4,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    health: CallHealth | None = None,
    on_wait: Callable[[RateWait], None] | None = None,
) -> EngagementService:
    """The engagement service on a real client and a real store; the clocks are the real
    ones unless a test passes its own. `health` notes the calls X kept waiting; `on_wait`
    hears of each wait for a rate-limit window."""

    def auth_for(owner: str | None) -> Auth:
        if owner is None:
            return APP_ONLY
        auth = store.accounts.auth(owner)
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
        health=health,
        on_wait=on_wait,
    )
    # v2 calls pace against the same limiter, under their own endpoint keys.
    directory = PacedDirectory(
        client, limiter=executor.limiter, sleep=sleep, monotonic=monotonic, rng=random.Random()
    )
    return EngagementService(
        executor=executor, directory=directory, store=store, monotonic=monotonic
    )


@dataclass
class Engagement:
    """What a command needs: the service, and the store and client behind it."""

    service: EngagementService
    store: Store
    client: HttpEngagementClient
    health: CallHealth  # how the client's calls to X went, for /healthz


@contextmanager
def engagement(
    settings: Settings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    on_wait: Callable[[RateWait], None] | None = None,
) -> Iterator[Engagement]:
    # The client first: missing X credentials are reported before any file is created.
    health = CallHealth()
    with http_client(settings, health=health) as client:
        store = open_store(settings)
        try:
            service = build_service(
                client, store, sleep=sleep, monotonic=monotonic, health=health, on_wait=on_wait
            )
            yield Engagement(service, store, client, health)
        finally:
            store.close()
