"""Installing the app in a Slack workspace: the pages the browser shows after Slack's OAuth."""

from __future__ import annotations

# Slack's reason for an unfinished install → the page's title and text.
INSTALL_FAILURES = {
    "access_denied": (
        "Installation cancelled",
        "Nothing was installed. To install Engagement Bot after all, start again.",
    ),
    "invalid_browser": (
        "This install link has expired",
        "The installation was started more than 10 minutes ago, or in another browser. "
        "Nothing was installed; start again.",
    ),
    "invalid_state": (
        "This install link has expired or was already used",
        "Each link works once, for 10 minutes. Nothing was installed; start again.",
    ),
    "missing_code": (
        "Slack did not confirm the installation",
        "The answer from Slack was incomplete. Nothing was installed; start again.",
    ),
    "invalid_code": (
        "Slack did not confirm the installation",
        "Slack refused the installation code (used twice, or too old). Nothing was installed; "
        "start again.",
    ),
    "storage_error": (
        "The installation could not be saved",
        "Slack approved it, but the bot could not store it. Try again in a minute.",
    ),
}
INSTALLED_HTML = (
    "Type <code>/engagement help</code> in any channel. Invite the bot "
    "(<code>/invite @engagement-bot</code>) where it should post digests and charts. "
    "You can close this tab."
)
INSTALL_AGAIN = "Install again"


def installed_title(team: str) -> str:
    return f"Engagement Bot is installed{f' in {team}' if team else ''}"


def install_failed(reason: str) -> tuple[str, str]:
    """The page's title and text for `reason` (Slack's word for why the install stopped)."""
    return INSTALL_FAILURES.get(
        reason, ("Installation failed", f"Slack reported: {reason}. Nothing was installed.")
    )
