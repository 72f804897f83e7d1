"""Every sentence a person reads lives in bot/copy: a sentence added anywhere else in bot/ fails.

The scan reads bot/'s source (outside bot/copy) and flags each string literal or f-string that
looks like a sentence: four words or more, or a capitalised word followed by more words and an
ending punctuation mark ("Alert {} removed."). What it lets through, and why, is listed below;
anything else belongs in a bot/copy module, imported where it is used.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import REPO

BOT = REPO / "bot"

# Packages the scan skips. bot/copy is the home; the rest cannot import it:
# - bot/simulator stands in for X: its texts are X's words, not ours;
# - bot/engagement, bot/config.py and bot/errors.py sit below bot/copy in the layers contract
#   (pyproject.toml), and bot/copy imports bot/engagement (the Reason a sentence explains), so
#   their texts (query.explain's reasons, plan_text's lines, the settings' problems, the
#   X errors' own messages) stay with the code that raises them.
SKIPPED = ("copy", "simulator", "engagement", "config.py", "errors.py")

# Calls whose string arguments are for the log, not for a person.
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
LOGGERS = {"log", "logger", "logging"}
# argparse's own texts stay where argparse takes them.
ARGPARSE_KEYWORDS = {"help", "description", "epilog", "metavar"}
# Errors that only a programmer sees: a caller broke a function's contract.
PROGRAMMER_ERRORS = {"TypeError", "AssertionError", "NotImplementedError"}
SQL = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|WITH)\b"
    r"|\b(FROM|WHERE|VALUES|JOIN|ORDER BY|GROUP BY|ON CONFLICT)\b"
)

# Definitions (file, top-level name) whose texts are not shown to people as they are, each
# with its reason. Keep this short: a new entry needs a reason as good as these.
ALLOWED: dict[tuple[str, str], str] = {
    ("cli_args.py", "_add_query"): "argparse help of the query kinds (a table)",
    ("slack/web.py", "SCOPES"): "which code needs each Slack scope, for the manifest's test",
    ("slack/server.py", "listen"): "the mode named in the start-up log line",
    ("store/sql.py", "*"): "ValueErrors of callers that pass the store malformed values",
    ("store/days.py", "*"): "ValueErrors of callers that pass the store malformed values",
    ("store/accounts.py", "save"): "a ValueError of a caller that mixed up two accounts",
    (
        "channels/alert_rules.py",
        "parse_clock",
    ): "a ValueError of a stored setting (checked on input)",
    ("jobs/schedule.py", "*"): "ValueErrors of stored settings (checked on input)",
    ("render/numbers.py", "*"): "a ValueError of a caller asking for a zero-width table",
    ("slack/installations.py", "SlackInstallations"): "ValueErrors of a store built for reads",
    ("slack/wsgi.py", "make_wsgi_app"): "a ValueError of code that left out the secret",
}

_IDENTIFIERS = re.compile(r"^\s*\w+(\s*,\s*\w+)+\s*$")  # a column list
_WORD = re.compile(r"^[(\"'`]*[A-Za-z][a-z’']*[)\"'`,.;:!?…]*$")


def looks_like_sentence(text: str) -> bool:
    """Four words or more, or a capitalised word, more words and an ending mark."""
    if SQL.search(text) or _IDENTIFIERS.match(text):
        return False
    tokens = text.split()
    words = [t for t in tokens if _WORD.match(t)]
    if len(words) >= 4:
        return True
    stripped = text.strip()
    return (
        len(tokens) >= 2
        and bool(re.match(r"^[A-Z][a-z]+$", tokens[0]))
        and stripped[-1:] in (".", "!", "?", "…", ":")
    )


def _text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _exempt_nodes(tree: ast.Module) -> set[int]:
    """Docstrings, log calls' arguments, argparse keywords, programmer errors."""
    exempt: set[int] = set()

    def mark(node: ast.AST) -> None:
        exempt.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and _text(node.value) is not None:
            mark(node)  # a docstring, or an attribute's (a string standing alone)
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in LOG_METHODS
                and _a_logger(func.value)
            ):
                mark(node)
            for keyword in node.keywords:
                if keyword.arg in ARGPARSE_KEYWORDS:
                    mark(keyword.value)
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            name = node.exc.func
            if isinstance(name, ast.Name) and name.id in PROGRAMMER_ERRORS:
                mark(node)
        if isinstance(node, ast.Assert) and node.msg is not None:
            mark(node.msg)
    return exempt


def _a_logger(node: ast.expr) -> bool:
    """`log`, `logger`, `logging`, or `logging.getLogger(…)`."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "getLogger"
    return isinstance(node, ast.Name) and node.id.lstrip("_").lower() in LOGGERS


def _top_level_name(node: ast.stmt) -> str:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return ""


def stray_sentences(root: Path = BOT) -> Iterator[str]:
    """ "path:line: text" for each sentence outside bot/copy that nothing above allows."""
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.split("/")[0] in SKIPPED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        exempt = _exempt_nodes(tree)
        for statement in tree.body:
            name = _top_level_name(statement)
            if (relative, name) in ALLOWED or (relative, "*") in ALLOWED:
                continue
            for node in ast.walk(statement):
                if id(node) in exempt or not isinstance(node, ast.expr):
                    continue
                text = _text(node)
                if isinstance(node, ast.JoinedStr):
                    exempt.update(id(v) for v in node.values)  # judged whole, not in parts
                if text is not None and looks_like_sentence(text):
                    yield f"bot/{relative}:{node.lineno}: {text[:70]!r}"


def test_every_sentence_lives_in_bot_copy() -> None:
    strays = list(stray_sentences())
    assert not strays, "sentences outside bot/copy (move them there):\n" + "\n".join(strays)


def test_every_allowance_still_names_something() -> None:
    """An allowance outlives nothing: each names a file and a definition that exist."""
    for relative, name in ALLOWED:
        path = BOT / relative
        assert path.exists(), relative
        if name != "*":
            names = {_top_level_name(s) for s in ast.parse(path.read_text()).body}
            assert name in names, f"{relative}: no {name}"


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ('raise UserFacingError("None of those were tracked here.")', True),
        ('reply = f"Alert {rule_id} removed."', True),
        ('reason = "another run took the date over"', True),
        ('log.info("connect: user %s cancelled on X", user)', False),
        ('"""A docstring that says what the module does."""', False),
        ('parser.add_argument("--to", help="the last day to show, inclusive")', False),
        ('db.execute("SELECT post_id FROM posts WHERE id = ?")', False),
        ('COLUMNS = "rule_id, post_id, hour, metric, value, baseline"', False),
        ('logging.getLogger("bot").info("mode %s, seed %s, %d Posts", mode, seed, n)', False),
        ('raise TypeError("pass an iterable of Post IDs, not one string")', False),
        ('stamp = f"{when:%Y-%m-%d %H:%M} UTC"', False),
    ],
)
def test_the_scan_tells_sentences_from_other_strings(
    tmp_path: Path, source: str, flagged: bool
) -> None:
    (tmp_path / "module.py").write_text(source + "\n")
    assert bool(list(stray_sentences(tmp_path))) is flagged
