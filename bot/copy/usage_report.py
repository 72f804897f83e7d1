"""`/engagement usage`: the X API calls of the month and the owner accounts that made them."""

from __future__ import annotations

from collections.abc import Mapping

from bot.copy.words import (
    api_calls,
    month_label,
)

USAGE_BILLING = "X bills per owner account: each connected account whose token made a call."


# --- Usage -------------------------------------------------------------------------------------

_ENDPOINTS: Mapping[str, str] = {
    "totals": "Totals",
    "28hr": "Last 28 hours",
    "historical": "History",
}


def endpoint_label(endpoint: str) -> str:
    return _ENDPOINTS.get(endpoint, endpoint)


def usage_title(month: str) -> str:
    return f"X API usage · {month_label(month)}"


def usage_endpoint(endpoint: str, calls: int, failed: int, retries: int) -> str:
    extra = [f"{failed:,} failed"] if failed else []
    extra += [f"{retries:,} retried"] if retries else []
    tail = f" ({', '.join(extra)})" if extra else ""
    return f"• {endpoint_label(endpoint)}: {api_calls(calls)}{tail}"


def usage_owners(n: int) -> str:
    word = "account" if n == 1 else "accounts"
    return f"*{n:,} owner {word}* made calls this month"


def usage_owner(handle: str, calls: int) -> str:
    return f"• {handle}: {api_calls(calls)}"


def usage_unnamed_owner(user_id: str) -> str:
    return f"account {user_id}"


def usage_summary(month: str, calls: int, owners: int) -> str:
    word = "owner account" if owners == 1 else "owner accounts"
    return f"{month_label(month)}: {api_calls(calls)}, {owners:,} {word}."


def usage_none(month: str) -> str:
    return f"No X API calls yet in {month_label(month)}."
