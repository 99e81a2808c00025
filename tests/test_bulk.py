"""The collector is paused only for the build, and left as it was found."""

from __future__ import annotations

import gc
import platform
import subprocess
import sys

import pytest

from bot.bulk import collector_paused


def test_the_collector_is_off_during_the_build_and_on_after_it() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # a reload inside a load
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block does not turn it back on early
    assert gc.isenabled()


def test_a_failed_build_turns_the_collector_back_on() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a broken corpus")
    assert gc.isenabled()


def test_a_collector_someone_else_turned_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


FREED_BUT_MAPPED = """
from bot.bulk import release_free_heap

def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS")) / 1024

garbage = [b"x" * (64 * 1024) for _ in range(1600)]  # 100 MB, in the heap (below mmap size)
pin = b"x" * (64 * 1024)  # still in use above them: the heap's top cannot shrink
del garbage
before = rss_mb()
release_free_heap()
print(before - rss_mb())
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="malloc_trim is glibc's",
)
def test_memory_a_build_freed_is_given_back_before_the_fork() -> None:
    """What a build frees stays mapped in glibc's heap (~100 MB here) until handed back;
    the workers forked after it would each start with it."""
    done = subprocess.run([sys.executable, "-c", FREED_BUT_MAPPED], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) > 60  # MB given back of the 100 freed
