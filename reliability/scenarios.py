"""The scenarios. Each returns Verdicts: what was tried, and whether nothing was lost."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from bot.jobs.retries import RETRY_FIRST
from bot.slack.app import COMMAND_THREADS, LISTENER_THREADS, QUICK_THREADS
from reliability import store_check
from reliability.procs import Bot, Simulator, bot_env, cli, connect_brand, free_port, wall_now
from reliability.slack import (
    ACK_LIMIT_S,
    Sent,
    answers,
    send,
    send_all,
    tally,
    texts,
    wait_answered,
)
from tests.support.fake_slack import BOT_USER_ID, FakeSlack

ANSWER_TIMEOUT_S = 90.0


@dataclass
class Verdict:
    scenario: str
    tried: str
    ok: bool
    result: str
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        mark = "PASS" if self.ok else "FAIL"
        return f"[{mark}] {self.scenario}: {self.tried} -> {self.result}"


@dataclass
class Context:
    folder: Path
    start: datetime  # every simulator's frozen clock
    owned: list[str] = field(default_factory=list)  # @sim_brand's Posts, newest first
    unowned: list[str] = field(default_factory=list)  # @sim_creator's
    protected: list[str] = field(default_factory=list)  # @sim_private's
    clean_db: Path | None = None  # scenario 1's fault-free store, the reference
    clean_sim: Simulator | None = None  # fault-free simulator, reused by 2 and 5
    closers: list[Callable[[], object]] = field(default_factory=list)

    def sim(self, name: str) -> Simulator:
        sim = Simulator(self.start, self.folder / f"{name}.log")
        self.closers.append(sim.close)
        if not self.owned:
            state = sim.admin("GET", "state")
            by = {a["user_id"]: a["screen_name"] for a in state["accounts"]}

            def posts(handle: str) -> list[str]:
                mine = [p for p in state["posts"] if by.get(p["author"]) == handle]
                mine.sort(key=lambda p: p["created_at"], reverse=True)
                return [p["id"] for p in mine]

            self.owned = posts("sim_brand")
            self.unowned = posts("sim_creator")
            self.protected = posts("sim_private")
        return sim

    def shared_sim(self) -> Simulator:
        """The fault-free simulator of (1), started here when (1) did not run."""
        if self.clean_sim is None:
            self.clean_sim = self.sim("sim-clean")
        return self.clean_sim

    def fake(self) -> FakeSlack:
        fake = FakeSlack()
        self.closers.append(fake.close)
        return fake

    def bot(
        self,
        name: str,
        sim: Simulator,
        fake: FakeSlack,
        db: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> Bot:
        db = db or self.folder / f"{name}.db"
        env = bot_env(sim, fake, db, port=free_port(), more=env)
        if not db.exists():
            connect_brand(env, self.folder)
        bot = Bot(env, self.folder, self.folder / f"{name}.log")
        self.closers.append(bot.stop)
        return bot

    def restart(self, bot: Bot, name: str) -> Bot:
        again = Bot(bot.env, self.folder, self.folder / f"{name}.log")
        self.closers.append(again.stop)
        return again


def db_of(bot: Bot) -> Path:
    return Path(bot.env["ENGAGEMENT_DB"])


def x_seen(log: list[dict[str, Any]]) -> str:
    """What the simulator answered: '57 requests: ok 40, 429 6, ...'."""
    kinds = Counter(
        f"truncated {r.get('status')}"
        if r.get("fault") == "truncate"
        else str(r.get("fault") or r.get("status"))
        for r in log
    )
    parts = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    return f"{len(log)} requests ({parts})"


def acks_ok(sent: list[Sent]) -> tuple[bool, float]:
    worst = max((s.ack_s for s in sent), default=0.0)
    return all(s.status == 200 and s.ack_s < ACK_LIMIT_S for s in sent), worst


# -- 1. refresh under X faults --------------------------------------------------------------------

FAULTS_A = {  # every fault kind at least once (queue), then a seeded mix
    "seed": 11,
    "queue": ["429", "500", "reset", "truncate", "502", "503"],
    "burst_429": {"every": 9, "length": 2, "offset": 8},
    "error_rate": 0.1,
    "reset_rate": 0.05,
    "truncate_rate": 0.08,
    "truncate_mode": "bad_gzip",
    "latency_ms": 30,
    "latency_jitter_ms": 150,
}
FAULTS_B = FAULTS_A | {
    "seed": 12,
    "queue": ["truncate", "503", "reset"],
    "truncate_mode": "short_body",
}
# X's 400 for a batch with protected Posts, its gzip body cut in half: a broken body like any
# other, to be retried (docs/simulator.md#client-retries), then the batch bisected as usual.
FAULTS_C = {"seed": 13, "queue": ["truncate"], "truncate_mode": "bad_gzip"}


def workload(ctx: Context, today: date) -> list[list[str]]:
    """Three phases of slash commands (under FAULTS_A, _B, _C): hour-sensitive ones first; the
    third asks for protected Posts' totals (see FAULTS_C)."""
    owned, unowned = ctx.owned, ctx.unowned
    last = today - timedelta(days=1)
    first = [f"hourly {p}" for p in owned[:4]]
    first += [
        "totals " + " ".join(owned[:15]),
        "totals " + " ".join(unowned[:12]),
    ]
    second = [f"daily {p} from {last - timedelta(days=45)} to {last}" for p in owned[4:8]]
    second += [
        "totals " + " ".join(owned[15:] + unowned[12:20]),
        f"daily {owned[20]} from {last - timedelta(days=400)} to {last}",
    ]
    return [first, second, ["totals " + " ".join(ctx.protected[:2] + unowned[20:26])]]


