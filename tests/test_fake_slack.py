"""The fake Slack reads a channel the way Slack's Web API documents it: the digest's and the
outbox's "did it land?" checks are only as good as this."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from tests.fake_slack import FakeSlack, running_fake_slack


@pytest.fixture
def slack() -> Iterator[tuple[FakeSlack, WebClient]]:
    with running_fake_slack() as fake:
        yield fake, WebClient(token="xoxb-t", base_url=fake.base_url)


def post(fake: FakeSlack, client: WebClient, at: int, text: str, **extra: object) -> str:
    fake.now = at
    return str(client.chat_postMessage(channel="C1", text=text, **extra)["ts"])


def test_history_is_newest_first_within_exclusive_bounds(
    slack: tuple[FakeSlack, WebClient],
) -> None:
    fake, client = slack
    ts = [post(fake, client, 1000 + n, f"m{n}") for n in range(5)]

    def texts(**params: object) -> list[str]:
        reply = client.conversations_history(channel="C1", **params)
        return [m["text"] for m in reply["messages"]]

    assert texts() == ["m4", "m3", "m2", "m1", "m0"]
    assert texts(oldest=ts[1]) == ["m4", "m3", "m2"]  # exclusive
    assert texts(latest=ts[3]) == ["m2", "m1", "m0"]
    assert texts(oldest=ts[1], latest=ts[3], inclusive=True) == ["m3", "m2", "m1"]
    assert texts(limit=2) == ["m4", "m3"]
    assert client.conversations_history(channel="C1", limit=2)["has_more"] is True
    assert client.conversations_history(channel="C1", limit=5)["has_more"] is False
    assert texts(oldest="1003.5") == ["m4"]  # a bound between two messages


def test_replies_are_oldest_first_with_the_same_bounds(slack: tuple[FakeSlack, WebClient]) -> None:
    fake, client = slack
    fake.thread_messages["900.000001"] = [{"ts": "900.000001", "text": "parent"}]
    ts = [post(fake, client, 1000 + n, f"r{n}", thread_ts="900.000001") for n in range(3)]
    post(fake, client, 2000, "elsewhere")

    def texts(**params: object) -> list[str]:
        reply = client.conversations_replies(channel="C1", ts="900.000001", **params)
        return [m["text"] for m in reply["messages"]]

    assert texts() == ["parent", "r0", "r1", "r2"]
    assert texts(limit=1) == ["parent"]
    assert texts(oldest=ts[0]) == ["r1", "r2"]
    assert texts(oldest=ts[0], inclusive=True) == ["r0", "r1", "r2"]


def test_metadata_comes_back_only_when_asked_for(slack: tuple[FakeSlack, WebClient]) -> None:
    fake, client = slack
    tag = {"event_type": "hubs_digest", "event_payload": {"week": "2026-W02"}}
    post(fake, client, 1000, "digest", metadata=tag)
    (plain,) = client.conversations_history(channel="C1")["messages"]
    assert "metadata" not in plain
    (full,) = client.conversations_history(channel="C1", include_all_metadata=True)["messages"]
    assert full["metadata"] == tag
