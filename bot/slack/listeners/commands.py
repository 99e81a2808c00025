"""`/hubs …`: answered in the acknowledgement itself when the answer is ready in time.

Slack shows the body of a slash command's HTTP response as the (ephemeral) answer, so the
answer goes there: no response-URL round trip, no second connection. A search is computed in
memory on the request's thread (its question is only queued for the log). An answer that
waits on the database or on Slack (`help` reads the digest's channel, `/hubs digest here`
calls Slack) is worked out on the listener pool while the request waits up to
``ANSWER_IN_ACK_S`` for it; a slower one is acknowledged empty at that deadline and sent to
the response URL when ready, well within Slack's 3 seconds either way.
"""

from __future__ import annotations

import logging
import re
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from bot.slack.listeners.digest_settings import digest_command, is_digest_command
from bot.slack.listeners.queries import command_reply, waits_on_the_store

if TYPE_CHECKING:
    from slack_bolt import Ack, App, Respond
    from slack_sdk import WebClient

    from bot.slack.deps import Deps

log = logging.getLogger(__name__)

COMMAND = re.compile(r"^/hubs")  # also /hubs-dev etc. for a second install of the app
ANSWER_IN_ACK_S = 1.0  # of Slack's 3 s, leaving the rest for the network both ways
SORRY = "Something went wrong on my side; please try again in a moment."

Message = dict[str, Any]


def answer(
    query: str,
    command: dict[str, Any],
    client: WebClient,
    deps: Deps,
    bot_user_id: str | None = None,
) -> Message:
    """The ephemeral message that answers `/hubs <query>` (``bot_user_id``: how help tells
    people to mention the bot)."""
    if is_digest_command(query.casefold()):
        return {"text": digest_command(query, command, client, deps)}
    text, blocks = command_reply(query, deps, command.get("team_id"), bot_user_id)
    return {"text": text, "blocks": blocks}


def register(app: App, deps: Deps) -> None:
    pool = app.listener_runner.listener_executor

    @app.command(COMMAND)
    def handle_hubs(
        ack: Ack,
        command: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: dict[str, Any],
    ) -> None:
        started = time.perf_counter()
        query = command.get("text") or ""
        bot = context.get("bot_user_id")
        try:
            if waits_on_the_store(query) or is_digest_command(query.casefold()):
                work: Future[Message] = pool.submit(answer, query, command, client, deps, bot)
                message = work.result(timeout=ANSWER_IN_ACK_S)
            else:  # no I/O: a hand-off to the pool would only cost a GIL round trip
                message = answer(query, command, client, deps, bot)
        except FutureTimeout:
            ack()
            work.add_done_callback(lambda done: _respond_later(done, respond, command, started))
            return
        except Exception:
            log.exception("slash command failed", extra={"command": command.get("command")})
            message = {"text": SORRY}
        ack(response_type="ephemeral", **message)
        _log_answer(command, message, started, "ack")


def _respond_later(
    done: Future[Message], respond: Respond, command: dict[str, Any], started: float
) -> None:
    try:
        message = done.result()
    except Exception:
        log.exception("slash command failed", extra={"command": command.get("command")})
        message = {"text": SORRY}
    try:
        respond(response_type="ephemeral", **message)
    except Exception:  # CheckedRespond counts refusals; this is a connection that never was
        log.exception("answer not delivered to the response URL")
        return
    _log_answer(command, message, started, "response_url")


def _log_answer(command: dict[str, Any], message: Message, started: float, via: str) -> None:
    """INFO for an answer sent later; one in the ack is DEBUG: the request's own line (with
    its ``ack_ms``) and the question's already say it, and a log line costs as much CPU as
    rendering the answer."""
    log.log(
        logging.INFO if via == "response_url" else logging.DEBUG,
        "slash command answered",
        extra={
            "command": command.get("command"),
            "answer": message["text"][:80],
            "via": via,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
