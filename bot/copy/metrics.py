"""What GET /metrics says each metric counts (its HELP line in Prometheus' text format)."""

from __future__ import annotations

X_REQUESTS = "Requests to X's engagement API, by endpoint and HTTP status (0: no answer)."
X_RETRIES = "Requests to X that retried one."
X_REQUEST_SECONDS = "Time for X to answer a request."
X_RATE_LIMIT_WAITS = "Waits for a rate-limit window to reset."
X_RATE_LIMIT_WAIT_SECONDS = "Time spent waiting for rate limits."
SLACK_ACK_SECONDS = "Time to answer Slack's signed requests."
COMMAND_ANSWER_SECONDS = "Time from a slash command to its reply."
SCHEDULED_POSTS = "Scheduled digests and alert passes, by outcome."
JOB_LAG_SECONDS = "How late the latest run of each scheduled job started."
DATABASE_BYTES = "The database file and its WAL."
