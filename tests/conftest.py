"""Shared fixtures: the bundled seed corpus and helpers that write real playbook files."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.bundled import BUNDLED_CORPUS
from bot.corpus import Corpus, Section, load_corpus
from bot.render import mrkdwn, slack
from bot.search import Index

pytest_plugins = ["tests.databases"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SEED_FILE = BUNDLED_CORPUS / "regional-innovation-hubs.md"


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes into the real user data directory (the default HUBS_DATA_DIR), and the
    semantic extra (installed with the test extra) is off unless a test turns it on: the
    lexical behaviour is the default one."""
    monkeypatch.setenv("HUBS_DATA_DIR", str(tmp_path / "hubs-data"))
    monkeypatch.setenv("HUBS_SEMANTIC", "off")


@pytest.fixture(autouse=True)
def _fresh_render_cache_under_mutation() -> None:
    """mutmut runs the clean tests in its own process and forks each mutant's run from it:
    markdown rendered then sits in ``mrkdwn._units``' cache, so a mutant of the renderer
    (the list walker, inline markup) would be served the clean output and "survive". Under
    mutation (MUTANT_UNDER_TEST names a mutant) every test renders afresh."""
    if os.environ.get("MUTANT_UNDER_TEST"):
        mrkdwn._units.cache_clear()
        mrkdwn.visible_length.cache_clear()
        slack._visible_terms.cache_clear()


@pytest.fixture(scope="session")
def seed_corpus() -> Corpus:
    return load_corpus([BUNDLED_CORPUS])


@pytest.fixture(scope="session")
def seed_index(seed_corpus: Corpus) -> Index:
    return Index(seed_corpus)


def best(index: Index, question: str) -> Section:
    """The first result's section; fails with the whole response when there is none."""
    response = index.search(question)
    assert response.results, f"no answer to {question!r}: {response}"
    return response.results[0].section


WritePlaybook = Callable[..., Path]


@pytest.fixture
def write_playbook(tmp_path: Path) -> WritePlaybook:
    """Write a playbook file under tmp_path/corpus; text is dedented; bytes written as-is."""
    root = tmp_path / "corpus"
    root.mkdir(exist_ok=True)

    def write(name: str, content: str | bytes) -> Path:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        return path

    write.root = root  # type: ignore[attr-defined]
    return write
