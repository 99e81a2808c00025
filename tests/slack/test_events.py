"""Mentions and DMs: one reply, in the thread, with references; retries never duplicate."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.corpus import load_corpus
from bot.search import Index
from bot.settings import Settings
from tests.fake_slack import FakeSlack
from tests.slack.conftest import CHANNEL, USER, SlackApp, serving


def mention(text: str, ts: str = "1700000100.000100", **extra: str) -> dict:
    return {
        "type": "app_mention",
        "user": USER,
        "text": text,
        "ts": ts,
        "channel": CHANNEL,
        "event_ts": ts,
        **extra,
    }


def test_mention_in_a_thread_replies_in_that_thread_with_references(slack_app: SlackApp) -> None:
    event = mention("<@UBOT> what went wrong with Silicon X?", thread_ts="1700000000.000001")
    assert slack_app.event(event).status == 200
    (post,) = slack_app.fake.wait_for("chat.postMessage")
    assert post.params["thread_ts"] == "1700000000.000001"
    assert post.params["channel"] == CHANNEL
    first = post.params["blocks"][0]["text"]["text"]
    assert first.startswith("*Regional Innovation Hubs › Potential pitfalls*\n")
    refs = post.params["blocks"][1]["text"]["text"]
    assert refs.startswith("*References*\n• <https://link.springer.com/")
    slack_app.fake.wait_for("reactions.remove")
    assert slack_app.fake.calls_to("reactions.add")[0].params["name"] == "mag"


def test_mention_outside_a_thread_starts_one_on_the_message(slack_app: SlackApp) -> None:
    slack_app.event(mention("<@UBOT> paul graham", ts="1700000200.000200"))
    (post,) = slack_app.fake.wait_for("chat.postMessage")
    assert post.params["thread_ts"] == "1700000200.000200"
    assert "Why Startup Hubs Work" in json.dumps(post.params["blocks"])


def test_retried_and_duplicate_events_get_one_reply(slack_app: SlackApp) -> None:
    event = mention("<@UBOT> pitfalls")
    slack_app.event(event, event_id="EvA")
    slack_app.event(event, event_id="EvA", retry_num=1)
    slack_app.event(event, event_id="EvA", retry_num=2)
    # the same message delivered again as a direct/`message` event with its own id
    slack_app.event({**event, "type": "message", "channel_type": "im"}, event_id="EvB")
    # every delivery has been handled to its end: whichever claimed the message first
    # answered (a mention in its thread, or the DM path), the others found it claimed
    assert slack_app.settle() == 4
    assert len(slack_app.fake.calls_to("chat.postMessage")) == 1
    assert slack_app.outbox.pending() == []  # and no second reply is waiting to be sent


@pytest.mark.parametrize(
    ("question", "heading"),
    [("references?", "Further readings"), ("who wrote this?", "Contributors")],
)
def test_a_mention_without_a_topic_asks_about_the_thread(
    slack_app: SlackApp, question: str, heading: str
) -> None:
    """The thread's first message says what it is about; the mention says what is wanted."""
    slack_app.fake.thread_messages["1700000000.000001"] = [
        {"ts": "1700000000.000001", "text": "Should we copy the Yozma program?"}
    ]
    slack_app.event(mention(f"<@UBOT> {question}", thread_ts="1700000000.000001"))
    (post,) = slack_app.fake.wait_for("chat.postMessage")
    assert f"Regional Innovation Hubs › {heading}" in post.params["blocks"][0]["text"]["text"]
    (replies,) = slack_app.fake.calls_to("conversations.replies")
    assert replies.params["ts"] == "1700000000.000001"


def test_direct_message_is_answered(slack_app: SlackApp) -> None:
    slack_app.event(
        {
            "type": "message",
            "channel_type": "im",
            "user": USER,
            "text": "yozma",
            "ts": "1.5",
            "channel": "D123",
        }
    )
    (post,) = slack_app.fake.wait_for("chat.postMessage")
    assert post.params["channel"] == "D123"
    assert "Potential pitfalls" in post.params["text"]


