"""The buttons on a leaderboard and a totals card, end to end: signed block_actions to the real
Bolt app, the real dispatcher and store, X simulated (its requests counted), Slack faked (the
thread posts, the uploaded file's bytes, response_url replacements recorded)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from bot.app import build_service
from bot.channels.deps import Deps
from bot.render import buttons
from bot.slack.app import build_app
from bot.slack.web import build_web_client, channel_membership
from tests.support.clocks import FakeClock
from tests.support.fake_slack import BOT_TOKEN
from tests.support.interactive import ADMIN, MEMBER, press_on_message
from tests.support.slack_app import ask, connect_brand, settings_for, sim_posts, texts, x_requests

ROW = re.compile(r"(🥇|🥈|🥉|\d+\.) \*([\d,]+)\* likes? · <https://x\.com/\w+/status/(\d+)\|")


@pytest.fixture
def board(bot: Any, fake: Any, store: Any) -> dict[str, Any]:
    """`top likes 3 7d` in a channel tracking @sim_brand: the board as Slack got it."""
    connect_brand(store)
    ask(bot, fake, "track @sim_brand", user_id=ADMIN)
    return ask(bot, fake, "top likes 3 7d", user_id=MEMBER)


def actions_of(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (block,) = [b for b in message["blocks"] if b["type"] == "actions"]
    return {e["action_id"]: e for e in block["elements"]}


def rows_on_screen(message: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(badge, value, Post ID) of each row, as the person reads them."""
    found = ROW.findall(texts({"b": message["blocks"]}))
    # texts() walks the blocks in reverse; the rows read top to bottom.
    ordered = sorted(found, key=lambda r: texts({"b": message["blocks"]}).find(r[2]))
    return [(badge, int(value.replace(",", "")), post) for badge, value, post in ordered]


def test_more_posts_the_next_page_in_the_boards_thread(bot, fake, board):
    more = actions_of(board)[buttons.BOARD_MORE]
    ts = "1790000000.000777"
    press_on_message(bot, fake, {"action_id": buttons.BOARD_MORE, "value": more["value"]}, ts=ts)
    (page,) = [c.body for c in fake.api_calls("chat.postMessage") if c.body.get("thread_ts") == ts]
    six = ask(bot, fake, "top likes 6 7d", user_id=MEMBER)
    assert rows_on_screen(page) == rows_on_screen(six)[3:]  # ranks 4–6, numbered as such
    assert rows_on_screen(page)[0][0] == "4."


def test_csv_uploads_the_rows_on_screen_to_the_thread(bot, fake, board):
    value = actions_of(board)[buttons.BOARD_CSV]["value"]
    ts = "1790000000.000888"
    press_on_message(bot, fake, {"action_id": buttons.BOARD_CSV, "value": value}, ts=ts)
    (complete,) = fake.api_calls("files.completeUploadExternal")
    assert complete.body["thread_ts"] == ts
    (upload,) = fake.calls(kind="upload")
    table = list(csv.DictReader(io.StringIO(upload.raw.decode("utf-8"))))
    on_screen = rows_on_screen(board)
    assert [(int(r["value"]), r["post_id"]) for r in table] == [(v, p) for _, v, p in on_screen]
    assert [r["rank"] for r in table] == ["1", "2", "3"]


def test_change_period_replaces_the_board_with_that_periods(bot, fake, board):
    select = actions_of(board)[buttons.BOARD_PERIOD]
    assert [o["value"].split("|")[2] for o in select["options"]] == ["24h", "7d", "28d", "90d"]
    picked = next(o for o in select["options"] if o["value"].split("|")[2] == "28d")
    action = {"action_id": buttons.BOARD_PERIOD, "type": "static_select", "selected_option": picked}
    press_on_message(bot, fake, action)
    (replaced,) = fake.responses("action")
    assert replaced["replace_original"] is True
    assert replaced["response_type"] == "in_channel"
    assert "LAST 28 DAYS" in texts(replaced).upper()
    assert rows_on_screen(replaced) == rows_on_screen(ask(bot, fake, "top likes 3 28d"))


def test_refresh_asks_x_only_once_the_answer_cache_is_stale(fake, store, client, sim):
    clock = FakeClock()
    service = build_service(client, store, sleep=clock.sleep, monotonic=clock.monotonic)
    settings = settings_for(fake)
    can_post = channel_membership(build_web_client(settings, token=BOT_TOKEN))
    app = build_app(
        settings,
        Deps(service, store, settings, can_post=can_post),
        clock=sim.state.now,
        process_before_response=True,
    )
    connect_brand(store)
    post = sim_posts(sim, "sim_brand")[0]
    card = ask(app, fake, f"totals {post}")
    refresh = actions_of(card)[buttons.TOTALS_REFRESH]
    assert refresh["value"] == post
    before = len(x_requests(sim))
    press_on_message(app, fake, {"action_id": buttons.TOTALS_REFRESH, "value": post})
    assert len(x_requests(sim)) == before  # fresh: answered from the cache
    (fresh,) = fake.responses("action")
    assert fresh["replace_original"] is True
    assert post in texts(fresh)
    clock.sleep(61)  # the service's monotonic clock: past the 60 s answer cache
    press_on_message(app, fake, {"action_id": buttons.TOTALS_REFRESH, "value": post})
    assert len(x_requests(sim)) > before  # stale: X asked again
    assert post in texts(fake.responses("action")[-1])
