"""Per-channel state in the store: tracking, digest settings, alert rules, snooze."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store import Store
from bot.store.cipher import TokenCipher

NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)


def test_tracking_is_per_channel_and_idempotent(store: Store):
    channels = store.channels
    assert channels.track("T1", "C1", kind="post", refs=["11", "12", "11"], by="U1", now=NOW) == [
        "11",
        "12",
    ]
    assert channels.track("T1", "C1", kind="post", refs=["12", "13"], by="U1", now=NOW) == ["13"]
    assert channels.tracked("T1", "C1", "post") == ["11", "12", "13"]
    assert channels.tracked("T1", "C2", "post") == []
    assert channels.untrack("T1", "C1", kind="post", refs=["12", "99"]) == ["12"]
    assert channels.tracked("T1", "C1", "post") == ["11", "13"]


def test_settings_default_then_persist_across_reopen(tmp_path: Path):
    cipher = TokenCipher.generate()
    with Store.open(tmp_path / "e.db", cipher=cipher) as store:
        settings = store.channels.settings("T1", "C1")
        assert not settings.digest_enabled
        assert settings.digest_time == "09:00"
        until = NOW + timedelta(hours=2)
        store.channels.save_settings(
            replace(settings, digest_enabled=True, timezone="Europe/Paris", snoozed_until=until),
            now=NOW,
        )
    with Store.open(tmp_path / "e.db", cipher=cipher) as store:
        again = store.channels.settings("T1", "C1")
        assert (again.digest_enabled, again.timezone, again.snoozed_until) == (
            True,
            "Europe/Paris",
            NOW + timedelta(hours=2),
        )
        assert [s.channel_id for s in store.channels.digest_channels()] == ["C1"]


def test_alert_rules_belong_to_their_channel(store: Store):
    channels = store.channels
    rule = channels.add_alert(
        "T1", "C1", kind="threshold", metric="favorites", threshold=100, by="U1", now=NOW
    )
    channels.add_alert("T1", "C1", kind="spike", sensitivity="high", by="U1", now=NOW)
    assert [r.kind for r in channels.alerts("T1", "C1")] == ["threshold", "spike"]
    assert not channels.remove_alert("T1", "C2", rule.id)  # not another channel's to remove
    assert channels.remove_alert("T1", "C1", rule.id)
    assert [r.kind for r in channels.alerts("T1", "C1")] == ["spike"]


def test_a_failed_transaction_leaves_channel_state_as_it_was(store: Store):
    store.channels.track("T1", "C1", kind="post", refs=["11"], by="U1", now=NOW)

    def change_then_crash() -> None:
        with store.transaction():
            store.channels.track("T1", "C1", kind="post", refs=["12"], by="U1", now=NOW)
            raise RuntimeError("crash mid-change")

    with pytest.raises(RuntimeError):
        change_then_crash()
    assert store.channels.tracked("T1", "C1", "post") == ["11"]
