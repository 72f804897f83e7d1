"""The Dockerfile stays in step with the code: it sets only variables the bot reads, runs a
real subcommand, probes the real health path, and keeps databases and keys out of images.
(No Docker daemon runs here, so the image itself is not built by the tests.)"""

from __future__ import annotations

import re
import shlex

from bot.cli import build_parser
from bot.config import DEFAULT_PORT, ENVIRONMENT_VARIABLES
from bot.slack.operator_routes import READY_PATH
from tests.support.paths import REPO

ROOT = REPO
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions(name: str) -> list[str]:
    """The arguments of every `name` instruction, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [m.group(1).strip() for m in re.finditer(rf"(?m)^{name}\s+(.*)$", joined)]


def test_the_image_sets_only_variables_the_bot_reads():
    names = {pair.split("=", 1)[0] for line in instructions("ENV") for pair in shlex.split(line)}
    ours = {n for n in names if not n.startswith(("PYTHON", "PIP_"))}
    assert ours == {"ENGAGEMENT_DB", "PORT"}
    assert ours <= set(ENVIRONMENT_VARIABLES)


def test_the_image_runs_a_real_subcommand_on_the_default_port():
    assert instructions("ENTRYPOINT") == ['["engagement-bot"]']
    (cmd,) = instructions("CMD")
    args = re.findall(r'"([^"]+)"', cmd)
    assert build_parser().parse_args(args).command == "run"
    assert instructions("EXPOSE") == [str(DEFAULT_PORT)]
    assert f"PORT={DEFAULT_PORT}" in instructions("ENV")[-1]


def test_the_health_check_probes_the_bots_health_path():
    (check,) = instructions("HEALTHCHECK")
    # Ready, not healthy: a container whose X is failing still serves help and settings, and
    # restarting it would not mend X (/healthz says why for the operator's dashboard).
    assert f"{READY_PATH}'" in check


def test_what_the_image_copies_exists_and_secrets_stay_out():
    for line in instructions("COPY"):
        *sources, _ = line.split()
        for source in sources:
            assert (ROOT / source).exists(), source
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"*.db", "*.db-*", "*.key", ".venv", ".git"} <= set(ignored)
