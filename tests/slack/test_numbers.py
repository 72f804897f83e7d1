"""bot.render.numbers: how numbers read in Slack."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.render.numbers import (
    NA,
    SPARKS,
    delta,
    engagement_rate,
    exact,
    human,
    percent,
    sparkline,
    squeeze,
)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (None, "n/a"),
        (0, "0"),
        (7, "7"),
        (950, "950"),
        (999, "999"),
        (1_000, "1K"),
        (1_049, "1K"),
        (1_050, "1.1K"),  # float rounding of 1.05 goes either way; pinned here
        (1_234, "1.2K"),
        (12_345, "12.3K"),
        (99_949, "99.9K"),
        (99_950, "100K"),
        (123_456, "123K"),
        (999_499, "999K"),
        (999_500, "1M"),
        (1_234_567, "1.2M"),
        (12_300_000, "12.3M"),
        (1_000_000_000, "1B"),
        (4_200_000_000_000, "4.2T"),
        (-1_234, "-1.2K"),
        (-0.4, "0"),
        (949.6, "950"),
        (999.6, "1K"),
    ],
)
def test_human(n: int | float | None, text: str) -> None:
    assert human(n) == text


def test_human_beyond_the_last_unit_keeps_counting() -> None:
    assert human(4_200_000_000_000_000) == "4200T"


@pytest.mark.parametrize(
    ("n", "text"),
    [(None, "n/a"), (0, "0"), (950, "950"), (12_345, "12,345"), (-1_234_567, "-1,234,567")],
)
def test_exact(n: int | None, text: str) -> None:
    assert exact(n) == text


@pytest.mark.parametrize(
    ("part", "whole", "text"),
    [
        (37, 1_000, "3.7%"),
        (3, 100, "3%"),
        (1, 3, "33.3%"),
        (1, 1, "100%"),
        (25, 10, "250%"),
        (12_345, 10, "123,450%"),
        (1, 10_000, "under 0.1%"),
        (0, 100, "0%"),
        (-5, 100, "-5%"),
        (5, 0, NA),
        (None, 100, NA),
        (5, None, NA),
    ],
)
def test_percent(part: int | None, whole: int | None, text: str) -> None:
    assert percent(part, whole) == text


@pytest.mark.parametrize(
    ("engagements", "impressions", "rate"),
    [(37, 1_000, 0.037), (0, 10, 0.0), (5, 0, None), (None, 10, None), (5, None, None)],
)
def test_engagement_rate(
    engagements: int | None, impressions: int | None, rate: float | None
) -> None:
    assert engagement_rate(engagements, impressions) == rate


@pytest.mark.parametrize(
    ("now", "before", "text"),
    [
        (1_082, 1_000, "▲ 8.2% (+82)"),
        (500, 1_000, "▼ 50% (-500)"),
        (13_400, 1_200, "▲ 1,017% (+12.2K)"),
        (1_000, 1_000, "→ 0%"),
        (10, 0, "new"),
        (0, 0, "→ 0%"),
        (None, 10, NA),
        (10, None, NA),
    ],
)
def test_delta(now: int | None, before: int | None, text: str) -> None:
    assert delta(now, before) == text


@pytest.mark.parametrize(
    ("values", "text"),
    [
        ([], ""),
        ([0, 0, 0], "▁▁▁"),
        ([5, 5], "██"),  # scaled from zero: equal non-zero values are all high
        ([0, 1, 2, 3, 4, 5, 6, 7], "▁▂▃▄▅▆▇█"),
        ([0, None, 7], "▁ █"),
        ([None, None], "  "),
        ([-7, 0, 7], "▁▅█"),
    ],
)
def test_sparkline(values: list[int | None], text: str) -> None:
    assert sparkline(values) == text


def test_sparkline_squeezes_to_a_width_by_averaging() -> None:
    assert sparkline(list(range(90)), width=28) == sparkline(squeeze(list(range(90)), 28))
    assert len(sparkline(list(range(90)), width=28)) == 28
    assert squeeze([1, 3, None, None, 5, 7], 3) == [2.0, None, 6.0]
    assert squeeze([1, None], 5) == [1.0, None]
    with pytest.raises(ValueError, match="width"):
        squeeze([1], 0)


@given(st.lists(st.one_of(st.none(), st.integers(-(10**12), 10**12)), max_size=200))
def test_sparkline_has_one_character_per_value(values: list[int | None]) -> None:
    line = sparkline(values)
    assert len(line) == len(values)
    assert set(line) <= {*SPARKS, " "}
    assert [c == " " for c in line] == [v is None for v in values]


@given(st.integers(-(10**15), 10**15))
def test_human_is_short(n: int) -> None:
    text = human(n)
    assert len(text) <= 8
    assert text[-1].isdigit() or text[-1] in "KMBT"
