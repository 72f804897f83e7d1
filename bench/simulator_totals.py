"""Throughput of the simulator's /totals with 250 Post IDs per request.

Starts `engagement-bot simulator` as a subprocess on a free loopback port with a universe of
5,000 Posts and no effective rate limit, then drives it from LOAD_PROCESSES processes, each with
CONNECTIONS keep-alive connections, for DURATION seconds per auth mode. Every request asks for
250 distinct Posts (random, from a fixed seed) and every response is checked: status 200, gzip,
250 Posts in the body.

    .venv/bin/python bench/simulator_totals.py [--duration 10]

Prints requests/s for app-only (Bearer, public metrics) and user-context (OAuth 1.0a, all
/totals metrics) requests, and the ratio to the 200 requests/s target.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import multiprocessing
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from oauthlib.oauth1 import Client as OAuth1Signer

TARGET = 200.0
POSTS = 5_000
IDS_PER_REQUEST = 250
START = datetime(2026, 11, 26, 12, tzinfo=UTC)


def make_universe(path: Path) -> None:
    posts = []
    for i in range(POSTS):
        created = START - timedelta(hours=1 + (i * 7919) % (24 * 80), minutes=i % 60)
        posts.append(
            {
                "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "author": "bench_brand",
                "has_video": i % 3 == 0,
            }
        )
    doc = {
        "seed": 3,
        "start_time": START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "apps": [
            {
                "name": "default",
                "consumer_key": "bench-key",
                "consumer_secret": "bench-secret",
                "rate_limits": {"totals": 10_000_000},
            }
        ],
        "accounts": [
            {
                "user_id": "2000000001",
                "screen_name": "bench_brand",
                "tokens": [
                    {
                        "app": "default",
                        "access_token": "2000000001-bench",
                        "access_token_secret": "bench-token-secret",
                    }
                ],
            }
        ],
        "posts": posts,
    }
    path.write_text(json.dumps(doc))


def start_simulator(universe: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "simulator",
            "--mode",
            "test",
            "--port",
            "0",
            "--universe",
            str(universe),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"simulator did not start: {line!r}")
    return proc, line.removeprefix("listening on ")


def admin_get(url: str, path: str) -> dict:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", path)
    return json.loads(conn.getresponse().read())


def bearer_token(url: str) -> str:
    import base64

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    basic = base64.b64encode(b"bench-key:bench-secret").decode()
    conn.request(
        "POST",
        "/oauth2/token",
        body="grant_type=client_credentials",
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    return json.loads(conn.getresponse().read())["access_token"]


def worker(
    url: str,
    mode: str,
    token: str,
    ids: list[str],
    duration: float,
    connections: int,
    seed: int,
    results: multiprocessing.Queue,
) -> None:
    parts = urlsplit(url)
    metrics = ["favorites", "retweets", "quote_tweets", "replies", "video_views"]
    if mode == "user":
        metrics = ["impressions", "engagements", *metrics]
    counts = [0] * connections
    failures: list[str] = []
    deadline = time.monotonic() + duration

    def loop(slot: int) -> None:
        rng = random.Random(seed * 100 + slot)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        signer = OAuth1Signer("bench-key", "bench-secret", "2000000001-bench", "bench-token-secret")
        target = url + "/insights/engagement/totals"
        while time.monotonic() < deadline:
            body = json.dumps(
                {
                    "tweet_ids": rng.sample(ids, IDS_PER_REQUEST),
                    "engagement_types": metrics,
                    "groupings": {"g": {"group_by": ["tweet.id", "engagement.type"]}},
                }
            )
            headers = {"Content-Type": "application/json", "Accept-Encoding": "gzip"}
            if mode == "user":
                _, signed, _ = signer.sign(target, http_method="POST")
                headers["Authorization"] = signed["Authorization"]
            else:
                headers["Authorization"] = f"Bearer {token}"
            conn.request("POST", "/insights/engagement/totals", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            if response.status != 200:
                failures.append(f"{response.status} {payload[:200]!r}")
                break
            if len(json.loads(gzip.decompress(payload))["g"]) != IDS_PER_REQUEST:
                failures.append("wrong number of Posts in a reply")
                break
            counts[slot] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put((sum(counts), failures))


def run_mode(
    url: str,
    mode: str,
    token: str,
    ids: list[str],
    duration: float,
    processes: int,
    connections: int,
) -> float:
    results: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(
            target=worker, args=(url, mode, token, ids, duration, connections, i, results)
        )
        for i in range(processes)
    ]
    started = time.monotonic()
    for p in procs:
        p.start()
    outcomes = [results.get() for _ in procs]
    elapsed = time.monotonic() - started
    for p in procs:
        p.join()
    failures = [f for _, fs in outcomes for f in fs]
    if failures:
        raise SystemExit(f"{mode}: {len(failures)} failed request(s), e.g. {failures[0]}")
    return sum(n for n, _ in outcomes) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per mode")
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--connections", type=int, default=4, help="connections per process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        universe = Path(tmp) / "universe.json"
        make_universe(universe)
        proc, url = start_simulator(universe)
        try:
            ids = [p["id"] for p in admin_get(url, "/_sim/state")["posts"]]
            token = bearer_token(url)
            print(
                f"simulator {url}: {len(ids)} Posts; {args.processes} processes x "
                f"{args.connections} connections, {args.duration:.0f} s per mode"
            )
            for mode, label in (
                ("app-only", "app-only (Bearer), 5 public metrics"),
                ("user", "user context (OAuth 1.0a), 7 metrics"),
            ):
                rate = run_mode(
                    url, mode, token, ids, args.duration, args.processes, args.connections
                )
                print(
                    f"/totals x {IDS_PER_REQUEST} IDs, {label}: {rate:7.1f} requests/s "
                    f"= {rate / TARGET:.2f} x the {TARGET:.0f}/s target"
                )
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
