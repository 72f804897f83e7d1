"""The composition root: settings in, wired parts out. Every entry point gets its parts here.

What `engagement-bot run` starts (`run_bot`, then `serve`), in order:

1. the settings check: every missing Slack or X setting at once, before any file is created;
2. `engagement()`: the X client (OAuth 1.0a, bearer), the SQLite store sealed with its key, and
   the engagement service on top (planner, executor with its rate limiter, v2 directory);
3. the Slack side (`slack_side`): one Web API client, the installed workspaces when
   SLACK_CLIENT_ID is set, and the hooks the use cases borrow from Slack (may a channel take a
   chart? may this person change settings?);
4. `digest_jobs`: the APScheduler jobs (daily digests and their prefetch, alert passes, the
   daily tally) and the reconciler that searches channels for posts a dead run left unrecorded;
5. the Bolt app, on two thread pools (commands that ask X, and the quick ones);
6. the HTTP listener on PORT (/healthz, /readyz, /metrics, /x/connect, the Slack install, and
   /slack/events in HTTP mode) and, with SLACK_APP_TOKEN, Socket Mode;

then it waits for SIGTERM or Ctrl-C and stops them in reverse. The one-shot commands take
what they need: `query`, `accounts`, `usage` and `rotate-key` (bot.ops) `engagement()`;
`digest` and `alerts check` also `one_shot_slack()`; the console and the demo (bot.console)
`engagement()` and `Engagement.deps()`.

Slack and the scheduler are imported inside the functions that start them, so a one-shot
command pays only for what it uses.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.channels.meter import NO_METER, Meter, requests_counted, waits_told
from bot.config import Settings
from bot.copy import terminal
from bot.copy.operator import NO_X_CREDENTIALS, disconnected_mid_query
from bot.engagement.directory import DEFAULT_MAX_WAIT_S, PacedDirectory
from bot.engagement.executor import Executor, RateWait, RequestLog
from bot.engagement.health import CallHealth
from bot.engagement.http_client import HttpEngagementClient
from bot.engagement.models import APP_ONLY, Auth
from bot.engagement.service import EngagementService
from bot.errors import ConfigError, UserFacingError
from bot.store import Store
from bot.store.opening import open_store

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.channels.deps import Deps
    from bot.channels.outbox import Clock, FindPosted, PostMessage
    from bot.jobs.period_jobs import ScheduledJobs
    from bot.slack.server import Jobs, SocketMode
    from bot.slack.workspaces import Workspaces

log = logging.getLogger(__name__)

LISTEN_HOST = "0.0.0.0"  # noqa: S104 - HTTP mode must be reachable by Slack


# -- the engagement parts: X client, store, service ------------------------------------------


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
    on_request: Callable[[RequestLog], None] | None = None,
    lookup_max_wait: float = DEFAULT_MAX_WAIT_S,
) -> EngagementService:
    """The engagement service on a real client and a real store; the clocks are the real ones
    unless a test passes its own. `health` notes the calls X kept waiting; `on_wait` hears of each
    rate-limit wait, `on_request` of each answer; `lookup_max_wait`: bot.engagement.directory."""

    def auth_for(owner: str | None) -> Auth:
        if owner is None:
            return APP_ONLY
        auth = store.accounts.auth(owner)
        if auth is None:
            raise UserFacingError(disconnected_mid_query(owner))
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
        on_request=on_request,
    )
    # v2 calls pace against the same limiter, under their own endpoint keys.
    directory = PacedDirectory(
        client,
        limiter=executor.limiter,
        sleep=sleep,
        monotonic=monotonic,
        lookup_max_wait=lookup_max_wait,
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
    meter: Meter = NO_METER  # what `run` counts for /metrics

    def deps(self, settings: Settings, **hooks: Any) -> Deps:
        """The use cases' dependencies on these parts; `hooks` are Deps' optional fields."""
        from bot.channels.deps import Deps  # the use cases: not for `query` and the like

        return Deps(
            service=self.service,
            store=self.store,
            settings=settings,
            health=self.health,
            meter=self.meter,
            **hooks,
        )


@contextmanager
def engagement(
    settings: Settings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    on_wait: Callable[[RateWait], None] | None = None,
    metered: bool = False,
) -> Iterator[Engagement]:
    """The X client, the store and the service on them; `metered` (run) counts their calls
    for /metrics."""
    # The client first: missing X credentials are reported before any file is created.
    health = CallHealth()
    with http_client(settings, health=health) as client:
        store = open_store(settings)
        try:
            meter = _prometheus(settings) if metered else NO_METER
            service = build_service(
                client,
                store,
                sleep=sleep,
                monotonic=monotonic,
                health=health,
                on_wait=waits_told(meter, also=on_wait),
                on_request=requests_counted(meter) if metered else None,
            )
            yield Engagement(service, store, client, health, meter)
        finally:
            store.close()


def _prometheus(settings: Settings) -> Meter:
    from bot.slack.metrics import PrometheusMeter  # prometheus_client: for `run` only

    return PrometheusMeter(settings.db_path)


# -- Slack for the one-shot commands (`digest`, `alerts check`) ------------------------------


@dataclass(frozen=True)
class OneShotSlack:
    """Posting with SLACK_BOT_TOKEN from a command nobody else waits on."""

    post: PostMessage
    find_posted: FindPosted
    can_post: Callable[[str], bool]


def one_shot_slack(settings: Settings, *, needed_for: str) -> OneShotSlack:
    from bot.slack.outbox import slack_finder, slack_post
    from bot.slack.reconcile import DEADLINE as SEARCH_DEADLINE
    from bot.slack.web import build_web_client, channel_membership

    if not settings.slack_bot_token:
        raise ConfigError([terminal.slack_token_needed(needed_for)])
    client = build_web_client(settings, token=settings.slack_bot_token)
    # Nobody else waits on a one-shot command: it may wait out Slack's history limit (a call
    # a minute) as long as `run`'s paced queue would.
    patience = SEARCH_DEADLINE.total_seconds()
    return OneShotSlack(
        slack_post(client), slack_finder(client, patience=patience), channel_membership(client)
    )


# -- `engagement-bot run` ---------------------------------------------------------------------


def check_run_settings(settings: Settings) -> None:
    """Everything `run` needs, reported at once (ConfigError), before any file is created."""
    from bot.slack.server import check_settings

    check_settings(settings, also=[] if settings.has_x_credentials else [NO_X_CREDENTIALS])


def run_bot(settings: Settings, *, clock: Clock) -> int:
    """`run`: the Slack bot on the real X client and store, until SIGTERM or Ctrl-C."""
    check_run_settings(settings)
    with engagement(settings, metered=True) as parts:
        deps = parts.deps(settings, x_oauth=parts.client)
        workspaces = None
        if settings.slack_client_id:  # several workspaces: each posts with its own bot token
            from bot.slack.workspaces import Workspaces

            workspaces = Workspaces.open(settings, parts.store, clock=clock)
        jobs = partial(digest_jobs, clock=clock, workspaces=workspaces)
        return serve(settings, deps, clock=clock, jobs=jobs, workspaces=workspaces)


def digest_jobs(
    deps: Deps, web: WebClient, *, clock: Clock, workspaces: Workspaces | None = None
) -> ScheduledJobs:
    """`run`'s scheduler: digests (daily, weekly, monthly) and alert passes posted with the
    bot's Web API client, or with the bot token of each channel's workspace when `workspaces`
    (OAuth install) is given."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.channels.alerts import run_alert_pass
    from bot.channels.digest import prefetch, run_digest
    from bot.channels.digest_periods import run_report
    from bot.channels.tally import run_tally
    from bot.jobs.period_jobs import PeriodJobs, ScheduledJobs
    from bot.jobs.scheduler import build_scheduler
    from bot.slack.reconcile import posting

    post, reconciler = posting(web, workspaces, clock=clock, sleep=time.sleep)
    shared = BackgroundScheduler(timezone=UTC)  # the daily digests' jobs and the reports'
    daily = build_scheduler(
        scheduler=shared,
        store=deps.store,
        deps=deps,
        post=post,
        clock=clock,
        run_digest=partial(run_digest, find_posted=reconciler, clock=clock),
        run_alerts=partial(run_alert_pass, find_posted=reconciler, clock=clock),
        prefetch=prefetch,
        run_tally=run_tally,
        alert_interval=timedelta(minutes=deps.settings.alert_minutes),
        reconciler=reconciler,
    )
    periods = PeriodJobs(
        store=deps.store,
        deps=deps,
        post=post,
        clock=clock,
        scheduler=shared,
        run_report=partial(run_report, find_posted=reconciler, clock=clock),
    )
    return ScheduledJobs(daily, periods)


