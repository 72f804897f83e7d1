"""`engagement-bot demo`: the whole bot, toured on the embedded simulator in a few seconds.

Only the product's own parts: the simulator (`demo` mode, its clock frozen at the start and moved
only through `/_sim/clock`), a throwaway SQLite store, the bot's HTTP listener for `/engagement
connect` (X's 3-legged OAuth, with a stand-in browser clicking "Continue to X" and "Authorize"),
`/engagement` commands through `bot.slack.commands.run`, the daily digest job and one pass of the
alert job.
Slack messages are drawn as text by `bot.console.console.render_text`. Ports and one-time
link ids change from run to run and are masked, so with the same start time the transcript is always
the same."""

from __future__ import annotations

import html
import json
import re
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from urllib.error import HTTPError

from bot.app import engagement
from bot.channels.alerts import run_alert_pass
from bot.channels.deps import Deps
from bot.channels.digest import run_digest
from bot.config import Settings
from bot.console.console import render_text
from bot.engagement.http_client import HttpEngagementClient
from bot.engagement.models import Post
from bot.render.message import Message
from bot.simulator.server import start_simulator
from bot.slack.commands import Invocation, run
from bot.slack.wsgi import XConnect, make_wsgi_app, serve_in_background

DEMO_START = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
"""Where the simulator's clock starts in `engagement-bot demo`: a fixed instant, a fixed tour."""

TEAM, CHANNEL, USER = "T0DEMO", "C0DEMO", "U0DEMO"
OWNED = ("sim_brand", "sim_newcomer")  # connected through X's OAuth during the tour
COMPETITOR = "sim_creator"  # never connected: public metrics only
SPIKE_MULTIPLIER = 12
# How old the Posts the tour picks are: ours with its first hours behind it, the competitor's with
# a day of likes, one with all 28 hours of /28hr to show, and the spiked one with hours of baseline.
FRESH, DAY, DAY_AND_MORE, SPIKED = (timedelta(hours=h) for h in (4, 18, 28, 8))
SIM_MASK, BOT_MASK = "http://127.0.0.1:<simulator>", "http://127.0.0.1:<bot>"
_LINK = re.compile(r"<(https?://[^|>]+/x/connect/[^|>]+)\|")
_LINK_ID = re.compile(r"/x/connect/[A-Za-z0-9_\-]+")


