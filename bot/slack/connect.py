"""`/engagement connect`: link an X account to the workspace over X's 3-legged OAuth 1.0a.

start_link()  the slash command: a pending link row (no X call, so the reply is quick) and the
              one-time URL `<ENGAGEMENT_PUBLIC_URL>/x/connect/<link id>` for the requester
preview()     GET or HEAD /x/connect/<id>: checks the link and shows a "Continue to X" button;
              spends nothing, since link-preview bots, mail scanners and prefetches open links too
begin()       POST /x/connect/<id> (the button): checks the link, asks X for a request token with
              our callback `<ENGAGEMENT_PUBLIC_URL>/x/oauth/callback?link=<id>`, returns X's
              authorize URL
finish()      GET /x/oauth/callback: checks the link and the request token, trades the verifier
              for the access token, saves the account for the link's workspace, marks the link used

Every refusal is an Outcome with an HTTP status and a one-line message, and stores nothing.
Tokens, verifiers, secrets and link ids never reach the log.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from bot.config import Settings
from bot.copy import connect
from bot.copy.connect import (
    CANCELLED,
    CANCELLED_TITLE,
    EXPIRED,
    EXPIRED_TITLE,
    NOT_STARTED,
    NOT_STARTED_TITLE,
    REDIRECTING,
    REDIRECTING_TITLE,
    REFUSED,
    REFUSED_TITLE,
    TAMPERED,
    TAMPERED_TITLE,
    UNKNOWN,
    UNKNOWN_TITLE,
    USED,
    USED_TITLE,
    X_FAILED,
    X_FAILED_TITLE,
    connected_page,
    connected_title,
)
from bot.engagement.client import OAuthClient
from bot.engagement.models import UserAuth
from bot.errors import BotError, SecretKeyError
from bot.store import Store
from bot.store.connect_links import CONNECT_LINK_TTL, ConnectLink

log = logging.getLogger(__name__)

CONNECT_PATH = "/x/connect/"
CALLBACK_PATH = "/x/oauth/callback"


@dataclass(frozen=True)
class Outcome:
    """What the browser sees (status, title, message, or a redirect) and, for a finished
    link, what the Slack requester is told (`notify`, with the link it concerns)."""

    status: int
    title: str
    message: str
    location: str | None = None
    link: ConnectLink | None = None
    notify: str | None = None
    screen_name: str | None = None
    button: str | None = None  # a button that POSTs back to the page's own URL


def link_url(settings: Settings, link_id: str) -> str:
    return f"{settings.public_url.rstrip('/')}{CONNECT_PATH}{link_id}"


def callback_url(settings: Settings, link_id: str) -> str:
    return f"{settings.public_url.rstrip('/')}{CALLBACK_PATH}?link={quote(link_id, safe='')}"


def start_link(
    store: Store,
    settings: Settings,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    response_url: str | None,
    now: datetime,
) -> str:
    """A new pending link for the requester; its one-time URL."""
    link = store.connect_links.create(
        team_id=team_id,
        channel_id=channel_id,
        user_id=user_id,
        response_url=response_url,
        now=now,
    )
    log.info("connect link created for user %s in team %s", user_id, team_id)
    return link_url(settings, link.link_id)


def _refusal(link: ConnectLink | None, now: datetime) -> Outcome | None:
    if link is None:
        return Outcome(404, UNKNOWN_TITLE, UNKNOWN)
    if link.used_at is not None:
        return Outcome(410, USED_TITLE, USED)
    if link.expired(now):
        return Outcome(410, EXPIRED_TITLE, EXPIRED)
    return None


def preview(link_id: str, *, store: Store, now: datetime) -> Outcome:
    """GET /x/connect/<id>: the page with the button that begins, or a refusal. Only a person
    clicks the button, so nothing here asks X or spends the link."""
    link = store.connect_links.get(link_id) if link_id else None
    refusal = _refusal(link, now)
    if refusal is not None:
        return refusal
    assert link is not None
    if link.request_token is not None:
        return Outcome(410, USED_TITLE, USED)
    return Outcome(
        200,
        connect.CONNECT_PAGE_TITLE,
        connect.CONNECT_PAGE_TEXT,
        button=connect.CONNECT_PAGE_BUTTON,
    )


def begin(
    link_id: str, *, store: Store, client: OAuthClient, settings: Settings, now: datetime
) -> Outcome:
    """POST /x/connect/<id>: a 302 to X's authorize page, or a refusal."""
    link = store.connect_links.get(link_id) if link_id else None
    refusal = _refusal(link, now)
    if refusal is not None:
        return refusal
    assert link is not None
    if link.request_token is not None:
        return Outcome(410, USED_TITLE, USED)
    try:
        token = client.request_token(callback_url(settings, link_id))
    except BotError as error:
        log.warning("connect: X request_token failed: %s", type(error).__name__)
        return Outcome(502, X_FAILED_TITLE, X_FAILED)
    if not store.connect_links.set_request_token(link_id, token.token, token.secret, now=now):
        return Outcome(410, USED_TITLE, USED)
    location = client.authorize_url(token.token)
    return Outcome(302, REDIRECTING_TITLE, REDIRECTING, location=location)


