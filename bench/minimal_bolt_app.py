"""The floor for `bench_slack_http.py`: a Bolt app that acks `/hubs` with fixed text, served
by gunicorn exactly as `hubs-bot serve` is (gthread workers × 8 threads, same signing secret).

    python bench/minimal_bolt_app.py --port 3001 --workers 2 --api-url http://127.0.0.1:PORT/api/

Its Web API client points at ``--api-url`` (the bench's fake Slack), as the bot's does: Bolt
asks ``auth.test`` who the token is on the first request.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gunicorn.app.base import BaseApplication  # noqa: E402
from slack_bolt import App  # noqa: E402
from slack_bolt.adapter.wsgi import SlackRequestHandler  # noqa: E402
from slack_sdk import WebClient  # noqa: E402

from tests.slack.conftest import SECRET, TOKEN  # noqa: E402


def wsgi_app(api_url: str) -> Callable[..., Iterable[bytes]]:
    app = App(
        signing_secret=SECRET,
        client=WebClient(token=TOKEN, base_url=api_url),
        token_verification_enabled=False,
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
    args = parser.parse_args()

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
            return wsgi_app(args.api_url)

    Minimal().run()


if __name__ == "__main__":
    main()
