"""The command line's grammar is built per command (bot/cli_args.py): what a command parses to
must not depend on whether the rest of the grammar was built, and help or a mistyped command
still sees every command."""

from __future__ import annotations

import argparse

import pytest

from bot.cli import main
from bot.cli_args import build_parser, command_word

SAMPLES = [
    ["query", "totals", "--format", "csv", "--metrics", "likes", "123"],
    ["query", "daily", "123", "--from", "2026-11-01", "--to", "2026-11-02", "--explain"],
    ["query", "compare", "Spring", "@sim_creator", "--format", "json"],
    ["--debug", "accounts", "add", "--token", "t", "--secret", "s", "--workspace", "T1"],
    ["--log-format", "json", "usage", "--month", "2026-11"],
    ["--log-format=json", "store", "prune", "--dry-run"],
    ["rotate-key"],
    ["backup", "copy.db"],
    ["restore", "copy.db"],
    ["forget", "--team", "T0123"],
    ["console", "--command", "/engagement help", "--json"],
    ["run"],
    ["digest", "--channel", "C1", "--date", "2026-11-30"],
    ["alerts", "check", "--channel", "C1", "--team", "T1"],
    ["demo"],
    ["simulator", "--port", "0"],
]


def subcommands(parser: argparse.ArgumentParser) -> set[str]:
    (found,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(found.choices)


@pytest.mark.parametrize("argv", SAMPLES, ids=lambda argv: " ".join(argv[:3]))
def test_a_commands_own_grammar_parses_it_as_the_whole_grammar_does(argv: list[str]):
    assert build_parser(argv).parse_args(argv) == build_parser().parse_args(argv)


def test_the_samples_cover_every_command():
    assert {command_word(argv) for argv in SAMPLES} == subcommands(build_parser())


def test_a_command_builds_only_its_own_part():
    assert subcommands(build_parser(["query", "totals", "1"])) == {"query"}


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["quary"], [], ["--debug"]])
def test_help_a_typo_or_no_command_sees_every_command(argv: list[str]):
    assert command_word(argv) is None
    assert subcommands(build_parser(argv)) == subcommands(build_parser())


def test_a_mistyped_command_is_answered_with_every_command(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["quary", "totals", "1"])

    assert exit.value.code == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'quary'" in error
    for command in ("query", "simulator", "accounts"):
        assert f"'{command}'" in error
