"""Transports: HTTP (`hubs-bot serve`, gunicorn + Bolt's WSGI adapter) and Socket Mode.

`App.start()` is Bolt's development server; production HTTP goes through gunicorn with
threaded workers. Routes: ``POST /slack/events`` (Bolt: signature verified, events, commands,
actions), ``GET /healthz`` (checks the store, 503 when it is down).
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from bot.live_index import LiveIndex
from bot.settings import Settings
from bot.slack_app import create_app
from bot.store import Store

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def store_is_healthy(store: Store) -> bool:
    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure to reach the database is "unhealthy", not a crash
        log.warning("store health check failed", exc_info=True)
        return False


def build_wsgi(app: App, store: Store) -> WSGIApp:
    """Bolt for Slack's POSTs, plus a health check for load balancers and orchestrators."""
    bolt = SlackRequestHandler(app, path=EVENTS_PATH)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            healthy = store_is_healthy(store)
            body = json.dumps({"ok": healthy, "store": "up" if healthy else "down"}).encode()
            status = "200 OK" if healthy else "503 Service Unavailable"
            start_response(
                status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return bolt(environ, start_response)

    return wsgi


def build_runtime(settings: Settings, *, socket_mode: bool = False) -> tuple[App, Store, LiveIndex]:
    """Everything one worker serves with; the corpus is watched and hot-reloaded."""
    index = LiveIndex(settings.corpus_dirs, settings.aliases)
    store = Store.connect(settings.effective_database_url)
    app = create_app(settings, index, store, socket_mode=socket_mode)
    return app, store, index


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from gunicorn.app.base import BaseApplication

    settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    port = args.port or settings.port

    class HubsServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"0.0.0.0:{port}")
            self.cfg.set("workers", settings.web_workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", settings.web_threads)
            self.cfg.set("timeout", 30)
            self.cfg.set("graceful_timeout", 30)
            self.cfg.set("accesslog", None)
            # no runtime control socket: unused here, and two servers on one host would
            # fight over its default path
            self.cfg.set("control_socket_disable", True)

        def load(self) -> WSGIApp:  # runs in each worker: its own engine, index, watcher
            app, store, index = build_runtime(settings)
            index.watch(threading.Event())
            return build_wsgi(app, store)

    log.warning("serving Slack on HTTP", extra={"port": port, "workers": settings.web_workers})
    HubsServer().run()
    return 0


def cmd_socket(args: argparse.Namespace, settings: Settings) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    settings.require("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    app, _store, index = build_runtime(settings, socket_mode=True)
    index.watch(threading.Event())
    log.warning("connecting to Slack over Socket Mode")
    SocketModeHandler(app, settings.slack_app_token).start()
    return 0
