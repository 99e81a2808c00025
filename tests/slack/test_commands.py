"""`/hubs` over real HTTP: answered ephemerally in the acknowledgement, or through the
response URL when the answer takes longer than the ack's budget."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest

from bot.search import Index
from bot.slack.listeners import commands
from bot.slack.listeners.respond import CheckedRespond
from tests.concurrency import eventually
from tests.slack.conftest import Reply, SlackApp


def ephemeral_reply(reply: Reply) -> dict:
    """The answer carried by the acknowledgement itself."""
    assert reply.status == 200
    message = json.loads(reply.body)
    assert message["response_type"] == "ephemeral"
    return message


@pytest.fixture
def slow_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every answer misses the ack's budget, so it goes to the response URL."""
    answer = commands.answer

    def slow(*args: Any) -> dict:
        time.sleep(0.2)
        return answer(*args)

    monkeypatch.setattr(commands, "answer", slow)
    monkeypatch.setattr(commands, "ANSWER_IN_ACK_S", 0.05)


def test_pitfalls_answers_with_the_section_and_buttons(slack_app: SlackApp) -> None:
    message = ephemeral_reply(slack_app.command("pitfalls"))
    assert slack_app.fake.calls_to("response_url") == []  # no second round trip
    assert message["text"] == "Potential pitfalls — Regional Innovation Hubs"
    blocks = message["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Potential pitfalls", "emoji": True},
    }
    assert blocks[1]["elements"][0]["text"] == (
        "📘 Regional Innovation Hubs · Potential pitfalls · matched “pitfalls”"
    )
    passage = blocks[2]["text"]["text"]
    assert passage.startswith("*Efforts to create a “Silicon X” across the world*\n")
    assert passage.endswith("Tel Aviv, Isrel. …")  # trimmed at a sentence: "Open full section"
    actions = blocks[-1]["elements"]
    # the only pitfalls section in the corpus: no "Next match" to offer
    assert [a["action_id"] for a in actions] == [
        "share_result",
        "open_section",
        "feedback_up",
        "feedback_down",
    ]
    assert json.loads(actions[0]["value"]) == {"q": "pitfalls", "n": 0}
    assert actions[1]["value"] == "regional-innovation-hubs#potential-pitfalls"
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)


def test_typo_says_what_it_matched(slack_app: SlackApp) -> None:
    context = ephemeral_reply(slack_app.command("pitfals"))["blocks"][1]["elements"][0]["text"]
    assert context.endswith("matched “pitfalls” (you typed “pitfals”)")


def test_help_for_empty_and_help(slack_app: SlackApp) -> None:
    first = ephemeral_reply(slack_app.command(""))
    second = ephemeral_reply(slack_app.command("help"))
    assert first["text"] == second["text"] == "How to use hubs-bot"
    body = json.dumps(first["blocks"])
    assert "1 playbook(s), 6 sections" in body and "/hubs case study china" in body
    assert "<#CDIGEST>" in body and "<!date^" in body  # next digest, in the viewer's zone


def test_list_shows_playbooks_and_sections(slack_app: SlackApp) -> None:
    message = ephemeral_reply(slack_app.command("list"))
    text = message["blocks"][1]["text"]["text"]
    assert text.startswith("*Regional Innovation Hubs* — Local foci of technological creativity")
    assert "Key things to know · When to use · Case study" in text


def test_no_match_offers_suggestions_as_buttons(slack_app: SlackApp, seed_index: Index) -> None:
    message = ephemeral_reply(slack_app.command("quantum error correction"))
    assert message["blocks"][0]["text"]["text"] == (
        "Nothing in the playbooks matches “quantum error correction”."
    )
    buttons = message["blocks"][-1]["elements"]
    # exactly the index's suggestions, in its order: one button each, opening that section
    expected = seed_index.search("quantum error correction").suggestions
    assert len(expected) == 3  # six sections: a miss always has three to offer
    assert [b["action_id"] for b in buttons] == ["suggestion_0", "suggestion_1", "suggestion_2"]
    assert [b["value"] for b in buttons] == [s.key for s in expected]
    assert [b["text"]["text"] for b in buttons] == [
        f"{s.playbook_title} › {s.heading}" for s in expected
    ]


def visible_text(message: dict) -> str:
    """Everything Slack renders: block texts and fallback text, not opaque button values."""
    return (
        json.dumps(message, ensure_ascii=False)
        if not isinstance(message, dict)
        else (
            message.get("text", "")
            + json.dumps(
                [
                    {k: v for k, v in b.items() if k != "elements" or b["type"] != "actions"}
                    for b in message.get("blocks", [])
                ]
            )
        )
    )