def test_bots_and_channel_messages_are_ignored(slack_app: SlackApp) -> None:
    slack_app.event(
        {
            "type": "message",
            "channel_type": "im",
            "bot_id": "B1",
            "text": "pitfalls",
            "ts": "1.6",
            "channel": "D123",
        },
        event_id="EvBot",
    )
    slack_app.event(
        {
            "type": "message",
            "channel_type": "channel",
            "user": USER,
            "text": "pitfalls",
            "ts": "1.7",
            "channel": CHANNEL,
        },
        event_id="EvChan",
    )
    slack_app.event(mention("<@UBOT> pitfalls", ts="1.8"), event_id="EvLast")
    (post,) = slack_app.fake.wait_for("chat.postMessage")
    assert post.params["thread_ts"] == "1.8"  # only the real mention


def test_rejected_blocks_are_resent_as_text(slack_app: SlackApp) -> None:
    slack_app.fake.fail("chat.postMessage", error="invalid_blocks")
    slack_app.event(mention("<@UBOT> pitfalls"))
    first, second = slack_app.fake.wait_for("chat.postMessage", 2)
    assert "blocks" in first.params and "blocks" not in second.params
    assert second.params["text"] == "Regional Innovation Hubs › Potential pitfalls"


def test_rate_limited_post_is_retried(slack_app: SlackApp) -> None:
    slack_app.fake.fail("chat.postMessage", status=429, retry_after=1)
    slack_app.event(mention("<@UBOT> pitfalls"))
    calls = slack_app.fake.wait_for("chat.postMessage", 2)
    assert calls[0].params == calls[1].params


def test_message_shortcut_answers_in_the_thread(slack_app: SlackApp) -> None:
    slack_app.shortcut({"ts": "1.9", "text": "How did Hangzhou set up its AI zone?"})
    (post,) = slack_app.fake.wait_for("chat.postMessage")
    assert post.params["thread_ts"] == "1.9"
    assert "Case study" in post.params["text"]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("not_in_channel", "I'm not in this channel."),
        ("restricted_action", "Only some people can post in this channel"),  # announcements
        ("restricted_action_read_only_channel", "This channel is read-only for me."),
    ],
)
def test_message_shortcut_where_the_bot_cannot_post_answers_privately(
    slack_app: SlackApp, error: str, reason: str
) -> None:
    slack_app.fake.fail("chat.postMessage", error=error)
    slack_app.shortcut({"ts": "2.0", "text": "yozma"})
    (reply,) = slack_app.fake.wait_for("response_url")
    assert reply.params["response_type"] == "ephemeral"
    notes = json.dumps(reply.params["blocks"])
    assert "Only you can see this answer." in notes and reason in notes


def test_app_home_is_published(slack_app: SlackApp) -> None:
    slack_app.event(
        {"type": "app_home_opened", "user": USER, "channel": "D1", "tab": "home", "event_ts": "1"}
    )
    (call,) = slack_app.fake.wait_for("views.publish")
    view = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert call.params["user_id"] == USER and view["type"] == "home"
    text = json.dumps(view, ensure_ascii=False)
    assert "Regional Innovation Hubs* (6 sections)" in text
    assert "_Stage: Catalytic, Growth · Domain: Academia, Industry, Philanthropy, Policy · " in text
    assert "Type: Capacity building, Execution, Funding_" in text
    assert "/hubs list` for all" not in text  # every playbook is shown


