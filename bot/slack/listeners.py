"""The thin Bolt listeners: ack `/engagement` at once, run the command off the request thread,
answer through `respond()`; and the one global error handler.

The only module that touches Bolt's `Ack` and `Respond`. Bolt hands listeners loosely typed
payloads (`command` is the slash command's form fields as a dict), so `Any` stays at this edge.

Threading: Bolt runs a listener on its `listener_executor` and answers Slack as soon as `ack()`
is called. The listener here does nothing but `ack()` and hand the command to one of our two
worker pools, so Bolt's pool is never held by a slow X call and every command is acked well
within Slack's 3 seconds however long X takes. Commands that ask X (bot.slack.commands.ASKS_X)
go to `executor`; the rest (help, usage, settings…) to `quick`, so X work can never starve them.
With `executor=None` (Bolt's `process_before_response`, used by the tests) the command runs
inline and the ack leaves after the reply.

Deadline: every command's work runs under bot.engagement.deadline, due
Settings.answer_seconds after it arrived (time queued counts). The executor and the HTTP client stop
waiting on X then, so the reply shows what arrived and says the rest is missing because X is slow.
Should the worker still not have answered (queued behind others, or stuck elsewhere), the person
is told plainly at the deadline instead of hearing nothing; a command not started yet is
dropped, one running still posts its answer when it comes.

Errors: an exception from `commands.run` or from delivering its reply reaches
`global_error_handler` (Bolt's `@app.error`), or, on our own pool where Bolt cannot see it, the
same `handle_error`. The user gets a short reply with a reference; the log gets the traceback.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from slack_bolt import Ack, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.channels.meter import NO_METER, Meter
from bot.channels.outbox import Clock
from bot.copy import errors, operator
from bot.copy.errors import chart_failed, chart_needs_invite, something_went_wrong
from bot.engagement.deadline import ALARM, Deadline, within
from bot.engagement.health import SLACK_REPLIES, CallHealth
from bot.errors import EngagementAPIError, StoreError, UserFacingError
from bot.render import blocks
from bot.render.message import Chart, Message
from bot.slack.commands.invocation import invocation_from
from bot.slack.retries import problem_of, response_webhook

if TYPE_CHECKING:
    from bot.channels.deps import Deps
    from bot.slack.commands import Invocation

log = logging.getLogger(__name__)


class RunCommand(Protocol):
    """The shape of bot.slack.commands.run (tests pass stand-ins)."""

    def __call__(self, invocation: Invocation, *, deps: Deps, now: datetime) -> Message: ...


# Slack accepts at most 5 posts to one response_url (within 30 minutes of the command).
MAX_RESPONSES = 5
# Of a command's answer time, kept back from its work to render and post what arrived.
WRAP_UP_S = 1.0
# Upload errors that mean "the bot may not post files here": answered with an invite hint.
NOT_POSTABLE = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "access_denied"}
)
BOT_MENTION = "@engagement-bot"  # features.bot_user.display_name in app_manifest.yaml


# -- what the person sees when something fails ----------------------------------------------------


def x_unavailable(error: EngagementAPIError, ref: str) -> str:
    return errors.x_error(error, ref)


def new_ref() -> str:
    """A short reference that ties a user's error reply to one log line."""
    return uuid.uuid4().hex[:8]


# -- replying --------------------------------------------------------------------------------------


@dataclass
class Replies:
    """The response_url of one command, counting posts against Slack's limit of 5. A 429 or
    5xx is retried (bot.slack.retries): the answer is all the user waits for."""

    respond: Respond
    sent: int = field(default=0)
    health: CallHealth | None = None
    meter: Meter = NO_METER  # hears how long the first reply took
    started: float = field(default_factory=time.monotonic)

    def send(self, message: Message) -> bool:
        if self.sent >= MAX_RESPONSES:
            log.warning("reply dropped: %d posts already sent to this response_url", self.sent)
            return False
        if not self.respond.response_url:
            log.warning("reply dropped: the command came without a response_url")
            return False
        self.sent += 1
        try:
            reply = response_webhook(self.respond.response_url).send(
                text=message.text,
                blocks=list(message.blocks) or None,
                response_type="ephemeral" if message.ephemeral else "in_channel",
            )
        except Exception as error:
            self._note(None, error)
            raise
        self._note(reply.status_code, None)
        if reply.status_code != 200:
            log.warning("response_url answered %s: %.200s", reply.status_code, reply.body)
            return False
        if self.sent == 1:
            self.meter.answered(time.monotonic() - self.started)
        return True

    def note(self, text: str) -> bool:
        return self.send(Message(text=text, ephemeral=True))

    def _note(self, status: int | None, error: Exception | None) -> None:
        if self.health is not None:
            self.health.record(SLACK_REPLIES, problem_of(status, error))


