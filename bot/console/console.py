"""`engagement-bot console`: the bot in a terminal. Lines typed as `/engagement …` go through
the same parser, service and renderer as Slack; replies are drawn as readable text (or, with
`--json`, printed as the Slack payload)."""

from __future__ import annotations

import json
import re
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlsplit

from bot.app import engagement
from bot.channels.deps import Deps
from bot.config import Settings
from bot.copy import terminal
from bot.render.message import Message
from bot.slack.commands import Invocation, run

if TYPE_CHECKING:
    from bot.simulator.universe import Universe

PROMPT = "/engagement "
WIDTH = 78


@contextmanager
def console_deps(settings: Settings, *, now: datetime, out: TextIO) -> Iterator[Deps]:
    """The real parts, or the embedded simulator and a throwaway store when X isn't set up."""
    if settings.has_x_credentials:
        with engagement(settings) as parts:
            yield parts.deps(settings)
        return
    from bot.simulator.server import start_simulator

    with (
        tempfile.TemporaryDirectory() as folder,
        start_simulator(mode="demo", start_time=now) as sim,
    ):
        local = replace(
            settings,
            x_api_url=sim.url,
            x_oauth_url=sim.url,
            x_consumer_key="sim-consumer-key",
            x_consumer_secret="sim-consumer-secret",
            db_path=Path(folder) / "console.db",
            secret_key=None,
        )
        with engagement(local) as parts:
            grant = _connect_in_simulator(parts.client, "sim_brand")
            parts.store.accounts.save(
                user_id=grant.user_id,
                screen_name=grant.screen_name,
                auth=grant.auth,
                workspace=None,
                now=now,
            )
            out.write(terminal.console_on_simulator(sim.url, grant.screen_name))
            with sim.state.lock:
                tries = posts_to_try(sim.state.universe, grant.user_id, now=now)
            out.write(terminal.console_posts_to_try(tries) + "\n")
            parts.store.channels.track(
                CONSOLE_TEAM,
                CONSOLE_CHANNEL,
                kind="account",
                refs=[grant.screen_name],
                by=CONSOLE_USER,
                now=now,
            )
            yield parts.deps(local)


CONSOLE_TEAM, CONSOLE_CHANNEL, CONSOLE_USER = "T0CONSOLE", "C0CONSOLE", "U0CONSOLE"
# X serves lifetime impressions on /totals for 90 days: an older Post shows the other path.
OLD_AFTER = timedelta(days=90)


def posts_to_try(universe: Universe, owner_id: str, *, now: datetime) -> list[terminal.PostToTry]:
    """A few Posts of the embedded simulator worth asking about: the connected account's
    newest, a competitor's newest (public numbers only) and an owned one past 90 days. Read
    from the simulator's universe, so they exist whatever its seed and start time."""
    visible = sorted(
        (p for p in universe.posts.values() if not p.deleted and not p.protected),
        key=lambda p: p.created_at,
        reverse=True,
    )
    competitors = {
        a.user_id for a in universe.accounts if a.user_id != owner_id and not a.protected
    }
    picks = (
        ("owned", next((p for p in visible if p.author == owner_id), None)),
        ("competitor", next((p for p in visible if p.author in competitors), None)),
        (
            "old",
            next(
                (p for p in visible if p.author == owner_id and now - p.created_at > OLD_AFTER),
                None,
            ),
        ),
    )
    tries = []
    for kind, post in picks:
        if post is not None:
            author = universe.account_by_id(post.author)
            handle = author.screen_name if author is not None else post.author
            tries.append(terminal.PostToTry(kind, handle, str(post.id), now - post.created_at))
    return tries


def _connect_in_simulator(client: Any, screen_name: str) -> Any:
    """The 3-legged flow against the simulator, clicking 'Authorize' for `screen_name`."""
    token = client.request_token("http://127.0.0.1/x/oauth/callback")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    url = f"{client.authorize_url(token.token)}&sim_approve={screen_name}"
    try:
        urllib.request.build_opener(NoRedirect).open(url, timeout=10)
        raise RuntimeError(terminal.SIM_NO_REDIRECT)
    except HTTPError as redirect:
        verifier = parse_qs(urlsplit(redirect.headers["Location"]).query)["oauth_verifier"][0]
    return client.access_token(token.token, token.secret, verifier)


def handle_line(
    line: str, deps: Deps, *, channel: str, user: str, now: datetime, as_json: bool
) -> str:
    text = line.strip()
    if text.startswith("/engagement"):
        text = text.removeprefix("/engagement")
    invocation = Invocation(CONSOLE_TEAM, channel, user, text.strip())
    message = run(invocation, deps=deps, now=now)
    if as_json:
        return json.dumps(payload(message), indent=2, ensure_ascii=False) + "\n"
    return render_text(message)


