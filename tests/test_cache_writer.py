"""Cache files written at once, or held and written later by a forked child: `serve` stores
what a first start built while it starts serving instead of before."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from bot.corpus.cache import CacheWriter
from tests.conftest import REPO_ROOT


def write_pid(path: Path, tag: str) -> None:
    """A job: which process wrote the file, and which job it was."""
    path.write_text(f"{os.getpid()} {tag}")


def finished(pid: int, timeout_s: float = 30) -> bool:
    """Whether process ``pid`` is gone within ``timeout_s`` (it is no child of ours: the
    writer is forked twice and belongs to init)."""
    deadline = time.monotonic() + timeout_s
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def alone(script: str, directory: Path) -> dict[str, int]:
    """Run ``script`` in a fresh interpreter, the only thread of its process (a test run has
    threads of its own, and the writer rightly refuses to fork beside them); its JSON."""
    preamble = """
        import functools, json, os, sys
        from pathlib import Path
        from bot.corpus.cache import CacheWriter
        from tests.test_cache_writer import finished, write_pid
        here = Path(sys.argv[1])
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(preamble) + textwrap.dedent(script), directory],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_a_writer_that_does_not_hold_writes_at_once(tmp_path: Path) -> None:
    target = tmp_path / "file"
    CacheWriter().write("file", functools.partial(write_pid, target, "now"))
    assert target.read_text() == f"{os.getpid()} now"


def test_held_writes_wait_then_run_in_a_child_process(tmp_path: Path) -> None:
    seen = alone(
        """
        writer = CacheWriter(hold=True)
        writer.write("file", functools.partial(write_pid, here / "file", "first"))
        writer.write("file", functools.partial(write_pid, here / "file", "second"))
        writer.write("other", functools.partial(write_pid, here / "other", "other"))
        held = (here / "file").exists()
        child = writer.write_in_background()
        try:  # the writer is no child of ours, and the child that forked it is reaped
            os.waitpid(-1, os.WNOHANG)
            children = True
        except ChildProcessError:
            children = False
        done = finished(child)
        writer.write("later", functools.partial(write_pid, here / "later", "later"))
        print(json.dumps({"held": held, "me": os.getpid(), "child": child, "done": done,
                          "children": children}))
        """,
        tmp_path,
    )
    assert seen["held"] is False  # nothing written before write_in_background
    child = seen["child"]
    assert child != seen["me"] and seen["done"]
    assert not seen["children"]  # nothing left for this process (or gunicorn) to reap
    assert (tmp_path / "file").read_text() == f"{child} second"  # the later job replaced it
    assert (tmp_path / "other").read_text() == f"{child} other"
    assert (tmp_path / "later").read_text() == f"{seen['me']} later"  # no longer holding


def test_a_failed_write_costs_only_its_own_file(tmp_path: Path) -> None:
    seen = alone(
        """
        def fail():
            raise RuntimeError("disk on fire")

        writer = CacheWriter(hold=True)
        writer.write("broken", fail)
        writer.write("file", functools.partial(write_pid, here / "file", "after"))
        child = writer.write_in_background()
        print(json.dumps({"child": child, "done": finished(child)}))
        """,
        tmp_path,
    )
    assert seen["done"]
    assert (tmp_path / "file").read_text() == f"{seen['child']} after"


def test_with_other_threads_running_the_writes_run_here(tmp_path: Path) -> None:
    """A fork would copy the other threads' locks mid-use."""
    writer = CacheWriter(hold=True)
    target = tmp_path / "file"
    writer.write("file", functools.partial(write_pid, target, "here"))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert writer.write_in_background() is None
    finally:
        stop.set()
        other.join()
    assert target.read_text() == f"{os.getpid()} here"


def test_nothing_held_forks_nothing() -> None:
    assert CacheWriter(hold=True).write_in_background() is None
