"""The handles a reply names for Posts given as links."""

from __future__ import annotations

from bot.engagement.post_refs import PostRef


def handles_in(refs: tuple[PostRef, ...]) -> dict[str, str]:
    """Post ID → the handle its link named (x.com/<handle>/status/<id>), where it named one."""
    return {r.post_id: r.handle for r in refs if r.handle}
