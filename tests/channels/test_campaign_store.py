"""store.campaigns on a SQLite file: one name per workspace whatever its case, each Post once,
a delete that takes the campaign's Post list with it, and a hashtag's newest Post that never
moves back; everything survives reopening the file."""

from __future__ import annotations

from pathlib import Path

from bot.store import Store
from bot.store.cipher import TokenCipher
from tests.support.universe import SIM_START as NOW


def new(store: Store, name: str, team: str = "T1", tag: str | None = None) -> int | None:
    made = store.campaigns.create(
        team, name, hashtag=tag, from_handle=None, channel_id="C1", by="U1", now=NOW
    )
    return None if made is None else made.id


def test_names_are_unique_per_workspace_whatever_their_case(store: Store) -> None:
    assert new(store, "Spring launch") is not None
    assert new(store, "SPRING   launch") is None
    assert new(store, "Spring launch", team="T2") is not None
    assert [c.name for c in store.campaigns.listed("T1")] == ["Spring launch"]
    assert store.campaigns.named("T1", "spring LAUNCH").name == "Spring launch"  # type: ignore[union-attr]


def test_posts_are_added_once_and_delete_takes_the_list(
    store: Store, db_path: Path, cipher: TokenCipher
) -> None:
    cid = new(store, "Launch")
    assert cid is not None
    assert store.campaigns.add_posts(cid, ["2", "10", "2"], source="post", now=NOW) == ["2", "10"]
    assert store.campaigns.add_posts(cid, ["10", "3"], source="hashtag", now=NOW) == ["3"]
    assert store.campaigns.post_ids(cid) == ["2", "3", "10"]  # oldest snowflake first
    assert store.campaigns.named("T1", "launch").posts == 3  # type: ignore[union-attr]
    store.close()
    with Store.open(db_path, cipher=cipher) as again:
        assert again.campaigns.post_ids(cid) == ["2", "3", "10"]
        assert again.campaigns.delete("T1", "LAUNCH")
        assert again.campaigns.listed("T1") == []
        left = again.database.execute("SELECT COUNT(*) FROM campaign_posts").fetchone()[0]
        assert left == 0


def test_the_newest_post_seen_never_moves_back(store: Store) -> None:
    cid = new(store, "Tagged", tag="springlaunch")
    assert cid is not None
    store.campaigns.saw_newest(cid, "1790000000000000005")
    store.campaigns.saw_newest(cid, "999")  # older (shorter snowflake)
    store.campaigns.saw_newest(cid, "1790000000000000004")
    assert store.campaigns.following()[0].newest_id == "1790000000000000005"
    store.campaigns.saw_newest(cid, "1790000000000000010")
    assert store.campaigns.following()[0].newest_id == "1790000000000000010"


def test_a_campaign_deleted_meanwhile_takes_no_posts(store: Store) -> None:
    cid = new(store, "Gone", tag="springlaunch")
    assert cid is not None
    assert store.campaigns.delete("T1", "gone")
    assert store.campaigns.add_posts(cid, ["1", "2"], source="hashtag", now=NOW) == []
