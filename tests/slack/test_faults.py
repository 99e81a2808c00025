"""Faults: the database goes away and comes back under a running server."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.databases import PostgresCluster, find_postgres_bin
from tests.fake_slack import FakeSlack
from tests.slack.conftest import mention_request
from tests.slack.test_replicas import start_replicas


def health(url: str) -> int:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.postgres
def test_postgres_restart_is_survived_and_shown_by_healthz(
    fake_slack: FakeSlack, tmp_path: Path, postgres_cluster: PostgresCluster
) -> None:
    bindir = find_postgres_bin()
    assert bindir is not None
    own = PostgresCluster(bindir)  # its own cluster: this test stops it
    own.start()
    try:
        with start_replicas(own.create_database(), fake_slack, tmp_path, count=1) as (url,):
            assert health(url) == 200
            own.pause()
            assert health(url) == 503
            with urllib.request.urlopen(url + "/metrics", timeout=5) as response:
                assert response.status == 200  # the server itself keeps serving
            own.resume()
            deadline = time.monotonic() + 30
            while health(url) != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert health(url) == 200  # the same process, reconnected (pool_pre_ping)
    finally:
        own.stop()


def test_sigterm_lets_work_in_flight_finish(fake_slack: FakeSlack, tmp_path: Path) -> None:
    """A deploy stops the server while a reply is still being posted: it is still posted."""
    fake_slack.delay("chat.postMessage", 2.0)
    with start_replicas(f"sqlite:///{tmp_path}/hubs.db", fake_slack, tmp_path, count=1) as (url,):
        request = mention_request(url, "EvT", "7.1")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200  # acknowledged; the reply is still on its way
        # leaving the block sends SIGTERM and waits for the process to exit
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert post.params["thread_ts"] == "7.1"
    # made only after chat.postMessage returned inside the worker: it finished, not died
    assert len(fake_slack.calls_to("reactions.remove")) == 1
