"""`hubs-bot serve` builds the index once per host, in gunicorn's master before it forks the
workers, and a SIGHUP (`hubs-bot reload`) re-reads the corpus there before the new workers
start. (Before, the first worker to exit removed the shared metrics directory on its way out,
so a SIGHUP to a two-worker server left its new workers unable to boot and the server died.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fake_slack import FakeSlack
from tests.net import free_port
from tests.slack.conftest import SECRET, TOKEN

PLAYBOOK = "---\ntitle: {title}\n---\n\n## Potential pitfalls\n\n- {title} can go wrong.\n"


def healthz(base: str) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


def wait_until_serving(base: str, server: subprocess.Popen[str], playbooks: int) -> None:
    """Until several /healthz in a row (the kernel spreads them over the workers) count
    ``playbooks``."""
    deadline, in_a_row = time.monotonic() + 60, 0
    while in_a_row < 6:
        if time.monotonic() > deadline or server.poll() is not None:
            pytest.fail(f"serve never reported {playbooks} playbooks (exit {server.poll()})")
        health = healthz(base)
        in_a_row = in_a_row + 1 if health and health["playbooks"] == playbooks else 0
        if not in_a_row:
            time.sleep(0.1)


def test_the_index_is_built_once_and_sighup_reloads_it(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "hubs.md").write_text(PLAYBOOK.format(title="Hubs"))
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "HUBS_DATA_DIR": str(tmp_path / "data"),
        "HUBS_CORPUS": str(corpus),
        "WEB_CONCURRENCY": "2",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server, playbooks=1)
        (corpus / "labs.md").write_text(PLAYBOOK.format(title="Labs"))
        server.send_signal(signal.SIGHUP)
        wait_until_serving(base, server, playbooks=2)
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    built = [line for line in err.splitlines() if "index built" in line]
    assert len(built) == 1, err  # by the master: neither worker built its own
    assert "corpus reloaded" in err
