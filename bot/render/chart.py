"""PNG line charts of engagement series, sized and lettered to read on a phone.

Uses matplotlib's object-oriented API on the Agg canvas, never pyplot: no global figure state,
so charts can be drawn on several threads at once and no display is needed. Every chart has
the same pixel size whatever its data, and rendering is deterministic.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bot.copy import reports
from bot.render.numbers import human

WIDTH_PX = 1200
HEIGHT_PX = 900
DPI = 100
MAX_PANELS = 4
COLOURS = ("#1d9bf0", "#f91880", "#00ba7c", "#ffad1f")
TITLE_SIZE = 26
PANEL_SIZE = 20
TICK_SIZE = 17

Bucket = datetime | date


def series_chart(
    title: str, series: Mapping[str, Mapping[Bucket, int | None]], *, zone: tzinfo = UTC
) -> bytes:
    """A PNG of WIDTH_PX × HEIGHT_PX: one panel per series (the first MAX_PANELS), stacked
    with a shared time axis, each with its own scale. None values are gaps."""
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    panels = list(series.items())[:MAX_PANELS] or [("", {})]
    grid = figure.subplots(len(panels), 1, sharex=True, squeeze=False)
    figure.suptitle(_safe(title), fontsize=TITLE_SIZE, fontweight="bold")
    for index, (name, points) in enumerate(panels):
        _panel(grid[index][0], name, points, COLOURS[index % len(COLOURS)], zone)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _panel(
    axes: Axes, name: str, points: Mapping[Bucket, int | None], colour: str, zone: tzinfo
) -> None:
    axes.set_title(_safe(name), loc="left", fontsize=PANEL_SIZE)
    axes.tick_params(labelsize=TICK_SIZE)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    xs = sorted((_at(bucket) for bucket in points), key=lambda at: at)
    by_time = {_at(bucket): value for bucket, value in points.items()}
    ys = [math.nan if by_time[x] is None else float(by_time[x] or 0) for x in xs]
    known = [y for y in ys if not math.isnan(y)]
    if not known:
        axes.text(
            0.5,
            0.5,
            reports.CHART_NO_DATA,
            transform=axes.transAxes,
            ha="center",
            va="center",
            fontsize=PANEL_SIZE,
        )
        axes.set_yticks([])
        return
    _plot(axes, xs, ys, colour)
    axes.set_ylim(bottom=min(0.0, min(known)), top=max(max(known) * 1.1, 1.0))
    axes.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: human(value)))
    axes.grid(axis="y", alpha=0.3)
    locator = AutoDateLocator(tz=zone, minticks=3, maxticks=7)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    formatter = ConciseDateFormatter(locator, tz=zone)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_formatter(formatter)
    axes.xaxis.get_offset_text().set_fontsize(TICK_SIZE)


def _plot(axes: Axes, xs: Sequence[datetime], ys: Sequence[float], colour: str) -> None:
    marker = "o" if len(xs) <= 40 else None
    axes.plot(xs, ys, color=colour, linewidth=3, marker=marker, markersize=6)  # type: ignore[arg-type]
    finite = [not math.isnan(y) for y in ys]
    if sum(finite) > 1:
        filled = [0.0 if math.isnan(y) else y for y in ys]
        axes.fill_between(xs, filled, where=finite, color=colour, alpha=0.15)  # type: ignore[arg-type]


def _at(bucket: Bucket) -> datetime:
    if isinstance(bucket, datetime):
        return bucket if bucket.tzinfo else bucket.replace(tzinfo=UTC)
    return datetime(bucket.year, bucket.month, bucket.day, tzinfo=UTC)


def _safe(text: str) -> str:
    """Text matplotlib draws as is: no mathtext ($), no glyphs its bundled font lacks."""
    kept = (
        c if (c.isprintable() and (ord(c) < 0x250 or 0x2000 <= ord(c) < 0x2070)) else "?"
        for c in " ".join(text.split())
    )
    return "".join(kept).replace("$", r"\$")[:120]


def paired_chart(
    title: str,
    names: tuple[str, str],
    panels: Mapping[str, tuple[Mapping[Bucket, int | None], Mapping[Bucket, int | None]]],
) -> bytes:
    """A PNG of WIDTH_PX × HEIGHT_PX comparing two things: one panel per metric (the first
    MAX_PANELS), each with both lines, named in one legend. An empty side draws no line."""
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    shown = list(panels.items())[:MAX_PANELS] or [("", ({}, {}))]
    grid = figure.subplots(len(shown), 1, sharex=True, squeeze=False)
    figure.suptitle(_safe(title), fontsize=TITLE_SIZE, fontweight="bold")
    for index, (name, pair) in enumerate(shown):
        axes = grid[index][0]
        drawn = [
            (label, points, colour)
            for label, points, colour in zip(names, pair, COLOURS[:2], strict=True)
            if any(v is not None for v in points.values())
        ]
        if not drawn:
            _panel(axes, name, {}, COLOURS[0], UTC)
            continue
        _panel(axes, name, drawn[0][1], drawn[0][2], UTC)  # daily buckets: X's UTC days
        top = max((v or 0) for _, points, _ in drawn for v in points.values())
        for _label, points, colour in drawn[1:]:
            xs = sorted(_at(bucket) for bucket in points)
            by_time = {_at(bucket): value for bucket, value in points.items()}
            _plot(
                axes,
                xs,
                [math.nan if by_time[x] is None else float(by_time[x] or 0) for x in xs],
                colour,
            )
        axes.set_ylim(bottom=0.0, top=max(top * 1.1, 1.0))
        if index == 0:
            handles = [Line2D([], [], color=c, linewidth=3) for c in COLOURS[:2]]
            axes.legend(
                handles, [_safe(n)[:40] for n in names], fontsize=TICK_SIZE, loc="upper left"
            )
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()
