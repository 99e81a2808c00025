"""Multi-workspace mode: Slack's OAuth install flow, with installations kept in our database.

Off by default (one workspace, ``SLACK_BOT_TOKEN``). Setting ``SLACK_CLIENT_ID`` and
``SLACK_CLIENT_SECRET`` turns it on: ``GET /slack/install`` starts Bolt's OAuth flow,
``/slack/oauth_redirect`` finishes it, and slack_sdk's SQLAlchemy stores keep each
workspace's bot token (and the short-lived OAuth ``state``) in the same database as the
rest of the bot's state, so every web replica and the clock see the same installations.
Bolt then looks the token up per request; listeners already use the per-request client.
"""

from __future__ import annotations

import logging

from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_EXPIRATION_S = 600

BOT_SCOPES = (
    "app_mentions:read",  # @hubs mentions
    "channels:history",  # a bare "@hubs references?" reads its thread's first message
    "chat:write",  # replies, shared answers, the weekly digest
    "commands",  # /hubs and the message shortcut
    "groups:history",  # ... the same in private channels the bot was invited to
    "im:history",  # direct messages to the bot (message.im)
    "links:read",  # link_shared: a playbook link was posted
    "links:write",  # chat.unfurl: its preview under the message
    "reactions:write",  # the :mag: shown while the bot works on a mention
    "users:read",  # `/hubs digest here|off`: is the person a workspace admin?
)
"""The bot's permissions; `hubs-bot manifest` (and so manifest.yml) lists these."""


def installation_store(settings: Settings, store: Store) -> InstallationStore:
    """Installations on the bot's own engine, its tables created if missing.

    Imported here, not at the top: slack_sdk's SQLAlchemy stores import SQLAlchemy's ORM and
    asyncio layers, and with them loaded the single-workspace server's ack p99 under load
    roughly doubled (bench/bench_load.py), so only multi-workspace processes pay for them."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    settings.require("SLACK_CLIENT_ID")
    installations = SQLAlchemyInstallationStore(
        client_id=str(settings.slack_client_id), engine=store.engine
    )
    store.ensure_tables(installations.metadata)
    return installations


def state_store(store: Store) -> OAuthStateStore:
    """OAuth ``state`` values in the database: a flow started on one replica can finish on
    another; each value is single use and expires."""
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    states = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRATION_S, engine=store.engine)
    store.ensure_tables(states.metadata)
    return states


def oauth_settings(
    settings: Settings, store: Store, client: WebClient, installations: InstallationStore
) -> OAuthSettings:
    """Bolt's OAuth flow: install page, state kept in the database (any replica can finish
    a flow another one started), and the per-request token lookup.

    The lookup's ``auth.test`` result is cached per token in the worker: without the cache
    every event would cost one more Slack round trip before its ack."""
    settings.require("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
    oauth = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=state_store(store),
        state_expiration_seconds=STATE_EXPIRATION_S,
    )
    oauth.authorize = InstallationStoreAuthorize(
        installation_store=installations,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        bot_only=True,
        cache_enabled=True,
        client=client,
        logger=log,
    )
    return oauth


def bot_token_for(installations: InstallationStore, team_id: str) -> str | None:
    """The bot token a workspace installed us with, or None once it uninstalled."""
    bot = installations.find_bot(enterprise_id=None, team_id=team_id)
    return bot.bot_token if bot else None
