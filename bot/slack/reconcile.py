"""Searching for what an interrupted run may have posted, at the pace Slack allows.

Distributed apps without Marketplace approval may call conversations.history once a minute per
workspace, 15 messages a call. So the searches of a restart (one per channel whose digest or
alerts a dead run may have posted) wait in one queue per workspace, and one worker asks Slack
for one page at a time:

    Reconciler(pages, team_of=…, clock=…, sleep=…)   a FindPosted for the jobs
      reconciler(channel, marker, window)  the answer once it is in (each answer is handed out
                     once); otherwise the search is queued and Unanswered is raised, so the
                     job moves on to other channels and runs again when `on_answer` says so
      drain()        answer every queued search: each workspace's next call when its turn
                     comes (after a 429, Retry-After later; from then on at that pace), never
                     two calls at once; a search Slack keeps throttling for `deadline` is logged
                     and put back at the end of its queue, never answered "not posted"; a
                     channel that refuses the bot (removed, archived …) is answered with
                     Slack's error, raised to the job, which pauses the channel
      serve(stop)    drain whenever work arrives (the `run` process's reconciler thread)

With nothing queued and the workspace's turn free, a search is asked at once, on the caller's
thread (under the old limits every search goes that way).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.channels.outbox import (
    Action,
    Clock,
    HistoryPage,
    Page,
    PostMessage,
    Throttled,
    Unanswered,
    Window,
    failure_of,
)
from bot.copy.digest import search_waits

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.workspaces import Workspaces

log = logging.getLogger(__name__)

DEADLINE = timedelta(minutes=10)  # one search throttled this long goes back to the queue's end
IDLE_CHECK_S = 60.0  # serve(): how often an idle worker looks at its stop flag
_ANY = ""  # the workspace of a channel whose team is not known (one-workspace deployments)

Key = tuple[str, str, Window]


@dataclass
class _Search:
    team: str
    channel: str
    marker: str
    window: Window
    cursor: str | None = None  # the next page of the window
    started: datetime | None = None  # its first throttled call since it came to the front

    @property
    def key(self) -> Key:
        return (self.channel, self.marker, self.window)


class Reconciler:
    """A FindPosted that queues and paces its searches per workspace; see the module doc."""

    def __init__(
        self,
        pages: HistoryPage,
        *,
        team_of: Callable[[str], str | None],
        clock: Clock,
        sleep: Callable[[float], None],
        deadline: timedelta = DEADLINE,
        pace: timedelta = timedelta(0),
        on_answer: Callable[[str], None] | None = None,
    ) -> None:
        self._pages = pages
        self._team_of = team_of
        self._clock = clock
        self._sleep = sleep
        self._deadline = deadline
        self._first_pace = pace
        self.on_answer = on_answer  # called with the channel whose search was answered
        self._cond = threading.Condition()
        self._calling = threading.Lock()  # one conversations.history call at a time
        self._queues: dict[str, list[_Search]] = {}
        self._answers: dict[Key, str | None | Exception] = {}  # an Exception: Slack refused
        self._next: dict[str, datetime] = {}  # a workspace's next call, not before
        self._pace: dict[str, timedelta] = {}  # a workspace's spacing, learnt from its 429s

    # -- what jobs call --------------------------------------------------------------------------

    def __call__(self, channel_id: str, marker: str, window: Window | None = None) -> str | None:
        if window is None:
            raise TypeError("a paced search needs the window of the attempt")
        key = (channel_id, marker, window)
        team = self._team_of(channel_id) or _ANY
        with self._cond:
            if key in self._answers:
                return _answer(self._answers.pop(key))
            queue = self._queues.setdefault(team, [])
            if not any(s.key == key for s in queue):
                queue.append(_Search(team, channel_id, marker, window))
            inline = queue[0].key == key and self._turn(team) <= self._clock()
            if not inline:
                self._cond.notify_all()
        if inline:  # nothing ahead of it: ask now, on the caller's thread
            self._step(team, notify=False)
            with self._cond:
                if key in self._answers:
                    return _answer(self._answers.pop(key))
                self._cond.notify_all()  # more pages, or throttled: the worker goes on
        with self._cond:
            ahead = next(
                (n for n, s in enumerate(self._queues.get(team, [])) if s.key == key), None
            )
        raise Unanswered(search_waits(channel_id, ahead))

    # -- the worker ------------------------------------------------------------------------------

    def pending(self) -> int:
        with self._cond:
            return sum(len(q) for q in self._queues.values())

    def drain(self) -> None:
        """Answer every queued search (and those queued meanwhile), waiting with `sleep` for
        each workspace's turn."""
        while True:
            with self._cond:
                teams = [t for t, q in self._queues.items() if q]
                if not teams:
                    return
                team = min(teams, key=self._turn)
                wait = (self._turn(team) - self._clock()).total_seconds()
            if wait > 0:
                self._sleep(wait)
                continue
            self._step(team, notify=True)

    def serve(self, stop: threading.Event) -> None:
        """drain() until `stop` is set, waking when a search is queued."""
        while not stop.is_set():
            try:
                self.drain()
            except Exception:  # a bug must not end the thread: the searches stay queued
                log.exception("reconciling posts failed")
            with self._cond:
                self._cond.wait_for(lambda: stop.is_set() or self._any_queued(), IDLE_CHECK_S)

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    # -- one call --------------------------------------------------------------------------------

    def _turn(self, team: str) -> datetime:
        return self._next.get(team, datetime.min.replace(tzinfo=self._clock().tzinfo))

    def _any_queued(self) -> bool:
        return any(self._queues.values())

    def _step(self, team: str, *, notify: bool) -> None:
        """One conversations.history call for the workspace's first search."""
        with self._calling:
            with self._cond:
                queue = self._queues.get(team) or []
                if not queue or self._turn(team) > self._clock():
                    return  # answered meanwhile, or the turn was just used
                search = queue[0]
            try:
                page: Page | None = self._pages(
                    search.channel, search.marker, search.window, search.cursor
                )
                failure: Exception | None = None
            except Exception as error:  # Throttled, or Slack refused: dealt with below
                page, failure = None, error
            now = self._clock()
        with self._cond:
            pace = self._pace.get(team, self._first_pace)
            if isinstance(failure, Throttled):
                wait = timedelta(seconds=failure.retry_after)
                self._pace[team] = max(pace, wait)
                self._next[team] = now + wait
                search.started = search.started or now
                if now - search.started >= self._deadline:
                    log.warning(
                        "cannot tell yet whether an earlier run posted in %s: Slack has "
                        "throttled the search for %s; it is tried again after the others",
                        search.channel,
                        now - search.started,
                    )
                    queue.remove(search)
                    search.started = None
                    queue.append(search)
                return
            self._next[team] = now + pace
            if failure is not None and failure_of(failure).action is Action.PAUSE:
                queue.remove(search)  # the channel refuses the bot: the job pauses it
                self._answers[search.key] = failure
            elif failure is not None or page is None:
                log.warning(
                    "cannot search %s for an earlier run's message: %s; asked again at its "
                    "next run",
                    search.channel,
                    failure,
                )
                queue.remove(search)
                return
            elif page.found is None and page.next_cursor is not None:
                search.cursor, search.started = page.next_cursor, None
                return
            else:
                queue.remove(search)
                self._answers[search.key] = page.found
        if notify and self.on_answer is not None:
            self.on_answer(search.channel)


def _answer(found: str | None | Exception) -> str | None:
    if isinstance(found, Exception):
        raise found
    return found


def posting(
    web: WebClient,
    workspaces: Workspaces | None,
    *,
    clock: Clock,
    sleep: Callable[[float], None],
) -> tuple[PostMessage, Reconciler]:
    """How `run`'s jobs post, and the reconciler that searches for what they posted: with the
    bot's Web API client, or with the bot token of each channel's workspace (OAuth install)."""
    from bot.slack.outbox import history_page, slack_post, without_rate_limit_retries

    if workspaces is None:
        pages = history_page(without_rate_limit_retries(web))
        return slack_post(web), Reconciler(pages, team_of=lambda _: None, clock=clock, sleep=sleep)
    reconciler = Reconciler(
        workspaces.history_page, team_of=workspaces.team_of, clock=clock, sleep=sleep
    )
    return workspaces.post, reconciler
