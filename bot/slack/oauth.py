"""Bolt's OAuth flow ("Add to Slack") and the pages the installer sees.

GET /slack/install redirects to Slack's authorize page with a one-time state
(bot/slack/installations.py's SlackOAuthStates), Slack sends the installer back to
/slack/oauth_redirect, and Bolt exchanges the code (oauth.v2.access) and saves the installation
(SlackInstallations). No code or token is ever logged.
"""

from __future__ import annotations

import html
import logging
import re

from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_flow import OAuthFlow
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient

from bot.config import Settings
from bot.copy.install import INSTALL_AGAIN, INSTALLED_HTML, install_failed, installed_title
from bot.slack.installations import SlackOAuthStates
from bot.slack.web import SCOPES, build_web_client
from bot.slack.workspaces import Workspaces

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


class _NoCodes(logging.Filter):
    """Bolt logs a failed code exchange with the code in it: keep the code out."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "code" in message:
            record.msg, record.args = _CODE.sub(r"\1…", message), ()
        return True


_CODE = re.compile(r"(\bcode'?\s*[=:]\s*'?)[^\s',&]+")
# The OAuth flow's own logger and Web API client. slack_sdk logs every response body at DEBUG,
# and oauth.v2.access answers with the tokens: this client never logs below INFO.
_flow_log = logging.getLogger(__name__ + ".flow")
_flow_log.addFilter(_NoCodes())
_exchange_log = logging.getLogger(__name__ + ".exchange")
_exchange_log.setLevel(logging.INFO)


def oauth_flow(settings: Settings, workspaces: Workspaces, states: SlackOAuthStates) -> OAuthFlow:
    """Bolt's OAuthFlow for App(oauth_flow=…): `oauth_settings()`, exchanging codes through a
    client on `settings.slack_api_url` that never logs a token."""
    base = build_web_client(settings)
    client = WebClient(
        base_url=base.base_url,
        timeout=base.timeout,
        retry_handlers=base.retry_handlers,
        logger=_exchange_log,
    )
    flow_settings = oauth_settings(settings, workspaces, states)
    return OAuthFlow(client=client, logger=_flow_log, settings=flow_settings)


def oauth_settings(
    settings: Settings, workspaces: Workspaces, states: SlackOAuthStates
) -> OAuthSettings:
    """Bolt's OAuthSettings: our scopes, stores and result pages; GET /slack/install
    redirects straight to Slack (no intermediate "Add to Slack" page)."""
    if not settings.slack_client_id or not settings.slack_client_secret:
        raise ValueError("oauth_settings needs SLACK_CLIENT_ID and SLACK_CLIENT_SECRET")
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(SCOPES),
        user_scopes=[],
        redirect_uri=settings.public_url.rstrip("/") + REDIRECT_PATH,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        install_page_rendering_enabled=False,
        installation_store=workspaces.installations,
        state_store=states,
        state_expiration_seconds=int(states.ttl.total_seconds()),
        callback_options=CallbackOptions(success=_installed, failure=_not_installed),
        logger=_flow_log,
    )


def _installed(args: SuccessArgs) -> BoltResponse:
    installation = args.installation
    team = installation.team_name or installation.team_id or installation.enterprise_name or ""
    return _page(
        200,
        installed_title(team),
        INSTALLED_HTML,
        cookie=args.settings.state_utils.build_set_cookie_for_deletion(),
    )


def _not_installed(args: FailureArgs) -> BoltResponse:
    title, text = install_failed(args.reason)
    log.info("Slack install not completed: %s", args.reason)
    restart = html.escape(args.settings.install_path)
    return _page(
        args.suggested_status_code,
        title,
        f'{html.escape(text)} <a href="{restart}">{INSTALL_AGAIN}</a>.',
        cookie=args.settings.state_utils.build_set_cookie_for_deletion(),
    )


def _page(status: int, title: str, body_html: str, *, cookie: str) -> BoltResponse:
    body = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{body_html}</p></body></html>"
    )
    return BoltResponse(
        status=status,
        body=body,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "Set-Cookie": [cookie],
        },
    )
