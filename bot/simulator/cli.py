"""`engagement-bot simulator`: its flags (each also an XENG_SIM_<OPTION> variable) and the
loop that serves the simulated X API until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import json
import logging
import signal
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TextIO

from bot.copy import terminal
from bot.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE

# Simulator options (docs/simulator.md#options): flag → (help, type); env var XENG_SIM_<NAME>.
SIMULATOR_OPTIONS: dict[str, tuple[str, type]] = {
    "host": ("listen address (default 127.0.0.1)", str),
    "port": ("listen port; 0 = any free port (default 8787)", int),
    "seed": ("seed of the default universe (default 1)", int),
    "mode": ("normal | test | demo (test and demo enable /_sim/)", str),
    "universe": ("universe JSON file (docs/simulator.md#universe-files)", str),
    "faults": ("fault injection config as JSON (docs/simulator.md#fault-injection)", str),
    "clock": ("real | sim (default: real in normal mode, sim otherwise)", str),
    "start_time": ("simulator clock start, e.g. 2026-11-26T12:00:00Z", str),
    "frozen": ("freeze the sim clock: true | false (default: frozen in test mode)", str),
    "public_base_url": ("base URL used in OAuth signature base strings", str),
    "tls_cert": ("serve HTTPS with this certificate file", str),
    "tls_key": ("the certificate's key file", str),
    "admin_key": ("require X-Sim-Admin-Key on /_sim/", str),
    "historical_floor": ("earliest /historical start: YYYY-MM-DD or 365d", str),
    "forbidden_format": ("documented | per-author (403 message form)", str),
    "impressions_age_limit_endpoints": ("endpoints applying the 90-day rule", str),
    "rate_limit_totals": ("requests per minute per app on /totals (default 60)", int),
    "rate_limit_28hr": ("requests per minute per app on /28hr (default 60)", int),
    "rate_limit_historical": ("requests per minute per app on /historical (default 60)", int),
    "oauth_timestamp_window_s": ("reject OAuth timestamps further off than this; 0 = off", int),
    "oauth_nonce_check": ("reject reused OAuth nonces: true | false", str),
}
RUNTIME_OPTIONS = {
    "historical_floor",
    "forbidden_format",
    "impressions_age_limit_endpoints",
    "rate_limit_totals",
    "rate_limit_28hr",
    "rate_limit_historical",
    "oauth_timestamp_window_s",
    "oauth_nonce_check",
}


def add_parser(commands: Any) -> None:
    """The `simulator` subcommand and its flags, on the CLI's subparsers."""
    sim = commands.add_parser(
        "simulator",
        help="serve the simulated X API (docs/simulator.md)",
        description="Serve the simulated X API on loopback. Every option can also be given as "
        "an environment variable XENG_SIM_<OPTION>, e.g. XENG_SIM_PORT=0.",
    )
    for name, (text, kind) in SIMULATOR_OPTIONS.items():
        sim.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, help=text)


def simulator_config_from(args: argparse.Namespace, environ: Mapping[str, str]) -> Any:
    """Flags first, then XENG_SIM_* variables; raises ValueError naming a bad value."""
    from bot.simulator.server import SimulatorConfig

    values: dict[str, Any] = {}
    for name, (_, kind) in SIMULATOR_OPTIONS.items():
        value = getattr(args, name, None)
        if value is None and f"XENG_SIM_{name.upper()}" in environ:
            raw = environ[f"XENG_SIM_{name.upper()}"]
            try:
                value = kind(raw)
            except ValueError:
                raise ValueError(
                    terminal.sim_setting_type(f"XENG_SIM_{name.upper()}", kind.__name__)
                ) from None
        if value is not None:
            values[name] = value
    runtime = {k: values.pop(k) for k in list(values) if k in RUNTIME_OPTIONS}
    if "faults" in values:
        try:
            values["faults"] = json.loads(values["faults"])
        except ValueError:
            raise ValueError(terminal.SIM_FAULTS_NOT_OBJECT) from None
    if "start_time" in values:
        try:
            values["start_time"] = datetime.fromisoformat(
                values["start_time"].replace("Z", "+00:00")
            )
        except ValueError:
            raise ValueError(terminal.SIM_START_NOT_INSTANT) from None
    if "frozen" in values:
        values["frozen"] = str(values["frozen"]).lower() in ("1", "true", "yes", "on")
    values.setdefault("port", 8787)
    return SimulatorConfig(**values, options=runtime)


def _stop_on_signal(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_simulator(
    args: argparse.Namespace, environ: Mapping[str, str], *, out: TextIO, err: TextIO
) -> int:
    from bot.simulator.server import make_server

    try:
        config = simulator_config_from(args, environ)
        server = make_server(config)
    except (ValueError, OSError) as error:
        err.write(f"engagement-bot simulator: {error}\n")
        return EXIT_USAGE if isinstance(error, ValueError) else EXIT_FAILURE
    host, port = str(server.server_address[0]), int(server.server_address[1])
    scheme = "https" if server.tls else "http"
    universe = server.state.universe
    logging.getLogger("bot.simulator").info(
        "mode %s, seed %s, %d accounts, %d Posts",
        server.state.mode,
        universe.seed,
        len(universe.accounts),
        len(universe.posts),
    )
    for account in universe.accounts:
        ids = [str(p.id) for p in universe.posts.values() if p.author == account.user_id]
        logging.getLogger("bot.simulator").info("@%s Posts: %s", account.screen_name, " ".join(ids))
    out.write(f"listening on {scheme}://{host}:{port}\n")
    out.flush()
    signal.signal(signal.SIGTERM, _stop_on_signal)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_OK