def deliver(
    message: Message,
    *,
    channel_id: str,
    replies: Replies,
    client: WebClient,
    can_post: Callable[[str], bool] | None = None,
) -> None:
    """Send the reply and its continuations, then upload its chart if it has one.

    Replies go through response_url, which works in any channel, DM or private channel. The
    exception is a team-wide (in_channel) reply that overflowed into continuations: the renderer
    says "…more in the thread", so where the bot may post it goes out with chat.postMessage
    and the continuations (and chart) in its thread."""
    thread_ts = None
    if not message.ephemeral and message.continuation and can_post and can_post(channel_id):
        thread_ts = post_thread(message, channel_id=channel_id, client=client)
    if thread_ts is None:
        replies.send(message)
        for follow_up in message.continuation:
            replies.send(follow_up)
    if message.chart is not None:
        upload_chart(
            message.chart,
            channel_id=channel_id,
            replies=replies,
            client=client,
            thread_ts=thread_ts,
        )


def post_thread(message: Message, *, channel_id: str, client: WebClient) -> str | None:
    """Post `message` to the channel and its continuations in its thread; the thread's ts, or
    None when Slack says the bot may not post there (nothing was posted then)."""
    try:
        first = client.chat_postMessage(
            channel=channel_id, text=message.text, blocks=list(message.blocks) or None
        )
    except SlackApiError as error:
        code = str(error.response.get("error", ""))
        if code not in NOT_POSTABLE:
            raise
        log.info("cannot post to %s (%s): replying through response_url", channel_id, code)
        return None
    thread_ts = str(first["ts"])
    for follow_up in message.continuation:
        client.chat_postMessage(
            channel=channel_id,
            thread_ts=thread_ts,
            text=follow_up.text,
            blocks=list(follow_up.blocks) or None,
        )
    return thread_ts


def upload_chart(
    chart: Chart,
    *,
    channel_id: str,
    replies: Replies,
    client: WebClient,
    thread_ts: str | None = None,
) -> None:
    """Upload the PNG into the channel (or a thread), as upload_file does any file."""
    upload_file(chart.png, filename=chart.filename, title=chart.title, channel_id=channel_id,
                replies=replies, client=client, thread_ts=thread_ts)  # fmt: skip


def upload_file(
    data: bytes,
    *,
    filename: str,
    title: str,
    channel_id: str,
    replies: Replies,
    client: WebClient,
    thread_ts: str | None = None,
) -> None:
    """The one upload path (charts, the CSV button). When Slack says the bot may not, tell the
    user how to fix it instead of failing the command (the numbers have already been sent)."""
    try:
        client.files_upload_v2(
            channel=channel_id,
            file=data,
            filename=filename,
            title=title,
            alt_txt=title,
            thread_ts=thread_ts,
        )
    except SlackApiError as error:
        code = str(error.response.get("error", ""))
        if code in NOT_POSTABLE:
            log.info("chart not uploaded to %s: %s", channel_id, code)
            replies.note(chart_needs_invite(BOT_MENTION))
            return
        ref = new_ref()
        log.warning("chart upload to %s failed: %s (ref %s)", channel_id, code, ref)
        replies.note(chart_failed(ref))
    except (SlackClientError, OSError):
        ref = new_ref()
        log.warning("chart upload to %s failed (ref %s)", channel_id, ref, exc_info=True)
        replies.note(chart_failed(ref))


# -- the /engagement listener ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Answerer:
    """How one command is answered: run it, then deliver its reply (and chart)."""

    deps: Deps
    run: RunCommand
    clock: Clock

    def answer(self, command: dict[str, Any], client: WebClient, replies: Replies) -> None:
        invocation = invocation_from(command)
        message = self.run(invocation, deps=self.deps, now=self.clock())
        deliver(
            message,
            channel_id=invocation.channel_id,
            replies=replies,
            client=client,
            can_post=self.deps.can_post,
        )

    def in_background(
        self,
        command: dict[str, Any],
        respond: Respond,
        client: WebClient,
        replies: Replies,
        deadline: Deadline,
    ) -> None:
        try:
            with within(deadline):
                self.answer(command, client, replies)
        except Exception as error:
            # Off Bolt's thread, so Bolt cannot route it: hand it to the same global handler.
            handle_error(error, body=command, respond=respond, replies=replies)


