"""How the digest's bag follows the corpus between posts (``Digest._plan``): an item that
leaves the corpus leaves the cycle unless it was already posted; a new item joins the part
of the cycle still to come at a random place of its own; every cycle is a fresh shuffle; a
bag stored before the pool was per item (whole sections) gives way to the section's items
without posting anything twice and without swallowing unrelated new items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.corpus import load_corpus
from bot.digest.pool import Digest, digest_pool
from bot.store.schema import BagEntry
from tests.conftest import SEED_FILE
from tests.digest.conftest import CHANNEL, MakeDigest
from tests.fake_slack import FakeSlack

FIRE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday at the default cron's 09:00 UTC
CASE_STUDY = "regional-innovation-hubs#case-study"
PITFALL = "regional-innovation-hubs#potential-pitfalls/efforts-to-create-a-silicon-x-across-the"


def week(n: int) -> datetime:
    return FIRE + timedelta(days=7 * n)


def pitfalls(root: Path, names: list[str], name: str = "p.md") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    body = "".join(f"- Pitfall {n}.\n" for n in names)
    (root / name).write_text(f"---\ntitle: P\n---\n\n## Potential pitfalls\n\n{body}")
    return root


def seed_copy(tmp_path: Path) -> Path:
    """A corpus directory holding a copy of the seed playbook, for tests that add files."""
    root = tmp_path / "seed"
    root.mkdir()
    (root / SEED_FILE.name).write_bytes(SEED_FILE.read_bytes())
    return root


def pool_ids(digest: Digest) -> list[str]:
    return sorted(item.id for item in digest_pool(digest._corpus()))


def by_id(bag: list[BagEntry]) -> dict[str, BagEntry]:
    return {e.item_id: e for e in bag}


# ---------------------------------------------------------------- items that leave


def test_an_item_that_left_the_corpus_leaves_the_cycle_unless_it_was_posted(
    make_digest: MakeDigest, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    root = pitfalls(tmp_path / "c", ["a", "b", "c", "d", "e"])
    digest = make_digest(corpus=lambda: load_corpus([root]))
    a, b, c, d, e = pool_ids(digest)
    digest.store.start_cycle(CHANNEL, [a, b, c, d, e])
    digest.store.mark_drawn(CHANNEL, a, "2025-W50")
    pitfalls(root, ["b", "d", "e"])  # a (posted) and c (not yet) leave the corpus
    outcome = digest.tick(week(0))
    assert outcome.run is not None and outcome.run.item_id == b
    bag = by_id(digest.store.bag(CHANNEL))
    assert set(bag) == {a, b, d, e}  # c is gone; a stays as this cycle's history
    assert bag[a].drawn_week == "2025-W50" and bag[b].drawn_week == outcome.week
    posted = [digest.tick(week(n)).run.item_id for n in (1, 2)]  # type: ignore[union-attr]
    assert posted == [d, e]  # c never comes up


def test_a_cycle_whose_unposted_items_all_left_ends_and_a_new_one_starts(
    make_digest: MakeDigest, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    root = pitfalls(tmp_path / "c", ["a", "b", "c"])
    digest = make_digest(corpus=lambda: load_corpus([root]))
    a, b, c = pool_ids(digest)
    digest.store.start_cycle(CHANNEL, [a, b, c])
    digest.store.mark_drawn(CHANNEL, a, "2025-W50")
    digest.store.mark_drawn(CHANNEL, b, "2025-W51")
    pitfalls(root, ["a", "b"])  # c, the only one left to post, leaves
    outcome = digest.tick(week(0))
    assert outcome.run is not None and outcome.run.item_id == a  # not b, which ended cycle 1
    bag = digest.store.bag(CHANNEL)
    assert {e.cycle for e in bag} == {2} and sorted(e.item_id for e in bag) == [a, b]
    assert by_id(bag)[a].drawn_week == outcome.week and by_id(bag)[b].drawn_week is None


# ---------------------------------------------------------------- items that join


def test_a_new_item_may_land_anywhere_from_next_week_to_after_the_last(
    make_digest: MakeDigest, corpus_dir: Path
) -> None:
    """Positions 0..18 hold 19 items, 0..15 posted: a 20th item joins at 16, 17, 18 or 19
    (next, in between, or last), and over enough channels at every one of them."""
    digest = make_digest()
    *old, new = pool_ids(digest)
    digest.store.start_cycle(CHANNEL, old)
    for item in old[:16]:
        digest.store.mark_drawn(CHANNEL, item, "2025-W40")
    pool = {item.id: item for item in digest_pool(digest._corpus())}
    places = set()
    for salt in range(40):
        digest.salt = str(salt)
        ((item, place),) = digest._plan(pool).add
        assert item == new and 16 <= place <= 19, place
        places.add(place)
    assert places == {16, 17, 18, 19}


def test_new_items_are_placed_each_on_its_own_not_bunched_together(
    make_digest: MakeDigest, corpus_dir: Path
) -> None:
    digest = make_digest()
    old = pool_ids(digest)
    digest.store.start_cycle(CHANNEL, old)
    pitfalls(corpus_dir, ["v", "w", "x", "y", "z"], name="new.md")  # a new playbook of five
    pool = {item.id: item for item in digest_pool(digest._corpus())}
    add = digest._plan(pool).add
    assert sorted(item for item, _ in add) == sorted(set(pool) - set(old))
    assert len({place for _, place in add}) > 1, add  # not five in a row, in file order


def test_every_cycle_is_a_fresh_shuffle(
    make_digest: MakeDigest, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    root = pitfalls(tmp_path / "c", ["a", "b", "c", "d", "e"])
    digest = make_digest(corpus=lambda: load_corpus([root]))
    posted = [digest.tick(week(n)).run.item_id for n in range(15)]  # type: ignore[union-attr]
    cycles = [tuple(posted[i : i + 5]) for i in (0, 5, 10)]
    assert all(sorted(cycle) == pool_ids(digest) for cycle in cycles)  # each item once
    assert len(set(cycles)) == 3, cycles  # and in a new order every time


# ---------------------------------------------------------------- bags of whole sections


def test_a_section_not_yet_posted_gives_way_to_its_items_shuffled_in(
    make_digest: MakeDigest, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    root = seed_copy(tmp_path)
    digest = make_digest(corpus=lambda: load_corpus([root]))
    digest.store.start_cycle(CHANNEL, [PITFALL, CASE_STUDY])
    outcome = digest.tick(week(0))  # the pitfall, or a case-study item placed first
    bag = digest.store.bag(CHANNEL)
    items = [e for e in bag if e.item_id.startswith(CASE_STUDY + "/")]
    assert len(items) == 5  # none counts as posted but the one posted now
    assert [e.drawn_week for e in bag if e.drawn_week] == [outcome.week]
    assert CASE_STUDY not in by_id(bag)
    assert len({e.position for e in items}) > 1  # shuffled in, not posted in file order


def test_a_posted_sections_week_does_not_swallow_new_items_of_other_playbooks(
    make_digest: MakeDigest, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    root = seed_copy(tmp_path)
    pitfalls(root, ["fresh"], name="new.md")
    digest = make_digest(corpus=lambda: load_corpus([root]))
    (fresh,) = [i for i in pool_ids(digest) if i.startswith("new#")]
    digest.store.start_cycle(CHANNEL, [CASE_STUDY, PITFALL])
    digest.store.mark_drawn(CHANNEL, CASE_STUDY, "2025-W50")
    posted = {digest.tick(week(n)).run.item_id for n in (0, 1)}  # type: ignore[union-attr]
    assert posted == {PITFALL, fresh}  # the rest of cycle 1: the case study's items were seen


def test_a_bag_holding_only_a_posted_section_moves_on_to_a_new_cycle_of_its_items(
    make_digest: MakeDigest, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    root = tmp_path / "cs"
    root.mkdir()
    (root / "cs.md").write_text(
        "---\ntitle: CS\n---\n\n## Case study\n\nFirst story here.\n\nSecond story here.\n"
    )
    digest = make_digest(corpus=lambda: load_corpus([root]))
    items = pool_ids(digest)
    assert len(items) == 2 and all(i.startswith("cs#case-study/") for i in items)
    digest.store.start_cycle(CHANNEL, ["cs#case-study"])
    digest.store.mark_drawn(CHANNEL, "cs#case-study", "2025-W50")
    posted = [digest.tick(week(n)).run.item_id for n in (0, 1)]  # type: ignore[union-attr]
    assert sorted(posted) == items  # cycle 1 was over: cycle 2 holds both items
    assert {e.cycle for e in digest.store.bag(CHANNEL)} == {2}
