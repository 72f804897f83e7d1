"""The Bolt `App`: built from Settings, with `/engagement` wired in one place.

One workspace (SLACK_BOT_TOKEN): `build_app()` never calls Slack: `authorize=` hands Bolt the
bot token from the settings, so there is no `auth.test` at construction (the server checks the
token once at start-up instead). Several workspaces (SLACK_CLIENT_ID/SLACK_CLIENT_SECRET): Bolt's
OAuth install flow with bot/slack/installations.py's stores; each request's bot token is its
workspace's (Bolt calls auth.test with it on every request), and uninstalls delete it.
The `WebClient` talks to `settings.slack_api_url` and retries connection errors, 429s (after
`Retry-After`) and 500/503s; Bolt copies those handlers into every per-request client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from logging import Logger
from typing import TYPE_CHECKING

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot.channels.outbox import Clock
from bot.config import DEFAULT_ANSWER_SECONDS, Settings
from bot.copy.operator import NO_SLACK_BOT_TOKEN, OAUTH_NEEDS_STORE
from bot.errors import ConfigError
from bot.slack import listeners, uninstall
from bot.slack.listeners import RunCommand
from bot.slack.web import build_web_client

if TYPE_CHECKING:
    from bot.channels.deps import Deps
    from bot.slack.workspaces import Workspaces

log = logging.getLogger(__name__)

COMMAND = "/engagement"
# Bolt's own pool only runs the listener up to its ack and hand-off, so a few threads suffice.
LISTENER_THREADS = 8
# Commands that ask X run here; more at once would only queue behind the X rate limits anyway.
COMMAND_THREADS = 8
# The others (help, usage, settings…) run here, so a slow X never holds them back.
QUICK_THREADS = 4


def build_app(
    settings: Settings,
    deps: Deps,
    *,
    clock: Clock,
    client: WebClient | None = None,
    process_before_response: bool = False,
    run: RunCommand | None = None,
    executor: Executor | None = None,
    quick: Executor | None = None,
    workspaces: Workspaces | None = None,
) -> App:
    """The Bolt app with `/engagement` registered: one workspace, or (SLACK_CLIENT_ID set) the
    OAuth install flow over `workspaces` (bot.slack.workspaces.Workspaces).

    `clock` gives each command its `now` (bot/cli.py passes the real one). `client` defaults to
    `build_web_client(settings)`; with one workspace it gets the bot token for code that uses
    `app.client` outside a request (jobs); with several it has none (jobs use `workspaces`).
    `run`, `executor` and `quick` are passed on to `register()`.
    """
    if settings.slack_client_id:
        app = _build_oauth_app(
            settings,
            deps,
            clock=clock,
            client=client,
            process_before_response=process_before_response,
            workspaces=_installation_store(workspaces),
        )
    else:
        app = _build_single_workspace_app(
            settings, client=client, process_before_response=process_before_response
        )
    register(
        app,
        deps,
        clock=clock,
        run=run,
        executor=executor,
        quick=quick,
        answer_seconds=settings.answer_seconds,
    )
    return app


def _installation_store(workspaces: Workspaces | None) -> Workspaces:
    """The OAuth install's store of installations, which the caller must hand in."""
    if workspaces is None:
        raise ConfigError([OAUTH_NEEDS_STORE])
    return workspaces


def _build_single_workspace_app(
    settings: Settings, *, client: WebClient | None, process_before_response: bool
) -> App:
    """One workspace: every request is authorized with SLACK_BOT_TOKEN, without asking Slack."""
    token = settings.slack_bot_token
    if not token:
        raise ConfigError([NO_SLACK_BOT_TOKEN])

    def authorize(
        enterprise_id: str | None, team_id: str | None, logger: Logger
    ) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    web = client if client is not None else build_web_client(settings)
    app = App(
        name="engagement-bot",
        client=web,
        authorize=authorize,
        signing_secret=settings.slack_signing_secret or "",
        process_before_response=process_before_response,
        listener_executor=_listener_pool(),
    )
    if web.token is None:
        web.token = token  # set after App(): a client token next to authorize= makes Bolt warn
    return app


def _build_oauth_app(
    settings: Settings,
    deps: Deps,
    *,
    clock: Clock,
    client: WebClient | None,
    process_before_response: bool,
    workspaces: Workspaces,
) -> App:
    """Several workspaces: Bolt serves GET /slack/install and /slack/oauth_redirect (through
    the server's WSGI app), saves each installation in our database, and authorizes every
    request with its workspace's bot token. app_uninstalled / tokens_revoked delete it."""
    from bot.slack.installations import SlackOAuthStates
    from bot.slack.oauth import oauth_flow

    web = client if client is not None else build_web_client(settings)
    states = SlackOAuthStates(deps.store, clock=clock)
    app = App(
        name="engagement-bot",
        client=web,
        signing_secret=settings.slack_signing_secret or "",
        oauth_flow=oauth_flow(settings, workspaces, states),
        process_before_response=process_before_response,
        listener_executor=_listener_pool(),
    )
    # app_uninstalled / tokens_revoked: bot/slack/uninstall.py (registered with the commands)
    # deletes the installation together with the rest of the workspace's data.

    def remember_channel(context: BoltContext, next_: Callable[[], BoltResponse]) -> BoltResponse:
        # Which workspace a channel belongs to, for can_post and the scheduled posts.
        workspaces.remember(context.team_id, context.channel_id)
        return next_()

    app.use(remember_channel)
    return app


def _listener_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="bolt-listener")


def register(
    app: App,
    deps: Deps,
    *,
    clock: Clock,
    run: RunCommand | None = None,
    executor: Executor | None = None,
    quick: Executor | None = None,
    answer_seconds: float = DEFAULT_ANSWER_SECONDS,
) -> None:
    """Wire `/engagement` to its one listener and install the global error handler.

    `run` defaults to `bot.slack.commands.run`. After the ack, commands that ask X run on
    `executor` (by default a pool of COMMAND_THREADS), the others on `quick` (by default a
    pool of QUICK_THREADS); with `app.process_before_response` they run inline, so `dispatch()`
    returns after the reply (FaaS, tests).
    """
    if run is None:
        from bot.slack.commands import run as run_command

        run = run_command
    if app.process_before_response:
        executor = quick = None
    else:
        if executor is None:
            executor = ThreadPoolExecutor(max_workers=COMMAND_THREADS, thread_name_prefix="command")
        if quick is None:
            quick = ThreadPoolExecutor(max_workers=QUICK_THREADS, thread_name_prefix="quick")
    app.command(COMMAND)(
        listeners.engagement_listener(
            deps=deps,
            run=run,
            clock=clock,
            executor=executor,
            quick=quick,
            answer_seconds=answer_seconds,
        )
    )
    uninstall.register(app, deps)
    from bot.slack.interactive import register_interactive

    register_interactive(app, deps, clock=clock, pool=quick, x_pool=executor)
    app.error(listeners.global_error_handler)
