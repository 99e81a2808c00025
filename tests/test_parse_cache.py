"""Parsed playbooks kept by their bytes, and the built index by what it is built from: a
reload or a restart parses only the files that changed, a restart with nothing changed
builds nothing, and nothing in either cache can serve content a file no longer has."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.corpus import cache as cache_module
from bot.corpus import load as load_module
from bot.corpus import load_corpus
from bot.corpus.cache import ParseCache
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


def test_a_corrupt_cache_entry_is_parsed_again(
    write_playbook: WritePlaybook, parsed: list[Path], tmp_path: Path
) -> None:
    three_playbooks(write_playbook)
    load_corpus([write_playbook.root], cache=ParseCache(tmp_path / "cache"))  # type: ignore[attr-defined]
    entries = sorted((tmp_path / "cache").rglob("*.pickle"))
    assert len(entries) == 3
    entries[0].write_bytes(b"not a pickle")
    entries[1].write_bytes(b"\x80\x05N.")  # a valid pickle of None: not a parse result
    corpus = load_corpus([write_playbook.root], cache=ParseCache(tmp_path / "cache"))  # type: ignore[attr-defined]
    assert len(parsed) == 5 and len(corpus.playbooks) == 3 and not corpus.problems


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
