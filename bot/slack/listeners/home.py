"""App Home: published whenever someone opens the bot's Home tab."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.render import slack as render
from bot.slack.listeners.later import after_ack

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.slack.deps import Deps


def register(app: App, deps: Deps) -> None:
    @after_ack(app.event("app_home_opened"))
    def home_opened(event: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        plan = deps.digest_plan(context.get("team_id"))
        view = render.home_view(
            deps.index.corpus,
            plan.channel,
            deps.next_digest_run(plan),
            context.get("bot_user_id"),
        )
        client.views_publish(user_id=event["user"], view=view)
