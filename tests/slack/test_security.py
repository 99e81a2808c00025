"""Signature verification is always on: forged or stale requests reach no listener."""

from __future__ import annotations

import json
import time
import urllib.parse
from pathlib import Path

from slack_bolt import App
from sqlalchemy import create_engine

from bot.corpus import Corpus
from bot.slack.server import build_wsgi, store_is_healthy
from bot.store import Store
from tests.slack.conftest import SECRET, SlackApp, sign

# a click on "Open full section": its work runs on Bolt's listener pool after the ack, where
# the tests count it (a /hubs command is answered on the request thread, in its ack)
BUTTON = {
    "type": "block_actions",
    "user": {"id": "U1"},
    "team": {"id": "T1"},
    "channel": {"id": "C1"},
    "trigger_id": "trig.9",
    "response_url": "http://127.0.0.1:9/never",
    "container": {"type": "message"},
    "actions": [
        {
            "action_id": "open_section",
            "block_id": "b1",
            "value": "regional-innovation-hubs#potential-pitfalls",
            "type": "button",
            "action_ts": "1.2",
        }
    ],
}
BODY = urllib.parse.urlencode({"payload": json.dumps(BUTTON)})
FORM = "application/x-www-form-urlencoded"


def test_forged_signature_is_401_and_calls_nothing(slack_app: SlackApp) -> None:
    reply = slack_app.post(BODY, FORM, sign(BODY, secret="not-the-secret"))
    assert reply.status == 401
    assert slack_app.settle() == 0  # refused before any listener was started
    assert slack_app.fake.calls == []


def test_six_minute_old_timestamp_is_401(slack_app: SlackApp) -> None:
    reply = slack_app.post(BODY, FORM, sign(BODY, timestamp=int(time.time()) - 360))
    assert reply.status == 401
    assert slack_app.settle() == 0
    assert slack_app.fake.calls == []


def test_a_signed_request_does_reach_a_listener(slack_app: SlackApp) -> None:
    """The counter the two tests above read is live: the same click, signed, starts one."""
    assert slack_app.post(BODY, FORM).status == 200
    assert slack_app.settle() == 1
    assert len(slack_app.fake.calls_to("views.open")) == 1


def test_unsigned_request_is_401(slack_app: SlackApp) -> None:
    assert slack_app.post(BODY, FORM, headers={}).status == 401


def test_healthz_checks_the_store(slack_app: SlackApp) -> None:
    reply = slack_app.get("/healthz")
    assert reply.status == 200
    assert json.loads(reply.body) == {"ok": True, "store": "up", "playbooks": 1, "sections": 6}


def test_healthz_is_503_when_the_store_is_down(tmp_path: Path, seed_corpus: Corpus) -> None:
    down = Store(create_engine(f"sqlite:///{tmp_path}/missing/dir/x.db"))
    assert store_is_healthy(down) is False
    statuses: list[str] = []
    wsgi = build_wsgi(
        App(signing_secret=SECRET, token_verification_enabled=False, token="xoxb-x"),
        down,
        lambda: seed_corpus,
    )
    body = b"".join(
        wsgi(
            {"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET"},
            lambda status, _headers: statuses.append(status),
        )
    )
    assert statuses == ["503 Service Unavailable"]
    assert json.loads(body) == {"ok": False, "store": "down", "playbooks": 1, "sections": 6}


def test_unknown_path_is_404(slack_app: SlackApp) -> None:
    assert slack_app.get("/nope").status == 404


def test_metrics_count_requests_by_kind_without_user_text(slack_app: SlackApp) -> None:
    slack_app.answer("secret project zebra")
    reply = slack_app.get("/metrics")
    assert reply.status == 200
    assert 'hubs_requests_total{kind="slash",status="200"}' in reply.body
    assert 'hubs_request_seconds_bucket{kind="slash",le="0.05"}' in reply.body
    assert 'hubs_questions_total{matched="no",source="slash"}' in reply.body
    assert "zebra" not in reply.body


def test_metrics_list_every_known_series_from_the_start(slack_app: SlackApp) -> None:
    """Zeros, not absence, before anything happened: alerts on `== 0` work from the start."""
    page = slack_app.get("/metrics").body
    for series in (
        'hubs_questions_total{matched="no",source="dm"}',
        'hubs_outbox_total{outcome="dead"}',
        'hubs_digest_posts_total{outcome="failed"}',
        "hubs_app_rate_limited_total",
    ):
        assert series in page, series
