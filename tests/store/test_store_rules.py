"""The store's claim, run and bag rules stated one at a time, on SQLite and PostgreSQL: each
test names the promise the digest and the event listeners build on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bot.store import Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store.connect(database_url)
    yield store
    store.close()


# ---------------------------------------------------------------- runs


def test_a_claim_starts_a_run_at_its_first_attempt(store: Store) -> None:
    run = store.claim_week("C1", "2026-W48", NOW)
    assert run is not None
    assert (run.channel, run.week, run.status, run.attempts) == ("C1", "2026-W48", "claimed", 1)
    assert (run.claimed_at, run.updated_at, run.next_attempt_at) == (NOW, NOW, None)
    assert (run.item_id, run.message_ts, run.error) == (None, None, None)
    assert store.claim_week("C1", "2026-W48", NOW) is None  # the key is taken
    assert store.claim_week("C1", "2026-W49", NOW) is not None  # another week is not


def test_a_failure_keeps_its_error_and_retry_time_until_retaken(store: Store) -> None:
    run = store.claim_week("C1", "2026-W48", NOW)
    assert run is not None
    store.mark_failed(run.id, "not_in_channel", NOW + timedelta(minutes=5), NOW + timedelta(1))
    failed = store.get_run("C1", "2026-W48")
    assert failed is not None
    assert (failed.status, failed.error, failed.attempts) == ("failed", "not_in_channel", 1)
    assert failed.next_attempt_at == NOW + timedelta(minutes=5)
    assert failed.updated_at == NOW + timedelta(1)
    later = NOW + timedelta(minutes=6)
    retaken = store.retake_failed(failed, later)
    assert retaken is not None
    assert (retaken.status, retaken.attempts) == ("claimed", 2)
    assert (retaken.claimed_at, retaken.updated_at, retaken.next_attempt_at) == (later, later, None)


def test_a_run_is_retaken_only_as_it_was_seen(store: Store) -> None:
    """Compare-and-set on status and attempts: a caller holding an old view loses."""
    run = store.claim_week("C1", "2026-W48", NOW)
    assert run is not None
    store.mark_failed(run.id, "x", NOW, NOW)
    seen = store.get_run("C1", "2026-W48")
    assert seen is not None
    assert store.retake_failed(run, NOW) is None  # the view says "claimed": it is "failed"
    assert store.retake_failed(seen, NOW) is not None
    assert store.retake_failed(seen, NOW) is None  # attempts moved on: already retaken


def test_posting_records_the_message_and_clears_the_error(store: Store) -> None:
    run = store.claim_week("C1", "2026-W48", NOW)
    assert run is not None
    store.mark_failed(run.id, "ratelimited", NOW, NOW)
    store.set_run_item(run.id, "p#case-study")
    store.mark_posted(run.id, "1.2", NOW + timedelta(hours=1))
    posted = store.get_run("C1", "2026-W48")
    assert posted is not None
    assert (posted.status, posted.message_ts, posted.error) == ("posted", "1.2", None)
    assert posted.item_id == "p#case-study" and posted.updated_at == NOW + timedelta(hours=1)


def test_posted_runs_lists_only_posted_ones_of_those_weeks(store: Store) -> None:
    for channel, week, post in [
        ("C1", "2026-W47", True),
        ("C1", "2026-W48", True),
        ("C2", "2026-W48", False),
        ("C3", "2026-W49", True),
    ]:
        run = store.claim_week(channel, week, NOW)
        assert run is not None
        if post:
            store.mark_posted(run.id, "1.1", NOW)
    assert store.posted_runs(["2026-W48", "2026-W49", "2026-W48"]) == {
        ("C1", "2026-W48"),
        ("C3", "2026-W49"),
    }
    assert store.posted_runs([]) == set()


def test_history_is_newest_week_first_per_channel_and_bounded(store: Store) -> None:
    for week in ("2026-W46", "2026-W48", "2026-W47"):
        for channel in ("C2", "C1"):
            assert store.claim_week(channel, week, NOW) is not None
    assert [(r.week, r.channel) for r in store.history(limit=3)] == [
        ("2026-W48", "C1"),
        ("2026-W48", "C2"),
        ("2026-W47", "C1"),
    ]
    assert [r.week for r in store.history("C2")] == ["2026-W48", "2026-W47", "2026-W46"]
    assert len(store.history()) == 6


def test_forcing_forgets_only_that_channels_week(store: Store) -> None:
    for channel, week in [("C1", "2026-W48"), ("C1", "2026-W47"), ("C2", "2026-W48")]:
        assert store.claim_week(channel, week, NOW) is not None
    store.delete_run("C1", "2026-W48")
    assert [(r.channel, r.week) for r in store.history()] == [
        ("C2", "2026-W48"),
        ("C1", "2026-W47"),
    ]


# ---------------------------------------------------------------- bag


def test_each_new_cycle_numbers_on_and_an_empty_one_holds_nothing(store: Store) -> None:
    assert store.start_cycle("C1", []) == 1
    assert store.bag("C1") == []
    assert store.start_cycle("C1", ["a", "b"]) == 1  # an empty cycle left no row behind
    assert store.start_cycle("C1", ["b"]) == 2
    assert store.start_cycle("C2", ["z"]) == 1  # cycles are per channel
    (entry,) = store.bag("C1")
    assert (entry.item_id, entry.cycle, entry.position, entry.drawn_week) == ("b", 2, 0, None)


def test_the_bag_is_in_position_order_ties_by_id(store: Store) -> None:
    store.start_cycle("C1", ["c", "a"])
    store.add_to_cycle("C1", 1, [("b", 0), ("d", 1), ("a", 5)])  # a is already in: kept as is
    assert [(e.item_id, e.position) for e in store.bag("C1")] == [
        ("b", 0),
        ("c", 0),
        ("a", 1),
        ("d", 1),
    ]
    store.add_to_cycle("C1", 1, [])


def test_drawing_and_removing_touch_only_the_current_cycle(store: Store) -> None:
    store.start_cycle("C1", ["a", "b"])
    store.mark_drawn("C1", "a", "2026-W47")
    store.start_cycle("C1", ["a", "b", "c"])
    store.mark_drawn("C1", "b", "2026-W48")
    store.remove_from_cycle("C1", 1, ["a", "b", "c"])  # an old cycle: not the bag any more
    store.remove_from_cycle("C1", 2, ["b", "c"])  # b was drawn: kept as history
    store.remove_from_cycle("C1", 2, [])
    assert [(e.item_id, e.cycle, e.drawn_week) for e in store.bag("C1")] == [
        ("a", 2, None),
        ("b", 2, "2026-W48"),
    ]
    store.mark_drawn("C2", "a", "2026-W48")  # another channel's bag is untouched
    assert store.bag("C1")[0].drawn_week is None


# ---------------------------------------------------------------- events


def test_event_ids_are_forgotten_after_two_days_not_before(store: Store) -> None:
    now = datetime.now(UTC)
    store.claim_event("three-days", now=now - timedelta(days=3))
    store.claim_event("almost-two", now=now - timedelta(days=2) + timedelta(minutes=5))
    store.claim_event("new")
    assert store.prune_events() == 1
    assert store.claim_event("three-days") is True  # forgotten: may be claimed again
    assert store.claim_event("almost-two") is False
    assert store.prune_events(older_than=timedelta(hours=1)) == 1  # only "almost-two" is old
    assert store.claim_event("new") is False


def test_retaking_one_run_leaves_every_other_alone(store: Store) -> None:
    runs = [store.claim_week(channel, "2026-W48", NOW) for channel in ("C1", "C2")]
    for run in runs:
        assert run is not None
        store.mark_failed(run.id, "x", NOW, NOW)
    c1 = store.get_run("C1", "2026-W48")
    assert c1 is not None and store.retake_failed(c1, NOW) is not None
    c2 = store.get_run("C2", "2026-W48")
    assert c2 is not None and (c2.status, c2.attempts) == ("failed", 1)


def test_a_view_from_an_earlier_failure_cannot_retake_a_later_one(store: Store) -> None:
    run = store.claim_week("C1", "2026-W48", NOW)
    assert run is not None
    store.mark_failed(run.id, "x", NOW, NOW)
    first_failure = store.get_run("C1", "2026-W48")
    assert first_failure is not None
    assert store.retake_failed(first_failure, NOW) is not None
    store.mark_failed(run.id, "y", NOW, NOW)  # failed again: same status, attempts 2
    assert store.retake_failed(first_failure, NOW) is None


def test_history_shows_a_year_by_default(store: Store) -> None:
    for n in range(53):
        assert store.claim_week("C1", f"2025-W{n + 1:02d}", NOW) is not None
    assert len(store.history()) == 52
    assert store.history()[-1].week == "2025-W02"  # the oldest week is the one left out


def test_bags_of_two_channels_are_independent(store: Store) -> None:
    store.start_cycle("C1", ["a", "b"])
    store.start_cycle("C2", ["a", "b"])
    store.mark_drawn("C1", "a", "2026-W48")
    store.remove_from_cycle("C1", 1, ["b"])
    assert [(e.item_id, e.drawn_week) for e in store.bag("C1")] == [("a", "2026-W48")]
    assert [(e.item_id, e.drawn_week) for e in store.bag("C2")] == [("a", None), ("b", None)]


def test_an_event_id_exactly_two_days_old_is_kept(store: Store) -> None:
    with time_machine.travel(NOW, tick=False):
        store.claim_event("exactly", now=NOW - timedelta(days=2))
        store.claim_event("older", now=NOW - timedelta(days=2, microseconds=1))
        assert store.prune_events() == 1
        assert store.claim_event("exactly") is False
