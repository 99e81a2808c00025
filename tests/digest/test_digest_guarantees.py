"""The digest's exactly-once promises, each stated as a test that fails when it breaks.

Found by mutation testing (``bench/mutation.sh``): each test here kills a mutant that survived
the rest of the suite — a condition flipped, a bound moved by one, a branch that answered the
opposite — and says in its name which promise that mutant would have broken.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from bot.corpus import load_corpus
from bot.digest.pool import (
    RETRY_BASE,
    RETRY_MAX,
    STALE_CLAIM,
    TickOutcome,
    digest_pool,
    iso_week,
)
from bot.render.slack import render_digest_message
from tests.digest.conftest import CHANNEL, MakeDigest
from tests.fake_slack import FakeSlack

FIRE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday at the default cron's 09:00 UTC
WEEK = iso_week(FIRE)
TICK = timedelta(microseconds=1)  # the smallest step a datetime can take


def post_as_the_digest(fake: FakeSlack, digest: object, week: str, at: datetime) -> str:
    """A digest message for ``week`` landing in the channel at ``at`` (its ts); returns ts."""
    fake.now = at.timestamp()
    response = digest.client.chat_postMessage(  # type: ignore[attr-defined]
        channel=CHANNEL,
        text="Weekly hub digest",
        metadata={"event_type": "hubs_digest", "event_payload": {"week": week}},
    )
    return str(response["ts"])


# ---------------------------------------------------------------- a claimer that died


def test_when_the_channel_history_cannot_be_read_a_stale_claim_is_not_reposted(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    assert digest.store.claim_week(CHANNEL, WEEK, FIRE) is not None  # then the claimer died
    fake_slack.fail("conversations.history", error="missing_scope")
    outcome = digest.tick(FIRE + STALE_CLAIM + timedelta(minutes=1))
    assert outcome.action == "done"
    assert len(fake_slack.calls_to("conversations.history")) == 1  # it did ask
    assert fake_slack.calls_to("chat.postMessage") == []  # and, not knowing, posted nothing
    run = digest.store.get_run(CHANNEL, WEEK)
    assert run is not None and run.status == "claimed" and run.attempts == 1  # left for a human


def test_a_message_from_last_week_is_not_adopted_as_this_weeks(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    last_week = iso_week(FIRE - timedelta(days=7))
    post_as_the_digest(fake_slack, digest, last_week, FIRE - timedelta(days=7))
    assert digest.store.claim_week(CHANNEL, WEEK, FIRE) is not None  # then the claimer died
    fake_slack.now = (FIRE + timedelta(minutes=20)).timestamp()
    outcome = digest.tick(FIRE + timedelta(minutes=20))
    assert outcome.action == "posted" and outcome.run is not None
    assert outcome.run.attempts == 2
    (_, ours) = fake_slack.calls_to("chat.postMessage")
    assert ours.params["metadata"]["event_payload"]["week"] == WEEK  # this week's, posted anew


def test_only_a_message_tagged_with_this_week_is_adopted(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    """After the claim the channel holds a person's message, a thread reply the bot kept in
    its outbox, and a digest tagged with another week: none of them is this week's post."""
    digest = make_digest()
    assert digest.store.claim_week(CHANNEL, WEEK, FIRE) is not None  # then the claimer died
    fake_slack.now = (FIRE + timedelta(minutes=1)).timestamp()
    digest.client.chat_postMessage(channel=CHANNEL, text="morning all")
    digest.client.chat_postMessage(
        channel=CHANNEL,
        text="a reply",
        metadata={"event_type": "hubs_reply", "event_payload": {"reply": "abc"}},
    )
    post_as_the_digest(
        fake_slack, digest, iso_week(FIRE - timedelta(days=7)), FIRE + timedelta(minutes=2)
    )
    fake_slack.now = (FIRE + timedelta(minutes=20)).timestamp()
    outcome = digest.tick(FIRE + timedelta(minutes=20))
    assert outcome.action == "posted"
    assert len(fake_slack.calls_to("chat.postMessage")) == 4


