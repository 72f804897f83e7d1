"""Reports as text for the command line: an aligned table, CSV, or JSON (`query --format`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from bot.copy.terminal import unknown_format
from bot.engagement.query import Granularity, Reason, Report, explain
from bot.engagement.windows import unborn

FORMATS = ("table", "csv", "json")


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return json_text(as_json(report))
    if fmt == "csv":
        return as_csv(report)
    if fmt == "table":
        return as_table(report)
    raise ValueError(unknown_format(fmt, FORMATS))


def json_text(doc: Any) -> str:
    """`--format json`: one document on one line. Indenting would force json's pure-Python
    encoder (several times slower on a report of thousands of Posts); `jq .` indents."""
    return json.dumps(doc) + "\n"


def _bucket(key: datetime | date) -> str:
    if isinstance(key, datetime):
        return key.strftime("%Y-%m-%dT%H:%M:%SZ")
    return key.isoformat()


def as_json(report: Report) -> dict[str, Any]:
    query = report.query
    doc: dict[str, Any] = {
        "granularity": query.granularity.value,
        "metrics": list(query.metrics),
        "fetched_at": _bucket(report.fetched_at) if report.fetched_at else None,
        "calls_made": report.calls_made,
    }
    if query.granularity is Granularity.TOTAL:
        doc["totals"] = {
            post: {
                metric: {"value": v.count}
                | ({"missing": v.reason.value} if v.reason else {})
                | ({"partial": True} if v.partial else {})
                for metric, v in metrics.items()
            }
            for post, metrics in report.totals.items()
        }
    else:
        doc["series"] = {
            post: {
                metric: {_bucket(k): v for k, v in buckets.items()}
                for metric, buckets in metrics.items()
            }
            for post, metrics in report.series.items()
        }
    doc["missing"] = [
        {"post_id": post, "metric": metric, "reason": reason.value, "why": explain(reason)}
        for (post, metric), reason in report.missing.items()
    ]
    return doc


def as_csv(report: Report) -> str:
    """Lines of fields as the csv module writes them (quoted only when a field holds a comma, a
    quote or a line break), built as text: its writer takes about a microsecond a row, most of
    a 5,000-Post report's rendering. Post IDs, metric names and reasons go through `_field`
    once each; the numbers need no quoting."""
    if report.query.granularity is Granularity.TOTAL:
        return _totals_csv(report)
    lines = ["post_id,metric,bucket,value\n"]
    # The same few dozen buckets recur for every Post and metric: format each once.
    labels: dict[datetime | date, str] = {}
    for post, series in report.series.items():
        head = _field(post)
        for metric, buckets in series.items():
            prefix = f"{head},{_field(metric)},"
            lines.extend(
                f"{prefix}{labels.get(key) or labels.setdefault(key, _bucket(key))},"
                f"{'' if value is None else value}\n"
                for key, value in buckets.items()
            )
    for (post, metric), reason in report.missing.items():
        lines.append(f"{_field(post)},{_field(metric)},,{_field(f'missing: {reason.value}')}\n")
    return "".join(lines)


def _totals_csv(report: Report) -> str:
    lines = ["post_id,metric,value,missing\n"]
    names: dict[str, str] = {}
    reasons: dict[Reason, str] = {}
    for post, values in report.totals.items():
        head = _field(post)
        for metric, v in values.items():
            name = names.get(metric)
            if name is None:
                name = names[metric] = _field(metric)
            why = ""
            if v.reason is not None:
                why = reasons.get(v.reason) or reasons.setdefault(v.reason, _field(v.reason.value))
            lines.append(f"{head},{name},{'' if v.count is None else v.count},{why}\n")
    return "".join(lines)


_NEEDS_QUOTES = frozenset(',"\r\n')


def _field(text: str) -> str:
    """`text` as one CSV field: as it is, unless it holds what the csv module may quote; then
    as its writer (the same dialect as the lines') writes it."""
    if _NEEDS_QUOTES.isdisjoint(text):
        return text
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([text])
    return out.getvalue().removesuffix("\n")


def as_table(report: Report) -> str:
    metrics = list(report.query.metrics)
    lines: list[str] = []
    if report.query.granularity is Granularity.TOTAL:
        width = max([len(m) for m in metrics] + [9]) + 2
        lines.append("Post ID".ljust(22) + "".join(m.rjust(width) for m in metrics))
        for post, values in report.totals.items():
            cells = "".join(
                _cell(values[m].count if m in values else None).rjust(width) for m in metrics
            )
            lines.append(post.ljust(22) + cells)
    else:
        for post, series in report.series.items():
            lines.append(f"Post {post}")
            shown = [m for m in metrics if m in series]
            width = max([len(m) for m in shown] + [9]) + 2
            lines.append("  " + "bucket".ljust(20) + "".join(m.rjust(width) for m in shown))
            keys = sorted({k for m in shown for k in series[m]}, key=_bucket)
            for key in keys:
                # Before the Post existed: blank, not "n/a" (nothing is missing there).
                born = not unborn(post, key)
                cells = "".join(
                    (_cell(series[m].get(key)) if born else "").rjust(width) for m in shown
                )
                lines.append("  " + _bucket(key).ljust(20) + cells)
    lines.extend(_footnotes(report.missing))
    lines.append(f"({report.calls_made} API call{'s' if report.calls_made != 1 else ''})")
    return "\n".join(lines) + "\n"


def _cell(count: int | None) -> str:
    return "n/a" if count is None else f"{count:,}"


def _footnotes(missing: Mapping[tuple[str, str], Reason]) -> list[str]:
    by_reason: dict[Reason, list[str]] = {}
    for (post, metric), reason in missing.items():
        by_reason.setdefault(reason, []).append(f"{metric} of {post}")
    return [
        f"n/a {explain(reason)}: {', '.join(items[:6])}{' …' if len(items) > 6 else ''}"
        for reason, items in by_reason.items()
    ]
