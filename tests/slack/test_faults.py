"""Faults: the database goes away and comes back under a running server."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.databases import PostgresCluster, find_postgres_bin
from tests.fake_slack import FakeSlack
from tests.slack.test_replicas import start_replicas

pytestmark = pytest.mark.postgres


def health(url: str) -> int:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


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
