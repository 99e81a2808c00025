"""The store on real databases: SQLite files and PostgreSQL, one winner for every race."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.store import MIGRATIONS, Store, schema_version
from tests.concurrency import race

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_schema_is_created_once_and_versioned(database_url: str) -> None:
    first = Store.connect(database_url)
    second = Store.connect(database_url)  # a second start applies nothing again
    with second.engine.connect() as conn:
        assert conn.execute(select(schema_version.c.version)).scalar_one() == len(MIGRATIONS)
    first.close()
    second.close()


def test_an_event_is_claimed_once_across_processes(database_url: str) -> None:
    stores = [Store.connect(database_url) for _ in range(4)]  # separate engines = "workers"
    wins = race(8, lambda i: stores[i % 4].claim_event("Ev123"))
    assert wins.count(True) == 1
    assert stores[0].claim_event("Ev124") is True
    assert stores[1].claim_event("Ev124") is False


def test_old_events_are_pruned(database_url: str) -> None:
    store = Store.connect(database_url)
    store.claim_event("old", now=datetime.now(UTC) - timedelta(days=3))
    store.claim_event("new")
    assert store.prune_events() == 1
    assert store.claim_event("old") is True
    assert store.claim_event("new") is False


def test_a_week_has_one_claimer(database_url: str) -> None:
    stores = [Store.connect(database_url) for _ in range(4)]
    runs = race(8, lambda i: stores[i % 4].claim_week("C1", "2026-W48", NOW))
    winners = [r for r in runs if r is not None]
    assert len(winners) == 1
    assert stores[0].claim_week("C2", "2026-W48", NOW) is not None  # other channel, own key


def test_failed_run_is_retaken_by_one(database_url: str) -> None:
    stores = [Store.connect(database_url) for _ in range(3)]
    run = stores[0].claim_week("C1", "2026-W48", NOW)
    assert run is not None
    stores[0].mark_failed(run.id, "not_in_channel", NOW + timedelta(minutes=5), NOW)
    failed = stores[0].get_run("C1", "2026-W48")
    assert failed is not None and failed.status == "failed" and failed.error == "not_in_channel"
    retaken = race(6, lambda i: stores[i % 3].retake_failed(failed, NOW + timedelta(minutes=6)))
    winners = [r for r in retaken if r is not None]
    assert len(winners) == 1
    assert winners[0].status == "claimed" and winners[0].attempts == 2


def test_run_lifecycle_and_history(database_url: str) -> None:
    store = Store.connect(database_url)
    run = store.claim_week("C1", "2026-W47", NOW - timedelta(days=7))
    assert run is not None
    store.set_run_item(run.id, "hubs#case-study")
    store.mark_posted(run.id, "1700000000.000100", NOW)
    later = store.claim_week("C1", "2026-W48", NOW)
    assert later is not None
    history = store.history("C1")
    assert [(r.week, r.status) for r in history] == [
        ("2026-W48", "claimed"),
        ("2026-W47", "posted"),
    ]
    assert history[1].message_ts == "1700000000.000100"
    assert history[1].item_id == "hubs#case-study"
    assert history[1].claimed_at.tzinfo is not None
    store.delete_run("C1", "2026-W48")
    assert store.get_run("C1", "2026-W48") is None


def test_bag_cycles(database_url: str) -> None:
    store = Store.connect(database_url)
    assert store.bag("C1") == []
    assert store.start_cycle("C1", ["b", "a", "c"]) == 1
    assert [e.item_id for e in store.bag("C1")] == ["b", "a", "c"]
    store.mark_drawn("C1", "b", "2026-W48")
    store.add_to_cycle("C1", 1, [("d", 1)])
    store.remove_from_cycle("C1", 1, ["c", "b"])  # b was drawn: kept as history
    assert [(e.item_id, e.drawn_week) for e in store.bag("C1")] == [
        ("b", "2026-W48"),
        ("a", None),
        ("d", None),
    ]
    assert store.start_cycle("C1", ["a"]) == 2
    assert [e.cycle for e in store.bag("C1")] == [2]
    assert store.bag("C2") == []


def test_replicas_starting_together_migrate_once(database_url: str) -> None:
    stores = race(4, lambda _i: Store.connect(database_url))
    with stores[0].engine.connect() as conn:
        assert conn.execute(select(schema_version.c.version)).scalar_one() == len(MIGRATIONS)
