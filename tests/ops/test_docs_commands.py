"""Every command the README and docs/ show can be typed as shown: each `engagement-bot …` (or
`python -m bot …`, or `docker run|exec … engagement-bot …`) line of a fenced block parses with
the bot's own command-line parser, each `/engagement …` parses with the slash grammar (and one
shown failing fails), the lists of commands name every command there is, every relative link
lands on a file and heading that exist, and the container commands fit the Dockerfile."""

from __future__ import annotations

import contextlib
import fnmatch
import io
import re
import shlex
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from bot.cli import COMMANDS, build_parser
from bot.config import ENVIRONMENT_VARIABLES
from bot.copy.usage import TABLE
from bot.errors import UsageError
from bot.slack.parse.grammar import parse
from tests.simulator.test_simulator_doc import anchor
from tests.support.paths import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
COMMANDS_DOC = REPO / "docs" / "commands.md"
DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
TODAY = date(2026, 11, 26)  # `7d`-style ranges need a day; the docs' dates are all before it
SEPARATORS = {"|", "||", "&&", ";", "&"}
REDIRECTION = re.compile(r"\d?>>?\S+|<\S+")  # `2>/dev/null`, `<ids.txt`: written together
ASSIGNMENT = re.compile(r"[A-Z_]+=\S*")  # `NAME=value command`
INVOKES_BOT = re.compile(r"engagement-bot|-m bot\b")
PLACEHOLDERS = re.compile(r"[<\[\]|…]|\.\.\.")  # a usage line, not a command


@dataclass(frozen=True)
class Shown:
    """A command line as a doc shows it: where, the line, and whether the doc shows it failing."""

    doc: Path
    line: str
    fails: bool = False

    def __str__(self) -> str:
        return f"{self.doc.relative_to(REPO)}: {self.line}"