def test_app_home_says_how_many_playbooks_it_leaves_out(
    settings: Settings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    for n in range(31):
        (tmp_path / f"p{n:02d}.md").write_text(f"---\ntitle: Playbook {n}\n---\n\n## A\n\nx\n")
    with serving(settings, Index(load_corpus([tmp_path])), fake_slack) as app:
        app.event({"type": "app_home_opened", "user": USER, "tab": "home", "event_ts": "1"})
        (call,) = app.fake.wait_for("views.publish")
    view = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    text = json.dumps(view, ensure_ascii=False)
    assert "*Playbook 29*" in text and "*Playbook 30*" not in text
    assert view["blocks"][-1]["elements"][0]["text"] == "30 of 31 — `/hubs list` for all"


def test_help_and_footers_use_the_bots_real_mention(slack_app: SlackApp) -> None:
    """The name people see and type is the app's own (from auth.test), not a literal @hubs."""
    slack_app.fake.bot_user_id = "U0HUBSBOT"
    slack_app.event(mention("<@U0HUBSBOT> pitfalls"))
    help_reply = slack_app.answer("help")
    slack_app.event({"type": "app_home_opened", "user": USER, "tab": "home", "event_ts": "1"})
    (reply,) = slack_app.fake.wait_for("chat.postMessage")
    (home,) = slack_app.fake.wait_for("views.publish")
    footer = reply.params["blocks"][-2]["elements"][0]["text"]
    assert footer == "Ask me in any thread: <@U0HUBSBOT> _your question_ · `/hubs help`"
    for payload in (help_reply["blocks"], home.params["view"]):
        text = payload if isinstance(payload, str) else json.dumps(payload)
        assert "<@U0HUBSBOT> _what went wrong with Silicon X?_" in text
        assert "@hubs" not in text


def test_a_direct_message_with_a_file_attached_is_answered(slack_app: SlackApp) -> None:
    """Slack's documented shape for a DM with a file: subtype file_share, files[], a user."""
    slack_app.event(
        {
            "type": "message",
            "subtype": "file_share",
            "channel_type": "im",
            "user": USER,
            "text": "yozma",
            "files": [{"id": "F0123", "name": "notes.pdf", "mimetype": "application/pdf"}],
            "upload": False,
            "ts": "1.9",
            "channel": "D123",
        }
    )
    (post,) = slack_app.fake.wait_for("chat.postMessage")
    assert post.params["channel"] == "D123"
    assert "Potential pitfalls" in post.params["text"]


def test_a_thread_reply_also_sent_to_the_channel_is_answered(slack_app: SlackApp) -> None:
    slack_app.event(
        {
            **mention("<@UBOT> yozma", ts="2.1", thread_ts="2.0"),
            "subtype": "thread_broadcast",
            "root": {"ts": "2.0", "text": "Planning the hub"},
        }
    )
    (post,) = slack_app.fake.wait_for("chat.postMessage")
    assert post.params["thread_ts"] == "2.0"


def test_edits_and_other_subtypes_are_not_answered(slack_app: SlackApp) -> None:
    for n, subtype in enumerate(("message_changed", "message_deleted", "channel_join")):
        slack_app.event(
            {
                "type": "message",
                "subtype": subtype,
                "channel_type": "im",
                "user": USER,
                "text": "pitfalls",
                "ts": f"3.{n}",
                "channel": "D123",
            },
            event_id=f"EvSub{n}",
        )
    slack_app.event(mention("<@UBOT> pitfalls", ts="3.9"), event_id="EvAfter")
    (post,) = slack_app.fake.wait_for("chat.postMessage")
    assert post.params["thread_ts"] == "3.9"  # only the mention sent after them


def test_app_rate_limited_is_acknowledged_logged_and_counted(
    slack_app: SlackApp, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack's documented payload: its own top-level type, the minute as epoch seconds."""
    body = json.dumps(
        {
            "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
            "type": "app_rate_limited",
            "team_id": "T1",
            "minute_rate_limited": 1518467820,
            "api_app_id": "A1",
        }
    )
    with caplog.at_level(logging.WARNING, logger="bot.slack.listeners.rate_limits"):
        reply = slack_app.post(body, "application/json")
    assert reply.status == 200
    (record,) = [r for r in caplog.records if "rate-limited" in r.getMessage()]
    assert record.minute == "2018-02-12T20:37:00+00:00"  # type: ignore[attr-defined]
    page = slack_app.get("/metrics").body
    assert "hubs_app_rate_limited_total 1.0" in page


def test_a_question_answered_after_the_ack_has_a_log_line_of_its_own(
    slack_app: SlackApp, caplog: pytest.LogCaptureFixture
) -> None:
    """A mention is answered after Slack has its ack, on another thread: the request's line
    is written by then, so the question gets its own."""
    caplog.set_level(logging.INFO)
    slack_app.event(mention("<@UBOT> paul graham", ts="1700000300.000300"))
    slack_app.fake.wait_for("chat.postMessage")
    slack_app.settle()
    (request,) = [r for r in caplog.records if r.getMessage() == "slack request"]
    assert request.kind == "event:app_mention" and not hasattr(request, "source")
    (question,) = [r for r in caplog.records if r.getMessage() == "question answered"]
    assert (question.source, question.no_match) == ("mention", False)
