"""A channel's settings as its people read them: what it tracks and covers, the connected
accounts, and what an answer had to leave out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.copy.words import (
    CONNECT,
    and_more,
    posts_count,
    reason_phrase,
)
from bot.engagement.query import AccountProblem, Reason

TRACKED_TITLE = "Tracked in this channel"
TRACKED_EMPTY = (
    "This channel doesn't track anything yet.\n"
    "Add a Post with `/engagement track &lt;post link&gt;`, "
    "or an account with `/engagement track @handle`."
)
TRACKED_HINT = "Stop tracking: `/engagement untrack &lt;post link&gt;|@handle`"
ACCOUNTS_TITLE = "Connected X accounts"
ACCOUNTS_EMPTY = (
    "No X accounts are connected yet.\n"
    f"{CONNECT} links one: its Posts then show impressions, engagements "
    "and hour-by-hour numbers."
)
ACCOUNTS_HINT = f"Add: {CONNECT} · remove: `/engagement disconnect @handle`"


# --- What a channel's answer had to leave out ------------------------------------------------

_ACCOUNT_PROBLEMS: Mapping[AccountProblem, str] = {
    AccountProblem.PROTECTED: "protected: X shows its Posts only to the account itself",
    AccountProblem.SUSPENDED: "suspended by X",
    AccountProblem.NOT_FOUND: "no longer on X",
    AccountProblem.X_FAILING: "X didn't answer — try again in a few minutes",
}


def left_out(accounts: Sequence[tuple[str, AccountProblem]], unknown_authors: int = 0) -> str:
    """One line: the tracked accounts (handles escaped, with @) and Posts an answer skipped,
    grouped by why."""
    groups: dict[AccountProblem, list[str]] = {}
    for handle, problem in accounts:
        groups.setdefault(problem, []).append(handle)
    parts = [f"{_some(handles)} ({_ACCOUNT_PROBLEMS[p]})" for p, handles in groups.items()]
    if unknown_authors:
        posts = f"{unknown_authors:,} Post{'s' if unknown_authors != 1 else ''}"
        parts.append(f"{posts} ({reason_phrase(Reason.AUTHOR_UNKNOWN)})")
    return f"Left out: {'; '.join(parts)}."


def _some(handles: list[str], shown: int = 5) -> str:
    """A few handles, so the line stays one line however many accounts a channel tracks."""
    rest = len(handles) - shown
    return ", ".join(handles[:shown]) + (f" {and_more(rest)}" if rest > 0 else "")


def no_account(handle: str) -> str:
    return f"X has no account {handle}."


def track_refused(handle: str, problem: AccountProblem) -> str:
    """`track @handle` of an account whose Posts this workspace cannot read."""
    if problem is AccountProblem.PROTECTED:
        return (
            f"Can't track {handle}: it's a protected account, and X shows its Posts only to the "
            f"account itself. If it is yours, connect it with {CONNECT} (signed in as it), then "
            "track it."
        )
    if problem is AccountProblem.SUSPENDED:
        return f"Can't track {handle}: X has suspended the account."
    if problem is AccountProblem.NOT_FOUND:
        return no_account(handle)
    return f"Can't check {handle} on X right now — try again in a few minutes."


# --- Channel settings --------------------------------------------------------------------------


def tracked_posts(n: int) -> str:
    return f"*Posts* ({n:,})"


def tracked_accounts(n: int) -> str:
    return f"*Accounts* ({n:,}), all their new Posts"


# -- what a channel covers (bot.channels.coverage.channel_coverage) ---------------------------

COVERAGE_SHOWN = 5  # accounts named; more are counted


def coverage(
    posts: int, handles: Sequence[str], *, connected: bool, owned_only: bool = False
) -> str:
    """The one statement of what a channel's `top`, digest and channel-wide alerts cover, in
    every confirmation and listing; `handles` as shown ("@alice"), `connected`: the channel
    tracks nothing, so they are the workspace's connected accounts; `owned_only`: only Posts
    of connected accounts count (a channel-wide threshold rule)."""
    if not posts and not handles:
        return (
            f"nothing yet: connect an account ({CONNECT}) or track Posts or accounts here "
            "(`/engagement track`)"
        )
    named = list(handles[:COVERAGE_SHOWN])
    if len(handles) > COVERAGE_SHOWN:
        named.append(f"{len(handles) - COVERAGE_SHOWN} more")
    if connected:
        return (
            f"the Posts of the accounts connected to this workspace ({', '.join(named)})"
            " — this channel tracks nothing"
        )
    listed = ", ".join([*named, *([posts_count(posts)] if posts else [])])
    whose = "the connected accounts' Posts among " if owned_only else ""
    return f"{whose}this channel's tracked Posts and accounts ({listed})"


def channel_covers(covered: str) -> str:
    """Under `/engagement tracked`: what the channel's reports and alerts are about."""
    return f"`top`, the digest and this channel's alerts cover {covered}."


def digest_covers(covered: str) -> str:
    return f"It covers {covered}."


def alert_covers_nothing(covered: str) -> str:
    """A channel-wide rule in a channel covering no Post (`covered`): it could never fire."""
    return f"That alert could never fire: this channel covers {covered}. Then add it again."


def alert_threshold_owns_nothing(covered: str) -> str:
    """A channel-wide threshold rule where no covered Post can be a connected account's."""
    return (
        "That alert could never fire: a threshold for the whole channel counts only the Posts of "
        f"accounts connected to this workspace, and this channel covers {covered}. Connect the "
        f"account with {CONNECT}, or name the Post or @handle in the rule "
        "(`/engagement alert likes > 100/h @handle`)."
    )


def tracked_summary(posts: int, accounts: int) -> str:
    account_word = "account" if accounts == 1 else "accounts"
    return f"This channel tracks {posts_count(posts)} and {accounts:,} {account_word}."


def account_line(handle: str, since: str, shared: bool) -> str:
    extra = " · linked by the operator" if shared else ""
    return f"• *{handle}* · since {since}{extra}"


def accounts_summary(n: int) -> str:
    return "1 connected X account." if n == 1 else f"{n:,} connected X accounts."


def every_workspace_but(excluded: tuple[str, ...]) -> str:
    """Where an account linked for every workspace serves (the operator's `accounts list`)."""
    return f"all workspaces but {', '.join(excluded)}" if excluded else "all workspaces"


def not_connected_here(handle: str) -> str:
    return f"No connected account @{handle} in this workspace."


def disconnected(handle: str) -> str:
    return (
        f"Disconnected {handle}: its tokens are deleted. Its Posts now show public totals only "
        "(no impressions, no hourly or daily series)."
    )


def disconnected_here(handle: str) -> str:
    return (
        f"Disconnected {handle} from this workspace: its Posts here now show public totals "
        "only. It was linked by whoever runs the bot for every workspace, so it keeps serving "
        f"the others. {CONNECT} links it here again."
    )
