"""Which Slack credentials a process needs, checked before anything is started: one line
naming what is missing. Apart from the installations (which import Bolt and the store), so
`serve` can check them first and start the corpus load before those imports."""

from __future__ import annotations

from bot.settings import ConfigError, Settings


def require_credentials(
    settings: Settings, *, socket_mode: bool = False, signing_secret: bool = True
) -> None:
    """One line naming what is missing for the chosen mode. ``signing_secret=False`` for a
    process that takes no HTTP requests from Slack (Socket Mode, the clock)."""
    signing_secret = signing_secret and not socket_mode
    if bool(settings.slack_client_id) != bool(settings.slack_client_secret):
        missing = "SLACK_CLIENT_SECRET" if settings.slack_client_id else "SLACK_CLIENT_ID"
        raise ConfigError(
            f"{missing} is not set; multi-workspace mode needs both SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET (unset both for one workspace)"
        )
    if settings.oauth_enabled:
        if socket_mode:
            raise ConfigError(
                "Socket Mode serves one workspace: unset SLACK_CLIENT_ID/SLACK_CLIENT_SECRET "
                "or use `hubs-bot serve`"
            )
        if signing_secret:
            settings.require("SLACK_SIGNING_SECRET")
        return
    settings.require("SLACK_BOT_TOKEN", *(("SLACK_SIGNING_SECRET",) if signing_secret else ()))
