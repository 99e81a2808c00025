"""`link_shared`: a pasted playbook or section address gets a preview (``chat.unfurl``).

Slack sends the event for links on the app's unfurl domains (manifest.yml, `hubs-bot
manifest`); only addresses that name a playbook (its front-matter ``url``) or one of its
sections (``url#anchor``) are answered, all of one message's in one call. The address →
playbook table is built once per corpus (:func:`bot.corpus.urls.url_table`), so it follows
reloads and costs a dict lookup per link.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.corpus.urls import url_table
from bot.render import slack as render
from bot.slack.listeners.later import after_ack
from bot.slack_api.client import count_error

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.slack.deps import Deps

log = logging.getLogger(__name__)

MAX_URL_CHARS = 3000


def unfurls_for(deps: Deps, links: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{url: {"blocks": [...]}}`` for each link that names a playbook or a section, keyed
    by the address exactly as Slack sent it (Slack matches the keys to the message's links)."""
    table = url_table(deps.index.corpus)
    unfurls: dict[str, dict[str, Any]] = {}
    for link in links:
        url = link.get("url") if isinstance(link, dict) else None
        if not isinstance(url, str) or len(url) > MAX_URL_CHARS or url in unfurls:
            continue
        target = table.lookup(url)
        if target is not None:
            unfurls[url] = {"blocks": render.unfurl_blocks(target)}
    return unfurls


def register(app: App, deps: Deps) -> None:
    @after_ack(app.event("link_shared"))  # acknowledged at once; Slack is called after
    def link_shared(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        links = event.get("links") or []
        unfurls = unfurls_for(deps, links if isinstance(links, list) else [])
        if not unfurls:
            log.info("no playbook links to unfurl", extra={"links": len(links)})
            return
        event_id = body.get("event_id")
        if event_id and not deps.store.claim_event(str(event_id)):
            log.info("duplicate event ignored", extra={"event_id": event_id})
            return
        if event.get("source") == "composer" and event.get("unfurl_id"):
            # a link typed in the message box, not yet posted: no channel and ts to attach to
            target = {"unfurl_id": event["unfurl_id"], "source": "composer"}
        else:
            target = {"channel": event.get("channel"), "ts": event.get("message_ts")}
        try:  # the client's retry handlers have waited out 429s and 5xx already
            client.chat_unfurl(unfurls=unfurls, **target)
        except SlackApiError as exc:
            error = count_error("chat.unfurl", exc)
            log.warning("unfurl failed", extra={"error": error, "links": len(unfurls)})
            return
        log.info("links unfurled", extra={"links": len(unfurls)})
