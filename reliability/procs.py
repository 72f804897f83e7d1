"""Real processes over loopback: the simulator, `engagement-bot run` and one-shot CLI commands.

Everything runs from the repo's interpreter (`python -m bot ...`) in a scratch folder, with an
environment built from scratch for the bot (no SLACK_*, X_*, ENGAGEMENT_* or proxy variable of
the caller leaks in).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from tests.support.fake_slack import BOT_TOKEN, SLACK_ENVIRONMENT, FakeSlack
from tests.support.slack_requests import SIGNING_SECRET

ADMIN_USER = "U0ALICE"  # tests/support/slack_requests.command_body's user; may change settings
BRAND_TOKEN = ("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
# A frozen simulator clock at second :59 makes X's rate-limit reset (the next minute) 1 s away,
# so a 429 costs the bot ~1-2 s instead of up to a minute.
UNLIMITED = "100000"
REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wall_now() -> datetime:
    """The real clock: the suite drives real processes that read it themselves."""
    return datetime.now(UTC)  # noqa: TID251 - a test driver, like bench/


def sim_start_time() -> datetime:
    """The last :59 second before now: the simulator is frozen there, a little behind the bot's
    wall clock (never ahead of it)."""
    now = wall_now().replace(microsecond=0)
    return now.replace(second=0) - timedelta(seconds=1)


def clean_environ() -> dict[str, str]:
    """The caller's environment without anything the bot or the simulator would read, and
    with the repo importable from any working directory (`python -m bot` in a scratch folder)."""
    drop = set(SLACK_ENVIRONMENT)
    env = {
        k: v
        for k, v in os.environ.items()  # noqa: TID251 - the processes' environment
        if k not in drop and not k.startswith(("SLACK_", "X_", "ENGAGEMENT_", "XENG_SIM_"))
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


class Simulator:
    """`engagement-bot simulator --mode test` (frozen clock) with generous rate limits."""

    def __init__(self, start: datetime, log: Path) -> None:
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot",
                "simulator",
                "--mode",
                "test",
                "--port",
                "0",
                "--start-time",
                start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "--rate-limit-totals",
                UNLIMITED,
                "--rate-limit-28hr",
                UNLIMITED,
                "--rate-limit-historical",
                UNLIMITED,
            ],
            env=clean_environ(),
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"simulator did not start: {line!r} (see {log})")
        self.url = line.removeprefix("listening on ")
        self.session = requests.Session()

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        reply = self.session.request(method, f"{self.url}/_sim/{path}", json=body, timeout=30)
        reply.raise_for_status()
        return reply.json()

    def posts_of(self, handle: str) -> list[str]:
        return [p["id"] for p in self.admin("GET", f"posts?author={handle}")["posts"]]

    def faults(self, config: dict[str, Any] | None) -> None:
        if config is None:
            self.admin("DELETE", "faults")
        else:
            self.admin("PUT", "faults", config)

    def request_log(self) -> list[dict[str, Any]]:
        return list(self.admin("GET", "requests")["requests"])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.log.close()


def bot_env(
    sim: Simulator,
    fake: FakeSlack,
    db: Path,
    *,
    port: int | None = None,
    more: dict[str, str] | None = None,
) -> dict[str, str]:
    env = clean_environ() | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "X_API_URL": sim.url,
        "X_OAUTH_URL": sim.url,
        "X_CONSUMER_KEY": "sim-consumer-key",
        "X_CONSUMER_SECRET": "sim-consumer-secret",
        "ENGAGEMENT_DB": str(db),
        "ENGAGEMENT_ADMINS": ADMIN_USER,
    }
    if port is not None:
        env["PORT"] = str(port)
    return env | (more or {})


def cli(
    args: list[str], env: dict[str, str], cwd: Path, *, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """One `engagement-bot ...` command, to completion."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def connect_brand(env: dict[str, str], cwd: Path) -> None:
    """`engagement-bot accounts add` for @sim_brand (one signed call to the simulator)."""
    done = cli(["accounts", "add", "--token", BRAND_TOKEN[0], "--secret", BRAND_TOKEN[1]], env, cwd)
    if done.returncode != 0:
        raise RuntimeError(f"accounts add failed: {done.stdout} {done.stderr}")


class Bot:
    """`engagement-bot run` in HTTP mode on its own port; killed with SIGKILL or stopped."""

    def __init__(self, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.env = env
        self.url = f"http://127.0.0.1:{env['PORT']}"
        self.log = log.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            cwd=cwd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.started = time.monotonic()
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        self.ready_s = time.monotonic() - self.started

    def _wait_healthy(self, deadline_s: float = 60) -> None:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"run exited with {self.proc.returncode} (see {self.log.name})")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)  # polling a process that is starting up
        raise RuntimeError(f"run did not come up in {deadline_s} s (see {self.log.name})")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def usage(self) -> tuple[int, int]:
        """(RSS in KiB, threads) from /proc."""
        fields: dict[str, str] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            fields[name] = value.strip()
        return int(fields["VmRSS"].split()[0]), int(fields["Threads"])

    def kill9(self) -> int:
        """SIGKILL: no shutdown code of the bot runs; its exit status (-9)."""
        self.proc.send_signal(signal.SIGKILL)
        code = self.proc.wait(timeout=10)
        self.log.close()
        return code

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode
