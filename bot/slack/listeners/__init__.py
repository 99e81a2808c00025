"""One module per kind of Slack listener, each exposing ``register(app, deps)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.listeners import (
    actions,
    commands,
    errors,
    events,
    home,
    lifecycle,
    rate_limits,
    respond,
    shortcuts,
    unfurl,
)

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.slack.deps import Deps


def register_listeners(app: App, deps: Deps) -> None:
    errors.register(app)  # a listener that raises: logged once, the user told
    respond.register(app)
    rate_limits.register(app)
    commands.register(app, deps)
    events.register(app, deps)
    actions.register(app, deps)
    shortcuts.register(app, deps)
    home.register(app, deps)
    lifecycle.register(app, deps)
    unfurl.register(app, deps)  # link_shared: previews of pasted playbook links