def run_workload(
    bot: Bot, sim: Simulator, fake: FakeSlack, phases: list[list[str]], faults: list[Any], tag: str
) -> tuple[list[Sent], dict[str, list[str]]]:
    sent: list[Sent] = []
    for n, (commands, config) in enumerate(zip(phases, faults, strict=True)):
        sim.faults(config)
        batch = [(f"{tag}-{n}-{i}", text) for i, text in enumerate(commands)]
        sent += send_all(bot.url, fake, batch, concurrency=len(batch))
        wait_answered(fake, [rid for rid, _ in batch], timeout=ANSWER_TIMEOUT_S)
    return sent, answers(fake, [s.rid for s in sent])


def refresh_under_x_faults(ctx: Context) -> list[Verdict]:
    clean_sim, faulty_sim = ctx.shared_sim(), ctx.sim("sim-faulty")
    clean_fake, faulty_fake = ctx.fake(), ctx.fake()
    clean_bot = ctx.bot("s1-clean", clean_sim, clean_fake)
    faulty_bot = ctx.bot("s1-faulty", faulty_sim, faulty_fake)
    phases = workload(ctx, wall_now().date())
    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        clean = pool.submit(
            run_workload, clean_bot, clean_sim, clean_fake, phases, [None] * 3, "clean"
        )
        faults = [FAULTS_A, FAULTS_B, FAULTS_C]
        faulty = pool.submit(run_workload, faulty_bot, faulty_sim, faulty_fake, phases, faults, "x")
        (clean_sent, clean_answers), (sent, got) = clean.result(), faulty.result()
    elapsed = time.monotonic() - started
    x_log = faulty_sim.request_log()  # both phases
    metered = metrics_of(faulty_bot)
    faulty_sim.faults(None)
    clean_bot.stop(), faulty_bot.stop()
    ctx.clean_db = db_of(clean_bot)
    expected, actual = (
        store_check.snapshot(db_of(clean_bot)),
        store_check.snapshot(db_of(faulty_bot)),
    )
    third = set(phases[2][0].split()[1:])  # the Posts of the FAULTS_C phase
    diffs = store_check.differences(expected, actual, skip=third)
    diffs_c = store_check.differences(expected, actual, only=third)
    integrity = store_check.integrity(db_of(faulty_bot))
    rids = [s.rid for s in sent]
    last = [r for r in rids if r.startswith("x-2-")]
    got_ab = {r: got[r] for r in rids if r not in last}
    unanswered, answered, duplicated = tally(got_ab)
    ok_acks, worst = acks_ok(sent + clean_sent)
    failing = re.compile(r"X's engagement API|X did not answer")
    errors = [r for r in got_ab if failing.search(texts(faulty_fake, r))]
    ok = not diffs and integrity == "ok" and not unanswered and not duplicated and ok_acks
    ok = ok and not errors and not tally(clean_answers)[0]
    n = len(got_ab)
    tried = (
        f"{n} slash commands (hourly x4, daily x5, totals x3 over {len(ctx.owned)} owned and "
        f"{len(ctx.unowned)} unowned Posts) sent to `run` twice, fault-free and with X faults "
        "(queue 429/500/reset/truncate/502/503, 429 bursts, 10% 5xx, 5% resets, 8% truncated: "
        "bad_gzip then short_body, 30-180 ms latency)"
    )
    result = (
        f"{answered}/{n} answered once ({duplicated} twice, {len(errors)} with an X error), "
        f"acks <= {worst:.2f} s; store {store_check.sizes(actual)}: "
        + ("equal to the fault-free run" if not diffs else "DIFFERENT: " + "; ".join(diffs))
        + f"; integrity {integrity}; {elapsed:.0f} s"
    )
    verdict = Verdict("1 X faults", tried, ok, result)
    verdict.notes.append(f"the faulty simulator answered {x_seen(x_log)}")
    verdict_m = metrics_verdict(x_log, metered)
    unanswered_c, answered_c, _ = tally({r: got[r] for r in last})
    verdict_c = Verdict(
        "1b truncated 400",
        "`totals` of 2 protected and 6 other Posts; X's first answer (400: protected Posts) "
        "arrives with its gzip body cut in half (truncate, bad_gzip)",
        not diffs_c and not unanswered_c,
        f"answered {answered_c}/1; store "
        + (
            "equal to the fault-free run"
            if not diffs_c
            else "DIFFERENT: " + "; ".join(diffs_c) + " -> the broken 400 was taken as final "
            "(`X API totals failed after 1 attempts: totals: HTTP 400`): no retry, no "
            "bisection, every Post of the batch reported as failed"
        ),
    )
    return [verdict, verdict_c, verdict_m]


