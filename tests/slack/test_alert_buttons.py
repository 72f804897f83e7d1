"""An alert's Mute this Post, end to end: the alert job (its own process) posts a spike alert
with its buttons to the fake Slack; the press reaches the real Bolt app on the same SQLite
file; the next spike of that Post stays silent while another Post's still alerts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import requests

from bot.channels.alerts import COOLDOWN
from bot.engagement.windows import floor_hour
from bot.render import buttons
from bot.store.channels import ChannelSettings
from tests.support.alert_bot import CHANNEL, HOUR, add_spike, advance, alert_posts
from tests.support.fake_slack import TEAM_ID
from tests.support.interactive import ADMIN, press_on_message
from tests.support.slack_app import connect_brand, texts
from tests.support.universe import SIM_START


def two_brand_posts(sim: Any) -> list[str]:
    reply = requests.get(f"{sim.url}/_sim/posts?author=sim_brand", timeout=30)
    limit = f"{SIM_START - timedelta(hours=12):%Y-%m-%dT%H:%M:%S}"
    posts = [p for p in reply.json()["posts"] if not p["deleted"] and p["created_at"] < limit]
    posts.sort(key=lambda p: p["created_at"], reverse=True)
    return [str(p["id"]) for p in posts[:2]]


def test_mute_this_post_silences_that_posts_alerts_only(make_alert_bot, sim, fake, bot, store):
    alerts = make_alert_bot()
    muted, other = two_brand_posts(sim)
    connect_brand(store)
    store.channels.save_settings(ChannelSettings(TEAM_ID, CHANNEL, timezone="UTC"), now=SIM_START)
    store.channels.track(
        TEAM_ID, CHANNEL, kind="post", refs=[muted, other], by=ADMIN, now=SIM_START
    )
    store.channels.add_alert(
        TEAM_ID, CHANNEL, kind="spike", sensitivity="medium", by=ADMIN, now=SIM_START
    )
    add_spike(sim, muted, floor_hour(SIM_START) - HOUR)
    [firing] = alerts.check()
    [alert] = alert_posts(fake)
    actions = next(b for b in alert["blocks"] if b["type"] == "actions")
    mute = next(e for e in actions["elements"] if e["action_id"].startswith(buttons.MUTE_POST))
    assert mute["text"]["text"] == "Mute this Post"
    assert mute["value"] == muted == firing.post_id

    action = {"action_id": mute["action_id"], "value": mute["value"]}
    press_on_message(bot, fake, action, channel=CHANNEL)
    assert store.channels.muted(TEAM_ID, CHANNEL) == {muted}
    assert "Muted" in texts(fake.responses("action")[-1])

    advance(sim, COOLDOWN + HOUR)  # past the cooldown: both Posts spike again
    later = floor_hour(SIM_START + COOLDOWN + HOUR) - HOUR
    add_spike(sim, muted, later)
    add_spike(sim, other, later)
    assert [f.post_id for f in alerts.check()] == [other]
