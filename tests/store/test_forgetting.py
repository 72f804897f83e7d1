"""Forgetting a workspace covers every table that names one: a new per-workspace table that
forget_workspace() doesn't know would keep an uninstalled workspace's data for ever."""

from __future__ import annotations

from bot.store import Store
from bot.store.cipher import TokenCipher
from bot.store.forgetting import POST_TABLES, WORKSPACE_TABLES

# Tables that name a workspace and are handled on their own: rules with their firings,
# accounts with their tokens, API calls (and their summed months) anonymised, not deleted.
HANDLED_APART = {"alert_rules", "accounts", "api_calls", "api_calls_monthly"}


def test_every_table_naming_a_workspace_is_forgotten_with_it() -> None:
    with Store.open(":memory:", cipher=TokenCipher.generate()) as store:
        naming = {
            table
            for (table,) in store.database.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
            for column in store.database.execute(f'PRAGMA table_info("{table}")')
            if column[1] in ("team_id", "workspace")
        }
    assert naming == {table for table, _ in WORKSPACE_TABLES} | HANDLED_APART


def test_every_table_of_a_posts_numbers_is_forgotten_with_it() -> None:
    with Store.open(":memory:", cipher=TokenCipher.generate()) as store:
        keyed_on_posts = {
            table
            for (table,) in store.database.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
            for foreign in store.database.execute(f'PRAGMA foreign_key_list("{table}")')
            if foreign[2] == "posts"
        }
    assert keyed_on_posts == set(POST_TABLES)
