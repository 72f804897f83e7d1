"""docs/simulator.md is where the simulator's behaviour is written down, and code cites it.

Every `docs/simulator.md#section` cited in the code, tests, scripts, README and docs/, and every
in-page link of the document, names a heading that exists; and nothing cites a contract file
that is not in the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.paths import REPO

REPO = REPO
DOC = REPO / "docs" / "simulator.md"
CITING = ("bot", "tests", "reliability", "bench")
# `docs/simulator.md#a`, optionally followed by `, #b` continuations (possibly on the next line).
CITATION = re.compile(r"docs/simulator\.md((?:#[\w-]+)(?:,\s*#[\w-]+)*)")
# Spelled in pieces so that this file does not cite what it forbids (nor match a plain grep).
_FILE = "CON" + "TRACT"
OUTSIDE_CITATION = re.compile(f"{_FILE}\\.md|{_FILE} \u00a7|\u00a7\\d")


def anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors() -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    return {anchor(m) for m in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}


def citing_files() -> list[Path]:
    files = [REPO / "README.md", *(p for p in (REPO / "docs").glob("*.md") if p != DOC)]
    for top in CITING:
        files += [p for p in (REPO / top).rglob("*") if p.suffix in (".py", ".md")]
    return [p for p in files if p != Path(__file__).resolve()]


def cited(text: str) -> set[str]:
    return {name for group in CITATION.findall(text) for name in re.findall(r"#([\w-]+)", group)}


def test_anchor_follows_github_rules():
    assert anchor("`tweet_ids`") == "tweet_ids"
    assert anchor("An account's Posts") == "an-accounts-posts"
    assert anchor("401 reasons") == "401-reasons"


def test_every_cited_section_exists():
    known = anchors()
    missing = {
        f"{path.relative_to(REPO)}: #{name}"
        for path in citing_files()
        for name in cited(path.read_text(encoding="utf-8"))
        if name not in known
    }
    assert not missing


def test_the_code_cites_the_document():
    citations = sum(len(cited(p.read_text(encoding="utf-8"))) for p in citing_files())
    assert citations > 50


def test_links_inside_the_document_resolve():
    links = set(re.findall(r"\]\(#([\w-]+)\)", DOC.read_text(encoding="utf-8")))
    assert links
    assert not links - anchors()


def test_nothing_cites_a_contract_outside_the_repository():
    offenders = [
        f"{path.relative_to(REPO)}:{n}"
        for path in citing_files()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE_CITATION.search(line)
    ]
    assert not offenders
