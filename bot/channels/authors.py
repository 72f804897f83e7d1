"""Who wrote a Post, by handle, for links and names in replies, digests and alerts.

One store query for any number of Posts: a digest of many Posts costs what one Post does.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.engagement.post_refs import PostRef
from bot.store import Store


def post_authors(store: Store, posts: Iterable[PostRef | str]) -> dict[str, str | None]:
    """Post ID → its author's handle: the one a pasted Post URL named, else the one we have
    learned (a connected account's, or one a lookup or timeline named), else None."""
    refs = [p if isinstance(p, PostRef) else PostRef(p) for p in posts]
    known = store.posts.author_handles([r.post_id for r in refs])
    return {r.post_id: r.handle or known.get(r.post_id) for r in refs}
