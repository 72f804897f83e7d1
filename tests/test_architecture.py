"""The house rules, checked on every run: no import cycle inside bot/, and the size limits.

`python scripts/house.py` prints the same figures."""

from __future__ import annotations

import importlib.util
import sys

from tests.support.paths import REPO

_spec = importlib.util.spec_from_file_location("house", REPO / "scripts" / "house.py")
assert _spec is not None
assert _spec.loader is not None
house = importlib.util.module_from_spec(_spec)
sys.modules["house"] = house
_spec.loader.exec_module(house)


def test_the_cycle_finder_finds_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert house.cycles(edges) == [["a", "b", "c"]]


def test_no_module_of_bot_imports_itself_back_through_others() -> None:
    assert house.cycles(house.import_graph()) == []


def test_no_module_of_bot_is_over_400_lines() -> None:
    lengths = house.module_lines()
    assert {m: n for m, n in lengths.items() if n > house.MAX_MODULE_LINES} == {}


def test_no_function_of_bot_is_over_60_lines() -> None:
    lengths = house.function_lines()
    assert {f: n for f, n in lengths.items() if n > house.MAX_FUNCTION_LINES} == {}
