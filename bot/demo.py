"""`engagement-bot demo`: a short tour on the embedded simulator.

For now it shows the foundation: the simulator on a loopback port, an account connected through
the real 3-legged OAuth flow, and the client fetching /totals, /28hr and /historical. Later
issues grow it into the tour of the whole bot.
"""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime, timedelta
from typing import TextIO
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlsplit

from bot.engagement.http_client import HttpEngagementClient
from bot.engagement.models import (
    DAILY,
    HOURLY,
    Endpoint,
    EngagementRequest,
    EngagementResult,
    UserAuth,
)
from bot.simulator.server import start_simulator

CALLBACK = "http://127.0.0.1:3000/x/oauth/callback"
TOTALS = ("impressions", "engagements", "favorites", "retweets", "replies")
SPARK = "▁▂▃▄▅▆▇█"
DAY_AGO = timedelta(hours=20)


def sparkline(values: list[int]) -> str:
    top = max(values, default=0) or 1
    return "".join(SPARK[min(len(SPARK) - 1, v * len(SPARK) // (top + 1))] for v in values)


def human(count: int | None) -> str:
    if count is None:
        return "n/a"
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    if count >= 10_000:
        return f"{count / 1000:.1f}K"
    return f"{count:,}"


def approve_in_browser(authorize_url: str, screen_name: str) -> str:
    """Stand in for the person clicking 'Authorize' (CONTRACT §4.2); returns the verifier."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(f"{authorize_url}&sim_approve={screen_name}", timeout=10)
    except HTTPError as redirect:
        location = redirect.headers.get("Location", "")
        return parse_qs(urlsplit(location).query)["oauth_verifier"][0]
    raise RuntimeError("the authorize page did not redirect")


def table(result: EngagementResult, post_ids: list[str], metrics: tuple[str, ...]) -> list[str]:
    lines = ["  Post ID               " + "".join(f"{m:>13}" for m in metrics)]
    for post_id in post_ids:
        cells = "".join(f"{human(result.value(post_id, m)):>13}" for m in metrics)
        lines.append(f"  {post_id:<22}{cells}")
    return lines


def run_demo(out: TextIO, *, now: datetime) -> int:
    """Run the tour against a fresh simulator whose clock starts at `now`; write it to `out`."""
    now = now.astimezone(UTC).replace(microsecond=0)

    def say(line: str = "") -> None:
        out.write(line + "\n")

    with start_simulator(mode="demo", start_time=now) as sim:
        say(f"X API simulator on {sim.url} (seed 1, clock {now:%Y-%m-%d %H:%M}Z)")
        client = HttpEngagementClient(
            consumer_key="sim-consumer-key",
            consumer_secret="sim-consumer-secret",
            engagement_base_url=sim.url,
            oauth_base_url=sim.url,
        )
        with client:
            request_token = client.request_token(CALLBACK)
            verifier = approve_in_browser(client.authorize_url(request_token.token), "sim_brand")
            grant = client.access_token(request_token.token, request_token.secret, verifier)
            brand = UserAuth(grant.access_token, grant.access_token_secret)
            say(f"Connected @{grant.screen_name} (user {grant.user_id}) through 3-legged OAuth")

            posts = client.user_posts(grant.user_id, max_results=100, auth=brand).posts
            aged = [p for p in posts if p.created_at and p.created_at < now - timedelta(days=90)]
            shown = [p.id for p in posts[:4]] + [p.id for p in aged[:1]]
            say(f"\n/totals for @{grant.screen_name}'s newest Posts and one from months ago:")
            totals = client.fetch(EngagementRequest(Endpoint.TOTALS, tuple(shown), TOTALS, brand))
            for line in table(totals, shown, TOTALS):
                say(line)
            if totals.impressions_unsupported_ids:
                say("  n/a: X serves impressions and engagements on /totals for 90 days only")

            creator = client.user_by_username("sim_creator").user
            if creator is not None:
                theirs = [p.id for p in client.user_posts(creator.id, max_results=5).posts][:3]
                public = ("favorites", "retweets", "replies", "quote_tweets")
                say(f"\n/totals for @{creator.username}'s Posts (not ours: app-only, public):")
                result = client.fetch(EngagementRequest(Endpoint.TOTALS, tuple(theirs), public))
                for line in table(result, theirs, public):
                    say(line)

            day_old = next(p.id for p in posts if p.created_at and p.created_at < now - DAY_AGO)
            hourly = client.fetch(
                EngagementRequest(
                    Endpoint.HOURLY_28HR, (day_old,), ("impressions",), brand, (HOURLY,)
                )
            )
            series = [v or 0 for _, v in sorted(hourly.hourly(day_old, "impressions").items())]
            say(f"\n/28hr impressions of {day_old}, hour by hour:")
            say(f"  {sparkline(series)}  {len(series)} hours, {sum(series):,} impressions")

            older = posts[min(len(posts), 12) - 1].id
            start = (now - timedelta(days=14)).replace(hour=0, minute=0, second=0)
            daily = client.fetch(
                EngagementRequest(
                    Endpoint.HISTORICAL, (older,), ("engagements",), brand, (DAILY,), start, now
                )
            )
            days = sorted(daily.daily(older, "engagements").items())
            say(f"\n/historical engagements of {older}, day by day since {start:%Y-%m-%d}:")
            say(f"  {sparkline([v or 0 for _, v in days])}")
            say("  " + ", ".join(f"{d:%m-%d} {human(v)}" for d, v in days[-5:]))
            say(f"\nRequests left on /historical this minute: {daily.rate_limit.remaining}")
    return 0
