"""`hubs-bot serve` builds the index once per host, in gunicorn's master before it forks the
workers, and a SIGHUP (`hubs-bot reload`) re-reads the corpus there before the new workers
start. (Before, the first worker to exit removed the shared metrics directory on its way out,
so a SIGHUP to a two-worker server left its new workers unable to boot and the server died.)"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.fake_slack import FakeSlack
from tests.net import free_port
from tests.serving import serve_env, start_serve, wait_until_serving

PLAYBOOK = "---\ntitle: {title}\n---\n\n## Potential pitfalls\n\n- {title} can go wrong.\n"


def test_the_index_is_built_once_and_sighup_reloads_it(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "hubs.md").write_text(PLAYBOOK.format(title="Hubs"))
    port = free_port()
    env = serve_env(fake_slack, tmp_path / "data", 2, HUBS_CORPUS=str(corpus))
    server = start_serve(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server, playbooks=1, in_a_row=6)
        (corpus / "labs.md").write_text(PLAYBOOK.format(title="Labs"))
        server.send_signal(signal.SIGHUP)
        wait_until_serving(base, server, playbooks=2, in_a_row=6)
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    built = [line for line in err.splitlines() if "index built" in line]
    assert len(built) == 1, err  # by the master: neither worker built its own
    assert "corpus reloaded" in err


def test_a_first_start_stores_its_index_for_the_next_one(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """The build's caches are written by a child of the master while the server starts: the
    next start loads the index instead of parsing and indexing again."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "hubs.md").write_text(PLAYBOOK.format(title="Hubs"))
    data = tmp_path / "data"
    logs = []
    for _start in range(2):
        port = free_port()
        server = start_serve(serve_env(fake_slack, data, 1, HUBS_CORPUS=str(corpus)), port)
        try:
            wait_until_serving(f"http://127.0.0.1:{port}", server, playbooks=1)
            deadline = time.monotonic() + 30
            while not list((data / "cache").glob("index-*.pickle")):
                assert time.monotonic() < deadline, "the index was never stored"
                time.sleep(0.05)
        finally:
            server.send_signal(signal.SIGTERM)
            _out, err = server.communicate(timeout=30)
        assert server.returncode == 0, err
        logs.append(err)
    assert "index built" in logs[0] and "caches being written in the background" in logs[0]
    assert "index loaded from the cache" in logs[1]
    assert "caches being written" not in logs[1]  # nothing new to store
    assert (data / "cache" / "parsed" / "parsed.pickle").exists()
