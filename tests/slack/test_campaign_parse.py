"""The campaign and compare grammar: quoted names with spaces (smart quotes too), bare names,
periods, metrics, and a short specific message for each kind of bad input."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.engagement.post_refs import PostRef
from bot.errors import UsageError
from bot.slack.parse.commands import (
    CampaignAdd,
    CampaignDelete,
    CampaignList,
    CampaignNew,
    CampaignShow,
    Command,
    Compare,
    CompareSide,
)
from bot.slack.parse.grammar import parse

TODAY = date(2026, 11, 26)
ID = "1460323737035677698"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'campaign new "Spring launch" #springlaunch',
            CampaignNew("Spring launch", "springlaunch"),
        ),
        (
            "campaign new “Spring launch” #SpringLaunch",
            CampaignNew("Spring launch", "SpringLaunch"),
        ),
        (
            "campaign new Spring launch 2026 #spring from:@sim_brand",
            CampaignNew("Spring launch 2026", "spring", "sim_brand"),
        ),
        ('campaign new "Mom\'s day"', CampaignNew("Mom's day")),
        (
            f'campaign add "Spring launch" {ID} https://x.com/a/status/{ID}',
            CampaignAdd("Spring launch", (PostRef(ID),)),
        ),
        (
            "campaign add 'Spring launch' @sim_brand from 2026-11-01 to 2026-11-20",
            CampaignAdd("Spring launch", (), "sim_brand", date(2026, 11, 1), date(2026, 11, 20)),
        ),
        (
            'campaign "Spring launch" 28d likes impressions',
            CampaignShow("Spring launch", date(2026, 10, 30), TODAY, ("favorites", "impressions")),
        ),
        ("campaign spring launch 7d", CampaignShow("spring launch", date(2026, 11, 20), TODAY)),
        (
            "campaign Launch 2026-11-01..2026-11-05",
            CampaignShow("Launch", date(2026, 11, 1), date(2026, 11, 5)),
        ),
        ("/engagement campaign Launch", CampaignShow("Launch")),
        ('campaign delete "Spring launch"', CampaignDelete("Spring launch")),
        ("campaigns", CampaignList()),
        ("campaign list", CampaignList()),
        (
            "compare @ours vs @theirs 28d likes",
            Compare(
                CompareSide("account", "ours"),
                CompareSide("account", "theirs"),
                date(2026, 10, 30),
                TODAY,
                ("favorites",),
            ),
        ),
        (
            f'compare "Spring launch" versus {ID}',
            Compare(CompareSide("campaign", "Spring launch"), CompareSide("post", ID)),
        ),
        (
            "compare Fall launch vs Spring launch likes",
            Compare(
                CompareSide("campaign", "Fall launch"),
                CompareSide("campaign", "Spring launch"),
                metrics=("favorites",),
            ),
        ),
    ],
)
def test_campaign_commands_parse(text: str, expected: object) -> None:
    assert parse(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("campaign", "Name the campaign"),
        ('campaign new "Spring" #', "A hashtag needs a word after `#`"),
        ('campaign new "Spring" #spring-launch', "is not a hashtag"),
        ('campaign new "Spring" from:@sim_brand', "A hashtag needs a word"),
        ('campaign add "Spring"', "Add what?"),
        ('campaign add "Spring" banana', "not a Post"),
        ('campaign add "Spring" @sim_brand', "Add what?"),
        ('campaign "Spring" from 2014-08-31 to 2014-09-30', "X's history starts on 1 Sep 2014"),
        ('campaign "Spring" from 2026-11-20 to 2026-11-01', "ends (2026-11-01) before it starts"),
        ('campaign "Spring" from 2026-11-20 to 2026-12-01', "is in the future"),
        ('campaign "Spring" 7d bananas', "bananas"),
        ('campaign delete "Spring" extra', "takes nothing after it"),
        ("campaigns extra", "takes nothing after it"),
        ("compare @ours", "Compare what with what?"),
        ("compare @ours vs", "Compare what with what?"),
        ("compare vs @theirs", "Compare what with what?"),
        ("compare @a @b vs @c", "Compare what with what?"),
        ("campagn list", "Did you mean `campaign`?"),
    ],
)
def test_bad_campaign_input_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text, today=TODAY)
    assert says in str(caught.value)
    assert "Usage:" in str(caught.value) or "Did you mean" in str(caught.value)


WORDS = st.sampled_from(
    [
        "campaign",
        "campaigns",
        "compare",
        "new",
        "add",
        "delete",
        "vs",
        "from",
        "to",
        "7d",
        "#",
        "#tag",
        "@sim_brand",
        '"',
        "'",
        "“",
        "2026-11-01",
        "2013-01-01",
        "likes",
        ID,
        "x" * 600,
        "from:@a",
        "",
    ]
)


@given(
    st.lists(WORDS | st.text(max_size=20), max_size=8),
    st.sampled_from(["campaign", "compare", "campaigns"]),
)
def test_any_text_parses_or_says_why(words: list[str], head: str) -> None:
    outcome: object
    try:
        outcome = parse(" ".join([head, *words]), today=TODAY)
    except UsageError as error:  # anything else propagates and fails the test
        outcome = error
    assert isinstance(outcome, Command) or str(outcome).strip()