def metrics_of(bot: Bot) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """The bot's GET /metrics, as {sample name: {sorted labels: value}}."""
    from prometheus_client.parser import text_string_to_metric_families

    text = requests.get(f"{bot.url}/metrics", timeout=10).text
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def metrics_verdict(
    x_log: list[dict[str, Any]], metered: dict[str, dict[tuple[tuple[str, str], ...], float]]
) -> Verdict:
    """/metrics against the simulator's request log: the same requests, the same 429s."""
    engagement = [r for r in x_log if r.get("endpoint") in ("totals", "28hr", "historical")]
    # A 429 whose body arrives cut short is, to the client, a broken reply (status 0).
    logged_429 = sum(1 for r in engagement if r["status"] == 429 and r["fault"] != "truncate")
    requests_ = metered.get("engagement_x_requests_total", {})
    counted = sum(requests_.values())
    counted_429 = sum(v for labels, v in requests_.items() if ("status", "429") in labels)
    retries = sum(metered.get("engagement_x_retries_total", {}).values())
    waits = sum(metered.get("engagement_x_rate_limit_waits_total", {}).values())
    waited = sum(metered.get("engagement_x_rate_limit_wait_seconds_total", {}).values())
    # Every answer X gave that a retry can help (429, 5xx, reset, cut short) was retried.
    retryable = sum(
        1
        for r in engagement
        if r["status"] in (0, 429) or r["status"] >= 500 or r["fault"] == "truncate"
    )
    ok = counted == len(engagement) and counted_429 == logged_429 and retries == retryable
    ok = ok and (waits > 0) == (logged_429 > 0)
    return Verdict(
        "1c /metrics",
        "GET /metrics of the faulty run's `run`, scraped after its commands, against the "
        "faulty simulator's request log",
        ok,
        f"engagement requests {counted:.0f} counted / {len(engagement)} logged; 429s "
        f"{counted_429:.0f} / {logged_429}; retries {retries:.0f} / {retryable} retryable "
        f"answers logged; rate-limit waits "
        f"{waits:.0f} ({waited:.1f} s)",
    )


# -- 2. Slack faults ------------------------------------------------------------------------------


def wait_log(bot: Bot, pattern: str, timeout: float = 30) -> str | None:
    """The first line of the bot's log matching `pattern` (regex), waiting up to `timeout`."""
    path = Path(bot.log.name)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for line in path.read_text(errors="replace").splitlines():
            if re.search(pattern, line):
                return line
        time.sleep(0.1)  # the log of another process
    return None


def posted_to(fake: FakeSlack, channel: str) -> int:
    return sum(
        1
        for c in fake.api_calls("chat.postMessage")
        if c.status == 200 and c.body.get("channel") == channel and "thread_ts" not in c.body
    )


def attempts_to(fake: FakeSlack, channel: str) -> int:
    return sum(1 for c in fake.api_calls("chat.postMessage") if c.body.get("channel") == channel)


def setup_digest_channel(bot: Bot, fake: FakeSlack, channel: str, at: str) -> None:
    """`track @sim_brand` and `digest on <at>` typed in `channel` (by an admin)."""
    for i, text in enumerate(("track @sim_brand", f"digest on {at}")):
        rid = f"setup-{channel}-{i}"
        send(bot.url, fake, rid, text, channel=channel)
        got = wait_answered(fake, [rid], timeout=30)
        if not got[rid]:
            raise RuntimeError(f"`{text}` in {channel} was not answered")


