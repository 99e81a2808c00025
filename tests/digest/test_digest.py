"""The weekly digest: exactly once a week, no repeats within a cycle, failures retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from bot.corpus import Corpus, load_corpus
from bot.digest.pool import Digest, digest_pool, iso_week, parse_cron
from bot.store.schema import digest_bag
from tests.concurrency import race
from tests.databases import PostgresCluster
from tests.digest.conftest import CHANNEL, MakeDigest, write_corpus
from tests.fake_slack import FakeSlack

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday, before 09:00


def fire_times(cron: str, timezone: str, start: datetime, weeks: int) -> list[datetime]:
    """The real APScheduler trigger's next fire times, as the clock would see them."""
    trigger = parse_cron(cron, timezone)
    times, previous, now = [], None, start
    for _ in range(weeks):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        times.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)
    return times


def test_pool_items_have_stable_ids(corpus_dir: Path, seed_corpus: Corpus) -> None:
    pool = digest_pool(load_corpus([corpus_dir]))
    assert len(pool) == 20
    assert pool[0].id == "playbook-0#case-study/city-0a"
    assert pool[2].id.startswith("playbook-0#potential-pitfalls/pitfall-00-with-a")
    seed_pool = digest_pool(seed_corpus)
    assert [p.id for p in seed_pool] == [  # plain paragraphs: one item each
        "regional-innovation-hubs#case-study/regional-innovation-hubs-are-a-key-component-of",
        "regional-innovation-hubs#case-study/each-zone-focuses-on-ai-applications-tailored-to",
        "regional-innovation-hubs#case-study/provincial-and-city-governments-generally-have-high-autonomy",
        "regional-innovation-hubs#case-study/for-example-after-hangzhou-was-directed-to-set",
        "regional-innovation-hubs#case-study/it-is-currently-difficult-to-evaluate-whether-chinas",
        "regional-innovation-hubs#potential-pitfalls/efforts-to-create-a-silicon-x-across-the",
    ]


