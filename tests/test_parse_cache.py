"""Parsed playbooks kept by their bytes, and the built index by what it is built from: a
reload or a restart parses only the files that changed, a restart with nothing changed
builds nothing, and nothing in either cache can serve content a file no longer has."""

from __future__ import annotations

import logging
import os
import pickle
import time
from pathlib import Path

import pytest
import time_machine

from bot.corpus import cache as cache_module
from bot.corpus import load as load_module
from bot.corpus import load_corpus
from bot.corpus import stat_memo as stat_memo_module
from bot.corpus.cache import PACK, REWRITE_RATIO, ParseCache
from bot.corpus.stat_memo import RACY_MARGIN_NS, signature
from bot.search.index_cache import IndexCache
from bot.search.live import LiveIndex
from tests.conftest import WritePlaybook


def playbook(title: str, pitfall: str) -> str:
    return f"---\ntitle: {title}\n---\n\n## Potential pitfalls\n\n- {pitfall}\n"


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files the parser actually read, in order."""
    seen: list[Path] = []
    real = load_module.parse_playbook

    def counting(path: Path, raw: bytes | None = None):  # type: ignore[no-untyped-def]
        seen.append(path)
        return real(path, raw)

    monkeypatch.setattr(load_module, "parse_playbook", counting)
    return seen


def three_playbooks(write_playbook: WritePlaybook) -> list[Path]:
    return [
        write_playbook(f"{name}.md", playbook(name.title(), f"{name} pitfall"))
        for name in ("hubs", "labs", "prizes")
    ]


def test_a_reload_after_one_edit_parses_that_file_only(
    write_playbook: WritePlaybook, parsed: list[Path]
) -> None:
    hubs, _labs, _prizes = three_playbooks(write_playbook)
    live = LiveIndex([write_playbook.root])  # type: ignore[attr-defined]
    assert len(parsed) == 3
    hubs.write_text(playbook("Hubs", "zeppelin overreach"))
    live.reload()
    assert parsed[3:] == [hubs]
    assert live.search("zeppelin").results[0].section.playbook_title == "Hubs"
    live.reload()  # nothing changed: nothing parsed
    assert len(parsed) == 4


def test_a_restart_reads_the_cache_on_disk_instead_of_parsing(
    write_playbook: WritePlaybook, parsed: list[Path], tmp_path: Path
) -> None:
    three_playbooks(write_playbook)
    first = load_corpus([write_playbook.root], cache=ParseCache(tmp_path / "cache"))  # type: ignore[attr-defined]
    assert len(parsed) == 3
    fresh = ParseCache(tmp_path / "cache")  # a new process: an empty memory
    again = load_corpus([write_playbook.root], cache=fresh)  # type: ignore[attr-defined]
    assert len(parsed) == 3 and (fresh.hits, fresh.misses) == (3, 0)
    assert again.playbooks == first.playbooks


def test_the_same_bytes_under_a_new_parser_are_parsed_again(
    write_playbook: WritePlaybook,
    parsed: list[Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    three_playbooks(write_playbook)
    load_corpus([write_playbook.root], cache=ParseCache(tmp_path / "cache"))  # type: ignore[attr-defined]
    monkeypatch.setattr(cache_module, "parser_fingerprint", lambda: "a-changed-parser")
    load_corpus([write_playbook.root], cache=ParseCache(tmp_path / "cache"))  # type: ignore[attr-defined]
    assert len(parsed) == 6


def test_a_corrupt_cache_is_parsed_again(
    write_playbook: WritePlaybook, parsed: list[Path], tmp_path: Path
) -> None:
    three_playbooks(write_playbook)
    load_corpus([write_playbook.root], cache=ParseCache(tmp_path / "cache"))  # type: ignore[attr-defined]
    pack = tmp_path / "cache" / PACK
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [PACK], "one file, no temporaries"
    entries = pickle.loads(pack.read_bytes())
    first, second, third = sorted(entries)
    entries[first] = None  # a valid pickle, not a parse result
    entries[second] = ("not a playbook", ())
    pack.write_bytes(pickle.dumps(entries))
    corpus = load_corpus([write_playbook.root], cache=ParseCache(tmp_path / "cache"))  # type: ignore[attr-defined]
    assert len(parsed) == 5 and len(corpus.playbooks) == 3 and not corpus.problems
    for garbage in (b"not a pickle", pickle.dumps(["a list"]), pickle.dumps(entries)[:50]):
        pack.write_bytes(garbage)
        parsed.clear()
        corpus = load_corpus([write_playbook.root], cache=ParseCache(tmp_path / "cache"))  # type: ignore[attr-defined]
        assert len(parsed) == 3 and len(corpus.playbooks) == 3 and not corpus.problems
    assert third in pickle.loads(pack.read_bytes()), "rewritten whole"


def test_the_pack_is_rewritten_only_when_enough_was_parsed(
    write_playbook: WritePlaybook, parsed: list[Path], tmp_path: Path
) -> None:
    """A reload after one edit among many keeps the pack as it is (rewriting 10,000 entries
    for one would cost more than parsing that one again at the next start)."""
    files = [
        write_playbook(f"p{n:02}.md", playbook(f"P{n}", f"pitfall {n}"))
        for n in range(REWRITE_RATIO + 1)
    ]
    root = write_playbook.root  # type: ignore[attr-defined]
    (tmp_path / "cache" / "ab").mkdir(parents=True)  # an entry of the old one-file-each layout
    live = LiveIndex([root], parse_cache=ParseCache(tmp_path / "cache"))
    pack = tmp_path / "cache" / PACK
    assert not (tmp_path / "cache" / "ab").exists(), "the old layout is removed"
    written = pack.stat().st_mtime_ns
    files[0].write_text(playbook("P0", "zeppelin"))
    live.reload()
    assert pack.stat().st_mtime_ns == written, "one in eleven parsed: not rewritten"
    parsed.clear()
    load_corpus([root], cache=ParseCache(tmp_path / "cache"))
    assert parsed == [files[0]], "the next start parses the edited file alone"
    files[1].write_text(playbook("P1", "airship"))
    parsed.clear()
    load_corpus([root], cache=ParseCache(tmp_path / "cache"))
    assert sorted(parsed) == files[:2]
    assert pack.stat().st_mtime_ns != written, "two in eleven: rewritten"
    parsed.clear()
    load_corpus([root], cache=ParseCache(tmp_path / "cache"))
    assert parsed == []


def test_an_unwritable_cache_costs_speed_not_answers(
    write_playbook: WritePlaybook, tmp_path: Path
) -> None:
    three_playbooks(write_playbook)
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory would go")
    corpus = load_corpus([write_playbook.root], cache=ParseCache(blocked))  # type: ignore[attr-defined]
    assert len(corpus.playbooks) == 3 and not corpus.problems


def test_broken_files_are_cached_with_their_problems(
    write_playbook: WritePlaybook, parsed: list[Path], tmp_path: Path
) -> None:
    broken = write_playbook("broken.md", "---\ntitle: [oops\n---\n\n## Case study\n\nText.\n")
    first = load_corpus([write_playbook.root], cache=ParseCache(tmp_path / "cache"))  # type: ignore[attr-defined]
    again = load_corpus([write_playbook.root], cache=ParseCache(tmp_path / "cache"))  # type: ignore[attr-defined]
    assert parsed == [broken]
    assert [str(p) for p in again.problems] == [str(p) for p in first.problems]
    assert str(first.problems[0]).startswith(f"{broken}:3: error: front matter is not valid")


def test_a_restart_with_nothing_changed_loads_the_index_and_parses_nothing(
    write_playbook: WritePlaybook,
    parsed: list[Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    three_playbooks(write_playbook)
    root = write_playbook.root  # type: ignore[attr-defined]
    built = LiveIndex([root], index_cache=IndexCache(tmp_path / "cache"))
    assert len(parsed) == 3
    with caplog.at_level(logging.INFO, logger="bot.search.index_cache"):
        restarted = LiveIndex([root], index_cache=IndexCache(tmp_path / "cache"))
    assert len(parsed) == 3, "a warm start parses nothing"
    assert "index loaded from the cache" in caplog.text
    for question in ("labs pitfall", "pitfalls", "nothing like this"):
        assert restarted.search(question) == built.search(question)


def test_any_change_to_what_the_index_is_built_from_builds_it_again(
    write_playbook: WritePlaybook, parsed: list[Path], tmp_path: Path
) -> None:
    hubs, _labs, _prizes = three_playbooks(write_playbook)
    root = write_playbook.root  # type: ignore[attr-defined]
    cache = tmp_path / "cache"
    LiveIndex([root], index_cache=IndexCache(cache))
    hubs.write_text(playbook("Hubs", "zeppelin overreach"))
    edited = LiveIndex([root], index_cache=IndexCache(cache))
    assert edited.search("zeppelin").results[0].section.playbook_title == "Hubs"
    with_cues = LiveIndex([root], cues={"Case study": ["war story"]}, index_cache=IndexCache(cache))
    assert with_cues.search("hubs war story").results  # a cue table of its own, not the cache's
    assert len(list(cache.glob("index-*.pickle"))) == 1, "only the newest index is kept"


def test_a_corrupt_index_file_is_rebuilt(write_playbook: WritePlaybook, tmp_path: Path) -> None:
    three_playbooks(write_playbook)
    root = write_playbook.root  # type: ignore[attr-defined]
    LiveIndex([root], index_cache=IndexCache(tmp_path / "cache"))
    (stored,) = (tmp_path / "cache").glob("index-*.pickle")
    stored.write_bytes(stored.read_bytes()[:100])  # truncated mid-write by a crash
    again = LiveIndex([root], index_cache=IndexCache(tmp_path / "cache"))
    assert again.search("labs pitfall").results[0].section.playbook_title == "Labs"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch, write_playbook: WritePlaybook) -> list[Path]:
    """The corpus files whose bytes were read, in order."""
    seen: list[Path] = []
    real = Path.read_bytes
    root = write_playbook.root  # type: ignore[attr-defined]

    def counting(self: Path) -> bytes:
        if self.is_relative_to(root):
            seen.append(self)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    return seen


def fingerprint(cache: Path, root: Path) -> str:
    found = IndexCache(cache).fingerprint([root], None, None)
    assert found is not None
    return found


def fingerprint_later(cache: Path, root: Path) -> str:
    """The fingerprint, with its stat memo written more than the racy margin after the files
    were: the memo trusts them from then on (as it would at the next start of a real bot)."""
    with time_machine.travel(time.time() + RACY_MARGIN_NS / 1e9 + 1, tick=False):
        return fingerprint(cache, root)


def next_timestamp_tick(after_ns: int, probe: Path) -> None:
    """Wait until the file system stamps times later than ``after_ns`` (its clock is coarse,
    a jiffy or more): an edit from then on gets a new ctime, as any edit after a memo was
    written really more than the racy margin after its file does."""
    while True:
        probe.touch()
        if probe.stat().st_ctime_ns > after_ns:
            return


def test_a_warm_fingerprint_reads_no_corpus_file(
    write_playbook: WritePlaybook, reads: list[Path], tmp_path: Path
) -> None:
    three_playbooks(write_playbook)
    root = write_playbook.root  # type: ignore[attr-defined]
    cache = tmp_path / "cache"
    cold = fingerprint(cache, root)
    assert len(reads) == 3
    assert (cache / "stat-memo.pickle").exists()
    assert fingerprint(cache, root) == cold
    assert len(reads) == 6, "files written less than the racy margin before the memo: read again"
    assert fingerprint_later(cache, root) == cold
    assert len(reads) == 9, "still too recent for the memo read at that start: rewritten"
    assert fingerprint(cache, root) == cold
    assert len(reads) == 9, "a warm fingerprint reads no corpus file"
    assert fingerprint(tmp_path / "no-memo", root) == cold, "the same name as without a memo"


def test_an_edit_keeping_size_and_mtime_is_noticed_by_its_ctime(
    write_playbook: WritePlaybook, reads: list[Path], tmp_path: Path
) -> None:
    hubs, _labs, _prizes = three_playbooks(write_playbook)
    root = write_playbook.root  # type: ignore[attr-defined]
    cache = tmp_path / "cache"
    before = fingerprint_later(cache, root)
    old = hubs.stat()
    next_timestamp_tick(old.st_ctime_ns, tmp_path / "probe")
    reads.clear()
    hubs.write_text(playbook("Hubs", "hubs pitfell"))  # same size
    os.utime(hubs, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert signature(hubs)[:2] == (old.st_size, old.st_mtime_ns)
    after = fingerprint(cache, root)
    assert reads == [hubs], "the edited file is read again, the others not"
    assert after != before
    assert after == fingerprint(tmp_path / "no-memo", root)


def test_a_file_edited_in_the_tick_the_memo_was_written_is_read_again(
    write_playbook: WritePlaybook,
    reads: list[Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Racy git: on a file system with coarse timestamps an edit just after the memo was
    written can keep the file's whole signature. Simulated (the only stat mocked) by freezing
    each file's timestamps at their first reading."""
    hubs, _labs, _prizes = three_playbooks(write_playbook)
    root = write_playbook.root  # type: ignore[attr-defined]
    cache = tmp_path / "cache"
    first_stamps: dict[Path, tuple[int, int]] = {}
    real = stat_memo_module.signature

    def coarse(path: Path) -> tuple[int, int, int, int, int]:
        size, mtime, ctime, inode, device = real(path)
        mtime, ctime = first_stamps.setdefault(path, (mtime, ctime))
        return size, mtime, ctime, inode, device

    monkeypatch.setattr(stat_memo_module, "signature", coarse)
    an_hour_ago = time.time_ns() - 3600 * 10**9  # copied with its mtime kept (cp -p, rsync -t)
    os.utime(hubs, ns=(an_hour_ago, an_hour_ago))
    before = fingerprint(cache, root)
    old = coarse(hubs)
    hubs.write_text(playbook("Hubs", "hubs pitfell"))  # same size, same inode
    assert coarse(hubs) == old, "the edit kept the signature"
    reads.clear()
    after = fingerprint(cache, root)
    assert hubs in reads
    assert after != before
    assert after == fingerprint(tmp_path / "no-memo", root)


