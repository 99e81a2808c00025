"""The benchmark's synthetic corpus is reproducible and clean (no silently broken bench)."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.corpus import load_corpus
from tests.conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "bench"))
from synth_corpus import write_corpus


def test_same_seed_same_files_and_no_problems(tmp_path: Path) -> None:
    first = write_corpus(tmp_path / "a", 5, seed=3)
    second = write_corpus(tmp_path / "b", 5, seed=3)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir()) and len(names) == 5
    assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)
    corpus = load_corpus([first])
    assert corpus.problems == ()
    assert len(corpus.sections) == 30
    assert all(s.items for s in corpus.sections)
    assert (
        write_corpus(tmp_path / "c", 5, seed=4).joinpath(names[0]).read_bytes()
        != (first / names[0]).read_bytes()
    )
