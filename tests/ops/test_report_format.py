"""`query --format csv` as a spreadsheet or a script reads it: every field back as it was, the
ones holding a comma, a quote or a line break quoted as the csv module quotes them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from bot.engagement.query import EngagementQuery, Granularity, Reason, Report, Value
from bot.ops.report_format import as_csv

POSTS = ("1460323737035677698", "1460323737035677699")
# Our metric names never hold one, but a field that does must still read back whole.
AWKWARD = ("impressions", 'say "hi", twice', "line\nbreak")


def written_by_csv_module(rows: list[list[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def test_totals_read_back_field_for_field():
    totals = {
        POSTS[0]: {AWKWARD[0]: Value(1234), AWKWARD[1]: Value(0), AWKWARD[2]: Value(7)},
        POSTS[1]: {
            AWKWARD[0]: Value(None, Reason.IMPRESSIONS_TOO_OLD),
            AWKWARD[1]: Value(3, partial=True),
            AWKWARD[2]: Value(None, Reason.NOT_OWNED),
        },
    }
    report = Report(EngagementQuery(POSTS, AWKWARD), totals=totals)

    text = as_csv(report)

    assert list(csv.reader(io.StringIO(text))) == [
        ["post_id", "metric", "value", "missing"],
        [POSTS[0], AWKWARD[0], "1234", ""],
        [POSTS[0], AWKWARD[1], "0", ""],
        [POSTS[0], AWKWARD[2], "7", ""],
        [POSTS[1], AWKWARD[0], "", "impressions_too_old"],
        [POSTS[1], AWKWARD[1], "3", ""],
        [POSTS[1], AWKWARD[2], "", "not_owned"],
    ]
    assert text == written_by_csv_module(list(csv.reader(io.StringIO(text))))


def test_series_read_back_field_for_field_with_the_missing_last():
    hours = [datetime(2026, 12, 1, 22, tzinfo=UTC) + timedelta(hours=h) for h in range(3)]
    series = {
        POSTS[0]: {AWKWARD[1]: {hours[0]: 5, hours[1]: None, hours[2]: 0}},
        POSTS[1]: {AWKWARD[0]: {hours[0]: 1, hours[1]: 2, hours[2]: 3}},
    }
    missing = {(POSTS[1], AWKWARD[2]): Reason.NOT_OWNED}
    query = EngagementQuery(POSTS, AWKWARD, Granularity.HOUR)
    report = Report(query, series=series, missing=missing)

    text = as_csv(report)

    assert list(csv.reader(io.StringIO(text))) == [
        ["post_id", "metric", "bucket", "value"],
        [POSTS[0], AWKWARD[1], "2026-12-01T22:00:00Z", "5"],
        [POSTS[0], AWKWARD[1], "2026-12-01T23:00:00Z", ""],
        [POSTS[0], AWKWARD[1], "2026-12-02T00:00:00Z", "0"],
        [POSTS[1], AWKWARD[0], "2026-12-01T22:00:00Z", "1"],
        [POSTS[1], AWKWARD[0], "2026-12-01T23:00:00Z", "2"],
        [POSTS[1], AWKWARD[0], "2026-12-02T00:00:00Z", "3"],
        [POSTS[1], AWKWARD[2], "", "missing: not_owned"],
    ]
    assert text == written_by_csv_module(list(csv.reader(io.StringIO(text))))


def test_daily_buckets_are_dates():
    query = EngagementQuery(POSTS[:1], ("likes",), Granularity.DAY)
    report = Report(query, series={POSTS[0]: {"likes": {date(2026, 11, 30): 4}}})

    assert as_csv(report) == f"post_id,metric,bucket,value\n{POSTS[0]},likes,2026-11-30,4\n"