@pytest.mark.parametrize("change", ["add", "remove", "rename", "swap"])
def test_added_removed_and_renamed_files_change_the_fingerprint_as_without_a_memo(
    write_playbook: WritePlaybook, tmp_path: Path, change: str
) -> None:
    hubs, labs, _prizes = three_playbooks(write_playbook)
    root = write_playbook.root  # type: ignore[attr-defined]
    cache = tmp_path / "cache"
    before = fingerprint_later(cache, root)
    if change == "add":
        write_playbook("new.md", playbook("New", "new pitfall"))
    elif change == "remove":
        labs.unlink()
    elif change == "rename":
        hubs.rename(root / "hubs-renamed.md")
    else:  # two files of the same size, each under the other's name
        hubs.rename(root / "swapping.md")
        labs.rename(hubs)
        (root / "swapping.md").rename(labs)
    after = fingerprint(cache, root)
    assert after != before
    assert after == fingerprint(tmp_path / "no-memo", root)
    memo = pickle.loads((cache / "stat-memo.pickle").read_bytes())
    assert sorted(memo["entries"]) == sorted(map(str, root.glob("*.md"))), "no stale entries"


@pytest.mark.parametrize(
    "memo",
    [
        b"not a pickle",
        pickle.dumps(None),
        "keys from another parser",
        "entries not a dict",
        "malformed entries",
        "keys not text",
    ],
)
def test_an_unusable_stat_memo_is_ignored(
    write_playbook: WritePlaybook, reads: list[Path], tmp_path: Path, memo: bytes | str
) -> None:
    three_playbooks(write_playbook)
    root = write_playbook.root  # type: ignore[attr-defined]
    cache = tmp_path / "cache"
    right = fingerprint_later(cache, root)
    path = cache / "stat-memo.pickle"
    if isinstance(memo, str):
        stored = pickle.loads(path.read_bytes())
        entries = stored["entries"]
        if memo == "keys from another parser":
            stored["parser"] = "another parser"
            stored["entries"] = {name: (sig, "0" * 64) for name, (sig, _key) in entries.items()}
        elif memo == "entries not a dict":
            stored["entries"] = list(entries.items())
        elif memo == "keys not text":
            stored["entries"] = {name: (sig, None) for name, (sig, _key) in entries.items()}
        else:
            stored["entries"] = dict.fromkeys(entries, "not an entry")
        memo = pickle.dumps(stored)
    path.write_bytes(memo)
    reads.clear()
    assert fingerprint(cache, root) == right
    assert len(reads) == 3


def test_a_new_parser_makes_the_stat_memo_read_every_file_again(
    write_playbook: WritePlaybook,
    reads: list[Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    three_playbooks(write_playbook)
    root = write_playbook.root  # type: ignore[attr-defined]
    cache = tmp_path / "cache"
    before = fingerprint_later(cache, root)
    monkeypatch.setattr(cache_module, "parser_fingerprint", lambda: "a-changed-parser")
    reads.clear()
    after = fingerprint(cache, root)
    assert len(reads) == 3 and after != before
    assert after == fingerprint(tmp_path / "no-memo", root)


def test_an_unwritable_stat_memo_costs_speed_not_the_fingerprint(
    write_playbook: WritePlaybook, tmp_path: Path
) -> None:
    three_playbooks(write_playbook)
    root = write_playbook.root  # type: ignore[attr-defined]
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory would go")
    assert fingerprint(blocked, root) == fingerprint(tmp_path / "cache", root)