def slack_faults(ctx: Context) -> list[Verdict]:
    sim, fake = ctx.shared_sim(), ctx.fake()
    bot = ctx.bot("s2", sim, fake)
    verdicts = []

    # response_url failing: the command's only way back to the person
    for status in (503, 500, 429):
        rid = f"resp-{status}"
        fake.fail_next("response", status=status, retry_after=1 if status == 429 else None)
        ack = send(bot.url, fake, rid, "help")
        got = wait_answered(fake, [rid], timeout=4)  # `help` is answered in ~50 ms
        tries = len(fake.calls(rid, kind="response"))
        ok = ack.status == 200 and len(got[rid]) == 1
        verdicts.append(
            Verdict(
                f"2 response_url {status}",
                f"`/engagement help` while its response_url answers {status} once",
                ok,
                f"ack {ack.status}; {tries} POST(s) to response_url, "
                f"{len(got[rid])} accepted"
                + ("" if ok else " -> the answer is LOST (no retry of a failed response_url)"),
            )
        )

    # a chart upload rate limited once: retried after Retry-After, numbers and chart arrive
    rid = "chart-429"
    fake.fail_next("files.completeUploadExternal", status=429, retry_after=1)
    send(bot.url, fake, rid, f"hourly {ctx.owned[0]}")
    if wait_answered(fake, [rid], timeout=30)[rid]:  # the numbers first, then the chart
        with contextlib.suppress(AssertionError):
            fake.wait_for(
                lambda calls: any(
                    c.method == "files.completeUploadExternal" and c.status == 200 for c in calls
                ),
                timeout=30,
            )
    got = answers(fake, [rid])
    uploads = [c.status for c in fake.api_calls("files.completeUploadExternal")]
    ok = (
        len(got[rid]) == 1
        and uploads[-1:] == [200]
        and "couldn't be attached" not in texts(fake, rid)
    )
    verdicts.append(
        Verdict(
            "2 files 429",
            "`hourly` whose chart upload (files.completeUploadExternal) is answered 429 once",
            ok,
            f"answered {len(got[rid])}x; completeUploadExternal statuses {uploads}",
        )
    )

    # the digest: chat.postMessage 429 (Retry-After 1) then 503, then fine
    later = (wall_now() + timedelta(hours=6)).strftime("%H:%M")
    setup_digest_channel(bot, fake, "C0SLACKDIG", later)
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    fake.fail_next("chat.postMessage", status=503)
    done = cli(["digest", "--channel", "C0SLACKDIG"], bot.env, ctx.folder)
    again = cli(["digest", "--channel", "C0SLACKDIG"], bot.env, ctx.folder)
    statuses = [
        c.status
        for c in fake.api_calls("chat.postMessage")
        if c.body.get("channel") == "C0SLACKDIG" or c.status != 200
    ]
    n = posted_to(fake, "C0SLACKDIG")
    ok = done.returncode == 0 and "posted" in done.stdout and n == 1 and again.returncode == 0
    verdicts.append(
        Verdict(
            "2 digest 429+503",
            "`engagement-bot digest` while chat.postMessage answers 429 (Retry-After 1), then "
            "503; then the same digest again",
            ok,
            f"{done.stdout.strip() or done.stderr.strip()[-200:]}; again: "
            f"{again.stdout.strip() or again.stderr.strip()[-200:]}; chat.postMessage statuses "
            f"{statuses}; {n} digest message(s) in the channel",
        )
    )

    # channel_not_found: the channel is paused with its reason, not retried forever
    setup_digest_channel(bot, fake, "C0GONE", later)
    fake.missing.add("C0GONE")
    first = cli(["digest", "--channel", "C0GONE"], bot.env, ctx.folder)
    tries_after_first = attempts_to(fake, "C0GONE")
    second = cli(["digest", "--channel", "C0GONE"], bot.env, ctx.folder)
    tries = attempts_to(fake, "C0GONE")
    reason = store_check.paused_reason(db_of(bot), "C0GONE")
    rid = "gone-tracked"
    send(bot.url, fake, rid, "tracked", channel="C0GONE")
    wait_answered(fake, [rid], timeout=15)
    told = "Digests and alerts are paused here" in texts(fake, rid) and bool(
        reason and reason in texts(fake, rid)
    )
    ok = (
        first.returncode == 1
        and "paused" in first.stdout
        and reason is not None
        and tries_after_first == 1
        and tries == 1
        and "paused" in second.stdout
        and told
    )
    verdicts.append(
        Verdict(
            "2 channel_not_found",
            "digest to a channel Slack says channel_not_found for, twice; then `tracked` there",
            ok,
            f"{first.stdout.strip()}; again: {second.stdout.strip()}; chat.postMessage attempts "
            f"{tries}; paused_reason {reason!r}; the next command there is told: "
            f"{'yes' if told else 'NO'}",
        )
    )
    bot.stop()
    return verdicts


# -- 3. kill -9 mid-refresh -----------------------------------------------------------------------


def kill_mid_refresh(ctx: Context) -> list[Verdict]:
    assert ctx.clean_db is not None
    sim, fake = ctx.sim("sim-kill"), ctx.fake()
    bot = ctx.bot("s3", sim, fake)
    phases = workload(ctx, wall_now().date())
    commands = [c for phase in phases for c in phase]
    sim.faults({"latency_ms": 300, "latency_jitter_ms": 4000, "seed": 5})
    batch = [(f"k-{i}", text) for i, text in enumerate(commands)]
    send_all(bot.url, fake, batch, concurrency=len(batch))
    rids = [r for r, _ in batch]
    third = len(rids) // 3

    def some_answered(_: object) -> bool:
        return sum(1 for bodies in answers(fake, rids).values() if bodies) >= third

    fake.wait_for(some_answered, timeout=60)
    before = sum(1 for bodies in answers(fake, rids).values() if bodies)
    x_done = len(sim.request_log())
    code = bot.kill9()
    integrity_after_kill = store_check.integrity(db_of(bot))
    sim.faults(None)
    again = ctx.restart(bot, "s3-restarted")
    retry = [(f"k2-{i}", text) for i, text in enumerate(commands)]
    sent = send_all(again.url, fake, retry, concurrency=len(retry))
    got = wait_answered(fake, [r for r, _ in retry], timeout=ANSWER_TIMEOUT_S)
    again.stop()
    unanswered, answered, duplicated = tally(got)
    integrity = store_check.integrity(db_of(bot))
    diffs = store_check.differences(
        store_check.snapshot(ctx.clean_db), store_check.snapshot(db_of(bot))
    )
    ok = (
        integrity_after_kill == "ok"
        and integrity == "ok"
        and not diffs
        and not unanswered
        and not duplicated
        and acks_ok(sent)[0]
    )
    return [
        Verdict(
            "3 kill -9 refresh",
            f"the {len(commands)} commands of (1) with X at 0.3-4.3 s per request; SIGKILL of "
            f"`run` (exit {code}) once {before} were answered ({len(commands) - before} "
            f"in flight); restart on the same DB; the {len(commands)} commands again",
            ok,
            f"integrity after the kill {integrity_after_kill}, after the retry {integrity}; "
            f"retry answered {answered}/{len(commands)} ({duplicated} twice); store "
            + ("equal to the fault-free run" if not diffs else "DIFFERENT: " + "; ".join(diffs))
            + f"; restart ready in {again.ready_s:.1f} s",
            [f"X engagement requests the simulator had answered before the kill: {x_done}"],
        )
    ]


