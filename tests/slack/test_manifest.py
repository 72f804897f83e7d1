"""app_manifest.yaml against Slack's manifest schema (offline) and against the code: the commands
register() wires, the scopes the code uses, the usage hint the grammar generates."""

from __future__ import annotations

import json
import re
import socket
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from slack_bolt import App

from bot.channels.meter import NO_METER
from bot.copy.usage import SUBCOMMANDS, USAGE_HINT, help_text
from bot.render.message import Message
from bot.slack.app import register
from bot.slack.web import SCOPES
from tests.support.fake_slack import clear_slack_env
from tests.support.manifest import (
    MANIFEST,
    RAW,
    SCHEMA_DIR,
    VERSIONS,
    load_schema,
    schema_errors,
)


@pytest.fixture(scope="module")
def validators() -> tuple[Draft7Validator, Draft7Validator]:
    """The router (every manifest version, remote $refs mapped to the stored files) and the v1
    schema, whose errors name the path."""
    # The schema is vendored in the repository: a missing one is a broken checkout, not a reason
    # to pass quietly.
    assert SCHEMA_DIR.is_dir(), f"Slack's manifest schema is not at {SCHEMA_DIR}"
    registry: Registry[Any] = Registry().with_resources(
        (RAW + name, Resource.from_contents(load_schema("schemas/" + name))) for name in VERSIONS
    )
    router = Draft7Validator(load_schema("manifest.schema.json"), registry=registry)
    return router, Draft7Validator(load_schema("schemas/" + VERSIONS[0]))


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the manifest tests must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def test_the_manifest_is_valid_for_slack(validators, manifest):
    assert schema_errors(validators, manifest) == []


def test_the_schema_check_is_live(validators, manifest):
    """The validator does reject a broken manifest (a guard against a vacuous pass)."""
    broken = json.loads(json.dumps(manifest))
    broken["features"]["slash_commands"][0]["command"] = "engagement"
    broken["settings"]["socket_mode"] = True
    errors = schema_errors(validators, broken)
    assert any("slash_commands/0/command" in e for e in errors)
    assert any("socket_mode" in e for e in errors)


def test_the_http_mode_variant_in_the_comments_is_valid_too(validators, manifest):
    http = json.loads(json.dumps(manifest))
    http["settings"]["socket_mode_enabled"] = False
    http["features"]["slash_commands"][0]["url"] = "https://bot.example.com/slack/events"
    assert schema_errors(validators, http) == []
    assert "url: <ENGAGEMENT_PUBLIC_URL>/slack/events" in MANIFEST.read_text(encoding="utf-8")


def test_socket_mode_is_on_and_commands_carry_no_url(manifest):
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["token_rotation_enabled"] is False
    for command in manifest["features"]["slash_commands"]:
        assert "url" not in command  # a url is needed iff Socket Mode is off


def test_the_bot_user_has_a_name_slack_accepts(manifest):
    display_name = manifest["features"]["bot_user"]["display_name"]
    assert re.fullmatch(r"[a-z0-9._-]+", display_name)
    from bot.slack.listeners import BOT_MENTION

    assert f"@{display_name}" == BOT_MENTION  # the invite hint names the real bot


def test_scopes_are_exactly_what_the_code_uses(manifest):
    bot_scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert sorted(bot_scopes) == sorted(SCOPES)
    assert len(set(bot_scopes)) == len(bot_scopes)
    assert "commands" in bot_scopes  # slash commands need it
    assert "user" not in manifest["oauth_config"]["scopes"]


def registered_commands() -> list[str]:
    """The command names register() wires, seen by a spy on a real App."""
    app = App(
        signing_secret="s",
        authorize=lambda **kwargs: None,
        process_before_response=True,
        name="manifest-test",
    )
    seen: list[str] = []
    real_command = app.command

    def spy(command: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(command)
        return real_command(command, *args, **kwargs)

    app.command = spy  # type: ignore[method-assign]
    register(
        app,
        SimpleNamespace(can_post=None, health=None, meter=NO_METER),  # type: ignore[arg-type]
        clock=lambda: None,
        run=lambda *a, **k: Message("x"),
    )
    return seen


def test_the_manifest_declares_exactly_the_registered_commands(manifest, monkeypatch):
    clear_slack_env(monkeypatch)
    declared = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert declared == registered_commands()


def test_the_usage_hint_is_the_generated_one_and_covers_every_subcommand(manifest):
    (command,) = manifest["features"]["slash_commands"]
    hint = command["usage_hint"]
    assert hint == USAGE_HINT
    assert command["should_escape"] is False  # the grammar takes no Slack channel or user
    documented = set(re.findall(r"[a-z]+", hint)) | set(re.findall(r"[a-z]+", help_text()))
    assert set(SUBCOMMANDS) <= documented
    assert set(SUBCOMMANDS) <= set(re.findall(r"[a-z]+", hint))


def test_the_home_tab_and_interactivity_are_on(validators, manifest):
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]
    # An uninstall must reach the bot, which then forgets the workspace (bot/slack/uninstall.py).
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"app_uninstalled", "tokens_revoked"} <= set(events)
    http = json.loads(json.dumps(manifest))
    http["settings"]["socket_mode_enabled"] = False
    url = "https://bot.example.com/slack/events"
    http["settings"]["interactivity"]["request_url"] = url
    http["settings"]["event_subscriptions"]["request_url"] = url
    assert schema_errors(validators, http) == []
