"""`/hubs digest here|off`: admins choose the digest channel in Slack; the clock follows."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.digest_fleet import DigestFleet, digest_targets
from bot.settings import Settings
from tests.fake_slack import FakeSlack
from tests.slack.conftest import CHANNEL, TOKEN, USER, SlackApp

ADMIN = "U0ADMIN"


def answer(app: SlackApp, text: str, user: str = ADMIN, **extra: str) -> str:
    before = len(app.fake.calls_to("response_url"))
    app.command(text, user_id=user, **extra)
    call = app.fake.wait_for("response_url", before + 1)[-1]
    assert call.params["response_type"] == "ephemeral"
    return call.params["text"]


def test_admin_chooses_this_channel_and_the_channel_is_told(slack_app: SlackApp) -> None:
    slack_app.fake.admins.add(ADMIN)
    text = answer(slack_app, "digest here")
    assert text.startswith("Done. Weekly digest: a case study or pitfall in <#C0CHANNEL>")
    (announcement,) = slack_app.fake.calls_to("chat.postMessage")
    assert announcement.params["channel"] == CHANNEL
    assert announcement.params["text"].startswith(
        f"<@{ADMIN}> chose this channel for the weekly playbook digest."
    )
    choice = slack_app.store.digest_channel("T1")
    assert choice is not None and (choice.channel, choice.set_by) == (CHANNEL, ADMIN)
    (users_info,) = slack_app.fake.calls_to("users.info")
    assert users_info.params["user"] == ADMIN


def test_non_admin_is_refused_and_nothing_changes(slack_app: SlackApp) -> None:
    text = answer(slack_app, "digest here", user=USER)
    assert text == "Only workspace admins and owners can choose where the weekly digest goes."
    assert slack_app.store.digest_channel("T1") is None
    assert not slack_app.fake.calls_to("chat.postMessage")


def test_a_channel_the_bot_cannot_post_in_is_explained_not_saved(slack_app: SlackApp) -> None:
    slack_app.fake.admins.add(ADMIN)
    slack_app.fake.fail("chat.postMessage", error="not_in_channel")
    text = answer(slack_app, "digest here")
    assert text == "I'm not in this channel. Invite me with `/invite @hubs`, then try again."
    assert slack_app.store.digest_channel("T1") is None


def test_missing_users_read_scope_says_what_to_do(slack_app: SlackApp) -> None:
    slack_app.fake.fail("users.info", error="missing_scope")
    assert "`users:read`" in answer(slack_app, "digest off")
    assert slack_app.store.digest_channel("T1") is None


def test_off_then_status_and_help_say_it_is_off(slack_app: SlackApp) -> None:
    slack_app.fake.admins.add(ADMIN)
    assert answer(slack_app, "digest off") == "The weekly digest is off (it went to <#CDIGEST>)."
    status = answer(slack_app, "DIGEST", user=USER)  # anyone may ask where it goes
    assert status.startswith("The weekly digest is off: an admin can start it")
    slack_app.command("help")
    help_blocks = json.dumps(slack_app.fake.wait_for("response_url", 3)[-1].params["blocks"])
    assert "The weekly digest is off" in help_blocks


def test_unknown_digest_word_shows_usage(slack_app: SlackApp) -> None:
    assert answer(slack_app, "digest everywhere").startswith("`/hubs digest` shows where")
    assert not slack_app.fake.calls_to("users.info")


def test_the_clock_follows_the_choices(slack_app: SlackApp, settings: Settings) -> None:
    store = slack_app.store
    (default,) = digest_targets(settings, store)
    assert (default.channel, default.token, default.active_since) == ("CDIGEST", TOKEN, None)
    store.set_digest_channel("T1", "CNEW", ADMIN)
    assert [t.channel for t in digest_targets(settings, store)] == ["CNEW"]
    store.set_digest_channel("T1", None, ADMIN)
    assert digest_targets(settings, store) == []


def test_a_channel_chosen_after_this_weeks_time_starts_next_week(
    slack_app: SlackApp, settings: Settings, fake_slack: FakeSlack
) -> None:
    monday_nine = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    store = slack_app.store
    store.set_digest_channel("T1", "CNEW", ADMIN, now=monday_nine + timedelta(days=1))
    fleet = DigestFleet(replace(settings, digest_cron="0 9 * * mon"), store)
    (outcome,) = fleet.tick(monday_nine + timedelta(days=2))
    assert outcome.action == "not-due"
    (outcome,) = fleet.tick(monday_nine + timedelta(days=7, minutes=1))
    assert outcome.action == "posted"
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert post.params["channel"] == "CNEW"
    assert post.headers["Authorization"] == f"Bearer {TOKEN}"
