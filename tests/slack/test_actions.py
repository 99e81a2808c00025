"""Buttons: each action payload over real HTTP, answered through the right Web API call."""

from __future__ import annotations

import json

from tests.slack.conftest import CHANNEL, USER, SlackApp


def state(query: str, rank: int = 0) -> str:
    return json.dumps({"q": query, "n": rank})


def test_share_posts_publicly_with_attribution_and_removes_the_ephemeral(
    slack_app: SlackApp,
) -> None:
    assert slack_app.action("share_result", state("pitfalls")).status == 200
    (post,) = slack_app.fake.wait_for("chat.postMessage")
    assert post.params["channel"] == CHANNEL
    assert post.params["text"] == "Potential pitfalls — Regional Innovation Hubs"
    contexts = [b for b in post.params["blocks"] if b["type"] == "context"]
    assert contexts[-1]["elements"][0]["text"] == f"Shared by <@{USER}> via `/hubs`"
    assert not any(b["type"] == "actions" for b in post.params["blocks"])
    (cleanup,) = slack_app.fake.wait_for("response_url")
    assert cleanup.params["delete_original"] is True


def test_share_where_the_bot_is_not_a_member_explains(slack_app: SlackApp) -> None:
    slack_app.fake.fail("chat.postMessage", error="not_in_channel")
    slack_app.action("share_result", state("pitfalls"))
    (reply,) = slack_app.fake.wait_for("response_url")
    assert reply.params["text"].startswith("I'm not in this channel. Invite me with `/invite")


def test_next_match_replaces_the_message_with_the_next_result(slack_app: SlackApp) -> None:
    slack_app.action("next_result", state("hubs"))
    (reply,) = slack_app.fake.wait_for("response_url")
    assert reply.params["replace_original"] is True
    buttons = reply.params["blocks"][-1]["elements"]
    assert json.loads(buttons[0]["value"])["n"] == 1


def test_next_match_at_the_end_says_so(slack_app: SlackApp) -> None:
    slack_app.action("next_result", state("yozma"))
    (reply,) = slack_app.fake.wait_for("response_url")
    assert reply.params["text"].startswith("That was the last match.")


def test_open_full_section_opens_a_modal(slack_app: SlackApp) -> None:
    slack_app.action("open_section", "regional-innovation-hubs#when-to-use")
    (call,) = slack_app.fake.wait_for("views.open")
    view = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert call.params["trigger_id"] == "trig.2"
    assert view["type"] == "modal" and view["title"]["text"] == "When to use"
    text = json.dumps(view["blocks"])
    assert "Regional Innovation Engines program" in text and "Osceola County" in text


def test_suggestion_button_shows_that_section(slack_app: SlackApp) -> None:
    slack_app.action("suggestion_1", "regional-innovation-hubs#case-study")
    (reply,) = slack_app.fake.wait_for("response_url")
    assert reply.params["replace_original"] is True
    assert reply.params["blocks"][0]["text"]["text"] == "Case study"


def test_a_section_that_no_longer_exists(slack_app: SlackApp) -> None:
    slack_app.action("open_section", "gone#nowhere")
    (reply,) = slack_app.fake.wait_for("response_url")
    assert reply.params["text"].startswith("That part of the playbooks has changed")
    assert slack_app.fake.calls_to("views.open") == []


def test_more_like_this_with_a_single_playbook(slack_app: SlackApp) -> None:
    slack_app.action("more_like_this", "regional-innovation-hubs#case-study")
    (reply,) = slack_app.fake.wait_for("response_url")
    assert reply.params["text"] == "No other playbook has a Case study section yet."


def test_open_full_section_after_the_trigger_expired_sends_it_privately(
    slack_app: SlackApp,
) -> None:
    slack_app.fake.fail("views.open", error="expired_trigger_id")
    slack_app.action("open_section", "regional-innovation-hubs#when-to-use")
    (reply,) = slack_app.fake.wait_for("response_url")
    assert reply.params["response_type"] == "ephemeral"
    assert reply.params["text"] == "When to use — Regional Innovation Hubs"
    assert "Osceola County" in json.dumps(reply.params["blocks"])
