"""The digest's top Posts page by page (the More button) and its buttons, within Slack's limits
with many Posts and long names; button values that are not ours are refused."""

from __future__ import annotations

from dataclasses import replace

from bot.render import buttons
from bot.render.digest import PostLine, digest_message, top_page_message
from tests.support.digest_bot import DAY, METRICS, quiet_data
from tests.support.slack_limits import assert_valid_message

LINES = tuple(
    PostLine(f"17900000000000{n:05d}", dict.fromkeys(METRICS, 1_000_000 - n)) for n in range(10)
)
AUTHORS = {line.post_id: "a" * 15 for line in LINES}


def busy_data():
    data = quiet_data()
    return replace(
        data,
        post_ids=tuple(line.post_id for line in LINES),
        totals=dict.fromkeys(METRICS, 10_000_000),
        hourly=(1,) * 24,
        top=LINES[:3],
        ranked=LINES,
        new_posts=LINES[:5],
        authors=AUTHORS,
    )


def actions(message):
    (block,) = [b for b in message.blocks if b["type"] == "actions"]
    return {e["action_id"]: e for e in block["elements"]}


def test_every_page_of_ten_top_posts_fits_and_only_the_last_has_no_more():
    data = busy_data()
    digest = digest_message(data)
    assert_valid_message(digest)
    offset, seen = 0, []
    value = actions(digest)[buttons.DIGEST_MORE]["value"]
    while True:
        read = buttons.read_digest_value(value)
        assert read is not None
        assert read[0] == DAY
        offset = read[1]
        page = top_page_message(data, offset)
        assert_valid_message(page)
        seen.append(offset)
        found = actions(page)
        if buttons.DIGEST_MORE not in found:
            break
        value = found[buttons.DIGEST_MORE]["value"]
    assert seen == [3, 6, 9]
    assert "10. " in page.blocks[0]["text"]["text"]


def test_a_page_past_the_end_says_so_without_buttons():
    page = top_page_message(busy_data(), 30)
    assert_valid_message(page)
    assert "No more Posts" in page.text
    assert not [b for b in page.blocks if b["type"] == "actions"]


def test_a_quiet_digest_has_no_buttons():
    assert not [b for b in digest_message(quiet_data()).blocks if b["type"] == "actions"]


def test_values_not_made_by_the_digest_are_refused():
    for value in ("", "2026-11-25", "2026-11-25|-1", "tomorrow|0", "2026-02-30|0", "x|y|z"):
        assert buttons.read_digest_value(value) is None
    assert buttons.read_digest_value(buttons.digest_value(DAY, 6)) == (DAY, 6)
