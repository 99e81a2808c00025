"""`/hubs digest here|off`: admins choose the digest channel in Slack; the clock follows."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from bot.digest.fleet import DigestFleet, digest_targets
from bot.settings import Settings
from bot.store import DigestChannel
from tests.fake_slack import FakeSlack
from tests.slack.conftest import CHANNEL, TOKEN, USER, SlackApp

ADMIN = "U0ADMIN"


def answer(app: SlackApp, text: str, user: str = ADMIN, **extra: str) -> str:
    return app.answer(text, user_id=user, **extra)["text"]


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
    help_blocks = json.dumps(slack_app.answer("help")["blocks"])
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


def chosen_by_admin_in(app: SlackApp, time_zone: str, command: str) -> DigestChannel:
    """An admin whose Slack profile says ``time_zone`` runs ``command`` successfully."""
    app.fake.admins.add(ADMIN)
    app.fake.time_zones[ADMIN] = time_zone
    assert answer(app, command).startswith("Done.")
    choice = app.store.digest_channel("T1")
    assert choice is not None
    return choice


def test_the_schedule_follows_the_admins_time_zone(
    slack_app: SlackApp, settings: Settings, fake_slack: FakeSlack
) -> None:
    choice = chosen_by_admin_in(slack_app, "America/New_York", "digest here")
    assert choice.timezone == "America/New_York"
    # chosen "now" (2026): the first Monday 09:00 New York after it is the first digest
    fleet = DigestFleet(settings, slack_app.store)
    monday = datetime(2027, 1, 4, tzinfo=UTC)
    (at_nine_utc,) = fleet.tick(monday.replace(hour=9, minute=1))
    assert at_nine_utc.action == "not-due"  # 04:01 in New York
    (at_nine_there,) = fleet.tick(monday.replace(hour=14, minute=1))  # 09:01 EST
    assert at_nine_there.action == "posted"
    digest = fake_slack.calls_to("chat.postMessage")[-1]
    assert digest.params["channel"] == CHANNEL


def test_an_unknown_time_zone_falls_back_to_the_configured_one(slack_app: SlackApp) -> None:
    choice = chosen_by_admin_in(slack_app, "Mars/Olympus_Mons", "digest here")
    assert choice.timezone == "UTC"


def test_an_admin_can_choose_the_day_and_hour(
    slack_app: SlackApp, settings: Settings, fake_slack: FakeSlack
) -> None:
    choice = chosen_by_admin_in(slack_app, "Europe/Berlin", "digest here Friday 4 pm")
    assert (choice.cron, choice.timezone) == ("0 16 * * fri", "Europe/Berlin")
    fleet = DigestFleet(settings, slack_app.store)
    week = datetime(2027, 1, 4, tzinfo=UTC)  # a Monday
    assert [o.action for o in fleet.tick(week.replace(hour=9, minute=5))] == ["not-due"]
    friday_four_berlin = week + timedelta(days=4, hours=15, minutes=1)  # 16:01 CET
    assert [o.action for o in fleet.tick(friday_four_berlin)] == ["posted"]


def test_an_unreadable_schedule_is_explained_and_nothing_changes(slack_app: SlackApp) -> None:
    slack_app.fake.admins.add(ADMIN)
    text = answer(slack_app, "digest here <!channel> 25:00")
    assert text.startswith("I can't read “&lt;!channel&gt;” as a day or a time")  # no ping
    assert slack_app.store.digest_channel("T1") is None
    assert not slack_app.fake.calls_to("chat.postMessage")


def test_once_posted_the_minute_tick_is_two_queries_for_the_whole_fleet(
    slack_app: SlackApp, settings: Settings
) -> None:
    store = slack_app.store
    for n in range(5):  # five workspaces, one shared database
        store.set_digest_channel(f"T{n}", f"C{n}", ADMIN, now=datetime(2026, 1, 1, tzinfo=UTC))
    fleet = DigestFleet(settings, store)
    after_nine = datetime(2027, 1, 4, 9, 1, tzinfo=UTC)
    assert [o.action for o in fleet.tick(after_nine)] == ["posted"] * 5
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    assert [o.action for o in fleet.tick(after_nine + timedelta(minutes=1))] == ["done"] * 5
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2
