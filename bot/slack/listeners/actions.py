"""Buttons: share an answer, next match, open a section, suggestions, more like this."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.corpus import Section
from bot.render import slack as render
from bot.slack.listeners.later import after_ack
from bot.slack.listeners.queries import search_for_rank
from bot.slack.listeners.replies import explain, post_message, slack_error

if TYPE_CHECKING:
    from slack_bolt import App, Respond
    from slack_sdk import WebClient

    from bot.slack.deps import Deps

log = logging.getLogger(__name__)

GONE = "That part of the playbooks has changed since; ask again with `/hubs`."
EXPIRED_TRIGGER = frozenset({"expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"})


def section_or_gone(deps: Deps, key: str, respond: Respond) -> Section | None:
    """The section a button points at; when a corpus reload removed it, say so."""
    section = deps.index.corpus.section(key)
    if section is None:
        respond(response_type="ephemeral", replace_original=False, text=GONE)
    return section


def register(app: App, deps: Deps) -> None:
    register_feedback(app, deps)

    @after_ack(app.action(render.ACTION_SHARE))
    def share(
        body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        question, rank = render.parse_result_state(action["value"])
        response = search_for_rank(deps, question, rank)
        if rank >= len(response.results):
            respond(response_type="ephemeral", replace_original=False, text=GONE)
            return
        user = body.get("user", {}).get("id")
        text, blocks = render.answer_message(response, rank, shared_by=user, with_actions=False)
        channel = body.get("channel", {}).get("id")
        try:
            post_message(client, channel=channel, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning("share failed", extra={"channel": channel, "error": slack_error(exc)})
            reason = explain(exc) or "I couldn't share that here; please try again."
            respond(response_type="ephemeral", replace_original=False, text=reason)
            return
        respond(delete_original=True)

    @after_ack(app.action(render.ACTION_NEXT))
    def next_match(action: dict[str, Any], respond: Respond) -> None:
        question, rank = render.parse_result_state(action["value"])
        response = search_for_rank(deps, question, rank + 1)
        if rank + 1 >= len(response.results):
            respond(
                response_type="ephemeral",
                replace_original=False,
                text="That was the last match. Try other words, or `/hubs list`.",
            )
            return
        text, blocks = render.answer_message(response, rank + 1)
        respond(response_type="ephemeral", replace_original=True, text=text, blocks=blocks)

    @after_ack(app.action(render.ACTION_OPEN_SECTION))
    def open_section(
        body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        section = section_or_gone(deps, action["value"], respond)
        if section is None:
            return
        try:
            client.views_open(trigger_id=body["trigger_id"], view=render.section_modal(section))
        except SlackApiError as exc:
            if slack_error(exc) not in EXPIRED_TRIGGER:
                raise
            # a click answered after its 3-second trigger: the section privately instead
            log.info("trigger expired; section sent privately", extra={"key": section.key})
            text, blocks = render.section_message(section)
            respond(response_type="ephemeral", text=text, blocks=blocks)

    @after_ack(app.action(render.SUGGESTION_PATTERN))
    def suggestion(action: dict[str, Any], respond: Respond) -> None:
        section = section_or_gone(deps, action["value"], respond)
        if section is None:
            return
        text, blocks = render.section_message(section)
        respond(response_type="ephemeral", replace_original=True, text=text, blocks=blocks)

    @after_ack(app.action(render.ACTION_MORE_LIKE_THIS))
    def more_like_this(action: dict[str, Any], respond: Respond) -> None:
        """From a digest post: another playbook's section of the same kind, just for you."""
        section = section_or_gone(deps, action["value"], respond)
        if section is None:
            return
        response = deps.index.search(section.heading, limit=10)
        heading = section.heading.casefold()
        others = [
            i
            for i, r in enumerate(response.results)
            if r.section.playbook_slug != section.playbook_slug
            and r.section.heading.casefold() == heading
        ]
        if not others:
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=f"No other playbook has a {section.heading} section yet.",
            )
            return
        text, blocks = render.answer_message(response, others[0])
        respond(response_type="ephemeral", replace_original=False, text=text, blocks=blocks)


def voter_id(body: dict[str, Any]) -> str:
    """Feedback is kept per voter without keeping who voted: a hash of team and user."""
    team = (body.get("team") or {}).get("id", "")
    user = (body.get("user") or {}).get("id", "")
    return hashlib.sha256(f"{team}:{user}".encode()).hexdigest()[:32]


CLICK_CLOCK_SLACK = timedelta(days=1)


def click_time(action_ts: object) -> datetime | None:
    """When Slack says a button was clicked (``action_ts``, epoch seconds as a string), or
    None when it is missing, malformed or over a day from this machine's clock."""
    try:
        clicked = datetime.fromtimestamp(float(str(action_ts)), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return clicked if abs(clicked - datetime.now(UTC)) <= CLICK_CLOCK_SLACK else None


def register_feedback(app: App, deps: Deps) -> None:
    @after_ack(app.action(render.FEEDBACK_PATTERN))
    def feedback(body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        question, section_key = render.parse_feedback(action["value"])
        vote = 1 if action["action_id"].endswith("_up") else -1
        clicked_at = click_time(action.get("action_ts"))
        deps.store.record_feedback(voter_id(body), question, section_key, vote, clicked_at)
        thanks = (
            "Thanks! Glad it helped."
            if vote > 0
            else ("Thanks — noted. The playbook authors see what did not help (`hubs-bot stats`).")
        )
        respond(response_type="ephemeral", replace_original=False, text=thanks)
