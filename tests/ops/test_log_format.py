"""`--log-format json`: what a log aggregator reads from `engagement-bot` is one JSON object per
line, with the time, level, logger and message."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime


def test_json_log_lines_parse_one_object_each() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--log-format", "json", "simulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        assert proc.stdout.readline().startswith("listening on http://127.0.0.1:")
        first = json.loads(proc.stderr.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "INFO"
    assert first["logger"].startswith("bot.simulator")
    assert datetime.fromisoformat(first["time"]).utcoffset() is not None
