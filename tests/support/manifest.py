"""app_manifest.yaml and Slack's manifest schema, stored in tests/fixtures (checked offline)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "app_manifest.yaml"
SCHEMA_DIR = REPO / "tests" / "fixtures" / "slack_manifest_schema"
RAW = "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/"
VERSIONS = ("manifest.schema.1.0.0.json", "manifest.schema.2.0.0.json")


def load_schema(relative: str) -> Any:
    return json.loads((SCHEMA_DIR / relative).read_text(encoding="utf-8"))


def schema_errors(validators: tuple[Draft7Validator, Draft7Validator], doc: Any) -> list[str]:
    router, v1 = validators
    errors = sorted(v1.iter_errors(doc), key=lambda e: list(e.absolute_path))
    described = [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
    if not described and not router.is_valid(doc):
        described.append("rejected by the router schema")
    return described
