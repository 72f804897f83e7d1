"""The README and docs/ are real: every line of the demo transcripts (the README's excerpt and
docs/demo.md's tour) is in what `engagement-bot demo` prints today, in the same order; the
`query` recipe of docs/commands.md runs as written; its console transcripts are what the
console prints; and the README stays one screen. So the docs cannot drift from the bot."""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.console.demo import DEMO_START, run_demo
from tests.support.paths import REPO

README = REPO / "README.md"
DEMO_DOC = REPO / "docs" / "demo.md"
COMMANDS_DOC = REPO / "docs" / "commands.md"
ELIDED = "…"  # a transcript line of its own: lines were cut here
SCREEN = 60  # lines: the README up to its list of links must fit one screen


def demo_transcript(text: str) -> list[str]:
    """The lines of the one fenced block in `text` that starts with `$ engagement-bot demo`."""
    blocks = re.findall(r"^```\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    demo = [b for b in blocks if b.startswith("$ engagement-bot demo\n")]
    assert len(demo) == 1, "one `$ engagement-bot demo` transcript"
    return demo[0].splitlines()[1:]


def missing_lines(transcript: list[str], output: list[str]) -> list[str]:
    """The transcript lines not found in `output` in order (blank and `…` lines skipped)."""
    missing, at = [], 0
    for line in (t.rstrip() for t in transcript):
        if not line.strip() or line.strip() == ELIDED:
            continue
        try:
            at = output.index(line, at) + 1
        except ValueError:
            missing.append(line)
    return missing


def test_missing_lines_finds_changed_and_reordered_lines():
    output = ["a", "b", "c"]
    assert missing_lines(["a", "…", "c"], output) == []
    assert missing_lines(["c", "a"], output) == ["a"]
    assert missing_lines(["a", "B"], output) == ["B"]


@pytest.fixture(scope="module")
def demo_output() -> list[str]:
    out = io.StringIO()
    assert run_demo(out, now=DEMO_START) == 0
    return [line.rstrip() for line in out.getvalue().splitlines()]


def shown(transcript: list[str]) -> list[str]:
    return [t for t in transcript if t.strip() and t.strip() != ELIDED]


def test_the_demo_tour_in_docs_is_what_the_demo_prints(demo_output: list[str]):
    transcript = demo_transcript(DEMO_DOC.read_text(encoding="utf-8"))
    assert len(shown(transcript)) >= 40
    assert missing_lines(transcript, demo_output) == []


def test_the_readmes_transcript_is_what_the_demo_prints(demo_output: list[str]):
    transcript = demo_transcript(README.read_text(encoding="utf-8"))
    assert 8 <= len(shown(transcript)) <= 15
    assert missing_lines(transcript, demo_output) == []


def test_the_readme_is_one_screen_then_links_into_docs():
    lines = README.read_text(encoding="utf-8").splitlines()
    links_at = lines.index("## Read more")
    assert links_at <= SCREEN
    links = re.findall(r"\]\(([^)#]+)", "\n".join(lines[links_at:]))
    assert len(links) >= 8
    assert all(link.startswith("docs/") or link == "CHANGELOG.md" for link in links)


# --- The command recipes of the query and console sections run as written -------------------

ROOT = REPO


def section(title: str) -> str:
    text = COMMANDS_DOC.read_text(encoding="utf-8")
    body = text[text.index(f"## {title}\n") :]
    end = body.find("\n## ", 5)
    return body if end < 0 else body[:end]


def fenced_blocks(text: str) -> list[str]:
    return re.findall(r"^```\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def shell_lines(block: str) -> list[str]:
    """A block's commands, backslash continuations joined."""
    return block.replace("\\\n", " ").splitlines()


def masked(line: str) -> str:
    """A line with its numbers, IDs and times as `#` and the Posts' own words as `“…”`: the
    console's simulator starts at the real time, so those change from run to run; our words
    and the layout must not."""
    return re.sub(r"\d[\d,:.\-]*", "#", re.sub(r"“[^”]*”", "“…”", line.rstrip()))


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """A shell as a newcomer has it: no bot settings, in an empty folder, our code on the path,
    and `.venv/bin/engagement-bot` running this tree's bot."""
    monkeypatch.chdir(tmp_path)
    inherited = dict(os.environ)  # noqa: TID251 - the shell's environment, not a setting
    bot_settings = [k for k in inherited if k.startswith(("X_", "ENGAGEMENT_", "SLACK_"))]
    for name in bot_settings:
        monkeypatch.delenv(name)
    env = {k: v for k, v in inherited.items() if k not in bot_settings}
    env["PYTHONPATH"] = str(ROOT)
    shim = tmp_path / ".venv" / "bin" / "engagement-bot"
    shim.parent.mkdir(parents=True)
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m bot "$@"\n')
    shim.chmod(0o755)
    return env


def test_the_query_recipe_runs_as_written(tmp_path: Path, clean_env: dict[str, str]):
    """Every line of the query section's recipe exits 0, in a clean folder, against the
    simulator it starts (on a free port instead of 8787, the only change)."""
    [recipe, *_] = fenced_blocks(section("Asking for numbers: `engagement-bot query`"))
    start, *commands = shell_lines(recipe)
    assert start.startswith(".venv/bin/engagement-bot simulator --mode demo ")
    assert start.endswith(" &")
    port = re.search(r"--port (\d+)", start)
    assert port is not None
    argv = shlex.split(start.removesuffix(" &").replace(port.group(0), "--port 0"))
    simulator = subprocess.Popen(
        argv,
        cwd=tmp_path,
        env=clean_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert simulator.stdout is not None
        url = simulator.stdout.readline().strip().removeprefix("listening on ")
        script = "\n".join(commands).replace(f"http://127.0.0.1:{port.group(1)}", url)
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=tmp_path,
            env=clean_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        simulator.terminate()
        assert simulator.stdout is not None
        simulator.stdout.close()
        assert simulator.wait(timeout=10) == 0
    assert done.returncode == 0, done.stderr[-2000:]
    ids = (tmp_path / "ids.txt").read_text().split()
    assert len(ids) == 30
    assert all(post_id in (tmp_path / "totals.txt").read_text() for post_id in ids)
    assert "author lookups:" in done.stdout  # --explain said what it looked up


def console_transcripts() -> list[tuple[str, list[str]]]:
    """(command, the lines the README shows it print) for each `$ engagement-bot console`."""
    found: list[tuple[str, list[str]]] = []
    for block in fenced_blocks(section("The bot in a terminal: `engagement-bot console`")):
        for line in block.splitlines():
            if line.startswith("$ "):
                found.append((line.removeprefix("$ "), []))
            elif found:
                found[-1][1].append(line)
    return found


def test_the_console_transcripts_are_what_it_prints(
    clean_env: dict[str, str], capsys: pytest.CaptureFixture[str]
):
    transcripts = console_transcripts()
    assert len(transcripts) >= 3
    for command, shown in transcripts:
        program, *argv = shlex.split(command)
        assert program == "engagement-bot"
        assert main(argv) == 0, command
        printed = capsys.readouterr().out.splitlines()
        assert [masked(line) for line in printed] == [masked(line) for line in shown], command


def test_the_query_exit_statuses_are_the_ones_help_documents():
    from bot.copy.terminal import cli_query_exit_codes

    rows = re.findall(
        r"^  \| (\d) \| ", section("Asking for numbers: `engagement-bot query`"), re.MULTILINE
    )
    documented = re.findall(r"^  (\d)  ", cli_query_exit_codes(), re.MULTILINE)
    assert rows == documented == ["0", "1", "2", "3"]
