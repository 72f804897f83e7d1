"""What a simulated Post says (docs/simulator.md#post-text): a short sentence from the seed and
the ID, and, on Posts with a hashtag, one of its account's campaign hashtags, so recent search
has something to find. Pure functions of the universe: every run with one seed reads alike."""

from __future__ import annotations

import re

from bot.simulator.universe import Post, uniform

_OPENERS = ("Big news:", "Quick update:", "Heads up:", "Fun fact:", "Today", "Reminder:")
_SUBJECTS = ("our team", "the new release", "this week's demo", "the launch", "the roadmap")
_PREDICATES = ("is live", "got faster", "needs your feedback", "hit a milestone", "starts soon")
_ENDINGS = (".", "!", " - more soon.", " #sim")

# Every account runs the shared launch campaign and one of its own, drawn from the rest.
SHARED_TAG = "springlaunch"
OTHER_TAGS = ("blackfriday", "launchweek", "behindthescenes", "productupdate")
# What X recognises as a hashtag in text: '#' then letters, digits or '_' (not only digits).
HASHTAG = re.compile(r"(?<![\w#])#(\w*[^\W\d]\w*)")


def sentence(seed: int, post_id: int) -> str:
    """A short sentence that depends only on the seed and the Post ID."""
    words = [
        options[int(uniform(seed, post_id, "text", i) * len(options))]
        for i, options in enumerate((_OPENERS, _SUBJECTS, _PREDICATES))
    ]
    ending = _ENDINGS[int(uniform(seed, post_id, "text", "end") * len(_ENDINGS))]
    return " ".join(words) + ending


def account_tags(seed: int, user_id: str) -> tuple[str, str]:
    """The account's two campaign hashtags (without '#')."""
    own = OTHER_TAGS[int(uniform(seed, user_id, "tags") * len(OTHER_TAGS))]
    return SHARED_TAG, own


def post_tags(seed: int, post: Post) -> tuple[str, ...]:
    """The campaign hashtags a Post carries: its own list when the universe gave one, else one
    of its account's two when it has a hashtag, else none."""
    if post.hashtags is not None:
        return post.hashtags
    if not post.has_hashtag:
        return ()
    shared, own = account_tags(seed, post.author)
    return (shared,) if uniform(seed, post.id, "tag") < 0.5 else (own,)


def post_text(seed: int, post: Post) -> str:
    """The Post's whole text: its sentence, then its campaign hashtags."""
    tags = " ".join("#" + t for t in post_tags(seed, post))
    return sentence(seed, post.id) + (" " + tags if tags else "")


def hashtags_in(text: str) -> frozenset[str]:
    """The hashtags a text carries, lower-cased (X matches them regardless of case)."""
    return frozenset(t.lower() for t in HASHTAG.findall(text))
