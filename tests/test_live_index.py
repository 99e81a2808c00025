"""Hot corpus reload: new and edited playbooks become searchable; broken edits lose nothing."""

from __future__ import annotations

import threading
import time
import weakref

import pytest

from bot.search.live import LiveIndex
from tests.conftest import WritePlaybook

HUBS = """
---
title: Hubs
---

## Potential pitfalls

- Copying Silicon Valley.
"""


def test_reload_picks_up_a_new_playbook(write_playbook: WritePlaybook) -> None:
    write_playbook("hubs.md", HUBS)
    live = LiveIndex([write_playbook.root])  # type: ignore[attr-defined]
    assert live.search("zeppelins").no_match
    write_playbook("air.md", "---\ntitle: Airships\n---\n\n## Case study\n\nZeppelins flew.\n")
    report = live.reload()
    assert (report.playbooks, report.errors) == (2, 0)
    assert live.search("zeppelins").results[0].section.playbook_title == "Airships"


def test_a_broken_edit_keeps_the_last_good_version(write_playbook: WritePlaybook) -> None:
    path = write_playbook("hubs.md", HUBS)
    live = LiveIndex([write_playbook.root])  # type: ignore[attr-defined]
    path.write_text("---\ntitle: [oops\n---\n\n## Potential pitfalls\n\n- New.\n")
    report = live.reload()
    assert report.errors == 1
    assert live.search("silicon valley").results[0].section.playbook_title == "Hubs"
    messages = [str(p) for p in live.corpus.problems]
    assert f"{path}:3: error: front matter is not valid YAML" in messages[0]
    assert messages[1] == f"{path}:1: warning: serving the last good version of this file"


def test_searches_during_reloads_always_get_an_answer(write_playbook: WritePlaybook) -> None:
    write_playbook("hubs.md", HUBS)
    live = LiveIndex([write_playbook.root])  # type: ignore[attr-defined]
    answers: list[bool] = []
    done = threading.Event()

    def ask() -> None:
        while not done.is_set():
            answers.append(bool(live.search("pitfalls").results))
            time.sleep(0.001)  # yield the GIL so the reloads interleave with searches

    reader = threading.Thread(target=ask)
    reader.start()
    for _ in range(10):
        live.reload()
    done.set()
    reader.join()
    assert answers and all(answers)


def test_watcher_reloads_on_change(write_playbook: WritePlaybook) -> None:
    write_playbook("hubs.md", HUBS)
    live = LiveIndex([write_playbook.root])  # type: ignore[attr-defined]
    stop = threading.Event()
    thread = live.watch(stop, debounce_ms=50)
    try:
        time.sleep(0.3)  # let the watcher start before the change
        write_playbook("air.md", "---\ntitle: Airships\n---\n\n## Case study\n\nZeppelins.\n")
        deadline = time.monotonic() + 20
        while live.search("zeppelins").no_match and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not live.search("zeppelins").no_match
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_an_answer_is_remembered_until_a_reload_changes_the_corpus(
    write_playbook: WritePlaybook,
) -> None:
    write_playbook("hubs.md", HUBS)
    live = LiveIndex([write_playbook.root])  # type: ignore[attr-defined]
    first = live.search("pitfalls")
    assert live.search("  pitfalls ") is first  # asked again, spacing aside: from memory
    assert live.search("pitfalls", limit=1) is not first  # other arguments: searched
    write_playbook("hubs.md", HUBS.replace("Copying Silicon Valley.", "Copying Shenzhen."))
    live.reload()
    again = live.search("pitfalls")
    assert again is not first
    assert [i.text for i in again.results[0].items] == ["Copying Shenzhen."]


def test_a_reload_gives_back_the_previous_index_memory_once_it_is_swapped_out(
    write_playbook: WritePlaybook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The previous index is garbage only once the new one is served: handing freed memory
    back before the swap would find nothing to give."""
    write_playbook("hubs.md", HUBS)
    live = LiveIndex([write_playbook.root])  # type: ignore[attr-defined]
    previous = weakref.ref(live.index)
    released_with_previous_alive: list[bool] = []
    monkeypatch.setattr(
        "bot.search.live.release_free_heap",
        lambda: released_with_previous_alive.append(previous() is not None),
    )
    live.reload()
    assert released_with_previous_alive == [False]
