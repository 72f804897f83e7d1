"""Routes over the simulated world: the whole state, reset, the clock, and edits to accounts,
Posts and spikes (each edit rebuilds the engagement model)."""

from __future__ import annotations

from typing import Any

from bot.simulator.admin.routing import AdminError, json_body
from bot.simulator.admin.views import (
    account_view,
    clock_view,
    options_view,
    post_view,
    spike_view,
)
from bot.simulator.http import SimRequest
from bot.simulator.state import SimState
from bot.simulator.universe import Post, UniverseError, iso, parse_time


def snapshot(state: SimState, request: SimRequest, _: list[str]) -> Any:
    universe = state.universe
    return {
        "seed": universe.seed,
        "mode": state.mode,
        "start_time": iso(universe.start_time),
        "clock": clock_view(state),
        "options": options_view(state),
        "apps": [
            {
                "name": a.name,
                "app_id": a.app_id,
                "consumer_key": a.consumer_key,
                "consumer_secret": a.consumer_secret,
                "engagement_api_enabled": a.engagement_api_enabled,
                "callback_urls": a.callback_urls,
            }
            for a in universe.apps
        ],
        "accounts": [account_view(a) for a in universe.accounts],
        "posts": [post_view(state, p) for p in universe.posts.values()],
        "spikes": [spike_view(s) for s in universe.spikes],
        "faults": state.faults.config.to_json() if state.faults.config else None,
    }


def reset(state: SimState, request: SimRequest, _: list[str]) -> Any:
    state.reset()
    return {"reset": True, "clock": clock_view(state)}


def get_clock(state: SimState, request: SimRequest, _: list[str]) -> Any:
    return clock_view(state)


def set_clock(state: SimState, request: SimRequest, _: list[str]) -> Any:
    doc = json_body(request)
    if not set(doc) & {"now", "advance_seconds", "mode"}:
        raise AdminError(400, "give now, advance_seconds and/or mode")
    if "now" in doc:
        state.clock.set(parse_time(doc["now"], "now"))
    if "advance_seconds" in doc:
        seconds = doc["advance_seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise AdminError(400, "advance_seconds must be a number")
        state.clock.advance(seconds)
    if "mode" in doc:
        if doc["mode"] == "frozen":
            state.clock.freeze()
        elif doc["mode"] == "running":
            state.clock.resume()
        else:
            raise AdminError(400, "mode must be 'frozen' or 'running'")
    return clock_view(state)


def add_account(state: SimState, request: SimRequest, _: list[str]) -> Any:
    account = state.universe.add_account(json_body(request))
    state.universe_changed()
    return account_view(account)


def patch_account(state: SimState, request: SimRequest, args: list[str]) -> Any:
    account = state.universe.account_by_id(args[0])
    if account is None:
        raise AdminError(404, f"no account {args[0]}")
    doc = json_body(request)
    if set(doc) != {"protected"} or not isinstance(doc["protected"], bool):
        raise AdminError(400, 'body must be {"protected": true|false}')
    account.protected = doc["protected"]
    state.universe_changed()
    return account_view(account)


def add_post(state: SimState, request: SimRequest, _: list[str]) -> Any:
    """One Post object, or `{"posts": [...]}` to add many with one rebuild of the model."""
    doc = json_body(request)
    many = doc.get("posts") if set(doc) == {"posts"} else None
    if many is not None and not isinstance(many, list):
        raise AdminError(400, "posts must be a list of Post objects")
    now = state.now()
    added: list[Post] = []
    try:
        for item in many or [doc]:
            added.append(state.universe.add_post(item, now=now))
    except (UniverseError, TypeError, AttributeError) as error:
        for post in added:  # all or nothing
            del state.universe.posts[post.id]
        raise AdminError(400, f"post {len(added) + 1}: {error}") from None
    state.universe_changed()
    if many is None:
        return post_view(state, added[0])
    return {"posts": [post_view(state, p) for p in added]}


def patch_post(state: SimState, request: SimRequest, args: list[str]) -> Any:
    post = state.universe.posts.get(int(args[0])) if args[0].isdigit() else None
    if post is None:
        raise AdminError(404, f"no Post {args[0]}")
    doc = json_body(request)
    if not doc or set(doc) - {"deleted", "protected"}:
        raise AdminError(400, 'body must hold "deleted" and/or "protected"')
    for key, value in doc.items():
        if not isinstance(value, bool):
            raise AdminError(400, f"{key} must be true or false")
        setattr(post, key, value)
    state.universe_changed()
    return post_view(state, post)


def list_posts(state: SimState, request: SimRequest, _: list[str]) -> Any:
    author = request.query_value("author")
    posts = list(state.universe.posts.values())
    if author:
        account = state.universe.account(author)
        if account is None:
            raise AdminError(404, f"no account {author}")
        posts = [p for p in posts if p.author == account.user_id]
    return {"posts": [post_view(state, p) for p in posts]}


def add_spike(state: SimState, request: SimRequest, _: list[str]) -> Any:
    spike = state.universe.add_spike(json_body(request))
    state.universe_changed()
    return spike_view(spike)


def list_spikes(state: SimState, request: SimRequest, _: list[str]) -> Any:
    return {"spikes": [spike_view(s) for s in state.universe.spikes]}


def clear_spikes(state: SimState, request: SimRequest, _: list[str]) -> Any:
    state.universe.spikes.clear()
    state.universe_changed()
    return {"spikes": []}
