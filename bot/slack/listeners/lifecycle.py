"""`app_uninstalled` and `tokens_revoked`: forget a workspace that removed the app.

In multi-workspace mode its installation (bot token) is deleted with Bolt's own revocation
handlers; in either mode its digest channel is forgotten, so the clock stops posting there.
Bolt runs one listener per event, so these wrap Bolt's handlers instead of sitting beside them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.listener.builtins import TokenRevocationListeners

if TYPE_CHECKING:
    from slack_bolt import App, BoltContext

    from bot.slack.deps import Deps

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    revocation = TokenRevocationListeners(deps.installations) if deps.installations else None

    @app.event("app_uninstalled")
    def uninstalled(context: BoltContext) -> None:
        if revocation is not None:
            revocation.handle_app_uninstalled_events(context)
        if context.team_id:
            deps.store.forget_workspace(context.team_id)
        log.warning("app uninstalled from a workspace", extra={"team": context.team_id})

    @app.event("tokens_revoked")
    def revoked(event: dict[str, Any], context: BoltContext) -> None:
        if revocation is not None:
            revocation.handle_tokens_revoked_events(event, context)
        if event.get("tokens", {}).get("bot") and context.team_id:
            deps.store.forget_workspace(context.team_id)
        log.warning("tokens revoked", extra={"team": context.team_id})
