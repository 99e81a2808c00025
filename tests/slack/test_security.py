"""Signature verification is always on: forged or stale requests reach no listener."""

from __future__ import annotations

import json
import time
import urllib.parse
from pathlib import Path
from urllib.parse import parse_qs, quote_plus, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_bolt import App
from sqlalchemy import create_engine

from bot.corpus import Corpus
from bot.observability import metrics
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
JSON = "application/json"


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


@pytest.mark.parametrize(
    ("body", "content_type", "kind"),
    [
        (b"token=x&team_id=T1&command=%2Fhubs&text=pitfalls", FORM, "slash"),
        (
            b"payload=" + quote_plus(json.dumps({"type": "block_actions"})).encode(),
            FORM,
            "block_actions",
        ),
        (b"payload=%7B%22type%22%3A%22message_action%22%7D&token=x", FORM, "message_action"),
        (b'{"type":"event_callback","event":{"type":"app_mention"}}', JSON, "event:app_mention"),
        (b'{"type":"url_verification"}', JSON, "url_verification"),
        (b"payload=%7Bnot+json", FORM, "unknown"),
        (b"text=command%3Dx", FORM, "unknown"),  # "command=" inside a value is no command
        (b"", FORM, "unknown"),
        (b"\xff\xfe", JSON, "unknown"),
    ],
)
def test_request_kind_reads_field_names_not_values(
    body: bytes, content_type: str, kind: str
) -> None:
    assert metrics.request_kind(body, content_type) == kind


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=30), max_size=6))
def test_request_kind_of_any_form_agrees_with_a_full_parse(form: dict[str, str]) -> None:
    """Whatever a form holds, the quick scan of field names finds a command exactly when a
    full parse would (and never raises)."""
    body = urlencode(form).encode()
    kind = metrics.request_kind(body, FORM)
    if "command" in parse_qs(body.decode()):
        assert kind == "slash"
    elif "payload" not in parse_qs(body.decode()):
        assert kind == "unknown"


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
