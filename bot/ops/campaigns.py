"""`engagement-bot query campaign NAME` and `query compare A B`: a campaign's report or a
comparison for scripts, as an aligned table, CSV or JSON, through the same use cases as Slack.

The command line names no workspace: a campaign is looked up in every workspace, and one name
held by several needs `--workspace`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TextIO

from bot.app import engagement
from bot.channels import campaigns
from bot.channels.compare import Comparison, Side, compare
from bot.channels.deps import Deps
from bot.channels.measure import Numbers, Period
from bot.config import Settings
from bot.copy import campaigns as say
from bot.engagement.metric_names import resolve_metrics
from bot.engagement.post_refs import PostRefError, parse_post_ref
from bot.errors import EXIT_OK, UserFacingError
from bot.ops.report_format import json_text
from bot.render.numbers import engagement_rate, ratio

COMPARE_DAYS = 28


@dataclass(frozen=True)
class CampaignArgs:
    names: tuple[str, ...]  # one campaign, or the two sides of `compare`
    workspace: str | None
    start: date | None
    end: date | None
    metrics: str | None
    fmt: str


def run_campaign_query(
    settings: Settings, kind: str, args: CampaignArgs, *, now: datetime, out: TextIO
) -> int:
    """`query campaign` or `query compare`; ValueError for a usage error (exit 2)."""
    metrics = tuple(resolve_metrics(args.metrics.split(","))) if args.metrics else ()
    with engagement(settings) as parts:
        deps = parts.deps(settings)
        try:
            if kind == "campaign":
                text = _campaign(deps, args, metrics, now)
            else:
                text = _compare(deps, args, metrics, now)
        except UserFacingError as error:
            raise ValueError(str(error)) from None
    out.write(text)
    return EXIT_OK


def _period(args: CampaignArgs, now: datetime, default_days: int | None) -> Period | None:
    if args.start is None and args.end is None:
        return campaigns.last_days(default_days, now) if default_days else None
    start = args.start or (args.end or now.date())
    end = args.end or now.date()
    if (problem := campaigns.period_problem(start, end, now.date())) is not None:
        raise ValueError(problem)
    return Period(start, end)


def _team(deps: Deps, name: str, workspace: str | None) -> str:
    if workspace is not None:
        return workspace
    found = deps.store.campaigns.everywhere(name)
    if len(found) > 1:
        raise ValueError(say.cli_ambiguous(name, [c.team_id for c in found]))
    if not found:
        raise ValueError(say.unknown(name, None))
    return found[0].team_id


def _campaign(deps: Deps, args: CampaignArgs, metrics: tuple[str, ...], now: datetime) -> str:
    (name,) = args.names
    team = _team(deps, name, args.workspace)
    found = campaigns.report(
        deps, team, name, period=_period(args, now, None), metrics=metrics, now=now
    )
    doc = {
        "campaign": found.campaign.name,
        "workspace": team,
        "hashtag": found.campaign.hashtag,
        "first_post": found.first_post.isoformat() if found.first_post else None,
        "period": {"start": found.period.start.isoformat(), "end": found.period.end.isoformat()},
        **_numbers(found.numbers),
    }
    if args.fmt == "json":
        return json_text(doc)
    rows = [["metric", "day", "value", "posts"]]
    for metric, value in found.numbers.totals.items():
        rows.append([metric, "lifetime", _cell(value), str(found.numbers.counted[metric])])
    for metric, days in found.numbers.series.items():
        rows += [[metric, d.isoformat(), str(v), str(found.numbers.owned)] for d, v in days.items()]
    return _csv(rows) if args.fmt == "csv" else _table(rows)


def _numbers(numbers: Numbers) -> dict[str, Any]:
    return {
        "posts": numbers.posts,
        "owned_posts": numbers.owned,
        "public_metrics_only": numbers.public_only,
        "totals": {m: {"value": v, "posts": numbers.counted[m]} for m, v in numbers.totals.items()},
        "daily": {m: {d.isoformat(): v for d, v in s.items()} for m, s in numbers.series.items()},
        "top": [{"post_id": p, "metric": numbers.top_metric, "value": v} for p, v in numbers.top],
    }


def side_of(text: str) -> Side:
    """`@handle`, a Post ID or URL, else a campaign's name."""
    if text.startswith("@") and len(text) > 1:
        return Side("account", text[1:])
    try:
        return Side("post", parse_post_ref(text).post_id)
    except PostRefError:
        return Side("campaign", text)


def _compare(deps: Deps, args: CampaignArgs, metrics: tuple[str, ...], now: datetime) -> str:
    a, b = (side_of(n) for n in args.names)
    named = [s.ref for s in (a, b) if s.kind == "campaign"]
    team = _team(deps, named[0], args.workspace) if named else (args.workspace or "")
    period = _period(args, now, COMPARE_DAYS)
    assert period is not None
    found = compare(deps, team, a, b, period=period, metrics=metrics, now=now)
    rows = _compare_rows(found)
    if args.fmt == "json":
        doc = {
            "a": found.a.label,
            "b": found.b.label,
            "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
            "rows": [dict(zip(rows[0], r, strict=True)) for r in rows[1:]],
            "notes": list(found.notes),
            "sides": {"a": _numbers(found.a), "b": _numbers(found.b)},
        }
        return json_text(doc)
    text = _csv(rows) if args.fmt == "csv" else _table(rows)
    if args.fmt == "table" and found.notes:
        text += "".join(f"{note}\n" for note in found.notes)
    return text


def _compare_rows(found: Comparison) -> list[list[str]]:
    rows = [["metric", found.a.label, found.b.label, "difference", "ratio"]]
    for metric in found.metrics:
        one, two = found.a.totals.get(metric), found.b.totals.get(metric)
        diff = None if one is None or two is None else one - two
        rows.append([metric, _cell(one), _cell(two), _cell(diff), _ratio(ratio(one, two))])
    if found.rate:
        r_a = engagement_rate(found.a.totals.get("engagements"), found.a.totals.get("impressions"))
        r_b = engagement_rate(found.b.totals.get("engagements"), found.b.totals.get("impressions"))
        rows.append(["engagement_rate", _ratio(r_a), _ratio(r_b), "", _ratio(ratio(r_a, r_b))])
    return rows


def _cell(value: int | None) -> str:
    return "" if value is None else str(value)


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _csv(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    return "\n".join(lines) + "\n"
