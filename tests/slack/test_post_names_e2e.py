"""Posts named by their words end to end: the text X's lookup and timelines return is stored
and names the Post in replies; a competitor's Posts carry their handle, never `Post <id>`."""

from __future__ import annotations

from typing import Any

from bot.simulator.texts import post_text, sentence
from bot.store.rows import PostRecord
from tests.support.slack_app import ask, connect_brand, sim_posts, texts


def test_a_tracked_competitors_posts_are_named_by_handle_and_words(bot, fake, sim, store):
    connect_brand(store)
    ask(bot, fake, "track @sim_creator")
    text = texts(ask(bot, fake, "top likes 3 7d"))
    theirs = sim_posts(sim, "sim_creator")
    seed = sim.state.universe.seed
    shown = [p for p in theirs if f"x.com/sim_creator/status/{p}" in text]
    assert shown, text
    for post in shown:
        start = sentence(seed, int(post))[:20]
        assert f"@sim_creator · “{start}" in text
    assert "Post 1" not in text


def test_a_pasted_posts_lookup_names_it_in_the_totals_card(bot, fake, sim, store):
    connect_brand(store)  # with an account connected, the bot looks Posts up to learn whose
    post = sim_posts(sim, "sim_creator")[0]
    text = texts(ask(bot, fake, f"totals {post}"))
    assert f"@sim_creator · “{sentence(sim.state.universe.seed, int(post))[:20]}" in text
    assert store.posts.texts([post]) == {
        post: post_text(sim.state.universe.seed, sim.state.universe.posts[int(post)])
    }


def test_stored_text_with_mentions_is_shown_harmlessly(bot: Any, fake, sim, store):
    post = sim_posts(sim, "sim_creator")[0]
    ask(bot, fake, f"track {post}")
    store.posts.save([PostRecord(post, None, None, "<!here> *win* <@U0BOSS>")])
    reply = ask(bot, fake, "tracked")
    text = texts(reply)
    assert "“&lt;!here  ∗win∗ &lt;@U0BOSS" in text  # `>` cannot stand inside a link label
    assert "<!here>" not in str(reply)
    assert "<@U0BOSS>" not in str(reply)
