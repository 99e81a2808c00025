"""The one way the bot builds a Slack Web API client: base URL from settings, retries on,
keep-alive connections from the process's pool (:mod:`bot.slack_api.pool`).

slack_sdk's retry handlers honour ``Retry-After`` on HTTP 429, back off on 5xx and retry
dropped connections; what still fails after them surfaces as ``SlackApiError`` for the caller
to report or record — never swallowed here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.observability import metrics
from bot.slack_api.pool import PooledWebClient

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10
# Replies are sent from listener threads after the ack, so waiting out a rate limit costs the
# user a little delay, while giving up loses the reply: honour Retry-After up to 5 times.
RATE_LIMIT_RETRIES = 5
SERVER_ERROR_RETRIES = 4  # backoff 0.5, 1, 2, 4 s
CONNECTION_RETRIES = 3
RETRY_AS_TEXT = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_too_long"})


def make_web_client(
    token: str | None,
    base_url: str,
    timeout: int = DEFAULT_TIMEOUT_S,
    *,
    server_error_retries: int = SERVER_ERROR_RETRIES,
) -> WebClient:
    return PooledWebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        timeout=timeout,
        retry_handlers=retry_handlers(server_error_retries),
    )


def retry_handlers(server_error_retries: int = SERVER_ERROR_RETRIES) -> list[RetryHandler]:
    """The bot's retry policy, for Web API calls and response URLs alike."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ServerErrorRetryHandler(max_retry_count=server_error_retries),
    ]


def slack_error(exc: Exception) -> str:
    """The short name of a failed call: Slack's ``error`` field (``not_in_channel``), else
    ``http_<status>``, else the exception's class (a timeout, a refused connection)."""
    if isinstance(exc, SlackApiError):
        data = exc.response.data if exc.response is not None else None
        if isinstance(data, dict) and data.get("error"):
            return str(data["error"])
        status = getattr(exc.response, "status_code", None)
        return f"http_{status}" if status else "slack_error"
    return type(exc).__name__


def count_error(method: str, exc: Exception) -> str:
    """Count a Web API error for /metrics; returns its short name for logging."""
    error = slack_error(exc)
    metrics.SLACK_ERRORS.labels(method, error).inc()
    return error


def post_message(client: WebClient, **kwargs: Any) -> dict[str, Any]:
    """chat.postMessage with links unfurled off; a post whose blocks Slack refuses
    (``invalid_blocks``, ``msg_too_long``) is sent again as its plain text, never dropped."""
    try:
        response = client.chat_postMessage(unfurl_links=False, unfurl_media=False, **kwargs)
    except SlackApiError as exc:
        if count_error("chat.postMessage", exc) not in RETRY_AS_TEXT or "blocks" not in kwargs:
            raise
        log.warning("blocks rejected; sending text", extra={"error": slack_error(exc)})
        kwargs.pop("blocks")
        response = client.chat_postMessage(**kwargs)
    return response.data  # type: ignore[return-value]


def event_payload(message: dict[str, Any]) -> dict[str, Any]:
    """The ``metadata.event_payload`` the bot attached to a message it posted ({} if none):
    how a later check recognises its own post in a channel's or thread's history."""
    return (message.get("metadata") or {}).get("event_payload") or {}


class TooManyPagesError(Exception):
    """More pages than the caller is willing to read: the answer is unknown."""


def paged_messages(call: Callable[..., Any], pages: int, **params: Any) -> Iterator[dict[str, Any]]:
    """Every message ``conversations.history`` / ``conversations.replies`` (``call``) returns
    for ``params``, following Slack's cursor page by page; :class:`TooManyPagesError` when more
    than ``pages`` pages would be needed. Slack API errors propagate."""
    cursor = None
    for _ in range(pages):
        response = call(**params, **({"cursor": cursor} if cursor else {}))
        yield from response.get("messages") or []
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not response.get("has_more") or not cursor:
            return
    raise TooManyPagesError
