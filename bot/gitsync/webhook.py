"""``POST /webhooks/git``: GitHub and GitLab push events for the configured ref.

GitHub signs the raw body (``X-Hub-Signature-256: sha256=<HMAC-SHA256 with the secret>``);
GitLab sends the secret itself (``X-Gitlab-Token``). Both are compared in constant time with
HUBS_GIT_WEBHOOK_SECRET; a request with neither, a wrong one, or no secret configured gets 401
and nothing is pulled or stored. A push for another ref, a branch deletion or another event
kind is answered 202 and ignored; a delivery id (``X-GitHub-Delivery``,
``X-Gitlab-Event-UUID``) seen before is answered 202 and not handled again. An accepted push
records the pushed commit in the store (every replica's follower pulls it on its next tick) and
wakes this worker's follower; the answer never waits for the pull.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.corpus.git import ZERO_SHA
from bot.gitsync.follow import GitFollower
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    outcome: str  # accepted | ignored | duplicate | pong | refused
    reason: str = ""
    commit: str | None = None


def verify(headers: Mapping[str, str], body: bytes, secret: str | None) -> str | None:
    """Which host signed the request ("github", "gitlab"), or None: unsigned, mis-signed, or
    no secret to check against. ``headers``: lower-case names."""
    if not secret:
        return None
    signature = headers.get("x-hub-signature-256")
    if signature is not None:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return "github" if hmac.compare_digest(f"sha256={digest}", signature.strip()) else None
    token = headers.get("x-gitlab-token")
    if token is not None:
        return "gitlab" if hmac.compare_digest(secret.encode(), token.encode()) else None
    return None


def _matches(pushed: str, wanted: str) -> bool:
    """``refs/heads/main`` is a push to ``main`` (a branch) and ``refs/tags/v2`` to ``v2``."""
    if pushed == wanted:
        return True
    return pushed in (f"refs/heads/{wanted}", f"refs/tags/{wanted}")


def _default_branch(payload: dict[str, Any]) -> str | None:
    for owner in ("repository", "project"):  # GitHub, GitLab
        info = payload.get(owner)
        if isinstance(info, dict) and isinstance(info.get("default_branch"), str):
            return info["default_branch"]
    return None


def receive(
    headers: Mapping[str, str],
    body: bytes,
    settings: Settings,
    store: Store,
    follower: GitFollower,
) -> Answer:
    host = verify(headers, body, settings.git_webhook_secret)
    if host is None:
        if not settings.git_webhook_secret:
            log.warning("git webhook refused: HUBS_GIT_WEBHOOK_SECRET is not set")
        return Answer(401, "refused", "missing or wrong signature")
    event = headers.get("x-github-event") if host == "github" else headers.get("x-gitlab-event")
    if host == "github" and event == "ping":
        return Answer(200, "pong")
    if event not in ("push", "Push Hook", "Tag Push Hook"):
        return Answer(202, "ignored", f"not a push event: {event}")
    try:
        payload = json.loads(body)
    except ValueError:
        return Answer(400, "refused", "body is not JSON")
    if not isinstance(payload, dict):
        return Answer(400, "refused", "body is not a JSON object")
    ref, after = payload.get("ref"), payload.get("after") or payload.get("checkout_sha")
    wanted = follower.branch or _default_branch(payload)
    if not isinstance(ref, str) or wanted is None or not _matches(ref, wanted):
        return Answer(202, "ignored", f"a push to {ref}, not {wanted}")
    if not isinstance(after, str) or not after or after == ZERO_SHA:
        return Answer(202, "ignored", "the ref was deleted")
    delivery = headers.get("x-github-delivery") or headers.get("x-gitlab-event-uuid")
    if delivery and not store.claim_git_delivery(f"{host}:{delivery}"):
        return Answer(202, "duplicate", "this delivery was handled already")
    generation = store.want_commit(follower.source, after)
    follower.wake()
    log.info(
        "git push received",
        extra={"host": host, "commit": after[:8], "generation": generation, "delivery": delivery},
    )
    return Answer(202, "accepted", commit=after)


def git_webhook(settings: Settings, store: Store, follower: GitFollower) -> WSGIApp:
    """The WSGI handler that :func:`bot.slack.server.build_wsgi` routes the webhook to."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            answer = Answer(405, "refused", "POST only")
        else:
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                answer = Answer(413, "refused", "body too large")
            else:
                body = environ["wsgi.input"].read(length) if length else b""
                headers = {
                    key[5:].replace("_", "-").lower(): value
                    for key, value in environ.items()
                    if key.startswith("HTTP_")
                }
                answer = receive(headers, body, settings, store, follower)
        if answer.status >= 400:
            log.warning(
                "git webhook refused", extra={"status": answer.status, "reason": answer.reason}
            )
        payload = {"outcome": answer.outcome}
        if answer.reason:
            payload["reason"] = answer.reason
        page = json.dumps(payload).encode()
        phrase = {200: "OK", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized"}
        phrase |= {405: "Method Not Allowed", 413: "Content Too Large"}
        start_response(
            f"{answer.status} {phrase[answer.status]}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(page)))],
        )
        return [page]

    return app
