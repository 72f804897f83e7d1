"""Where the stored renderings of Slack messages live (UPDATE_SNAPSHOTS=1 rewrites them)."""

from pathlib import Path

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"
