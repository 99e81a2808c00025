"""`/hubs …`: acknowledge at once, then answer ephemerally through the response URL."""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Any

from bot.slack.listeners.digest_settings import digest_command, is_digest_command
from bot.slack.listeners.queries import command_reply

if TYPE_CHECKING:
    from slack_bolt import Ack, App, Respond
    from slack_sdk import WebClient

    from bot.slack.deps import Deps

log = logging.getLogger(__name__)

COMMAND = re.compile(r"^/hubs")  # also /hubs-dev etc. for a second install of the app


def register(app: App, deps: Deps) -> None:
    @app.command(COMMAND)
    def handle_hubs(
        ack: Ack,
        command: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: dict[str, Any],
    ) -> None:
        ack()
        started = time.perf_counter()
        query = command.get("text") or ""
        if is_digest_command(query.casefold()):
            text = digest_command(query, command, client, deps)
            respond(response_type="ephemeral", text=text)
        else:
            bot = context.get("bot_user_id")
            text, blocks = command_reply(query, deps, command.get("team_id"), bot)
            respond(response_type="ephemeral", text=text, blocks=blocks)
        log.info(
            "slash command answered",
            extra={
                "command": command.get("command"),
                "answer": text[:80],
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
