"""Numbers as people read them in Slack: 12.3K, 3.7%, ▲ 8.2%, ▁▂▅█.

Pure functions of their arguments; "n/a" stands for a number we do not have.
"""

from __future__ import annotations

from collections.abc import Sequence

NA = "n/a"
SPARKS = "▁▂▃▄▅▆▇█"
_UNITS = ("", "K", "M", "B", "T")


def human(n: int | float | None) -> str:
    """12.3K, 1.2M, 950: three significant digits at most, "n/a" for None."""
    if n is None:
        return NA
    sign = "-" if n < 0 else ""
    value = abs(float(n))
    for index, unit in enumerate(_UNITS):
        scaled = value / 1000**index
        text = f"{scaled:.0f}" if index == 0 or scaled >= 100 else f"{scaled:.1f}"
        if float(text) < 1000 or index == len(_UNITS) - 1:
            text = text.removesuffix(".0")
            return f"{sign}{text}{unit}" if text != "0" else "0"
    raise AssertionError("unreachable")  # pragma: no cover


def exact(n: int | None) -> str:
    """12,345: the whole number with thousands separators, "n/a" for None."""
    return NA if n is None else f"{n:,}"


def ratio(part: int | float | None, whole: int | float | None) -> float | None:
    """part / whole, or None when either is unknown or the whole is zero."""
    if part is None or whole is None or whole == 0:
        return None
    return part / whole


def percent_of(fraction: float | None) -> str:
    """0.037 → "3.7%"; tiny non-zero shares read "under 0.1%" rather than a misleading "0%"
    (words, not "<": a bare `<` in Slack mrkdwn starts a link or mention)."""
    if fraction is None:
        return NA
    value = fraction * 100
    if value != 0 and abs(value) < 0.1:
        return "under 0.1%" if value > 0 else "over -0.1%"
    if abs(value) >= 100:
        return f"{value:,.0f}%"
    return f"{value:.1f}%".replace(".0%", "%")


def percent(part: int | float | None, whole: int | float | None) -> str:
    """part as a share of whole: percent(37, 1000) == "3.7%"; "n/a" when whole is 0 or None."""
    return percent_of(ratio(part, whole))


def engagement_rate(engagements: int | None, impressions: int | None) -> float | None:
    """Engagements per impression (X's definition), None when it cannot be computed."""
    return ratio(engagements, impressions)


def delta(now: int | None, before: int | None) -> str:
    """A change against the previous equal period: "▲ 8.2% (+1.2K)", "▼ 50% (-10)",
    "→ 0%", "new" (nothing before), "n/a" (either side unknown)."""
    if now is None or before is None:
        return NA
    change = now - before
    if before == 0:
        return "→ 0%" if now == 0 else "new"
    if change == 0:
        return "→ 0%"
    arrow = "▲" if change > 0 else "▼"
    sign = "+" if change > 0 else ""
    return f"{arrow} {percent(abs(change), abs(before))} ({sign}{human(change)})"


def sparkline(values: Sequence[int | float | None], width: int | None = None) -> str:
    """One block character per value, scaled from 0 to the largest; None is a gap (space).

    With `width`, longer sequences are averaged down to `width` characters.
    """
    points = list(values) if width is None else squeeze(values, width)
    known = [v for v in points if v is not None]
    if not known:
        return " " * len(points)
    low = min(0.0, float(min(known)))
    span = float(max(known)) - low
    top = len(SPARKS) - 1
    out = []
    for v in points:
        if v is None:
            out.append(" ")
        else:
            level = 0 if span == 0 else round((float(v) - low) / span * top)
            out.append(SPARKS[level])
    return "".join(out)


def squeeze(values: Sequence[int | float | None], width: int) -> list[float | None]:
    """At most `width` points: consecutive runs averaged (None when a run has no value)."""
    if width < 1:
        raise ValueError("width must be at least 1")
    if len(values) <= width:
        return [None if v is None else float(v) for v in values]
    out: list[float | None] = []
    for i in range(width):
        run = values[i * len(values) // width : (i + 1) * len(values) // width]
        known = [float(v) for v in run if v is not None]
        out.append(sum(known) / len(known) if known else None)
    return out
