"""Who wrote the Posts a reply links to."""

from __future__ import annotations

from bot.channels.deps import Deps
from bot.engagement.post_refs import PostRef


def _authors(deps: Deps, refs: tuple[PostRef, ...]) -> dict[str, str | None]:
    """Post ID → handle for links: the URL's, else the author's we have learned (a connected
    account's, or one a lookup or timeline named), else unknown."""
    known = deps.store.author_handles([r.post_id for r in refs])
    return {ref.post_id: ref.handle or known.get(ref.post_id) for ref in refs}


def _handles(refs: tuple[PostRef, ...]) -> dict[str, str]:
    return {r.post_id: r.handle for r in refs if r.handle}