def slack_side(
    settings: Settings, deps: Deps, *, clock: Clock, workspaces: Workspaces | None
) -> tuple[Deps, WebClient, Workspaces | None]:
    """The Web API client (its calls noted in the deps' health), the installed workspaces
    (SLACK_CLIENT_ID only) and the hooks Slack lends the use cases: `can_post` (may a channel
    take a chart: conversations.info) and `may_change` (workspace admins and
    ENGAGEMENT_ADMINS), each with the token of the workspace concerned. Hooks already set in
    `deps` are kept."""
    from bot.slack.permissions import workspace_admins
    from bot.slack.user_zones import UserZones
    from bot.slack.web import build_web_client, channel_membership
    from bot.slack.workspaces import Workspaces

    calls = deps.health if deps.health is not None else CallHealth()
    web = build_web_client(settings, health=calls)
    if not settings.slack_client_id:
        workspaces = None
    elif workspaces is None:
        workspaces = Workspaces.open(settings, deps.store, clock=clock)
    can_post: Callable[[str], bool]
    may_change: Callable[[str, str], bool]
    if workspaces is not None:
        can_post, may_change = workspaces.can_post, workspaces.may_change
    else:
        can_post = channel_membership(web)
        may_change = workspace_admins(web, settings, monotonic=time.monotonic)
    found = workspaces
    zones = UserZones(
        (lambda team: found.client(team)) if found is not None else (lambda _: web),
        monotonic=time.monotonic,
    )
    deps = replace(
        deps,
        health=calls,
        can_post=deps.can_post or can_post,
        may_change=deps.may_change or may_change,
        reader_zone=deps.reader_zone or zones,
    )
    return deps, web, workspaces


