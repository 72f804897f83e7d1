"""Settings from the environment, and the configuration table of docs/install.md kept true."""

from __future__ import annotations

import re

import pytest

from bot.config import ENVIRONMENT_VARIABLES, Settings
from bot.errors import ConfigError
from tests.support.paths import REPO

INSTALL_DOC = REPO / "docs" / "install.md"


def test_defaults_need_nothing():
    settings = Settings.from_env({})
    assert settings.x_api_url == "https://data-api.x.com"
    assert settings.port == 3000
    assert settings.public_url == "http://localhost:3000"
    assert not settings.has_x_credentials


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(
            {
                "PORT": "abc",
                "ENGAGEMENT_TZ": "Mars/Olympus",
                "X_CONSUMER_KEY": "k",
                "X_API_URL": "data-api.x.com",
            }
        )
    problems = caught.value.problems
    assert len(problems) == 4
    assert any("PORT" in p for p in problems)
    assert any("ENGAGEMENT_TZ" in p for p in problems)
    assert any("X_CONSUMER_SECRET" in p for p in problems)
    assert any("X_API_URL" in p for p in problems)


def test_secrets_stay_out_of_repr():
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-secret-1",
            "X_CONSUMER_KEY": "k",
            "X_CONSUMER_SECRET": "consumer-secret-2",
            "ENGAGEMENT_SECRET_KEY": "fernet-key-3",
        }
    )
    shown = repr(settings)
    assert "xoxb-secret-1" not in shown
    assert "consumer-secret-2" not in shown
    assert "fernet-key-3" not in shown


def test_the_configuration_table_lists_exactly_the_settings():
    text = INSTALL_DOC.read_text()
    table = text[text.index("## Configuration") :]
    table = table[: table.index("\n## ", 5)]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in re.findall(r"`([A-Z][A-Z_]+)`", row.split("|")[1])}
    assert named == set(ENVIRONMENT_VARIABLES)