def fenced_blocks(text: str) -> list[str]:
    return re.findall(r"^```[\w-]*\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def prose(text: str) -> str:
    return re.sub(r"^```[\w-]*\n.*?^```$", "", text, flags=re.MULTILINE | re.DOTALL)


def block_commands(doc: Path, block: str) -> list[Shown]:
    """The command lines of a block: in a transcript (lines starting `$ ` or `» `) those, marked
    as failing when the first line printed after one is a warning; otherwise every line."""
    lines = block.replace("\\\n", " ").splitlines()
    prompts = ("$ ", "» ")
    if not any(line.startswith(prompts) for line in lines):
        return [Shown(doc, line) for line in lines if line.strip()]
    found: list[Shown] = []
    for at, line in enumerate(lines):
        if line.startswith(prompts):
            after = lines[at + 1].strip() if at + 1 < len(lines) else ""
            found.append(Shown(doc, line[2:], fails=after.startswith("⚠️")))
    return found


def shown_lines() -> list[Shown]:
    return [
        shown
        for doc in DOCS
        for block in fenced_blocks(doc.read_text(encoding="utf-8"))
        for shown in block_commands(doc, block)
    ]


def segments(line: str) -> list[list[str]]:
    """A shell line's simple commands, with redirections and variable assignments dropped."""
    words = shlex.split(line, comments=True)
    found: list[list[str]] = [[]]
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in SEPARATORS:
            found.append([])
        elif word in ("<", ">", ">>", "2>"):
            skip = True
        elif not (REDIRECTION.fullmatch(word) or (not found[-1] and ASSIGNMENT.fullmatch(word))):
            found[-1].append(word)
    return [s for s in found if s]


def docker_cmd() -> list[str]:
    (cmd,) = re.findall(r"(?m)^CMD\s+(.*)$", DOCKERFILE)
    return re.findall(r'"([^"]+)"', cmd)


def bot_arguments(words: list[str]) -> list[str] | None:
    """The arguments `engagement-bot` gets from this simple command, or None if it is not one."""
    program = words[0].rsplit("/", 1)[-1]
    if program == "engagement-bot":
        return words[1:]
    if program.startswith("python") and words[1:3] == ["-m", "bot"]:
        return words[3:]
    if program == "docker" and words[1:2] in (["run"], ["exec"]) and "engagement-bot" in words:
        image_at = len(words) - 1 - words[::-1].index("engagement-bot")
        rest = words[image_at + 1 :]
        return rest or (docker_cmd() if words[1] == "run" else None)
    return None


def bot_invocations() -> list[tuple[Shown, list[str]]]:
    found = []
    for shown in shown_lines():
        if not INVOKES_BOT.search(shown.line):
            continue  # another program, or a block that is not shell (a file tree, output)
        for words in segments(shown.line):
            args = bot_arguments(words)
            if args is not None:
                found.append((shown, args))
    return found


def parse_error(args: list[str]) -> str | None:
    """What `engagement-bot` says about these arguments, or None when they parse (a --help or
    --version that exits 0 parses too). Nothing runs."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            build_parser().parse_args(args)
    except SystemExit as exit:
        return None if exit.code == 0 else err.getvalue().strip().splitlines()[-1]
    return None


def slash_commands() -> list[Shown]:
    """`/engagement …` in fenced blocks (typed at `» `, or given to `console --command`), and in
    the prose's code spans unless they are usage lines with placeholders."""
    found = [s for s in shown_lines() if s.line.startswith("/engagement")]
    for shown, args in bot_invocations():
        if args[:1] == ["console"] and "--command" in args:
            found.append(Shown(shown.doc, args[args.index("--command") + 1], shown.fails))
    for doc in DOCS:
        for span in re.findall(r"`(/engagement\b[^`]*)`", prose(doc.read_text(encoding="utf-8"))):
            text = " ".join(span.split())
            if not PLACEHOLDERS.search(text):
                found.append(Shown(doc, text))
    return found


# --- engagement-bot ... ------------------------------------------------------------------------


def test_segments_drop_redirections_and_split_pipelines():
    assert segments("A=1 engagement-bot query totals - --format csv < ids.txt > out.txt") == [
        ["engagement-bot", "query", "totals", "-", "--format", "csv"]
    ]
    assert segments("curl -s 'x' | grep -o y  # comment") == [
        ["curl", "-s", "x"],
        ["grep", "-o", "y"],
    ]
    assert segments("engagement-bot simulator --port 8787 &") == [
        ["engagement-bot", "simulator", "--port", "8787"]
    ]


def test_parse_error_tells_a_wrong_line_from_a_right_one():
    assert parse_error(["backup", "/tmp/copy.db"]) is None
    assert parse_error(["--version"]) is None
    assert parse_error(["query", "totals", "--help"]) is None
    assert parse_error(["backup"]) is not None
    assert parse_error(["forget", "--workspace", "T1"]) is not None
    assert parse_error(["query", "daily", "1", "--from", "yesterday"]) is not None


def test_every_engagement_bot_line_shown_parses():
    invocations = bot_invocations()
    assert len(invocations) >= 20
    seen = {args[0] for _, args in invocations if args and not args[0].startswith("-")}
    assert {"run", "query", "console", "demo", "simulator", "backup", "restore", "forget"} <= seen
    wrong = {str(shown): parse_error(args) for shown, args in invocations if parse_error(args)}
    assert wrong == {}


def test_the_command_list_names_every_subcommand():
    text = COMMANDS_DOC.read_text(encoding="utf-8")
    table = re.findall(r"^\| `([a-z-]+)", text, re.MULTILINE)
    listed = set(table) | set(re.findall(r"^\| `[a-z-]+`, `([a-z-]+)", text, re.MULTILINE))
    assert set(COMMANDS) | {"simulator", "demo"} <= listed


# --- /engagement ... ---------------------------------------------------------------------------


def test_every_slash_command_shown_parses():
    commands = slash_commands()
    assert len(commands) >= 30
    wrong = {}
    for shown in commands:
        try:
            parse(shown.line, today=TODAY)
        except UsageError as error:
            if not shown.fails:
                wrong[str(shown)] = str(error).splitlines()[0]
        else:
            if shown.fails:
                wrong[str(shown)] = "shown failing, but it parses"
    assert wrong == {}
    assert any(shown.fails for shown in commands)  # the console's misspelt `topp`


def test_the_slash_command_list_is_the_usage_table():
    text = COMMANDS_DOC.read_text(encoding="utf-8")
    missing = [row.grammar for row in TABLE if f"- `{row.grammar}`: " not in text]
    assert missing == []
    examples = {s.line for s in slash_commands() if s.doc == COMMANDS_DOC}
    assert {row.example for row in TABLE} <= examples


# --- links ---------------------------------------------------------------------------------------


def links(doc: Path) -> list[str]:
    text = prose(doc.read_text(encoding="utf-8"))
    return [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:", t)]


def headings(doc: Path) -> set[str]:
    text = prose(doc.read_text(encoding="utf-8"))
    return {anchor(h) for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(REPO)))
def test_every_link_lands_on_a_file_and_heading(doc: Path):
    broken = []
    for link in links(doc):
        path, _, fragment = link.partition("#")
        target = (doc.parent / path).resolve() if path else doc
        if not target.exists() or (fragment and fragment not in headings(target)):
            broken.append(link)
    assert broken == []


def test_every_page_in_docs_is_linked_from_the_readme():
    linked = {(REPO / link.partition("#")[0]).resolve() for link in links(REPO / "README.md")}
    assert set(DOCS[1:]) <= linked


# --- the container -----------------------------------------------------------------------------


def docker_run_lines() -> list[list[str]]:
    return [
        words
        for shown in shown_lines()
        if shown.line.startswith("docker run ")
        for words in segments(shown.line)
        if words[:2] == ["docker", "run"]
    ]


def test_the_docs_docker_runs_fit_the_image():
    """Each `docker run` shown passes only settings the bot reads, mounts the image's volume and
    publishes the port it exposes."""
    (volume,) = re.findall(r'(?m)^VOLUME \["([^"]+)"\]', DOCKERFILE)
    (exposed,) = re.findall(r"(?m)^EXPOSE (\d+)", DOCKERFILE)
    runs = docker_run_lines()
    assert len(runs) >= 2
    for words in runs:
        for flag, value in zip(words, words[1:], strict=False):
            if flag == "-e":
                assert value.split("=", 1)[0] in ENVIRONMENT_VARIABLES, value
            if flag == "-v":
                assert value.split(":")[1] == volume, value
            if flag == "-p":
                assert value.split(":")[1] == exposed, value


def test_what_the_image_copies_is_not_left_out_of_the_build_context():
    """`docker build` sends only what .dockerignore lets through: the files the Dockerfile
    copies must not match it (pip install . needs pyproject.toml, the README and bot/)."""
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    copied = [
        source
        for line in re.findall(r"(?m)^COPY\s+(.*)$", DOCKERFILE)
        for source in line.split()[:-1]
    ]
    assert {"pyproject.toml", "README.md", "bot"} <= set(copied)
    clash = [(s, p) for s in copied for p in ignored if fnmatch.fnmatch(s.rstrip("/"), p)]
    assert clash == []