def payload(message: Message) -> dict[str, Any]:
    """The Slack payload `respond()` would send."""
    doc: dict[str, Any] = {
        "response_type": "ephemeral" if message.ephemeral else "in_channel",
        "text": message.text,
        "blocks": list(message.blocks),
    }
    if message.continuation:
        doc["thread"] = [payload(m) for m in message.continuation]
    if message.chart is not None:
        doc["chart"] = {"filename": message.chart.filename, "bytes": len(message.chart.png)}
    return doc


def render_text(message: Message) -> str:
    """Blocks drawn for a terminal: headers, sections, fields, context, code blocks."""
    lines: list[str] = []
    if not message.blocks:
        lines.append(_plain(message.text))
    for block in message.blocks:
        lines.extend(_block_lines(block))
    for extra in message.continuation:
        lines.append("  ↳ (in the thread)")
        lines.extend("    " + line for line in render_text(extra).splitlines())
    if message.chart is not None:
        lines.append(f"[chart: {message.chart.title}]")
    visibility = terminal.ONLY_YOU if message.ephemeral else terminal.IN_CHANNEL
    lines.append(f"({visibility})")
    return "\n".join(lines) + "\n"


def _block_lines(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _plain(block["text"]["text"])
        return [title.upper(), "=" * min(len(title), WIDTH)]
    if kind == "divider":
        return ["-" * WIDTH]
    if kind == "context":
        return [
            "  "
            + "  ".join(_plain(e.get("text", e.get("alt_text", ""))) for e in block["elements"])
        ]
    if kind == "section":
        lines = [_plain(block["text"]["text"])] if block.get("text") else []
        fields = [_plain(f["text"]) for f in block.get("fields", [])]
        for left, right in zip(fields[::2], [*fields[1::2], ""], strict=False):
            lines.append(f"  {left.replace(chr(10), ' '):<36}  {right.replace(chr(10), ' ')}")
        accessory = block.get("accessory") or {}
        if accessory.get("type") == "overflow":  # a menu: its choices after a ⋯
            choices = " | ".join(o["text"]["text"] for o in accessory.get("options", []))
            lines.append(f"  [⋯ {choices}]")
        return lines
    if kind == "actions":  # buttons as [ label ]
        return ["  " + "  ".join(f"[ {_element_label(e)} ]" for e in block["elements"])]
    if kind == "input":
        return [f"  {block['label']['text']}: {_element_label(block['element'])}"]
    if kind == "rich_text":
        return [json.dumps(block["elements"])[:WIDTH]]
    return []


def _element_label(element: dict[str, Any]) -> str:
    """A button's text, or what a picker or select shows (its current choice)."""
    if "text" in element:
        return str(element["text"]["text"])
    chosen = element.get("initial_option") or {}
    shown = chosen.get("text", {}).get("text") or element.get("initial_time") or "…"
    return f"{shown} ▾"


def render_view(view: dict[str, Any]) -> str:
    """A Home tab or modal drawn for a terminal, as render_text draws a message."""
    title = view.get("title", {}).get("text")
    lines = [f"┌ {title} ┐"] if title else []
    for block in view.get("blocks", []):
        lines.extend(_block_lines(block))
    if view.get("submit"):
        lines.append(f"  [ {view['close']['text']} ]  [ {view['submit']['text']} ]")
    return "\n".join(lines) + "\n"


_LINK = re.compile(r"<([^|>!]+)\|([^>]+)>")
_DATE = re.compile(r"<!date\^[^|>]*\|([^>]*)>")
_ITALIC = re.compile(r"(?<!\w)_(\S(?:.*?\S)?)_(?!\w)")


def _plain(mrkdwn: str) -> str:
    """Slack mrkdwn to terminal text: links as 'label (url)', no emphasis markers."""
    text = _DATE.sub(lambda m: m.group(1), mrkdwn)  # Slack's <!date^…|fallback>
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    text = re.sub(r"<#(C[A-Z0-9]+)(?:\|[^>]*)?>", r"#\1", text)  # a channel mention
    text = text.replace("```", "").replace("*", "")
    text = _ITALIC.sub(r"\1", text)  # _words_ but not sim_brand
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def repl(deps: Deps, *, channel: str, user: str, clock: Any, inp: TextIO, out: TextIO) -> int:
    out.write(terminal.CONSOLE_WELCOME)
    while True:
        out.write(PROMPT)
        out.flush()
        line = inp.readline()
        if not line:
            out.write("\n")
            return 0
        if not line.strip():
            continue
        out.write(handle_line(line, deps, channel=channel, user=user, now=clock(), as_json=False))