def test_user_text_cannot_ping_or_inject_links(slack_app: SlackApp) -> None:
    message = ephemeral_reply(
        slack_app.command("<!channel> @here <https://evil.test|qqq> <@U999> zzqx")
    )
    assert message["blocks"][0]["text"]["text"].startswith("Nothing in the playbooks matches")
    text = visible_text(message)
    assert "<!channel>" not in text and "<@U999>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt;" in text
    assert "@\\u2060here" in text  # a word joiner: never an @here ping


def test_stop_words_only(slack_app: SlackApp) -> None:
    lead = ephemeral_reply(slack_app.command("the and of"))["blocks"][0]["text"]["text"]
    assert lead.startswith("I can't search for “the and of”: only common words")


def test_next_match_is_offered_when_there_is_one(slack_app: SlackApp) -> None:
    blocks = ephemeral_reply(slack_app.command("china"))["blocks"]
    assert blocks[0]["text"]["text"] == "Case study"
    assert (
        blocks[-2]["elements"][0]["text"]
        == "Also matching: Further readings (Regional Innovation Hubs)"
    )
    assert [a["action_id"] for a in blocks[-1]["elements"]] == [
        "share_result",
        "next_result",
        "open_section",
        "feedback_up",
        "feedback_down",
    ]


def test_a_slow_answer_goes_to_the_response_url(slack_app: SlackApp, slow_answers: None) -> None:
    reply = slack_app.command("help")
    assert (reply.status, reply.body) == (200, "")
    (call,) = slack_app.fake.wait_for("response_url")
    assert call.params["response_type"] == "ephemeral"
    assert call.params["text"] == "How to use hubs-bot"
    assert "/hubs case study china" in json.dumps(call.params["blocks"])


def test_a_response_url_hiccup_is_retried(slack_app: SlackApp, slow_answers: None) -> None:
    slack_app.fake.fail("response_url", status=500)
    slack_app.command("help")
    first, second = slack_app.fake.wait_for("response_url", 2)
    assert first.failed and not second.failed
    assert second.params["text"] == "How to use hubs-bot"


def test_a_refused_response_url_is_reported_not_swallowed(
    slack_app: SlackApp, caplog: pytest.LogCaptureFixture, slow_answers: None
) -> None:
    slack_app.fake.fail("response_url", status=404)  # expired or already used 5 times
    slack_app.command("help")
    slack_app.fake.wait_for("response_url")
    assert eventually(lambda: "answer refused by the response URL" in caplog.text)
    (record,) = [r for r in caplog.records if r.getMessage().startswith("answer refused")]
    assert record.error == "http_404"  # type: ignore[attr-defined]
    page = slack_app.get("/metrics").body
    assert 'hubs_slack_api_errors_total{error="http_404",method="response_url"}' in page


def test_checked_respond_takes_a_whole_message_as_one_dict(slack_app: SlackApp) -> None:
    """Bolt allows respond({...}); the retrying replacement must too."""
    respond = CheckedRespond(response_url=slack_app.fake.response_url)
    assert respond({"text": "hi", "response_type": "ephemeral"}).status_code == 200
    (call,) = slack_app.fake.wait_for("response_url")
    assert (call.params["text"], call.params["response_type"]) == ("hi", "ephemeral")


def test_a_failing_answer_says_sorry_in_the_ack(
    slack_app: SlackApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: Any) -> dict:
        raise RuntimeError("index gone")

    monkeypatch.setattr(commands, "answer", broken)
    assert ephemeral_reply(slack_app.command("pitfalls"))["text"] == commands.SORRY
    assert "slash command failed" in caplog.text and "index gone" in caplog.text


def test_a_slash_command_is_one_log_line_with_its_question(
    slack_app: SlackApp, caplog: pytest.LogCaptureFixture
) -> None:
    """The request's line carries the question it answered (a canonical log line): one
    line per command, not one for the request and one for the question."""
    caplog.set_level(logging.INFO)
    slack_app.answer("pitfals")
    (line,) = [r for r in caplog.records if r.getMessage() == "slack request"]
    assert (line.kind, line.status, line.source, line.no_match, line.words) == (
        "slash",
        "200",
        "slash",
        False,
        1,
    )
    assert line.section.endswith("#potential-pitfalls")
    assert not [r for r in caplog.records if r.getMessage() == "question answered"]