# -- 4. kill -9 mid-digest ------------------------------------------------------------------------


def wait_claim(db: Path, channel: str, timeout: float) -> list[tuple[object, ...]]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            rows = store_check.digest_rows(db, channel)
        except Exception:  # the table may not be there yet, or locked for a moment
            rows = []
        if rows:
            return rows
        time.sleep(0.05)  # another process's database
    return []


class SlowPostFake(FakeSlack):
    """The fake Slack, holding its answer to chat.postMessage for `post_delay` seconds: the
    message is in the channel (conversations.history has it once the delay is over) but the
    bot, killed meanwhile, never learns its ts."""

    def __post_init__(self) -> None:
        super().__post_init__()
        # the killed bot's socket is gone when the answer leaves: no traceback for that
        self.server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self.post_delay = 0.0
        self.posting = threading.Event()

    def answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "chat.postMessage" and self.post_delay:
            self.posting.set()
            time.sleep(self.post_delay)
        return super().answer(method, body)


def digest_outcome(
    bot: Bot, channel: str, timeout: float, none: str = "(no digest outcome logged)"
) -> str:
    """What the bot's scheduler logged about the channel's digest ('digest C 2026-…: …')."""
    line = wait_log(bot, rf"digest {channel} \S+: ", timeout=timeout)
    return line[line.find(f"digest {channel}") :].strip() if line else none


