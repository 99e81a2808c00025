"""The real `hubs-bot serve` as a test starts it: a subprocess on a free port, pointed at the
fake Slack, with its own data directory; and a wait until it answers /healthz."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.fake_slack import FakeSlack
from tests.slack.conftest import SECRET, TOKEN


def serve_env(fake_slack: FakeSlack, data_dir: Path, workers: int, **extra: str) -> dict[str, str]:
    """The environment of a serve under test: Slack secrets, the fake's URL, the data dir,
    ``workers`` gunicorn workers and ``extra`` (HUBS_* settings); no inherited metrics dir."""
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "HUBS_DATA_DIR": str(data_dir),
        "WEB_CONCURRENCY": str(workers),
        **extra,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def start_serve(
    env: dict[str, str], port: int, stdout: Any = subprocess.PIPE
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )


def healthz(base: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


def wait_until_serving(
    base: str, server: subprocess.Popen[str], playbooks: int | None = None, in_a_row: int = 1
) -> dict[str, Any]:
    """Until /healthz answers (``in_a_row`` times in a row, counting ``playbooks`` when
    given: the kernel spreads the calls over the workers); 60 s at most. Its last answer."""
    deadline, seen = time.monotonic() + 60, 0
    while True:
        if time.monotonic() > deadline or server.poll() is not None:
            log = server.stderr.read() if server.poll() is not None and server.stderr else ""
            pytest.fail(f"serve never reported {playbooks or 'any'} playbooks: {log}")
        health = healthz(base)
        counted = health is not None and playbooks in (None, health.get("playbooks"))
        seen = seen + 1 if counted else 0
        if seen >= in_a_row:
            assert health is not None
            return health
        if not counted:
            time.sleep(0.1)
