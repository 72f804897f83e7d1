"""What a person reads when something failed: our side, X, Slack, or a refused change.

A refusal retrying can't change (403, 404, a protected Post) is said to be permanent and names
its fix; only what may pass (5xx, timeouts, the rate limit) says "try again"."""

from __future__ import annotations

from bot.copy.words import (
    CONNECT,
    escape,
)
from bot.errors import (
    AuthError,
    BadRequest,
    EngagementAPIError,
    Forbidden,
    ForbiddenMetrics,
    ForbiddenPosts,
    NotFound,
    ProtectedPosts,
    RateLimited,
    TimedOut,
)

# --- Help, errors, acknowledgements ------------------------------------------------------------


def help_needs(text: str) -> str:
    """Under one subcommand's help: what it relies on (an X endpoint, an account, a role)."""
    return f"_Needs:_ {text}"


def error(text: str) -> str:
    return f"⚠️ {text}"


def usage_hint(line: str) -> str:
    return f"Usage: `{line}`"


def failure(reference: str) -> str:
    return f"Something went wrong on our side (ref {reference}). Try again in a minute."


def ack_text(subject: str | None = None) -> str:
    """The immediate reply while the real one is on its way (plain text)."""
    return f"Fetching {subject}…" if subject else "Fetching…"


def confirmed(text: str) -> str:
    return f"✅ {text}"


def x_slow(seconds: float, *, still_trying: bool) -> str:
    """A command X had not answered when its answer was due."""
    later = (
        " If the numbers still arrive, I'll post them here."
        if still_trying
        else " I've dropped this request; nothing was changed."
    )
    return (
        f"X is slow: I couldn't get an answer within {seconds:.0f} s. Try again in a minute.{later}"
    )


def x_timed_out() -> str:
    """A command that needed one answer from X (a lookup) which had not come in time."""
    return "X is slow: it didn't answer in time, so I have nothing to show. Try again in a minute."


def slack_busy(what: str, wait: float | None) -> str:
    """Slack would not say (rate limit, outage) whether someone may change `what`."""
    when = f"in about {max(1, round(wait))} s" if wait else "in a minute"
    return (
        f"Slack is busy, so I couldn't check whether you may change {what} here. Nothing was "
        f"changed; try again {when}."
    )


def not_allowed(what: str) -> str:
    """The refusal of a settings change to someone who may not make it."""
    return (
        f"Only workspace admins and the people listed in ENGAGEMENT_ADMINS can change {what} "
        "here. Ask one of them."
    )


# --- When X refuses or fails -------------------------------------------------------------------
# A refusal retrying can't change (403, 404, a protected Post) is said to be permanent and names
# its fix; only what may pass (5xx, timeouts, the rate limit) says "try again".

_TIMELINE = "2/users/:id/tweets"


def x_error(error: EngagementAPIError, ref: str | None = None) -> str:
    """What a person reads when a call to X failed outright; `ref` ties it to the log line."""
    tail = f" (ref `{ref}`)" if ref else ""
    if isinstance(error, RateLimited):
        wait = max(1, round(error.retry_after))
        return (
            f"X's rate limit for engagement data is used up right now. Try again in about "
            f"{wait} s{tail}."
        )
    if isinstance(error, AuthError):
        return (
            f"X refused this bot's credentials ({error.reason or 'unauthorized'}). Ask whoever "
            f"runs the bot to check them{tail}."
        )
    if isinstance(error, ForbiddenPosts):
        return (
            "X refuses these numbers for good: only the account that wrote a Post may read its "
            f"private metrics and series. Connect that account with {CONNECT}{tail}."
        )
    if isinstance(error, ForbiddenMetrics):
        names = ", ".join(escape(m) for m in error.metrics) or "these metrics"
        return (
            f"X refuses {names} for good without the author's own token: connect the account "
            f"that wrote the Post with {CONNECT}, or ask for public metrics (likes, reposts, "
            f"quotes, replies){tail}."
        )
    if isinstance(error, Forbidden) and error.endpoint == _TIMELINE:
        return (
            "X refuses to list this account's Posts (HTTP 403): it is protected or suspended, "
            "and retrying won't change that. Track its Posts one by one if you can see them, "
            f"or connect the account with {CONNECT}{tail}."
        )
    if isinstance(error, Forbidden | ProtectedPosts):
        return (
            "X refuses this for good: the Post or its account is protected, or only its author "
            f"may read it. Retrying won't help; connect the author's account with {CONNECT}, "
            f"or leave the Post out{tail}."
        )
    if isinstance(error, NotFound):
        return (
            f'X answered "not found" ({escape(error.endpoint or "X")}): the Post or account '
            "is deleted, or the bot's X address is misconfigured. Retrying won't help; check "
            f"the link or handle, or ask whoever runs the bot{tail}."
        )
    if isinstance(error, TimedOut):
        return (
            f"X is slow: it had not answered when the answer was due. Try again in a minute{tail}."
        )
    if isinstance(error, BadRequest) or not error.retryable:
        status = f"HTTP {error.status}" if error.status else "no usable answer"
        return (
            f"X refused the request ({status}); retrying the same request won't change that. "
            f"Ask whoever runs the bot{tail}."
        )
    return (
        "X's engagement API is not answering properly right now. Nothing was lost; try again "
        f"in a few minutes{tail}."
    )


# --- A command's reply that failed on our side, or its chart -----------------------------------


def something_went_wrong(ref: str) -> str:
    return (
        f"Something went wrong on our side (ref `{ref}`). Please try again; if it keeps "
        "happening, give the ref to whoever runs the bot."
    )


def chart_needs_invite(bot_mention: str) -> str:
    return (
        "I couldn't attach the chart: I'm not a member of this channel. Invite me with "
        f"`/invite {bot_mention}` to get charts here."
    )


def chart_failed(ref: str) -> str:
    return f"The numbers are above, but the chart couldn't be attached (ref `{ref}`)."