def digest_later(bot: Bot, channel: str, day: date, advance_s: int, *, timeout: float = 120) -> str:
    """`python -m reliability.digest_later`: the product's digest run, its clock ahead."""
    done = subprocess.run(
        [sys.executable, "-m", "reliability.digest_later", "--channel", channel]
        + ["--date", day.isoformat(), "--advance", str(advance_s)],
        env=bot.env,
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done.stdout.strip() or done.stderr.strip()[-300:]


def digest_cli(ctx: Context, bot: Bot, channel: str, day: date) -> str:
    done = cli(["digest", "--channel", channel, "--date", day.isoformat()], bot.env, ctx.folder)
    return done.stdout.strip() or done.stderr.strip()[-300:]


STALE_S = 330  # CLAIM_STALE_AFTER (5 min) and a half
RETRY_S = int(RETRY_FIRST.total_seconds())  # when a restarted `run` tries a held date again


def kill_mid_digest(ctx: Context) -> list[Verdict]:
    """SIGKILL while the restarted `run`'s catch-up digest gathers (claimed, nothing posted)."""
    sim, fake = ctx.sim("sim-digest"), ctx.fake()
    channel = "C0DIGEST"
    bot = ctx.bot("s4", sim, fake)
    # a digest time earlier today: every start of `run` catches up yesterday's digest (late)
    at = (wall_now() - timedelta(minutes=30)).strftime("%H:%M")
    setup_digest_channel(bot, fake, channel, at)
    day = wall_now().date() - timedelta(days=1)
    bot.kill9()
    if posted_to(fake, channel):
        return [Verdict("4 kill -9 digest", "setup", False, "a digest was posted before the kill")]
    sim.faults({"latency_ms": 1500, "seed": 3})  # slow X: the digest stays in flight
    db = db_of(bot)
    second = ctx.restart(bot, "s4-second")
    claims = wait_claim(db, channel, timeout=30)
    killed_while = "it gathered (claimed, no ts)" if claims and claims[0][2] is None else "?"
    day = date.fromisoformat(str(claims[0][0])) if claims else day  # the date it claimed
    second.kill9()
    sim.faults(None)
    integrity = store_check.integrity(db)
    third = ctx.restart(bot, "s4-third")
    outcome = digest_outcome(third, channel, timeout=60)
    retry = wait_log(third, rf"digest of {day} for \S+/{channel} did not go out", timeout=10)
    posted_after_restart = posted_to(fake, channel)
    third.stop()
    later = digest_later(bot, channel, day, RETRY_S)
    posted_stale = posted_to(fake, channel)
    fourth = ctx.restart(bot, "s4-fourth")
    fourth_outcome = digest_outcome(fourth, channel, timeout=5, none="no digest due, none run")
    fourth.stop()
    again = digest_cli(ctx, bot, channel, day)
    total = posted_to(fake, channel)
    held = posted_after_restart == 0 and ": busy" in outcome and retry is not None
    return [
        Verdict(
            "4a kill -9 digest",
            f"digest on in {channel}; `run` restarted with X at 1.5 s per request: its catch-up "
            f"claimed {day} and was SIGKILLed while {killed_while}; `run` restarted at once",
            held and integrity == "ok",
            f"integrity {integrity}; the restarted run: {outcome}; digests in the channel: "
            f"{posted_after_restart}; "
            + (
                f"it schedules a retry ({retry.split(': ', 1)[-1].strip()})"
                if retry
                else "NO RETRY SCHEDULED: the date stays held by the dead run"
            ),
        ),
        Verdict(
            "4a ... retry",
            f"that retry: the same digest with the clock {RETRY_S // 60} min ahead "
            "(bot.channels.digest.run_digest, python -m reliability.digest_later); then `run` "
            "restarted; then `engagement-bot digest --date`",
            total == 1 and posted_stale == 1,
            f"{later}; restart: {fourth_outcome}; again: {again}; digest messages for {day}: "
            f"{total}",
        ),
    ]


def kill_between_post_and_record(ctx: Context) -> list[Verdict]:
    """SIGKILL after chat.postMessage reached Slack and before the bot recorded its ts."""
    sim, fake = ctx.shared_sim(), SlowPostFake()
    ctx.closers.append(fake.close)
    channel = "C0DIGEST2"
    bot = ctx.bot("s4b", sim, fake)
    at = (wall_now() - timedelta(minutes=30)).strftime("%H:%M")
    setup_digest_channel(bot, fake, channel, at)
    day = wall_now().date() - timedelta(days=1)
    bot.kill9()
    fake.post_delay = 3.0
    second = ctx.restart(bot, "s4b-second")
    in_post = fake.posting.wait(timeout=60)
    second.kill9()
    fake.wait_for(lambda calls: posted_to(fake, channel) >= 1, timeout=10)
    fake.post_delay = 0.0
    claims = store_check.digest_rows(db_of(bot), channel)
    unrecorded = bool(claims) and claims[0][2] is None
    day = date.fromisoformat(str(claims[0][0])) if claims else day  # the date it claimed
    third = ctx.restart(bot, "s4b-third")
    outcome = digest_outcome(third, channel, timeout=60)
    third.stop()
    after_restart = posted_to(fake, channel)
    later = digest_later(bot, channel, day, STALE_S)
    again = digest_cli(ctx, bot, channel, day)
    total = posted_to(fake, channel)
    ok = in_post and unrecorded and after_restart == 1 and "reconciled" in later and total == 1
    return [
        Verdict(
            "4b kill -9 post/record",
            f"the restarted `run`'s catch-up digest for {channel} SIGKILLed while Slack held "
            "its chat.postMessage answer (message in the channel, ts never recorded: "
            f"{'yes' if unrecorded else 'NO'}); restart; the same digest 5.5 min later; "
            "`engagement-bot digest --date`",
            ok,
            f"restart: {outcome}; 5.5 min later: {later}; again: {again}; digest messages for "
            f"{day}: {total}",
        ),
    ]


# -- 5. soak ---------------------------------------------------------------------------------------


def soak(ctx: Context, n: int = 300, concurrency: int = 20) -> list[Verdict]:
    sim, fake = ctx.shared_sim(), ctx.fake()
    bot = ctx.bot("s5", sim, fake)
    owned, unowned = ctx.owned, ctx.unowned
    kinds: list[Callable[[int], str]] = [
        lambda i: "help",
        lambda i: f"totals {owned[i % len(owned)]}",
        lambda i: f"totals {unowned[i % len(unowned)]} {owned[(i + 1) % len(owned)]}",
        lambda i: f"hourly {owned[i % 5]}",
        lambda i: f"daily {owned[i % len(owned)]} 7d",
        lambda i: "tracked",
        lambda i: "top likes 5 7d",
        lambda i: "usage",
        lambda i: "accounts",
        lambda i: "topp",
        lambda i: f"track {owned[i % len(owned)]}",
    ]
    samples = [("start", *bot.usage())]
    x_faulted = ""
    sent: list[Sent] = []
    third = n // 3
    started = time.monotonic()
    for phase, faults in (
        ("clean", None),
        (
            "X faults",
            {
                "seed": 9,
                "error_rate": 0.1,
                "reset_rate": 0.03,
                "latency_ms": 50,
                "burst_429": {"every": 25, "length": 2, "offset": 0},
            },
        ),
        ("clean", None),
    ):
        sim.faults(faults)
        logged = len(sim.request_log())
        base = len(sent)
        batch = [(f"s-{i}", kinds[i % len(kinds)](i)) for i in range(base, base + third)]
        sent += send_all(bot.url, fake, batch, concurrency=concurrency)
        wait_answered(fake, [r for r, _ in batch], timeout=ANSWER_TIMEOUT_S)
        samples.append((f"after {len(sent)} ({phase})", *bot.usage()))
        if faults is not None:
            x_faulted = x_seen(sim.request_log()[logged:])
    sim.faults(None)
    elapsed = time.monotonic() - started
    time.sleep(2)  # let the pools go idle before the last sample
    samples.append(("idle 2 s later", *bot.usage()))
    bot.stop()
    got = answers(fake, [s.rid for s in sent])
    unanswered, answered, duplicated = tally(got)
    ok_acks, worst = acks_ok(sent)
    acks = sorted(s.ack_s for s in sent)
    p99 = acks[max(0, int(len(acks) * 0.99) - 1)]
    rss = [s[1] for s in samples]
    threads = [s[2] for s in samples]
    # bounded: threads never above the pools' sizes (Bolt's listeners, the command pool, the
    # X executor's workers) plus the HTTP server's and the scheduler's few; RSS: once the first
    # third has warmed caches up, the last third adds less than half of what the first did
    # (a leak grows by the same amount every third; 1,200 commands gave +118, +16, +2 MiB)
    cap = threads[0] + LISTENER_THREADS + COMMAND_THREADS + QUICK_THREADS + 4 + 4 + 1  # + alarm
    warm_up, last = rss[1] - rss[0], rss[3] - rss[2]
    bounded = max(threads) <= cap and last < warm_up / 2
    crashed = [r for r in got if "Something went wrong" in texts(fake, r)]
    x_errors = [r for r in got if re.search(r"X's engagement API|X did not answer", texts(fake, r))]
    ok = ok_acks and not unanswered and not duplicated and bounded and not crashed
    usage = "; ".join(f"{name}: RSS {r / 1024:.0f} MiB, {t} threads" for name, r, t in samples)
    return [
        Verdict(
            "5 soak",
            f"{len(sent)} signed commands ({len(kinds)} kinds), {concurrency} at a time; the "
            "middle third with X faults (10% 5xx, 3% resets, 429 bursts, 50 ms)",
            ok,
            f"acks all 200: {all(s.status == 200 for s in sent)}, p99 {p99 * 1000:.0f} ms, max "
            f"{worst * 1000:.0f} ms (limit 3 s); answered {answered}/{len(sent)}, "
            f"{duplicated} twice, {unanswered} unanswered, {len(crashed)} 'something went wrong', "
            f"{len(x_errors)} 'X failing' replies; threads <= {cap} and RSS levelling off: "
            f"{bounded}; "
            f"{elapsed:.0f} s",
            [usage, f"X during the faulted third: {x_faulted}"],
        )
    ]


# -- 6. X hung or dripping ------------------------------------------------------------------------

ANSWER_S = 8  # ENGAGEMENT_ANSWER_SECONDS for scenario 6 (25 by default; shorter to run fast)
LATE_S = 1.5  # what a reply may take past its deadline on a loaded machine


def arrivals(fake: FakeSlack, rids: list[str], since: float, timeout: float) -> dict[str, float]:
    """rid → seconds from `since` until its first accepted answer was seen (missing: none
    within `timeout`). Watched as they come: the fake Slack does not timestamp its calls."""
    seen: dict[str, float] = {}
    end = since + timeout

    def news(_: object) -> bool:
        got = {c.method for c in fake.calls(kind="response") if c.status == 200}
        return bool((got & set(rids)) - set(seen))

    while len(seen) < len(rids) and time.monotonic() < end:
        try:
            fake.wait_for(news, timeout=max(end - time.monotonic(), 0.01))
        except AssertionError:
            break
        now = time.monotonic() - since
        got = {c.method for c in fake.calls(kind="response") if c.status == 200}
        for rid in (got & set(rids)) - set(seen):
            seen[rid] = now
    return seen


def health_of(bot: Bot) -> tuple[int, dict[str, Any]]:
    reply = requests.get(f"{bot.url}/healthz", timeout=5)
    return reply.status_code, reply.json()


def x_hung(ctx: Context) -> list[Verdict]:
    sim, fake = ctx.sim("sim-hung"), ctx.fake()
    bot = ctx.bot("s6", sim, fake, env={"ENGAGEMENT_ANSWER_SECONDS": str(ANSWER_S)})
    verdicts = []
    for kind, faults, n in (
        ("hang", {"hang_rate": 1.0}, 10),
        ("drip", {"drip_rate": 1.0, "drip_ms": 2000}, 4),
    ):
        sim.faults(faults)
        batch = [(f"{kind}-{i}", f"totals {ctx.owned[i]}") for i in range(n)]
        started = time.monotonic()
        sent = send_all(bot.url, fake, batch, concurrency=n)
        help_sent = time.monotonic()
        send(bot.url, fake, f"{kind}-help", "help")
        help_s = arrivals(fake, [f"{kind}-help"], help_sent, timeout=10).get(f"{kind}-help")
        rids = [r for r, _ in batch]
        times = arrivals(fake, rids, started, timeout=ANSWER_S + 10)
        slow = sum("X is slow" in texts(fake, r) for r in rids)
        late = [r for r in rids if times.get(r, float("inf")) > ANSWER_S + LATE_S]
        worst = max(times.values(), default=0.0)
        status, health = health_of(bot)
        ok = (
            not late
            and slow == n
            and help_s is not None
            and help_s < 1.0
            and acks_ok(sent)[0]
            and status == 503
            and "x" in health
        )
        what = (
            "every X request hangs (read, never answered)"
            if kind == "hang"
            else "every X reply drips a byte every 2 s"
        )
        verdicts.append(
            Verdict(
                f"6 X {kind}",
                f"{n} `totals` at once while {what}, then `help`; "
                f"ENGAGEMENT_ANSWER_SECONDS={ANSWER_S}",
                ok,
                f"{n - len(late)}/{n} answered within {ANSWER_S} s (+{LATE_S} s), slowest "
                f"{worst:.1f} s, {slow} saying 'X is slow'; `help` answered in "
                + (f"{help_s:.2f} s" if help_s is not None else "NEVER")
                + f"; /healthz {status} {health.get('x', '')!r}",
            )
        )
    sim.faults(None)
    rid = "recovered"
    started = time.monotonic()
    send(bot.url, fake, rid, f"totals {ctx.owned[0]}")
    took = arrivals(fake, [rid], started, timeout=ANSWER_S + 5).get(rid)
    text = texts(fake, rid)
    ok = took is not None and took < ANSWER_S and "X is slow" not in text and "Likes" in text
    verdicts.append(
        Verdict(
            "6 X recovers",
            "faults cleared; `totals` of the same Post",
            ok,
            f"answered normally in {took:.2f} s"
            if ok
            else f"NOT answered normally: {text[:200]!r}",
        )
    )
    bot.stop()
    return verdicts


# -- 7. Slack slow to let us in ------------------------------------------------------------------


def slack_rate_limited(ctx: Context) -> list[Verdict]:
    sim, fake = ctx.shared_sim(), ctx.fake()
    bot = ctx.bot("s7", sim, fake)
    people = [f"U0PERSON{i}" for i in range(8)]
    fake.fail_next("users.info", status=429, retry_after=20, times=3 * len(people))
    batch = [f"u-{i}" for i in range(len(people))]
    started = time.monotonic()
    with ThreadPoolExecutor(len(people)) as pool:
        sent = list(
            pool.map(
                lambda i: send(bot.url, fake, batch[i], "digest off", user=people[i]), range(8)
            )
        )
    help_sent = time.monotonic()
    send(bot.url, fake, "u-help", "help")
    help_s = arrivals(fake, ["u-help"], help_sent, timeout=30).get("u-help")
    times = arrivals(fake, batch, started, timeout=60)
    busy = sum("Slack is busy" in texts(fake, r) for r in batch)
    worst = max(times.values(), default=float("inf")) if len(times) == len(batch) else float("inf")
    tries = [c.status for c in fake.api_calls("users.info")]
    status, health = health_of(bot)
    ok = (
        help_s is not None
        and help_s < 1.0
        and busy == len(people)
        and worst < 5
        and tries == [429] * len(people)
        and acks_ok(sent)[0]
        and status == 503
        and "slack" in health
    )
    bot.stop()
    return [
        Verdict(
            "7 Slack 429",
            f"{len(people)} people type `digest off` while Slack answers users.info 429 with "
            "Retry-After: 20; then `help`",
            ok,
            "`help` answered in "
            + (f"{help_s:.2f} s" if help_s is not None else "NEVER")
            + f"; {busy}/{len(people)} told 'Slack is busy … try again in about 20 s' within "
            f"{worst:.1f} s; users.info asked {len(tries)}x (none slept on); /healthz {status} "
            f"{health.get('slack', '')!r}",
        )
    ]


# -- 4c. kill -9 between post and record, under a non-Marketplace app's Slack limits -------------


def kill_between_post_and_record_tier1(ctx: Context) -> list[Verdict]:
    """4b with the fake Slack answering as it does for a distributed app without Marketplace
    approval (conversations.history: 1 call a minute per workspace, 15 messages a page, 429 with
    Retry-After: 60 beyond), and 40 messages posted in the channel right after the digest."""
    sim = ctx.shared_sim()
    fake = SlowPostFake(non_marketplace=True)
    ctx.closers.append(fake.close)
    channel = "C0DIGEST3"
    bot = ctx.bot("s4c", sim, fake)
    at = (wall_now() - timedelta(minutes=30)).strftime("%H:%M")
    setup_digest_channel(bot, fake, channel, at)
    bot.kill9()
    fake.post_delay = 3.0
    second = ctx.restart(bot, "s4c-second")
    in_post = fake.posting.wait(timeout=60)
    second.kill9()
    fake.wait_for(lambda calls: posted_to(fake, channel) >= 1, timeout=10)
    fake.post_delay = 0.0
    mine = [m for m in fake.channel_messages(channel) if m.get("user") == BOT_USER_ID]
    ts = str(mine[0]["ts"]) if mine else "?"
    # a burst: 40 people's messages in the 4 s after the digest, so the newest page of 15
    # never shows it and its window needs three pages
    fake.others_post(channel, 40, every=0.1, start=float(ts) + 0.1 if mine else None)
    claims = store_check.digest_rows(db_of(bot), channel)
    unrecorded = bool(claims) and claims[0][2] is None
    day = date.fromisoformat(str(claims[0][0])) if claims else wall_now().date()
    third = ctx.restart(bot, "s4c-third")
    outcome = digest_outcome(third, channel, timeout=60)
    third.stop()
    started = time.monotonic()
    # Time for a search that reads three pages at one call a minute.
    later = digest_later(bot, channel, day, STALE_S, timeout=360)
    later_s = time.monotonic() - started
    again = digest_cli(ctx, bot, channel, day)
    total = posted_to(fake, channel)
    rows = store_check.digest_rows(db_of(bot), channel)
    recorded = str(rows[0][2]) if rows else None
    history = fake.api_calls("conversations.history")
    unhonoured = fake.unhonoured_429s()
    ok = (
        in_post
        and unrecorded
        and "reconciled" in later
        and total == 1
        and recorded == ts
        and not unhonoured
    )
    return [
        Verdict(
            "4c kill -9 post/record, Tier 1",
            "4b with the fake Slack as a non-Marketplace app's (conversations.history 1/min, "
            "15 a page, Retry-After: 60) and 40 messages in the channel right after the "
            f"digest; unrecorded: {'yes' if unrecorded else 'NO'}",
            ok,
            f"restart: {outcome}; 5.5 min later: {later} ({later_s:.0f} s); again: {again}; "
            f"digest messages for {day}: {total}; recorded ts "
            + ("= the posted one" if recorded == ts else f"{recorded} != {ts}")
            + f"; conversations.history: {[c.status for c in history]}, 429s not honoured: "
            f"{len(unhonoured)}",
        ),
    ]
