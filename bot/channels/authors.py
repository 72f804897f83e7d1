"""How a Post is named in replies, digests and alerts: who wrote it (handle) and its words.

Two store queries for any number of Posts: a digest of many Posts costs what one Post does.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.engagement.post_refs import PostRef
from bot.render.kit import PostName
from bot.store import Store


def post_authors(store: Store, posts: Iterable[PostRef | str]) -> dict[str, PostName]:
    """Post ID → its name: the author's handle (the one a pasted Post URL named, else the one
    we have learned: a connected account's, or one a lookup or timeline named) and the text a
    lookup or timeline gave, each None when unknown."""
    refs = [p if isinstance(p, PostRef) else PostRef(p) for p in posts]
    ids = [r.post_id for r in refs]
    known = store.posts.author_handles(ids)
    texts = store.posts.texts(ids)
    return {
        r.post_id: PostName(r.handle or known.get(r.post_id), texts.get(r.post_id)) for r in refs
    }
