from __future__ import annotations

import pytest

from bot.engagement.post_refs import PostRef, PostRefError, parse_post_ref
from bot.engagement.service import parse_posts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1796874333705080832", PostRef("1796874333705080832")),
        (" 0001796874333705080832 ", PostRef("1796874333705080832")),
        ("https://x.com/acme/status/1796874333705080832", PostRef("1796874333705080832", "acme")),
        (
            "https://twitter.com/Acme_Co/status/1796874333705080832?s=20",
            PostRef("1796874333705080832", "Acme_Co"),
        ),
        ("x.com/acme/status/1796874333705080832/photo/1", PostRef("1796874333705080832", "acme")),
        (
            "https://mobile.twitter.com/acme/statuses/1796874333705080832",
            PostRef("1796874333705080832", "acme"),
        ),
        (
            "<https://x.com/acme/status/1796874333705080832|x.com/acme/status/17968…>",
            PostRef("1796874333705080832", "acme"),
        ),
        ("https://x.com/i/web/status/1796874333705080832", PostRef("1796874333705080832")),
        ("https://x.com/i/status/1796874333705080832", PostRef("1796874333705080832")),
    ],
)
def test_ids_and_urls(text: str, expected: PostRef):
    assert parse_post_ref(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "12a",
        "-5",
        "https://x.com/acme",
        "https://example.com/acme/status/1",
        "99999999999999999999",
        "0",
        "https://x.com/acme/status/",
        "₁₂₃",  # subscripts: isdigit() says yes, int() says no
        "١٢٣",  # Arabic-Indic digits are digits, but not a Post ID anyone pasted
        "https://x.com/acme/status/١٢٣",
    ],
)
def test_rejects_what_is_not_a_post(text: str):
    with pytest.raises(PostRefError, match="not a"):
        parse_post_ref(text)


def test_a_list_of_references_gives_each_post_once_with_the_handles_urls_named():
    refs = [
        "1796874333705080832",
        "https://x.com/acme/status/1796874333705080833",
        "0001796874333705080832",  # the first one again, written with leading zeros
        " 1796874333705080834 ",
        "9223372036854775807",  # the largest Post ID, bare
    ]

    assert parse_posts(refs) == (
        [
            "1796874333705080832",
            "1796874333705080833",
            "1796874333705080834",
            "9223372036854775807",
        ],
        {"1796874333705080833": "acme"},
    )


@pytest.mark.parametrize("text", ["0", "9223372036854775808", "12a", ""])
def test_a_list_with_one_bad_reference_is_refused(text: str):
    with pytest.raises(PostRefError):
        parse_posts(["1796874333705080832", text])