def serve(
    settings: Settings,
    deps: Deps,
    *,
    clock: Clock,
    stop: threading.Event | None = None,
    host: str = LISTEN_HOST,
    ready: Callable[[str], None] | None = None,
    socket_mode_handler: Callable[[App, str], SocketMode] | None = None,
    jobs: Callable[[Deps, WebClient], Jobs] | None = None,
    workspaces: Workspaces | None = None,
) -> int:
    """Run the bot until `stop` is set (by default: SIGTERM or Ctrl-C, from the main thread):
    steps 3 to 6 of the module docstring on `deps`. Socket Mode when SLACK_APP_TOKEN is set,
    else HTTP mode on PORT. `ready` hears the HTTP server's URL once it listens; `jobs` builds
    the scheduled jobs from the deps and the Web API client (they start and stop with the
    server). Returns the exit status."""
    from bot.slack import server

    server.check_settings(settings)
    stop = stop if stop is not None else server.stop_on_signals()
    deps, web, workspaces = slack_side(settings, deps, clock=clock, workspaces=workspaces)
    scheduled = jobs(deps, web) if jobs is not None else None
    if scheduled is not None:
        deps = replace(deps, on_settings_changed=scheduled.on_settings_changed)
    with ExitStack() as running:
        app = _bolt_app(settings, deps, web, running, clock=clock, workspaces=workspaces)
        server.announce(app, settings, workspaces)
        listening = server.listen(
            settings,
            app,
            deps,
            web,
            clock=clock,
            host=host,
            workspaces=workspaces,
            socket_mode_handler=socket_mode_handler or server.socket_mode_handler,
        )
        running.callback(listening.stop)
        if ready is not None:
            ready(listening.url)
        if scheduled is not None:
            running.callback(scheduled.shutdown)
            scheduled.start()
        stop.wait()
        log.info("stopping")
    return 0


def _bolt_app(
    settings: Settings,
    deps: Deps,
    web: WebClient,
    running: ExitStack,
    *,
    clock: Clock,
    workspaces: Workspaces | None,
) -> App:
    """The Bolt app with its two command pools, shut down (queued commands dropped) when
    `running` closes."""
    from bot.slack.app import COMMAND_THREADS, QUICK_THREADS, build_app

    pool = ThreadPoolExecutor(max_workers=COMMAND_THREADS, thread_name_prefix="command")
    quick = ThreadPoolExecutor(max_workers=QUICK_THREADS, thread_name_prefix="quick")
    running.callback(quick.shutdown, wait=True, cancel_futures=True)
    running.callback(pool.shutdown, wait=True, cancel_futures=True)
    return build_app(
        settings, deps, clock=clock, client=web, executor=pool, quick=quick, workspaces=workspaces
    )