def engagement_listener(
    *,
    deps: Deps,
    run: RunCommand,
    clock: Clock,
    executor: Executor | None,
    quick: Executor | None = None,
    answer_seconds: float,
) -> Callable[..., None]:
    """The `/engagement` listener Bolt calls (it injects arguments by parameter name).

    `executor` runs the commands that ask X, `quick` (default: `executor`) the others; each
    command's answer is due `answer_seconds` after it arrives."""
    from bot.slack.commands import asks_x

    answerer = _Answerer(deps, run, clock)

    def engagement(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()  # first, before anything that can be slow: Slack gives us 3 seconds
        seconds = answer_seconds
        due = Deadline.after(seconds)
        # The work stops a little earlier, so what it has still reaches the person by `due`.
        deadline = Deadline(due.at - min(WRAP_UP_S, seconds / 4))
        replies = Replies(respond, health=deps.health, meter=deps.meter)
        if executor is None:
            with within(deadline):
                answerer.answer(command, client, replies)  # errors reach @app.error via Bolt
            return
        text = str(command.get("text") or "")
        slow = asks_x(text, today=clock().date())
        pool = executor if slow or quick is None else quick
        future = pool.submit(answerer.in_background, command, respond, client, replies, deadline)
        if slow:
            _watch(future, due, seconds, replies, quick or executor)

    return engagement


def _watch(
    future: Future[None], deadline: Deadline, seconds: float, replies: Replies, pool: Executor
) -> None:
    """At the deadline, tell the person if their answer has not come: a command still queued
    is dropped (they were told to try again); one running posts its answer when it has it."""
    told = threading.Event()

    def due() -> None:
        if future.done() or told.is_set():
            return
        told.set()
        started = not future.cancel()
        log.info(
            "a command missed its %.0f s deadline (%s)", seconds, "running" if started else "queued"
        )
        # Sent from a pool, not the alarm's thread: posting is a network call.
        pool.submit(replies.note, errors.x_slow(seconds, still_trying=started))

    ident = ALARM.at(deadline.at, due)
    future.add_done_callback(lambda _: ALARM.cancel(ident))


# -- the global error handler ----------------------------------------------------------------------


def handle_error(
    error: Exception,
    *,
    body: dict[str, Any] | None,
    respond: Respond | None,
    response: BoltResponse | None = None,
    replies: Replies | None = None,
) -> BoltResponse | None:
    """Log the failure with its traceback under a short ref and tell the user, never showing
    the exception itself. Returns an empty 200 when Bolt would otherwise answer Slack 500
    (`process_before_response`, where the ack has not left yet): the reply went via respond()."""
    ref = new_ref()
    body = body or {}
    where = " ".join(
        f"{key}={body.get(key)}" for key in ("team_id", "channel_id", "user_id", "command")
    )
    if isinstance(error, UserFacingError):
        log.info("ref %s: user-facing error %r (%s)", ref, str(error), where)
        reply = _rendered(lambda: blocks.error_message(str(error)), fallback=str(error))
    elif isinstance(error, EngagementAPIError):
        log.error("ref %s: X API error (%s)", ref, where, exc_info=error)
        text = x_unavailable(error, ref)
        reply = _rendered(lambda: blocks.error_message(text), fallback=text)
    elif isinstance(error, StoreError):
        log.error("ref %s: database error (%s)", ref, where, exc_info=error)
        text = operator.database_trouble(error.state, ref, transient=error.transient)
        reply = _rendered(lambda: blocks.error_message(text), fallback=text)
    else:
        log.error("ref %s: unhandled error (%s)", ref, where, exc_info=error)
        reply = _rendered(lambda: blocks.failure_message(ref), fallback=something_went_wrong(ref))
    if respond is not None and body.get("response_url"):
        try:
            (replies or Replies(respond)).send(
                replace(reply, ephemeral=True, chart=None, continuation=())
            )
        except Exception:
            log.exception("ref %s: could not tell the user", ref)
    return BoltResponse(status=200, body="") if response is not None else None


def _rendered(render: Callable[[], Message], *, fallback: str) -> Message:
    """bot.render.blocks' rendering of an error; plain text should that fail too (this is the
    last resort, so it must not raise)."""
    try:
        return render()
    except Exception:
        log.exception("rendering the error reply failed")
        return Message(text=fallback)


def global_error_handler(
    error: Exception,
    body: dict[str, Any],
    respond: Respond,
    response: BoltResponse | None,
) -> BoltResponse | None:
    """Registered with `@app.error`: every exception a listener raises ends here."""
    return handle_error(error, body=body, respond=respond, response=response)
