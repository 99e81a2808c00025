"""Two `hubs-bot serve` processes on one PostgreSQL: a Slack event is answered once.

Slack may deliver an event to any replica behind the load balancer, and retry it on another;
the claim in the shared store is what keeps the reply single.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.concurrency import eventually, race
from tests.databases import PostgresCluster
from tests.fake_slack import FakeSlack
from tests.net import free_port
from tests.serving import wait_until_serving
from tests.slack.conftest import SECRET, TOKEN, mention_request

pytestmark = pytest.mark.postgres


@contextmanager
def start_replicas(
    database: str,
    fake_slack: FakeSlack,
    tmp_path: Path,
    count: int = 2,
    env_extra: dict[str, str] | None = None,
) -> Iterator[list[str]]:
    """`count` `hubs-bot serve` processes (1 worker each) on one database; their base URLs."""
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "HUBS_DATABASE_URL": database,
        "HUBS_DATA_DIR": str(tmp_path),
        "WEB_CONCURRENCY": "1",
        **(env_extra or {}),
    }
    ports = [free_port() for _ in range(count)]
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
            env=env,
            stderr=(tmp_path / f"serve-{port}.log").open("w"),
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, server in zip(urls, servers, strict=True):
            wait_until_serving(url, server)
        yield urls
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=30)


@pytest.fixture
def replicas(
    postgres_cluster: PostgresCluster, fake_slack: FakeSlack, tmp_path: Path
) -> Iterator[list[str]]:
    with start_replicas(postgres_cluster.create_database(), fake_slack, tmp_path) as urls:
        yield urls


def duplicates_turned_away(tmp_path: Path) -> int:
    """Deliveries the replicas found already claimed, from their logs: each such delivery
    has been handled to its end (it logs, then returns)."""
    return sum(
        line.count("duplicate event ignored") + line.count("message already answered")
        for log in tmp_path.glob("serve-*.log")
        for line in log.read_text().splitlines()
    )


def settled(fake: FakeSlack, tmp_path: Path, answered: int, turned_away: int) -> None:
    """Wait until every delivery has been handled to its end: ``answered`` listeners removed
    their :mag: (the last thing an answer does) and ``turned_away`` were found claimed. Only
    then is "no second reply" a fact rather than a hope."""
    fake.wait_for("reactions.remove", answered, timeout=60)
    assert eventually(lambda: duplicates_turned_away(tmp_path) >= turned_away, timeout=60), (
        f"{duplicates_turned_away(tmp_path)} of {turned_away} duplicates seen in the logs"
    )


def deliver(url: str, event_id: str, ts: str, retry: int | None) -> int:
    with urllib.request.urlopen(mention_request(url, event_id, ts, retry=retry), timeout=10) as r:
        return r.status


def test_the_same_event_on_two_replicas_is_answered_once(
    replicas: list[str], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    # at the same instant on both, the second copy marked as Slack's retry
    statuses = race(2, lambda i: deliver(replicas[i], "EvR1", "5.1", None if i == 0 else 1))
    assert statuses == [200, 200]
    # and later, retried again on each replica in turn
    assert deliver(replicas[1], "EvR1", "5.1", 2) == 200
    assert deliver(replicas[0], "EvR1", "5.1", 3) == 200
    settled(fake_slack, tmp_path, answered=1, turned_away=3)
    posts = fake_slack.calls_to("chat.postMessage")
    assert len(posts) == 1 and posts[0].params["thread_ts"] == "5.1"
    # a different event still gets its own reply
    deliver(replicas[1], "EvR2", "5.2", None)
    assert fake_slack.wait_for("chat.postMessage", 2)[1].params["thread_ts"] == "5.2"


def test_a_burst_across_both_replicas_gets_one_reply_per_event(
    replicas: list[str], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """A small load run in every test run (the 1,000-event one is bench/bench_load.py): each
    event delivered once or twice, to either replica, 20 at a time, some posts rate-limited."""
    rng = random.Random(3)
    events = 150
    deliveries = [(n, None) for n in range(events)]
    deliveries += [(n, 1) for n in range(events) if rng.random() < 0.3]
    rng.shuffle(deliveries)
    fake_slack.fail("chat.postMessage", status=429, retry_after=1, times=10)

    def send(item: tuple[int, int | None]) -> int:
        number, retry = item
        url = replicas[rng.randrange(2)] if retry is None else replicas[number % 2]
        return deliver(url, f"EvB{number}", f"6.{number:03d}", retry)

    with ThreadPoolExecutor(20) as pool:
        assert set(pool.map(send, deliveries)) == {200}
    fake_slack.wait_for("chat.postMessage", events + 10, timeout=60)
    settled(fake_slack, tmp_path, answered=events, turned_away=len(deliveries) - events)
    posted = [
        c.params["thread_ts"] for c in fake_slack.calls_to("chat.postMessage") if not c.failed
    ]
    assert sorted(posted) == sorted(f"6.{n:03d}" for n in range(events))
