"""The simulated world every test starts in: its start instant, and the environment an operator
sets to point the bot at a simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

# Every test universe starts here, so simulated numbers depend only on the seed.
SIM_START = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)


def point_env_at(
    monkeypatch: pytest.MonkeyPatch,
    folder: Path,
    x_url: str,
    *,
    slack_api_url: str | None = None,
    slack_token: str | None = None,
) -> dict[str, str]:
    """The environment an operator sets to run the bot against a simulator (and a fake
    Slack), with the database in `folder` and `folder` as the working directory."""
    monkeypatch.chdir(folder)
    values = {
        "X_API_URL": x_url,
        "X_OAUTH_URL": x_url,
        "X_CONSUMER_KEY": "sim-consumer-key",
        "X_CONSUMER_SECRET": "sim-consumer-secret",
        "ENGAGEMENT_DB": str(folder / "engagement.db"),
    }
    if slack_api_url is not None:
        values["SLACK_API_URL"] = slack_api_url
    if slack_token is not None:
        values["SLACK_BOT_TOKEN"] = slack_token
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values
