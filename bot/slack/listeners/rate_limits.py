"""`app_rate_limited`: Slack stops sending events for a minute when the app receives too many.

It arrives as its own top-level payload type, not an ``event_callback``, so no Bolt listener
matches it and Bolt would answer 404 "Unhandled request". A middleware acknowledges it, logs a
warning naming the minute, and counts it (``hubs_app_rate_limited_total``): the events of that
minute are lost, and whoever runs the bot should know.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.observability import metrics

if TYPE_CHECKING:
    from slack_bolt import App

log = logging.getLogger(__name__)


class AppRateLimited(Middleware):
    """Acknowledges ``app_rate_limited`` (a :class:`Middleware` subclass: no per-request
    argument injection, as a function middleware would cost)."""

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        body = req.body
        if body.get("type") != "app_rate_limited":
            return next()
        minute = body.get("minute_rate_limited")
        when = (
            datetime.fromtimestamp(int(minute), UTC).isoformat()
            if str(minute or "").isdigit()
            else None
        )
        metrics.APP_RATE_LIMITED.inc()
        log.warning(
            "Slack rate-limited the app's events for a minute; that minute's events are lost",
            extra={"team": body.get("team_id"), "minute": when},
        )
        return BoltResponse(status=200, body="")


def register(app: App) -> None:
    app.use(AppRateLimited())
