"""bot.render.chart: PNGs of a fixed size, drawn headless and thread-safely."""

from __future__ import annotations

import struct
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render.chart import HEIGHT_PX, WIDTH_PX, series_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START = datetime(2026, 11, 25, 9, tzinfo=UTC)


def dimensions(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a PNG must have first."""
    assert png.startswith(PNG_SIGNATURE)
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def hourly(values: list[int | None]) -> dict[datetime, int | None]:
    return {START + timedelta(hours=i): v for i, v in enumerate(values)}


def test_a_png_of_the_fixed_size() -> None:
    png = series_chart("Hour by hour", {"Impressions": hourly(list(range(28)))})
    assert dimensions(png) == (WIDTH_PX, HEIGHT_PX)


def test_the_size_does_not_depend_on_the_data() -> None:
    first = date(2026, 9, 1)
    cases = [
        {},
        {"Impressions": {}},
        {"Likes": hourly([None, None])},
        {"Likes": hourly([5])},
        {f"Panel {i}": hourly([i, 2 * i, None, 3]) for i in range(9)},
        {"Daily": {first + timedelta(days=d): d * 1_000_000 for d in range(1_900)}},
        {"A very long panel title " * 20: hourly([0, 0, 0])},
    ]
    for series in cases:
        assert dimensions(series_chart("Title " * 50, series)) == (WIDTH_PX, HEIGHT_PX)


def test_rendering_is_deterministic() -> None:
    series = {"Impressions": hourly([3, 1, None, 4, 1, 5]), "Likes": hourly([9, 2, 6, 5, 3, 5])}
    assert series_chart("Same", series) == series_chart("Same", series)


def test_text_that_matplotlib_would_misread_is_drawn_literally() -> None:
    # "$…$" is mathtext to matplotlib, and glyphs its bundled font lacks would warn
    # (warnings are errors in this suite).
    png = series_chart("$5 per $ and 🚀 中文 \n tabs\t", {"$x$ 🎉": hourly([1, 2, 3])})
    assert dimensions(png) == (WIDTH_PX, HEIGHT_PX)


def test_naive_and_aware_buckets_and_dates_mix() -> None:
    series = {
        "aware": hourly([1, 2]),
        "naive": {datetime(2026, 11, 25, 9): 1, datetime(2026, 11, 25, 10): 2},  # noqa: DTZ001
        "dates": {date(2026, 11, 25): 1, date(2026, 11, 26): 3},
    }
    assert dimensions(series_chart("Mixed", series)) == (WIDTH_PX, HEIGHT_PX)


def test_charts_draw_on_several_threads_without_pyplot() -> None:
    series = {"Impressions": hourly([i * i for i in range(28)])}
    expected = series_chart("Threads", series)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: series_chart("Threads", series), range(8)))
    assert all(png == expected for png in results)
    assert "matplotlib.pyplot" not in sys.modules


@settings(max_examples=15, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=30),
        st.lists(st.one_of(st.none(), st.integers(-(10**9), 10**12)), max_size=60),
        max_size=5,
    )
)
def test_any_series_makes_a_png(raw: dict[str, list[int | None]]) -> None:
    series = {name: hourly(values) for name, values in raw.items()}
    assert dimensions(series_chart("Random", series)) == (WIDTH_PX, HEIGHT_PX)
