"""Where the repository and the test fixtures are, for tests at any depth under tests/."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
X_API_FIXTURES = REPO / "tests" / "fixtures" / "x_api"
