"""The floor for `bench_slack_http.py`: a Bolt app that acks `/hubs` with fixed text, served
by gunicorn exactly as `hubs-bot serve` is (gthread workers × 8 threads, same signing secret).

    python bench/minimal_bolt_app.py --port 3001 --workers 2 --api-url http://127.0.0.1:PORT/api/

Its Web API client points at ``--api-url`` (the bench's fake Slack), as the bot's does: Bolt
asks ``auth.test`` who the token is on the first request. The token and signing secret come
from ``SLACK_BOT_TOKEN`` / ``SLACK_SIGNING_SECRET``, as the bot's do.

``--lean`` sets Bolt's ``process_before_response`` (as ``hubs-bot serve`` does): the listener
runs on the request thread and the response goes out when it returns. Without it — Bolt's
default, and the floor the performance targets name — the request thread polls every 10 ms
for the listener's ``ack()``, so no ack comes back in under ~10 ms.

It imports only what such an app needs (gunicorn, Bolt, the Slack SDK): anything more — the
test suite's helpers, say — would load pytest and the whole bot into the floor and make its
start-up and memory look worse than a minimal app's are.

``--libraries`` imports, in gunicorn's master before it forks as ``hubs-bot serve`` does, the
libraries hubs-bot's server cannot do without (:data:`SERVER_LIBRARIES`) and nothing else of
it: what those alone cost in start-up and memory, with no bot code and no index.
"""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

SERVER_LIBRARIES = (
    "bm25s",  # BM25 ranking, with numpy
    "numpy",
    "sqlalchemy",  # the store
    "sqlalchemy.dialects.sqlite",
    "rapidfuzz",  # typo tolerance (the stack the project chose)
    "yaml",  # front matter (python-frontmatter's parser)
)


def wsgi_app(api_url: str, lean: bool = False) -> Callable[..., Iterable[bytes]]:
    app = App(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=api_url),
        token_verification_enabled=False,
        process_before_response=lean,
    )

    @app.command("/hubs")
    def hubs(ack: Callable[..., None]) -> None:
        ack("Potential pitfalls — Regional Innovation Hubs")

    bolt = SlackRequestHandler(app)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        return bolt(environ, start_response)

    return wsgi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--lean", action="store_true", help="process_before_response=True")
    parser.add_argument(
        "--libraries", action="store_true", help="import hubs-bot's server libraries first"
    )
    args = parser.parse_args()
    if args.libraries:
        for library in SERVER_LIBRARIES:
            importlib.import_module(library)

    class Minimal(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:  # the settings `hubs-bot serve` uses
            self.cfg.set("bind", f"127.0.0.1:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 8)
            self.cfg.set("timeout", 30)
            self.cfg.set("accesslog", None)
            self.cfg.set("control_socket_disable", True)

        def load(self) -> Callable[..., Iterable[bytes]]:
            return wsgi_app(args.api_url, args.lean)

    Minimal().run()


if __name__ == "__main__":
    main()
