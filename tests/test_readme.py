"""The README's Quick start transcript is real: every line of it is in what `engagement-bot demo`
prints today, in the same order, so the README cannot drift from the bot."""

from __future__ import annotations

import io
import re
from pathlib import Path

from bot.demo import DEMO_START, run_demo

README = Path(__file__).resolve().parents[1] / "README.md"
ELIDED = "…"  # a transcript line of its own: lines were cut here


def quick_start_transcript() -> list[str]:
    """The lines of the Quick start's fenced block that starts with `$ engagement-bot demo`."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Quick start\n") :]
    section = section[: section.index("\n## ", 5)]
    blocks = re.findall(r"^```\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    demo = [b for b in blocks if b.startswith("$ engagement-bot demo\n")]
    assert len(demo) == 1, "the Quick start shows one `$ engagement-bot demo` transcript"
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


def test_the_quick_start_transcript_is_what_the_demo_prints():
    transcript = quick_start_transcript()
    assert len([t for t in transcript if t.strip() and t.strip() != ELIDED]) >= 40
    out = io.StringIO()
    assert run_demo(out, now=DEMO_START) == 0
    output = [line.rstrip() for line in out.getvalue().splitlines()]
    assert missing_lines(transcript, output) == []