def finish(
    query: Mapping[str, str],
    *,
    store: Store,
    client: OAuthClient,
    now: datetime,
) -> Outcome:
    """GET /x/oauth/callback?link=..&oauth_token=..&oauth_verifier=.. (or &denied=..)."""
    link_id = query.get("link", "")
    link = store.connect_links.get(link_id) if link_id else None
    refusal = _refusal(link, now)
    if refusal is not None:
        return refusal
    assert link is not None
    if link.request_token is None:
        return Outcome(400, NOT_STARTED_TITLE, NOT_STARTED)
    denied = query.get("denied")
    if denied is not None:
        return _cancelled(link, denied, store=store, now=now)
    token = query.get("oauth_token", "")
    verifier = query.get("oauth_verifier", "")
    if not token or token != link.request_token or not verifier:
        return Outcome(400, TAMPERED_TITLE, TAMPERED)
    try:
        secret = store.connect_links.request_secret(link_id)
    except SecretKeyError:  # the server's key changed since the link was opened
        return Outcome(410, EXPIRED_TITLE, EXPIRED)
    if secret is None:
        return Outcome(400, NOT_STARTED_TITLE, NOT_STARTED)
    # Claim before X: the request token is single-use at X too, and two racing callbacks
    # must not both link the account.
    if not store.connect_links.claim(link_id, now=now):
        return Outcome(410, USED_TITLE, USED)
    return _linked(link, token, secret, verifier, store=store, client=client, now=now)


def _cancelled(link: ConnectLink, denied: str, *, store: Store, now: datetime) -> Outcome:
    """The person said no on X (`denied` carries the request token): spend the link, store
    nothing, and tell the requester."""
    if denied != link.request_token:
        return Outcome(400, TAMPERED_TITLE, TAMPERED)
    if not store.connect_links.claim(link.link_id, now=now):
        return Outcome(410, USED_TITLE, USED)
    log.info("connect: user %s cancelled on X", link.user_id)
    return Outcome(
        200,
        CANCELLED_TITLE,
        CANCELLED,
        link=link,
        notify=connect.CONNECT_CANCELLED,
    )


def _linked(
    link: ConnectLink,
    token: str,
    secret: str,
    verifier: str,
    *,
    store: Store,
    client: OAuthClient,
    now: datetime,
) -> Outcome:
    """Trade the claimed link's verifier for the access token and save the account for the
    link's workspace."""
    try:
        grant = client.access_token(token, secret, verifier)
    except BotError as error:
        log.info("connect: X refused the access token exchange (%s)", type(error).__name__)
        return Outcome(400, REFUSED_TITLE, REFUSED)
    store.accounts.save(
        user_id=grant.user_id,
        screen_name=grant.screen_name,
        auth=UserAuth(grant.access_token, grant.access_token_secret),
        workspace=link.team_id or None,
        now=now,
    )
    handle = "@" + grant.screen_name.removeprefix("@")  # page() escapes it for HTML
    log.info("connect: linked X account %s to team %s", grant.user_id, link.team_id)
    return Outcome(
        200,
        connected_title(handle),
        connected_page(handle),
        link=link,
        notify=connect.x_connected(grant.screen_name),
        screen_name=grant.screen_name,
    )


def page(outcome: Outcome) -> bytes:
    """The small HTML page the browser shows."""
    title = html.escape(outcome.title)
    message = html.escape(outcome.message)
    form = (
        f'<form method="post"><button type="submit">{html.escape(outcome.button)}</button></form>'
        if outcome.button
        else ""
    )
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>{title}</title></head><body><h1>{title}</h1><p>{message}</p>{form}"
        "</body></html>\n"
    ).encode()


TTL_MINUTES = int(CONNECT_LINK_TTL.total_seconds() // 60)
