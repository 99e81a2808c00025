"""The Bolt app: built by :func:`create_app` from settings, a search index and the store.

No globals and no network at import; the listeners in :mod:`bot.slack.listeners` only translate
Slack payloads into searches and results into messages (rendering: :mod:`bot.render.slack`).
Request signatures are always verified by Bolt (and stale timestamps refused); tests sign
their requests instead of turning verification off.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import InstallationStore

from bot.settings import Settings
from bot.slack.deps import Deps, SearchIndex
from bot.slack.listeners import register_listeners
from bot.slack.outbox import Outbox
from bot.slack_api.client import make_web_client
from bot.slack_api.credentials import require_credentials
from bot.slack_api.installations import installation_store, oauth_settings
from bot.store import Store

log = logging.getLogger(__name__)

LISTENER_THREADS = 32


def create_app(
    settings: Settings,
    index: SearchIndex,
    store: Store,
    client: WebClient | None = None,
    *,
    socket_mode: bool = False,
    outbox: Outbox | None = None,
    installations: InstallationStore | None = None,
) -> App:
    """A ready Bolt app; raises ConfigError naming a missing SLACK_* variable.

    Over HTTP every request must carry a valid signature. In Socket Mode there is no HTTP
    endpoint to verify (Slack authenticates the WebSocket with the app token), so the signing
    secret is not required there. With SLACK_CLIENT_ID/SECRET set the app serves any
    workspace that installs it (:mod:`bot.slack_api.installations`) instead of one token's.

    Replies Slack cannot take go to ``outbox``; whoever runs the app runs its retry loop
    (``outbox.start``), as `serve` and `socket` do. A caller that already opened the
    installation store passes it as ``installations`` (one per worker)."""
    require_credentials(settings, socket_mode=socket_mode)
    token = None if settings.oauth_enabled else settings.slack_bot_token
    # the token travels inside the client (base URL, retry handlers); Bolt takes it there
    client = client or make_web_client(token, settings.slack_api_url)
    if settings.oauth_enabled:
        installations = installations or installation_store(settings, store)
    oauth = oauth_settings(settings, store, client, installations) if installations else None
    app = App(
        # named, or Bolt names it after its caller's file through inspect.stack(): 0.13 s of
        # every worker's start
        name="hubs-bot",
        signing_secret=settings.slack_signing_secret,
        request_verification_enabled=not socket_mode,
        client=client,
        oauth_settings=oauth,
        # auth.test at start would make constructing the app a network call
        token_verification_enabled=False,
        # Bolt's own ignoring of its messages needs bot_id, which comes from auth.test; our
        # event listeners filter bots' messages themselves.
        ignoring_self_events_enabled=False,
        # The response goes out when the listener's ack function returns, without Bolt's
        # 10 ms polling for ack(); work after the ack runs as lazy listeners
        # (bot/slack/listeners/later.py), and /hubs answers in the ack body (commands.py).
        process_before_response=True,
        # Lazy listeners and slash answers run on this pool; Bolt's default 10 threads let ten
        # slow Web API calls delay every other answer, so give the pool room.
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS),
    )
    outbox = outbox or Outbox.from_settings(settings, store, installations)
    register_listeners(app, Deps(settings, index, store, outbox, installations))
    return app
