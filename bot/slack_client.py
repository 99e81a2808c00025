"""The one way the bot builds a Slack Web API client: base URL from settings, retries on.

slack_sdk's retry handlers honour ``Retry-After`` on HTTP 429, back off on 5xx and retry
dropped connections; what still fails after them surfaces as ``SlackApiError`` for the caller
to report or record — never swallowed here.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

DEFAULT_TIMEOUT_S = 10
MAX_RETRIES = 2


def make_web_client(
    token: str | None, base_url: str, timeout: int = DEFAULT_TIMEOUT_S
) -> WebClient:
    return WebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=MAX_RETRIES),
            RateLimitErrorRetryHandler(max_retry_count=MAX_RETRIES),
            ServerErrorRetryHandler(max_retry_count=MAX_RETRIES),
        ],
    )
