# engagement-bot: `engagement-bot run` (Slack HTTP or Socket Mode, the scheduler, the X account
# connection listener) in one process. Run ONE container per database: the scheduler lives in
# it, and a second scheduler on the same file would only add contention (digests stay
# exactly-once through the store's claims, but alert passes and prefetches would run twice).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . && useradd --create-home --uid 10001 bot && mkdir /data && chown bot /data

USER bot
# The database, and its key file when ENGAGEMENT_SECRET_KEY is not set, live on this volume.
VOLUME ["/data"]
ENV ENGAGEMENT_DB=/data/engagement.db \
    PORT=3000
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/readyz', timeout=4)"

ENTRYPOINT ["engagement-bot"]
CMD ["run"]