def test_a_post_that_landed_after_the_claim_is_adopted_not_repeated(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    assert digest.store.claim_week(CHANNEL, WEEK, FIRE) is not None
    ts = post_as_the_digest(fake_slack, digest, WEEK, FIRE + timedelta(seconds=3))
    outcome = digest.tick(FIRE + timedelta(minutes=20))
    assert outcome.action == "done"
    assert outcome.run is not None and outcome.run.status == "posted"
    assert outcome.run.message_ts == ts
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # only the one that landed


def test_the_search_for_a_landed_post_starts_at_the_claim(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    """`digest --post-now --force` replaces this week's post; if its claimer dies, the post
    it meant to replace (sent before the claim) is not mistaken for the new one."""
    digest = make_digest()
    post_as_the_digest(fake_slack, digest, WEEK, FIRE)  # the post being replaced
    forced = FIRE + timedelta(hours=1)
    assert digest.store.claim_week(CHANNEL, WEEK, forced) is not None  # then died
    fake_slack.now = (forced + timedelta(minutes=20)).timestamp()
    outcome = digest.tick(forced + timedelta(minutes=20))
    assert outcome.action == "posted"
    (history,) = fake_slack.calls_to("conversations.history")
    assert float(history.params["oldest"]) == pytest.approx(forced.timestamp())
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


def test_a_claim_is_stale_only_strictly_after_fifteen_minutes(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    assert digest.store.claim_week(CHANNEL, WEEK, FIRE) is not None
    assert digest.tick(FIRE + STALE_CLAIM).action == "busy"  # may still be posting
    assert fake_slack.calls_to("conversations.history") == []
    assert digest.tick(FIRE + STALE_CLAIM + TICK).action == "posted"


# ---------------------------------------------------------------- schedule and retries


def test_the_week_is_due_at_its_time_and_not_a_moment_before(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    assert digest.tick(FIRE - TICK).action == "not-due"
    assert digest.tick(FIRE).action == "posted"


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [(FIRE - TICK, "posted"), (FIRE, "posted"), (FIRE + TICK, "not-due")],
)
def test_a_channel_chosen_after_this_weeks_time_waits_for_next_week(
    make_digest: MakeDigest, fake_slack: FakeSlack, chosen: datetime, expected: str
) -> None:
    digest = make_digest()
    digest.active_since = chosen
    assert digest.tick(FIRE + timedelta(hours=1)).action == expected


def test_a_failed_post_is_retried_at_its_retry_time_and_not_before(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    fake_slack.fail("chat.postMessage", error="not_in_channel")
    failed = digest.tick(FIRE)
    assert failed.action == "failed" and failed.run is not None
    retry_at = failed.run.next_attempt_at
    assert retry_at == FIRE + RETRY_BASE
    assert digest.tick(retry_at - TICK).action == "waiting-retry"
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert digest.tick(retry_at).action == "posted"


def test_retry_delays_double_from_five_minutes_up_to_six_hours(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    fake_slack.fail("chat.postMessage", error="not_in_channel", times=9)
    now, delays = FIRE, []
    for _ in range(9):
        outcome = digest.tick(now)
        assert outcome.action == "failed" and outcome.run is not None
        assert outcome.run.next_attempt_at is not None
        delays.append(outcome.run.next_attempt_at - now)
        now = outcome.run.next_attempt_at
    minutes = [int(d.total_seconds() // 60) for d in delays]
    assert minutes == [5, 10, 20, 40, 80, 160, 320, 360, 360]
    assert delays[-1] == RETRY_MAX
    final = digest.tick(now)
    assert final.action == "posted" and final.run is not None and final.run.attempts == 10


def test_a_retry_posts_the_item_the_first_attempt_chose(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    fake_slack.fail("chat.postMessage", error="not_in_channel")
    failed = digest.tick(FIRE)
    assert failed.run is not None and failed.run.item_id
    (first,) = fake_slack.calls_to("chat.postMessage")
    retried = digest.tick(FIRE + RETRY_BASE)
    assert retried.run is not None and retried.run.item_id == failed.run.item_id
    second = fake_slack.calls_to("chat.postMessage")[1]
    assert second.params["text"] == first.params["text"]
    (drawn,) = [e for e in digest.store.bag(CHANNEL) if e.drawn_week]
    assert (drawn.item_id, drawn.drawn_week) == (failed.run.item_id, WEEK)


# ---------------------------------------------------------------- weeks in the admin's zone


def test_the_week_is_the_channels_local_week(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    """Monday 09:00 in Auckland is Sunday 20:00 UTC: the post belongs to Monday's ISO week,
    and is due then, not a day later."""
    digest = make_digest(timezone="Pacific/Auckland")
    fire = datetime(2026, 1, 4, 20, 0, tzinfo=UTC)  # Mon 5 Jan 09:00 NZDT
    assert digest.due_time(fire) == fire
    assert digest.tick(fire - TICK).action == "not-due"
    outcome = digest.tick(fire)
    assert (outcome.action, outcome.week) == ("posted", "2026-W02")


def test_a_midnight_schedule_is_due_all_week_from_its_first_instant(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    """The week's scheduled time is found from the very start of its Monday, whatever the
    minute, second and microsecond of the tick that asks."""
    midnight = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
    first = make_digest(cron="0 0 * * mon")
    assert first.due_time(midnight) == midnight
    assert first.due_time(midnight + timedelta(minutes=31, seconds=7, microseconds=5)) == midnight
    assert first.due_time(midnight + timedelta(days=6, hours=23)) == midnight
    assert first.tick(midnight).action == "posted"


def test_every_tick_outcome_names_its_week_and_the_run_it_saw(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    assert digest.tick(FIRE - TICK) == TickOutcome("not-due", WEEK)
    claimed = digest.store.claim_week(CHANNEL, WEEK, FIRE)
    busy = digest.tick(FIRE + timedelta(minutes=1))
    assert busy == TickOutcome("busy", WEEK, claimed)
    fake_slack.now = (FIRE + timedelta(minutes=2)).timestamp()
    ts = post_as_the_digest(fake_slack, digest, WEEK, FIRE + timedelta(minutes=2))
    adopted = digest.tick(FIRE + timedelta(minutes=20))
    assert (adopted.action, adopted.week) == ("done", WEEK)
    assert adopted.run is not None and adopted.run.message_ts == ts
    again = digest.tick(FIRE + timedelta(minutes=21))
    assert again == TickOutcome("done", WEEK, digest.store.get_run(CHANNEL, WEEK))


def test_waiting_for_a_retry_names_the_failed_run(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    fake_slack.fail("chat.postMessage", error="not_in_channel")
    failed = digest.tick(FIRE)
    waiting = digest.tick(FIRE + timedelta(minutes=1))
    assert waiting == TickOutcome("waiting-retry", WEEK, failed.run)


def test_post_now_on_a_live_claim_says_to_use_force(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    claimed = digest.store.claim_week(CHANNEL, WEEK, FIRE)
    outcome = digest.post_now(WEEK, FIRE + timedelta(minutes=1), force=False)
    assert outcome == TickOutcome("done", WEEK, claimed, "already claimed (use --force)")
    assert fake_slack.calls_to("chat.postMessage") == []


# ---------------------------------------------------------------- what is posted


def posts_counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("hubs_digest_posts_total", {"outcome": outcome}) or 0.0


def test_the_post_is_this_items_message_tagged_with_its_week(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    before = posts_counted("posted")
    outcome = digest.tick(FIRE)
    assert outcome.action == "posted" and outcome.run is not None
    item = next(i for i in digest_pool(digest._corpus()) if i.id == outcome.run.item_id)
    assert item.item is not None  # an item of a section, not the section
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert post.params["channel"] == CHANNEL
    assert post.params["metadata"] == {
        "event_type": "hubs_digest",
        "event_payload": {"week": WEEK, "item": item.id},
    }
    text, blocks = render_digest_message(item.section, item.item, WEEK, digest._corpus())
    assert post.params["text"] == text and post.params["blocks"] == blocks
    assert f"week {WEEK}" in json.dumps(blocks)
    assert posts_counted("posted") == before + 1


def test_a_failed_post_is_counted_and_names_its_week(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    before = posts_counted("failed")
    fake_slack.fail("chat.postMessage", error="not_in_channel")
    outcome = digest.tick(FIRE)
    assert (outcome.action, outcome.week, outcome.detail) == ("failed", WEEK, "not_in_channel")
    assert outcome.run == digest.store.get_run(CHANNEL, WEEK)
    assert posts_counted("failed") == before + 1


def test_an_empty_pool_is_recorded_and_retried_in_six_hours(
    make_digest: MakeDigest, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    empty = tmp_path / "no-digest-sections"
    empty.mkdir()
    (empty / "p.md").write_text("---\ntitle: P\n---\n\n## Key things to know\n\n- Only this.\n")
    digest = make_digest(corpus=lambda: load_corpus([empty]))
    outcome = digest.tick(FIRE)
    run = digest.store.get_run(CHANNEL, WEEK)
    assert run is not None and outcome == TickOutcome("empty-pool", WEEK, outcome.run)
    assert outcome.run is not None and outcome.run.id == run.id
    assert (run.status, run.error, run.next_attempt_at) == (
        "failed",
        "empty pool",
        FIRE + RETRY_MAX,
    )
    assert fake_slack.calls_to("chat.postMessage") == []


def test_a_retry_whose_item_left_the_corpus_posts_another(
    make_digest: MakeDigest, fake_slack: FakeSlack, corpus_dir: Path
) -> None:
    digest = make_digest()
    fake_slack.fail("chat.postMessage", error="not_in_channel")
    failed = digest.tick(FIRE)
    assert failed.run is not None and failed.run.item_id
    gone = failed.run.item_id.split("#")[0]
    (corpus_dir / f"{gone}.md").unlink()  # its playbook was deleted before the retry
    retried = digest.tick(FIRE + RETRY_BASE)
    assert retried.action == "posted" and retried.run is not None
    assert retried.run.item_id and not retried.run.item_id.startswith(f"{gone}#")


def test_a_lost_race_to_retake_reports_busy(
    make_digest: MakeDigest, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = make_digest()
    fake_slack.fail("chat.postMessage", error="not_in_channel")
    failed = digest.tick(FIRE)
    monkeypatch.setattr(digest.store, "retake_failed", lambda _run, _now: None)  # another won
    outcome = digest.tick(FIRE + RETRY_BASE)
    assert outcome == TickOutcome("busy", WEEK, failed.run)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


# ---------------------------------------------------------------- the bag


def test_a_pool_of_one_is_posted_every_week(
    make_digest: MakeDigest, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    single = tmp_path / "single"
    single.mkdir()
    (single / "p.md").write_text("---\ntitle: P\n---\n\n## Potential pitfalls\n\n- The one.\n")
    digest = make_digest(corpus=lambda: load_corpus([single]))
    for week in range(3):
        assert digest.tick(FIRE + timedelta(days=7 * week)).action == "posted"


def test_the_first_sync_fills_cycle_one_with_the_whole_pool(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    first = digest.peek()
    assert first is not None and digest.store.bag(CHANNEL) == []  # a preview writes nothing
    outcome = digest.tick(FIRE)
    assert outcome.run is not None and outcome.run.item_id == first.id  # what was previewed
    bag = digest.store.bag(CHANNEL)
    assert bag[0].item_id == first.id and bag[0].drawn_week == WEEK
    assert {e.cycle for e in bag} == {1}
    assert sorted(e.item_id for e in bag) == sorted(i.id for i in digest_pool(digest._corpus()))


@pytest.mark.parametrize("seed", range(12))
def test_a_new_cycle_never_starts_with_the_item_that_ended_the_last(
    make_digest: MakeDigest, fake_slack: FakeSlack, tmp_path: Path, seed: int
) -> None:
    two = tmp_path / "two"
    two.mkdir()
    (two / "p.md").write_text("---\ntitle: P\n---\n\n## Potential pitfalls\n\n- One.\n- Two.\n")
    digest = make_digest(corpus=lambda: load_corpus([two]), seed=seed)
    items = []
    for week in range(6):
        outcome = digest.tick(FIRE + timedelta(days=7 * week))
        assert outcome.run is not None
        items.append(outcome.run.item_id)
    assert all(a != b for a, b in itertools.pairwise(items)), items  # never twice running


@pytest.mark.parametrize("seed", range(8))
def test_a_new_item_joins_the_undrawn_part_of_the_cycle(
    make_digest: MakeDigest, fake_slack: FakeSlack, corpus_dir: Path, seed: int
) -> None:
    digest = make_digest(seed=seed)
    for week in range(12):
        digest.tick(FIRE + timedelta(days=7 * week))
    (corpus_dir / "new.md").write_text(
        "---\ntitle: New\n---\n\n## Potential pitfalls\n\n- Brand new.\n"
    )
    bag = digest.store.bag(CHANNEL)
    plan = digest._plan({i.id: i for i in digest_pool(digest._corpus())})
    ((_, position),) = [(item, p) for item, p in plan.add if item.startswith("new#")]
    top = max(e.position for e in bag)
    first_undrawn = min([e.position for e in bag if e.drawn_week is None] or [top])
    assert first_undrawn <= position <= top + 1


def test_a_post_buried_under_pages_of_chatter_is_still_found(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    """The claimer posted, died before recording it, and the channel then got busy: the
    check reads every page since the claim (it used to read one, and post again)."""
    digest = make_digest()
    assert digest.store.claim_week(CHANNEL, WEEK, FIRE) is not None
    ours = post_as_the_digest(fake_slack, digest, WEEK, FIRE + timedelta(seconds=30))
    for minute in range(450):  # newer than our post: newest first, it lands on page three
        fake_slack.now = (FIRE + timedelta(minutes=1, seconds=minute)).timestamp()
        digest.client.chat_postMessage(channel=CHANNEL, text=f"chatter {minute}")
    outcome = digest.tick(FIRE + STALE_CLAIM + timedelta(minutes=30))
    assert outcome.action == "done"
    assert len(fake_slack.calls_to("conversations.history")) == 3
    posts = [c.params["text"] for c in fake_slack.calls_to("chat.postMessage")]
    assert posts.count("Weekly hub digest") == 1 and len(posts) == 451  # nothing posted again
    run = digest.store.get_run(CHANNEL, WEEK)
    assert run is not None and run.status == "posted" and run.message_ts == ours


def test_history_too_long_to_read_counts_as_posted(
    make_digest: MakeDigest, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.digest.pool.HISTORY_PAGES", 2)
    digest = make_digest()
    assert digest.store.claim_week(CHANNEL, WEEK, FIRE) is not None
    for minute in range(450):  # three pages of chatter and no digest post among them
        fake_slack.now = (FIRE + timedelta(minutes=1, seconds=minute)).timestamp()
        digest.client.chat_postMessage(channel=CHANNEL, text=f"chatter {minute}")
    outcome = digest.tick(FIRE + STALE_CLAIM + timedelta(minutes=30))
    assert outcome.action == "done"
    assert len(fake_slack.calls_to("conversations.history")) == 2  # gave up, not reposted
    assert len(fake_slack.calls_to("chat.postMessage")) == 450
