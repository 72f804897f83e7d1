"""The simplest correct client for what `engagement-bot query` does, as X's sample clients are
written: sequential `requests` calls signed with `requests_oauthlib.OAuth1`, no store, no planner.
It is the yardstick of bench/versus_script.py, not part of the bot.

    X_API_URL=... X_CONSUMER_KEY=... X_CONSUMER_SECRET=... \\
    X_ACCESS_TOKEN=... X_ACCESS_TOKEN_SECRET=... \\
    python bench/baseline_script.py totals|hourly|daily [--from DAY --to DAY] POST_ID... | @FILE

Every Post must belong to the account whose token is given (user context reads all metrics).
Prints `post_id,metric,bucket,value` rows (bucket empty for totals), then one line per metric
with its sum over every Post and bucket.
"""

import argparse
import os
import sys
from datetime import UTC, date, datetime, timedelta

import requests
from requests_oauthlib import OAuth1

TOTALS_METRICS = [
    "impressions",
    "engagements",
    "favorites",
    "retweets",
    "quote_tweets",
    "replies",
    "video_views",
]
SERIES_METRICS = ["impressions", "engagements", "favorites", "retweets", "replies"]
IDS_PER_CALL = {"totals": 250, "28hr": 25, "historical": 25}
MAX_WINDOW = timedelta(days=28)


def post(auth, endpoint, body):
    reply = requests.post(
        f"{os.environ['X_API_URL']}/insights/engagement/{endpoint}",
        json=body,
        auth=auth,
        headers={"Accept-Encoding": "gzip"},
        timeout=60,
    )
    reply.raise_for_status()
    return reply.json()


def batches(ids, size):
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def totals(auth, ids):
    for chunk in batches(ids, IDS_PER_CALL["totals"]):
        body = {
            "tweet_ids": chunk,
            "engagement_types": TOTALS_METRICS,
            "groupings": {"by_post": {"group_by": ["tweet.id", "engagement.type"]}},
        }
        for post_id, metrics in post(auth, "totals", body)["by_post"].items():
            for metric, value in metrics.items():
                yield post_id, metric, "", int(value)


def hourly(auth, ids):
    for chunk in batches(ids, IDS_PER_CALL["28hr"]):
        body = {
            "tweet_ids": chunk,
            "engagement_types": SERIES_METRICS,
            "groupings": {
                "by_hour": {
                    "group_by": ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]
                }
            },
        }
        for post_id, metrics in post(auth, "28hr", body)["by_hour"].items():
            for metric, days in metrics.items():
                for day, hours in days.items():
                    for hour, value in hours.items():
                        yield post_id, metric, f"{day}T{hour}:00:00Z", int(value)


def windows(first, last):
    """[start, end) pieces of at most 28 days covering the days first..last, ending no later
    than the current hour (X refuses an end in the future)."""
    now = datetime.now(UTC)
    limit = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = min(datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1), limit)
    while start < end:
        piece = min(start + MAX_WINDOW, end)
        yield start, piece
        start = piece


def daily(auth, ids, first, last):
    for start, end in windows(first, last):
        for chunk in batches(ids, IDS_PER_CALL["historical"]):
            body = {
                "tweet_ids": chunk,
                "engagement_types": SERIES_METRICS,
                "groupings": {
                    "by_day": {"group_by": ["tweet.id", "engagement.type", "engagement.day"]}
                },
                "start": start.strftime("%Y-%m-%dT%H:%MZ"),
                "end": end.strftime("%Y-%m-%dT%H:%MZ"),
            }
            for post_id, metrics in post(auth, "historical", body)["by_day"].items():
                for metric, days in metrics.items():
                    for day, value in days.items():
                        yield post_id, metric, day, int(value)


def read_ids(args):
    ids = []
    for arg in args:
        if arg.startswith("@"):
            with open(arg[1:], encoding="utf-8") as listing:
                ids.extend(line.strip() for line in listing if line.strip())
        else:
            ids.append(arg)
    return ids


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["totals", "hourly", "daily"])
    parser.add_argument("posts", nargs="+")
    parser.add_argument("--from", dest="first", type=date.fromisoformat)
    parser.add_argument("--to", dest="last", type=date.fromisoformat)
    args = parser.parse_args()
    auth = OAuth1(
        os.environ["X_CONSUMER_KEY"],
        os.environ["X_CONSUMER_SECRET"],
        os.environ["X_ACCESS_TOKEN"],
        os.environ["X_ACCESS_TOKEN_SECRET"],
    )
    ids = read_ids(args.posts)
    if args.kind == "totals":
        rows = totals(auth, ids)
    elif args.kind == "hourly":
        rows = hourly(auth, ids)
    else:
        today = datetime.now(UTC).date()
        rows = daily(auth, ids, args.first or today - timedelta(days=27), args.last or today)
    sums = {}
    out = sys.stdout
    out.write("post_id,metric,bucket,value\n")
    for post_id, metric, bucket, value in rows:
        out.write(f"{post_id},{metric},{bucket},{value}\n")
        sums[metric] = sums.get(metric, 0) + value
    for metric, total in sums.items():
        out.write(f"# sum of {metric}: {total}\n")


if __name__ == "__main__":
    main()
