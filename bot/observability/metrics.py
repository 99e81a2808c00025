"""Prometheus metrics: requests and their latency, answers without a match, Slack API errors,
digest posts, replies kept in the outbox. Served at ``GET /metrics`` by `serve`.

Under gunicorn with several workers each process counts on its own; the server then sets
``PROMETHEUS_MULTIPROC_DIR`` before the workers start so ``/metrics`` adds them all up
(prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote_plus

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "hubs_requests_total", "Slack requests handled, by kind and HTTP status", ["kind", "status"]
)
LATENCY = Histogram(
    "hubs_request_seconds",
    "Time from receiving a Slack request to acknowledging it",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 3, 5),
)
QUESTIONS = Counter("hubs_questions_total", "Questions answered, by source", ["source", "matched"])
SLACK_ERRORS = Counter(
    "hubs_slack_api_errors_total", "Slack Web API errors after retries", ["method", "error"]
)
APP_RATE_LIMITED = Counter(
    "hubs_app_rate_limited", "Minutes in which Slack held back the app's events (app_rate_limited)"
)
DIGEST_POSTS = Counter("hubs_digest_posts_total", "Weekly digest post attempts", ["outcome"])
OUTBOX = Counter(
    "hubs_outbox_total",
    "Replies Slack could not take at once: queued, delivered later, or given up",
    ["outcome"],
)

# Every series whose labels are known in advance starts at zero, so /metrics lists it from the
# first scrape and a dashboard or alert never sees "no data" where it means 0.
for _source in ("slash", "mention", "dm", "shortcut"):
    for _matched in ("yes", "no"):
        QUESTIONS.labels(_source, _matched)
for _outcome in ("posted", "failed"):
    DIGEST_POSTS.labels(_outcome)
for _outcome in ("queued", "delivered", "dead"):
    OUTBOX.labels(_outcome)


def exposition(multiprocess_dir: Path | None = None) -> tuple[bytes, str]:
    """The metrics page, merged across worker processes when gunicorn runs several (they
    share ``multiprocess_dir``, PROMETHEUS_MULTIPROC_DIR)."""
    if multiprocess_dir is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(multiprocess_dir))
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def request_kind(body: bytes, content_type: str) -> str:
    """What a Slack request is, from its raw body: ``slash``, ``event:app_mention``,
    ``block_actions``, ``message_action``… (never any of its text)."""
    try:
        if "json" in content_type:
            data = json.loads(body or b"{}")
            if data.get("type") == "event_callback":
                return "event:" + str((data.get("event") or {}).get("type", "unknown"))
            return str(data.get("type") or "unknown")
        # the field names, not every value decoded (a slash command has a dozen fields)
        fields: dict[bytes, bytes] = {}
        for field in body.split(b"&"):
            name, _, value = field.partition(b"=")
            fields.setdefault(name, value)
        if b"command" in fields:
            return "slash"
        if b"payload" in fields:
            payload = unquote_plus(fields[b"payload"].decode("utf-8", "replace"))
            return str(json.loads(payload).get("type") or "unknown")
    except (ValueError, AttributeError):
        pass
    return "unknown"
