"""What the scheduler runs, as it calls it: the use cases of bot.channels and the Slack-side
reconciler, by signature, so a test can hand in its own and bot/app.py wires the real ones."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from bot.channels.digest import DigestOutcome
from bot.channels.outbox import PostMessage
from bot.channels.tally import TallyOutcome
from bot.store.channels import ChannelSettings

if TYPE_CHECKING:
    from bot.channels.deps import Deps


class DigestHistory(Protocol):
    """What the scheduler asks the store: the local day of the channel's last posted digest."""

    def last_digest_date(self, team_id: str, channel_id: str) -> date | None: ...


class RunDigest(Protocol):
    """bot.channels.digest.run_digest's signature; its outcome's status decides a retry."""

    def __call__(
        self,
        settings: ChannelSettings,
        *,
        local_date: date | None,
        now: datetime,
        deps: Deps,
        post: PostMessage,
        late: bool = False,
    ) -> DigestOutcome: ...


class RunTally(Protocol):
    """bot.channels.tally.run_tally's shape."""

    def __call__(self, *, now: datetime, deps: Deps) -> TallyOutcome: ...


class RunAlerts(Protocol):
    """bot.channels.alerts.run_alert_pass's signature; what it returns is only counted in a log."""

    def __call__(self, *, now: datetime, deps: Deps, post: PostMessage) -> Sequence[object]: ...


class Reconciling(Protocol):
    """bot.slack.reconcile.Reconciler, as the scheduler runs it."""

    on_answer: Callable[[str], None] | None

    def serve(self, stop: threading.Event) -> None: ...

    def wake(self) -> None: ...


class Prefetch(Protocol):
    """bot.channels.digest.prefetch's signature: fetch the coming digest's numbers; a count."""

    def __call__(self, settings: ChannelSettings, *, now: datetime, deps: Deps) -> int: ...
