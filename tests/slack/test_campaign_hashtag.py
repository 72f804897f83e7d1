"""A hashtag campaign end to end: created in Slack (signed request, real Bolt app, SQLite file,
X simulated on loopback), it holds exactly the Posts the simulator's own search truth lists for
the last 7 days; a simulated day later the daily tally adds the new matches, each once, and
keeps the ones that have left X's 7-day window."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.channels.hashtags import search_query
from bot.channels.tally import run_tally
from tests.support.fake_slack import TEAM_ID
from tests.support.slack_app import ask, sim_admin, texts

DAY_SECONDS = 86_400


def truth(sim: Any, query: str) -> set[str]:
    """The simulator's own list of what a recent search for `query` matches now."""
    return set(sim_admin(sim, "GET", f"search?query={quote(query)}")["post_ids"])


def test_a_hashtag_campaign_finds_the_simulators_matches_and_the_tally_adds_new_ones(
    bot, fake, sim, store, deps
):
    reply = texts(ask(bot, fake, 'campaign new "Spring launch" #springlaunch'))
    first = truth(sim, "#springlaunch")
    assert first
    assert truth(sim, search_query("springlaunch", None)) == first  # no reposts to leave out
    campaign = store.campaigns.named(TEAM_ID, "spring launch")
    assert set(store.campaigns.post_ids(campaign.id)) == first
    assert f"{len(first)} Post" in reply

    sim_admin(sim, "POST", "clock", {"advance_seconds": DAY_SECONDS})
    made = sim_admin(
        sim,
        "POST",
        "posts",
        {
            "posts": [
                {"author": "sim_creator", "age_hours": 3, "hashtags": ["springlaunch"]},
                {"author": "sim_brand", "age_hours": 1, "hashtags": ["springlaunch"]},
                {"author": "sim_brand", "age_hours": 1, "hashtags": ["blackfriday"]},
            ]
        },
    )["posts"]
    new = {p["id"] for p in made[:2]}
    outcome = run_tally(now=sim.state.now(), deps=deps)

    after = store.campaigns.post_ids(campaign.id)
    assert len(after) == len(set(after))  # no duplicates
    assert set(after) == first | truth(sim, "#springlaunch")  # nothing lost that left the window
    assert new <= set(after)
    assert made[2]["id"] not in after  # another hashtag
    (followed,) = outcome.hashtags
    assert followed.added == 2
    assert followed.problem is None


def test_from_an_account_finds_only_its_posts(bot, fake, sim, store):
    ask(bot, fake, 'campaign new "Ours" #springlaunch from:@sim_brand')
    campaign = store.campaigns.named(TEAM_ID, "ours")
    expected = truth(sim, "#springlaunch from:sim_brand")
    assert set(store.campaigns.post_ids(campaign.id)) == expected
    assert expected < truth(sim, "#springlaunch")


def test_a_tag_nobody_used_is_an_empty_campaign_not_an_error(bot, fake, sim, store):
    reply = texts(ask(bot, fake, 'campaign new "Quiet" #nobodyusesthistag'))
    assert "0 Posts" in reply
    assert store.campaigns.named(TEAM_ID, "quiet").posts == 0
