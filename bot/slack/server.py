"""Transports: HTTP (`hubs-bot serve`, gunicorn + Bolt's WSGI adapter) and Socket Mode.

`App.start()` is Bolt's development server; production HTTP goes through gunicorn with
threaded workers. Routes: ``POST /slack/events`` (Bolt: signature verified, events, commands,
actions), ``GET /healthz`` (the store reachable and at least one playbook served, else 503;
the body counts playbooks and sections), ``GET /metrics``
(Prometheus), with HUBS_CORPUS_GIT ``POST /webhooks/git`` (:mod:`bot.gitsync.webhook`) and,
in multi-workspace mode, Bolt's ``GET /slack/install`` and ``GET /slack/oauth_redirect``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bot.bulk import collector_paused, freeze_before_fork
from bot.corpus.cache import CacheWriter
from bot.observability.logs import log_in_background, request_line
from bot.settings import Settings
from bot.slack.reload import pidfile
from bot.slack_api.credentials import require_credentials

# Bolt, SQLAlchemy, the store and the search engine are imported where they are used: `serve`
# hands the corpus to the parse workers first and imports them while they parse.
if TYPE_CHECKING:
    from slack_bolt import App

    from bot.corpus import Corpus
    from bot.gitsync.follow import GitFollower
    from bot.search.live import LiveIndex
    from bot.store import Store

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
DRAIN_TIMEOUT_S = 25.0  # within the 30 s most orchestrators wait after SIGTERM
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
GIT_WEBHOOK_PATH = "/webhooks/git"

# bot.observability.metrics and bot.slack.app (which imports it) are imported inside
# functions: `serve` must set PROMETHEUS_MULTIPROC_DIR before prometheus_client is first
# imported, or the workers' counters are invisible to /metrics.

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def store_is_healthy(store: Store) -> bool:
    from sqlalchemy import text

    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure to reach the database is "unhealthy", not a crash
        log.warning("store health check failed", exc_info=True)
        return False


def health(store: Store, corpus: Corpus) -> tuple[bool, dict[str, Any]]:
    """Healthy = the store answers and there is something to serve."""
    store_up = store_is_healthy(store)
    playbooks, sections = len(corpus.playbooks), len(corpus.sections)
    ok = store_up and playbooks > 0
    report = {"ok": ok, "store": "up" if store_up else "down"}
    return ok, {**report, "playbooks": playbooks, "sections": sections}


def build_wsgi(
    app: App,
    store: Store,
    corpus: Callable[[], Corpus],
    metrics_dir: Path | None = None,
    git_webhook: WSGIApp | None = None,
) -> WSGIApp:
    """Bolt for Slack's POSTs, plus a health check for load balancers and orchestrators
    (``corpus`` returns the corpus being served now: a reload may swap it), and the Git push
    webhook when the corpus comes from Git."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    from bot.observability import metrics

    bolt = SlackRequestHandler(app, path=EVENTS_PATH)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == METRICS_PATH and method == "GET":
            page, content_type = metrics.exposition(metrics_dir)
            start_response(
                "200 OK", [("Content-Type", content_type), ("Content-Length", str(len(page)))]
            )
            return [page]
        if path == HEALTH_PATH and method == "GET":
            healthy, report = health(store, corpus())
            body = json.dumps(report).encode()
            status = "200 OK" if healthy else "503 Service Unavailable"
            start_response(
                status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        if path == GIT_WEBHOOK_PATH and git_webhook is not None:
            return git_webhook(environ, start_response)
        return _measured(bolt, environ, start_response)

    return wsgi


def _measured(
    bolt: WSGIApp, environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """One log line and two metrics per Slack request: kind, status, time to the ack, and
    what the request's listener added to the line (a `/hubs` question's section). No user
    text and no tokens."""
    from bot.observability import metrics

    started = time.perf_counter()
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)  # Bolt reads it again
    kind = metrics.request_kind(body, environ.get("CONTENT_TYPE") or "")
    status: list[str] = []

    def capture(code: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
        status.append(code.split()[0])
        return start_response(code, headers, *exc)

    with request_line() as added:
        result = list(bolt(environ, capture))
    elapsed = time.perf_counter() - started
    code = status[0] if status else "500"
    metrics.REQUESTS.labels(kind, code).inc()
    metrics.LATENCY.labels(kind).observe(elapsed)
    log.info(
        "slack request",
        extra={"kind": kind, "status": code, "ack_ms": round(elapsed * 1000, 1), **added},
    )
    return result


def live_index(settings: Settings, writer: CacheWriter | None = None) -> LiveIndex:
    """The corpus, parsed (through the cache on disk) and indexed; ``writer``: when the
    caches are written (default: at once)."""
    from bot.search.index_cache import inputs_from
    from bot.search.live import LiveIndex

    return LiveIndex(**inputs_from(settings, writer))


def _index_importing_meanwhile(settings: Settings, writer: CacheWriter) -> LiveIndex:
    """`serve` master's index: named first and, when the cache cannot serve it, its corpus
    handed to the parse workers; the master imports what its workers serve with
    (:func:`_import_serving_side`) while they parse, then finishes the build."""
    from bot.search.index_cache import IndexBuild, inputs_from
    from bot.search.live import LiveIndex

    inputs = inputs_from(settings, writer)
    build = IndexBuild(**inputs)
    try:
        _import_serving_side()
        return LiveIndex(**inputs, build=build)
    finally:
        build.close()  # stops the workers of a build that never finished; else nothing


def _import_serving_side() -> None:
    """Bolt, SQLAlchemy and the store (~0.4 s of imports), in the master before the fork, so
    the workers start with them; imported here, while the parse workers parse, rather than
    before the corpus load starts. Not ``bot.slack.app``: it imports prometheus_client,
    which each worker must import itself for multi-process metrics. With the collector
    paused: after a warm start's unpickled index, each full collection the imports set off
    would walk the whole index (~0.9 s at 10,000 playbooks)."""
    with collector_paused():
        import slack_bolt.adapter.wsgi  # noqa: F401
        import sqlalchemy  # noqa: F401

        import bot.slack_api.installations
        import bot.store  # noqa: F401


def git_follower(settings: Settings, writer: CacheWriter | None = None) -> GitFollower | None:
    """With HUBS_CORPUS_GIT: the repository pulled now and indexed (``follower.index``)."""
    if not settings.corpus_git:
        return None
    from bot.gitsync.follow import GitFollower

    return GitFollower.start_from(settings, lambda: live_index(settings, writer))


def build_runtime(
    settings: Settings,
    *,
    socket_mode: bool = False,
    index: LiveIndex | None = None,
    follower: GitFollower | None = None,
) -> tuple[App, Store, LiveIndex]:
    """Everything one worker serves with, running: the corpus watched (or, from Git,
    followed) and hot-reloaded, and the outbox retrying replies Slack could not take.
    ``index`` / ``follower``: built before the worker was forked (shared copy-on-write),
    else built here."""
    from bot.slack.app import create_app
    from bot.slack.outbox import Outbox
    from bot.slack_api.installations import installation_store
    from bot.store import Store

    if follower is None and index is None:
        follower = git_follower(settings)
    index = follower.index if follower is not None and follower.index else index
    index = index or live_index(settings)
    store = Store.connect(settings.effective_database_url)
    installations = installation_store(settings, store) if settings.oauth_enabled else None
    outbox = Outbox.from_settings(settings, store, installations)
    app = create_app(
        settings,
        index,
        store,
        socket_mode=socket_mode,
        outbox=outbox,
        installations=installations,
    )
    stop = threading.Event()  # daemon threads: they end with the worker
    if follower is not None:  # the checkout changes only by pulls, which reload themselves
        follower.attach(store, None if settings.oauth_enabled else app.client).start(stop)
    else:
        index.watch(stop)
    outbox.start(stop)
    return app, store, index


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from gunicorn.app.base import BaseApplication

    require_credentials(settings)
    # the index is built once, here in the master, before any worker is forked: workers
    # share it copy-on-write instead of each parsing and indexing the corpus (and no
    # playbooks stops the start here). Threads (file watcher or Git follower, outbox) and
    # database engines start in each worker, after the fork. A Git corpus is pulled here
    # first; each worker then follows the repository for its own copy of the index. What
    # the build stores in the caches is written by a process of its own while the server
    # starts. The corpus load starts before the Slack side is imported, which takes the
    # master ~0.4 s that the parse workers spend parsing.
    writer = CacheWriter(hold=True)
    follower = git_follower(settings, writer)
    if follower is not None and follower.index:
        _import_serving_side()
        index = follower.index
    else:
        index = _index_importing_meanwhile(settings, writer)
    freeze_before_fork()
    writer.write_in_background()
    port = args.port or settings.port
    created_metrics_dir = None
    master_pid = os.getpid()
    if settings.web_workers > 1 and settings.metrics_dir is None:
        # let /metrics add up every worker's counters: prometheus_client reads this variable
        # when the workers import it; made here only when not given, and removed on exit
        created_metrics_dir = Path(tempfile.mkdtemp(prefix="hubs-metrics-"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(created_metrics_dir)
        settings = replace(settings, metrics_dir=created_metrics_dir)
    metrics_dir = settings.metrics_dir if settings.web_workers > 1 else None

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
            if metrics_dir is not None:
                self.cfg.set("child_exit", _forget_worker_metrics)
            # `hubs-bot reload` finds the server here; SIGHUP makes gunicorn restart its
            # workers gracefully
            self.cfg.set("pidfile", str(pidfile(settings, f"serve-{port}")))
            # SIGHUP: the master re-reads the corpus (changed files only) before it forks the
            # new workers, which then start on the fresh index
            # (from Git: pulls first)
            self.cfg.set("on_reload", lambda _arbiter: _reload_before_fork(index, follower))

        def load(self) -> WSGIApp:  # runs in each worker: its own engine, watcher, outbox
            log_in_background()  # the request threads only queue their log lines
            app, store, served = build_runtime(settings, index=index, follower=follower)
            webhook = None
            if follower is not None:
                from bot.gitsync.webhook import git_webhook

                webhook = git_webhook(settings, store, follower)
            return build_wsgi(app, store, lambda: served.corpus, metrics_dir, webhook)

    mode = "multi-workspace (OAuth)" if settings.oauth_enabled else "single workspace"
    log.info(
        "serving Slack on HTTP",
        extra={"port": port, "workers": settings.web_workers, "mode": mode},
    )
    try:
        HubsServer().run()
    finally:
        # a worker ends by raising SystemExit through these frames (it was forked inside
        # run()): only the master may remove the directory the other workers still write to
        if created_metrics_dir is not None and os.getpid() == master_pid:
            shutil.rmtree(created_metrics_dir, ignore_errors=True)
    return 0


def _reload(index: LiveIndex, follower: GitFollower | None) -> None:
    """SIGHUP: re-read the corpus; from Git, pull first."""
    if follower is not None:
        follower.sync(reason="sighup")
    else:
        index.reload()


def _reload_before_fork(index: LiveIndex, follower: GitFollower | None) -> None:
    """gunicorn's SIGHUP, in the master: the new workers share the fresh index as the first
    ones did."""
    _reload(index, follower)
    freeze_before_fork()


def _forget_worker_metrics(_server: object, worker: object) -> None:
    """gunicorn hook (multi-process metrics only): a dead worker's live gauges must not
    linger in /metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def cmd_socket(args: argparse.Namespace, settings: Settings) -> int:
    from bot.slack.socket_mode import SocketModeHandler  # closes sockets without a 3 s wait

    if not settings.oauth_enabled:  # name every missing secret in one run
        settings.require("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    require_credentials(settings, socket_mode=True)
    settings.require("SLACK_APP_TOKEN")
    follower = git_follower(settings)
    app, _store, index = build_runtime(settings, socket_mode=True, follower=follower)
    signal.signal(signal.SIGHUP, lambda _signum, _frame: _reload(index, follower))
    handler = SocketModeHandler(app, str(settings.slack_app_token))
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop_socket_mode(handler, app))
    pid_path = pidfile(settings, "socket")
    pid_path.write_text(f"{os.getpid()}\n")
    log.info("connecting to Slack over Socket Mode")
    try:
        handler.start()
    finally:
        pid_path.unlink(missing_ok=True)
    return 0


def stop_socket_mode(handler: Any, app: App, timeout_s: float = DRAIN_TIMEOUT_S) -> NoReturn:
    """SIGTERM: stop taking envelopes, let acknowledged ones finish their answers (their event
    ids are claimed: nobody else would answer them), then exit. Like gunicorn's graceful stop
    for `serve`."""
    log.info("socket mode stopping: finishing answers in flight")
    handler.close()
    executor = getattr(app.listener_runner, "listener_executor", None)
    if executor is not None:
        finished = threading.Event()

        def drain() -> None:
            executor.shutdown(wait=True)
            finished.set()

        threading.Thread(target=drain, name="drain", daemon=True).start()
        if not finished.wait(timeout_s):
            log.warning("answers still running after the drain timeout", extra={"s": timeout_s})
    raise SystemExit(0)
