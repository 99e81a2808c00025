"""A Slack outage (HTTP 429s and 500s for a while) loses no reply and no digest.

The minute-long version, against `hubs-bot serve` with two workers, is
``bench/bench_soak.py``; this one is short enough for every run of the suite.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta

import pytest

from bot.corpus import Corpus
from bot.digest.pool import Digest, parse_cron
from bot.slack_api.client import make_web_client
from tests.concurrency import eventually
from tests.fake_slack import FakeSlack
from tests.slack.conftest import TOKEN, SlackApp

MENTIONS = 12


def test_outage_loses_no_reply_and_no_digest(
    slack_app: SlackApp,
    fake_slack: FakeSlack,
    seed_corpus: Corpus,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Slack is down (429s and 500s) from before the digest's time until every mention has
    met it; then it comes back. No clock decides what happens during the outage: it lasts
    until the test ends it."""
    caplog.set_level(logging.INFO, logger="bot.slack.outbox")
    digest = Digest(
        slack_app.store,
        make_web_client(TOKEN, fake_slack.base_url, server_error_retries=1),
        "CDIGEST",
        parse_cron("0 9 * * mon", "UTC"),
        lambda: seed_corpus,
    )
    monday = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    fake_slack.outage(math.inf)
    failed = digest.tick(monday)
    assert failed.action == "failed" and failed.run is not None
    for n in range(MENTIONS):  # one of them delivered twice
        event = {"type": "app_mention", "user": "U1", "channel": "C1", "text": "pitfalls"}
        assert slack_app.event(event | {"ts": f"3.{n}"}, event_id=f"EvS{n}").status == 200
        if n == 3:
            again = slack_app.event(event | {"ts": "3.3"}, event_id="EvS3", retry_num=1)
            assert again.status == 200
    # every delivery handled to its end while Slack was still down: each reply outlasted the
    # client's retries and was kept, once (the duplicate delivery kept nothing)
    assert slack_app.settle(timeout=120) == MENTIONS + 1
    assert answered(fake_slack) == []
    assert sorted(p.message["thread_ts"] for p in slack_app.outbox.pending()) == sorted(
        f"3.{n}" for n in range(MENTIONS)
    )
    assert caplog.text.count("reply kept for a later retry") == MENTIONS

    fake_slack.end_outage()
    # the outbox's retry loop delivers them: wait for that, not for a time
    assert eventually(lambda: len(answered(fake_slack)) >= MENTIONS, timeout=120)
    assert eventually(lambda: slack_app.outbox.pending() == [], timeout=30)
    retried = digest.tick(failed.run.next_attempt_at or monday + timedelta(hours=1))

    assert sorted(answered(fake_slack)) == sorted(f"3.{n}" for n in range(MENTIONS))  # once
    assert retried.action == "posted"
    digests = [p for p in posted(fake_slack) if p.params["channel"] == "CDIGEST"]
    assert len(digests) == 1
    refused = [c for c in fake_slack.calls_to("chat.postMessage") if c.failed]
    assert len(refused) > MENTIONS  # every reply met the outage, most more than once
    assert caplog.text.count("kept reply delivered") == MENTIONS


def posted(fake: FakeSlack) -> list:
    return [c for c in fake.calls_to("chat.postMessage") if not c.failed]


def answered(fake: FakeSlack) -> list[str]:
    return [c.params["thread_ts"] for c in posted(fake) if c.params.get("thread_ts")]