def test_52_weeks_post_52_times_without_repeats(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    weeks = []
    for fire in fire_times("0 9 * * mon", "UTC", START, 52):
        assert digest.tick(fire - timedelta(minutes=1)).action == "not-due"
        assert digest.tick(fire).action == "posted"
        assert digest.tick(fire + timedelta(hours=1)).action == "done"  # the retry job's tick
        weeks.append(iso_week(fire))
    posts = fake_slack.calls_to("chat.postMessage")
    assert len(posts) == 52 and len(set(weeks)) == 52
    runs = digest.store.history(CHANNEL, limit=100)
    items = [r.item_id for r in sorted(runs, key=lambda r: r.week)]
    assert len(set(items[:20])) == 20 and len(set(items[20:40])) == 20  # two full cycles
    assert len(set(items[40:])) == 12
    assert (
        items[19] != items[20] and items[39] != items[40]
    )  # a new cycle never starts with the last
    assert all(r.status == "posted" and r.message_ts for r in runs)


def test_restart_midway_neither_repeats_nor_skips(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    fires = fire_times("0 9 * * mon", "UTC", START, 30)
    digest = make_digest()
    for fire in fires[:13]:
        digest.tick(fire)
    digest.store.close()
    restarted = make_digest(seed=99)  # a new process: new objects, new RNG, same database
    assert restarted.tick(fires[12] + timedelta(hours=2)).action == "done"
    for fire in fires[13:]:
        assert restarted.tick(fire).action == "posted"
    items = [r.item_id for r in sorted(restarted.store.history(CHANNEL), key=lambda r: r.week)]
    assert len(items) == 30 and len(set(items[:20])) == 20


def test_two_clocks_at_once_post_once(make_digest: MakeDigest, fake_slack: FakeSlack) -> None:
    clocks = [make_digest(seed=i) for i in range(4)]
    fire = fire_times("0 9 * * mon", "UTC", START, 1)[0]
    outcomes = race(len(clocks), lambda i: clocks[i].tick(fire).action)
    assert outcomes.count("posted") == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


@pytest.mark.postgres
def test_two_clocks_on_postgresql_post_once(
    make_digest: MakeDigest, fake_slack: FakeSlack, postgres_cluster: PostgresCluster
) -> None:
    url = postgres_cluster.create_database()
    clocks = [make_digest(seed=i, database_url=url) for i in range(3)]
    fire = fire_times("0 9 * * mon", "UTC", START, 1)[0]
    outcomes = race(len(clocks), lambda i: clocks[i].tick(fire).action)
    assert outcomes.count("posted") == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_rate_limit_is_retried_after_retry_after(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("chat.postMessage", status=429, retry_after=1)
    fire = fire_times("0 9 * * mon", "UTC", START, 1)[0]
    assert make_digest().tick(fire).action == "posted"
    assert len(fake_slack.calls_to("chat.postMessage")) == 2  # slack_sdk honoured Retry-After


def test_server_errors_are_retried_then_recorded(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("chat.postMessage", status=500, times=2)  # outlasts the client's 1 retry
    digest = make_digest()
    fire = fire_times("0 9 * * mon", "UTC", START, 1)[0]
    outcome = digest.tick(fire)
    assert outcome.action == "failed" and outcome.run is not None
    assert outcome.run.status == "failed" and outcome.run.error == "internal_error"
    assert digest.tick(fire + timedelta(minutes=10)).action == "posted"
    assert len(fake_slack.calls_to("chat.postMessage")) == 3


def test_not_in_channel_is_reported_and_the_week_not_lost(
    make_digest: MakeDigest, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.fail("chat.postMessage", error="not_in_channel", times=2)
    digest = make_digest()
    fire = fire_times("0 9 * * mon", "UTC", START, 1)[0]
    first = digest.tick(fire)
    assert first.action == "failed" and first.detail == "not_in_channel"
    (record,) = [r for r in caplog.records if r.message == "digest post failed; will retry"]
    assert record.levelname == "ERROR" and record.error == "not_in_channel"  # type: ignore[attr-defined]
    item = first.run.item_id if first.run else None
    assert digest.tick(fire + timedelta(minutes=1)).action == "waiting-retry"  # backoff: 5 min
    second = digest.tick(fire + timedelta(minutes=6))
    assert second.action == "failed" and second.run is not None and second.run.attempts == 2
    assert digest.tick(fire + timedelta(minutes=12)).action == "waiting-retry"  # backoff: 10 min
    third = digest.tick(fire + timedelta(minutes=17))
    assert third.action == "posted"
    assert third.run is not None and third.run.item_id == item  # the same item, not a new draw
    assert len(fake_slack.calls_to("chat.postMessage")) == 3


def test_invalid_blocks_fall_back_to_text(make_digest: MakeDigest, fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.postMessage", error="invalid_blocks")
    fire = fire_times("0 9 * * mon", "UTC", START, 1)[0]
    assert make_digest().tick(fire).action == "posted"
    first, second = fake_slack.calls_to("chat.postMessage")
    assert "blocks" in first.params and "blocks" not in second.params
    assert second.params["text"].startswith("Weekly playbook digest: ")


def test_missed_week_is_posted_once_at_startup_without_backlog(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    # The clock was down from before week 1's Monday until Wednesday of week 3.
    wednesday = START + timedelta(days=16, hours=5)
    outcome = digest.tick(wednesday)  # what `hubs-bot clock` does at start
    assert outcome.action == "posted" and outcome.week == "2026-W04"
    assert digest.tick(wednesday + timedelta(minutes=10)).action == "done"
    assert [r.week for r in digest.store.history(CHANNEL)] == ["2026-W04"]  # no backlog


def test_stale_claim_is_checked_against_slack_before_reposting(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    fire = fire_times("0 9 * * mon", "UTC", START, 1)[0]
    # A clock claimed the week and died before posting.
    assert digest.store.claim_week(CHANNEL, iso_week(fire), fire) is not None
    assert digest.tick(fire + timedelta(minutes=5)).action == "busy"  # may still be posting
    assert digest.tick(fire + timedelta(minutes=20)).action == "posted"
    # Another died *after* Slack accepted its post: found by metadata, not posted again.
    next_fire = fire + timedelta(days=7)
    run = digest.store.claim_week(CHANNEL, iso_week(next_fire), next_fire)
    assert run is not None
    fake_slack.now = (next_fire + timedelta(seconds=2)).timestamp()  # it landed after the claim
    digest.client.chat_postMessage(
        channel=CHANNEL,
        text="x",
        metadata={"event_type": "hubs_digest", "event_payload": {"week": iso_week(next_fire)}},
    )
    assert digest.tick(next_fire + timedelta(minutes=20)).action == "done"
    recorded = digest.store.get_run(CHANNEL, iso_week(next_fire))
    assert recorded is not None and recorded.status == "posted" and recorded.message_ts
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


@pytest.mark.parametrize(
    ("monday", "expected_utc"),
    [
        (datetime(2026, 3, 30, tzinfo=UTC), datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),  # CEST
        (datetime(2026, 10, 26, tzinfo=UTC), datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),  # CET
    ],
)
def test_dst_week_posts_once_at_nine_local(
    make_digest: MakeDigest, fake_slack: FakeSlack, monday: datetime, expected_utc: datetime
) -> None:
    digest = make_digest(timezone="Europe/Berlin")
    assert digest.due_time(monday + timedelta(hours=12)) == expected_utc
    outcomes = [
        digest.tick(expected_utc + timedelta(minutes=m)).action for m in (-61, -1, 0, 60, 61)
    ]
    assert outcomes == ["not-due", "not-due", "posted", "done", "done"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_default_clock_is_the_real_now(make_digest: MakeDigest, fake_slack: FakeSlack) -> None:
    digest = make_digest()
    with time_machine.travel(datetime(2026, 11, 23, 9, 0, 5, tzinfo=UTC), tick=False):
        assert digest.tick().action == "posted"
        assert digest.tick().week == "2026-W48"


def test_new_items_join_the_cycle_and_removed_ones_leave(
    make_digest: MakeDigest, fake_slack: FakeSlack, corpus_dir: Path
) -> None:
    digest = make_digest()
    fires = fire_times("0 9 * * mon", "UTC", START, 25)
    for fire in fires[:5]:
        digest.tick(fire)
    (corpus_dir / "playbook-3.md").unlink()  # 5 items leave
    write_corpus(corpus_dir.parent / "extra", playbooks=0)
    (corpus_dir / "new.md").write_text(
        "---\ntitle: New\n---\n\n## Potential pitfalls\n\n- Brand new pitfall.\n"
    )
    for fire in fires[5:]:
        digest.tick(fire)
    items = [r.item_id for r in sorted(digest.store.history(CHANNEL), key=lambda r: r.week)]
    first_cycle = items[:16]  # 20 - 5 removed + 1 new
    assert "new#potential-pitfalls/brand-new-pitfall" in first_cycle
    assert not any(i.startswith("playbook-3#") for i in items[5:])
    assert len(set(first_cycle)) == 16


def _bag_rows(digest: Digest) -> list[tuple]:
    with digest.store.engine.connect() as conn:
        return sorted(map(tuple, conn.execute(digest_bag.select())), key=repr)


def test_peek_writes_nothing_and_the_post_uses_its_item(
    make_digest: MakeDigest, fake_slack: FakeSlack
) -> None:
    digest = make_digest()
    fires = fire_times("0 9 * * mon", "UTC", START, 21)
    for fire in fires:  # a new channel, mid-cycle, and the first week of a new cycle
        before = _bag_rows(digest)
        first = digest.peek()
        assert first is not None and digest.peek() == first
        assert _bag_rows(digest) == before
        assert make_digest(seed=7).peek() == first  # another process agrees
        assert digest.tick(fire).action == "posted"
        assert digest.store.get_run(CHANNEL, iso_week(fire)).item_id == first.id  # type: ignore[union-attr]
        assert digest.peek() != first


def test_a_bag_of_whole_sections_is_migrated_to_items(
    make_digest: MakeDigest, fake_slack: FakeSlack, tmp_path: Path, seed_corpus: Corpus
) -> None:
    """Bags from before the pool was per item hold ``playbook#case-study`` (a section of
    plain paragraphs): posted this cycle, its items count as drawn; not yet, they join."""
    digest = make_digest(corpus=lambda: seed_corpus)
    case_study = "regional-innovation-hubs#case-study"
    pitfall = "regional-innovation-hubs#potential-pitfalls/efforts-to-create-a-silicon-x-across-the"
    digest.store.start_cycle(CHANNEL, [case_study, pitfall])
    digest.store.mark_drawn(CHANNEL, case_study, "2025-W50")
    fires = fire_times("0 9 * * mon", "UTC", START, 7)
    assert digest.tick(fires[0]).action == "posted"
    assert digest.store.get_run(CHANNEL, iso_week(fires[0])).item_id == pitfall  # type: ignore[union-attr]
    # the case study was posted whole in 2025-W50: its five items are this cycle's history
    bag = digest.store.bag(CHANNEL)
    assert (
        sum(e.item_id.startswith(case_study + "/") and e.drawn_week == "2025-W50" for e in bag) == 5
    )
    for fire in fires[1:]:  # then a fresh cycle of all six items
        assert digest.tick(fire).action == "posted"
    items = [r.item_id for r in digest.store.history(CHANNEL) if r.week != iso_week(fires[0])]
    assert len(set(items)) == 6 and all("/" in i for i in items)

    undrawn = make_digest(corpus=lambda: seed_corpus, database_url=f"sqlite:///{tmp_path / 'b.db'}")
    undrawn.store.start_cycle(CHANNEL, [pitfall, case_study])
    for fire in fires[:6]:
        assert undrawn.tick(fire).action == "posted"
    items = [r.item_id for r in undrawn.store.history(CHANNEL)]
    assert len(set(items)) == 6 and case_study not in items  # its items replaced it


def test_numeric_weekdays_are_refused() -> None:
    with pytest.raises(ValueError, match="use names"):
        parse_cron("0 9 * * 1", "UTC")