class Tour:
    """The running demo: where it writes, the bot's parts, and the one clock they share."""

    def __init__(
        self, out: TextIO, deps: Deps, client: HttpEngagementClient, sim_url: str, now: datetime
    ) -> None:
        self.out, self.deps, self.client, self.sim_url, self.now = out, deps, client, sim_url, now
        self.masks = {sim_url: SIM_MASK}
        self.notices: list[str] = []  # what the connect listener tells the requester in Slack
        self.step = 0

    def say(self, text: str = "") -> None:
        for real, shown in self.masks.items():
            text = text.replace(real, shown)
        self.out.write(_LINK_ID.sub("/x/connect/<one-time id>", text) + "\n")

    def heading(self, title: str) -> None:
        self.step += 1
        self.say(f"\n── {self.step}. {title} ──")

    def command(self, text: str, *, keep: tuple[int, int] | None = None) -> Message:
        """Type `/engagement <text>` in the demo channel and show the reply."""
        self.say(f"» /engagement {text}")
        message = run(Invocation(TEAM, CHANNEL, USER, text), deps=self.deps, now=self.now)
        self.show(message, keep=keep)
        return message

    def show(self, message: Message, *, keep: tuple[int, int] | None = None) -> None:
        """The message as the console draws it; `keep=(head, tail)` cuts a long one's middle."""
        lines = render_text(message).splitlines()
        if keep is not None and len(lines) > sum(keep) + 1:
            head, tail = keep
            cut = len(lines) - head - tail
            lines = [*lines[:head], f"  … ({cut} more lines)", *lines[-tail:]]
        for line in lines:
            self.say("  " + line)

    def post(self, channel: str, message: Message) -> str:
        """What the jobs call to post to Slack: shown here; returns a message ts."""
        self.say(f"  [the job posts to #{channel}]")
        self.show(message)
        return "1764160200.000100"

    def sim(self, path: str, body: dict[str, Any]) -> Any:
        """POST to the simulator's admin interface (docs/simulator.md#admin-interface)."""
        request = urllib.request.Request(
            f"{self.sim_url}/_sim/{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.loads(reply.read())

    def set_clock(self, when: datetime) -> None:
        """Move the simulator's clock, and the bot's with it."""
        moved = self.sim("clock", {"now": f"{when:%Y-%m-%dT%H:%M:%SZ}"})
        self.now = datetime.fromisoformat(moved["now"].replace("Z", "+00:00"))


def browse(url: str, *, post: bool = False) -> tuple[int, str, str]:
    """One GET (or a form's empty POST) by the person's browser, redirects not followed:
    (status, Location, body)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    try:
        request = urllib.request.Request(url, data=b"" if post else None)
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as reply:
            return reply.status, "", reply.read().decode()
    except HTTPError as answer:
        with answer:
            return answer.code, answer.headers.get("Location", ""), answer.read().decode()


@contextmanager
def open_tour(out: TextIO, now: datetime) -> Iterator[Tour]:
    """The simulator, a throwaway store, the service and the bot's HTTP listener, wired as
    `engagement-bot run` wires them, with the demo's clock."""
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        sim = stack.enter_context(start_simulator(mode="demo", start_time=now, frozen=True))
        routes: list[Any] = []  # the listener's URL is X's callback, so routes come after it
        listener = serve_in_background(lambda environ, start: routes[0](environ, start))
        stack.callback(listener.stop)
        settings = replace(
            Settings(),
            x_api_url=sim.url,
            x_oauth_url=sim.url,
            x_consumer_key="sim-consumer-key",
            x_consumer_secret="sim-consumer-secret",
            db_path=Path(folder) / "demo.db",
            secret_key=None,
            public_url=listener.url,
        )
        parts = stack.enter_context(engagement(settings))
        client = parts.client
        # The bot is a member of the demo channel, so it may post charts there.
        deps = parts.deps(settings, can_post=lambda _: True, x_oauth=client)
        tour = Tour(out, deps, client, sim.url, now)
        tour.masks[listener.url] = BOT_MASK
        x_connect = XConnect(
            parts.store,
            client,
            settings,
            lambda: tour.now,
            lambda _, text: tour.notices.append(text),
        )
        routes.append(make_wsgi_app(None, health=lambda: {"ok": True}, x_connect=x_connect))
        yield tour


def run_demo(out: TextIO, *, now: datetime) -> int:
    """Run the tour against a fresh simulator whose clock starts at `now`; write it to `out`."""
    now = now.astimezone(UTC).replace(microsecond=0)
    with open_tour(out, now) as tour:
        tour.say(
            f"engagement-bot demo · X API simulator at {now:%Y-%m-%d %H:%M} UTC · a throwaway "
            "database · Slack drawn as text"
        )
        tour.heading("Connect two X accounts through X's OAuth (/engagement connect)")
        for handle in OWNED:
            connect(tour, handle)
        brand, rival = posts_of(tour, "sim_brand"), posts_of(tour, COMPETITOR)
        numbers(tour, brand, rival)
        digest(tour)
        spike_alert(tour, older_than(brand, tour.now - SPIKED))
        tour.heading("What the bot cost in X API calls this month")
        tour.command("usage")
        tour.say("\nDone. Type your own commands with `engagement-bot console`.")
    return 0


def connect(tour: Tour, screen_name: str) -> None:
    """`/engagement connect`, then the browser: the link's page and its button, X's authorize
    page, the callback."""
    message = tour.command("connect")
    found = _LINK.search(message.text)
    if found is None:
        raise RuntimeError(f"no connect link in {message.text!r}")
    opened, _, page = browse(found.group(1))
    button = re.search(r"<button[^>]*>(.*?)</button>", page)
    if button is None:
        raise RuntimeError(f"no button on the connect page ({opened})")
    status, authorize, _ = browse(found.group(1), post=True)
    approved, callback, _ = browse(f"{authorize}&sim_approve={screen_name}")
    tour.say(
        f'  browser: the link → {opened}, a page; "{html.unescape(button.group(1))}" → {status} '
        f"to X, @{screen_name} clicks Authorize → {approved} to the bot's callback"
    )
    status, _, page = browse(callback)
    shown = re.search(r"<p>(.*?)</p>", page)
    text = html.unescape(shown.group(1)) if shown else page.strip()
    tour.say(f"  callback page ({status}): {text}")
    for notice in tour.notices:
        tour.say(f"  Slack, only to you: {notice}")
    tour.notices.clear()


def posts_of(tour: Tour, handle: str) -> list[Post]:
    """The account's Posts, newest first (X's v2 timeline, app-only)."""
    user = tour.client.user_by_username(handle).user
    if user is None:
        raise RuntimeError(f"the simulator has no @{handle}")
    return list(tour.client.user_posts(user.id, max_results=30).posts)


def older_than(posts: list[Post], when: datetime) -> str:
    """The newest of `posts` created before `when`."""
    return next(p.id for p in posts if p.created_at is not None and p.created_at < when)


def numbers(tour: Tour, brand: list[Post], rival: list[Post]) -> None:
    now = tour.now
    tour.heading(f"Track our account and a competitor's Posts (@{COMPETITOR}, not connected)")
    tour.command(f"track @sim_brand @{COMPETITOR}")
    tour.heading("Totals: ours with impressions, the competitor's public metrics only (/totals)")
    ours, theirs = older_than(brand, now - FRESH), older_than(rival, now - DAY)
    tour.command(f"totals {ours} https://x.com/{COMPETITOR}/status/{theirs}")
    tour.heading("Hourly series of a connected account's Post (/28hr)")
    tour.command(f"hourly {older_than(brand, now - DAY_AND_MORE)} impressions", keep=(12, 8))
    tour.heading("Daily series of an older Post (/historical)")
    tour.command(f"daily {older_than(brand, now - timedelta(days=10))} engagements 7d")
    tour.heading("Leaderboard: the channel's Posts by likes, last 7 days")
    tour.command("top likes 5 7d")


def digest(tour: Tour) -> None:
    tour.heading("Daily digest: switched on, then yesterday's posted by the digest job")
    tour.command("digest on 09:00 UTC")
    settings = tour.deps.store.channels.settings(TEAM, CHANNEL)
    outcome = run_digest(settings, local_date=None, now=tour.now, deps=tour.deps, post=tour.post)
    tour.say(f"  → digest {outcome.status.value}")


def spike_alert(tour: Tour, post_id: str) -> None:
    """A spike rule; a spike injected in the simulator's current hour; the clock moved past
    that hour's end; one alert pass."""
    tour.heading("A spike injected in the simulator becomes one alert")
    tour.command("alert spike medium")
    hour = tour.now.replace(minute=0, second=0)
    spike = {"post_id": post_id, "hour": f"{hour:%Y-%m-%dT%H:%M:%SZ}"}
    tour.sim("spikes", {**spike, "multiplier": SPIKE_MULTIPLIER, "hours": 1})
    tour.say(f"  simulator: Post {post_id} gets {SPIKE_MULTIPLIER}× its traffic at {hour:%H:%M}")
    tour.set_clock(hour + timedelta(hours=1, minutes=5))
    tour.say(f"  simulator clock → {tour.now:%H:%M} UTC, the hour is over; the alert job runs")
    fired = run_alert_pass(now=tour.now, deps=tour.deps, post=tour.post)
    tour.say(f"  → {len(fired)} alert{'' if len(fired) == 1 else 's'} fired")
