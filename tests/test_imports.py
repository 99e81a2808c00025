"""A single-workspace server does not load slack_sdk's SQLAlchemy stores (and with them
SQLAlchemy's ORM and asyncio layers): with them loaded, the ack p99 under load doubled."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

BUILD_APP = """
import sys
from dataclasses import replace
from bot.search import Index
from bot.corpus import load_corpus
from bot.bundled import BUNDLED_CORPUS
from bot.settings import Settings
from bot.slack.app import create_app
from bot.store import Store

settings = replace(Settings(), slack_bot_token="xoxb-1", slack_signing_secret="s")
store = Store.connect("sqlite:///{db}")
create_app(settings, Index(load_corpus([BUNDLED_CORPUS])), store)
print(sorted(m for m in ("sqlalchemy.orm", "sqlalchemy.ext.asyncio", "greenlet")
             if m in sys.modules))
"""


def test_single_workspace_app_leaves_the_orm_unloaded(tmp_path: Path) -> None:
    code = BUILD_APP.format(db=tmp_path / "hubs.sqlite3")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_sqlite_store_leaves_the_postgresql_dialect_unloaded(tmp_path: Path) -> None:
    """PostgreSQL's dialect (with its asyncpg variant) is 70-100 ms of imports; a SQLite
    store, upserts included, never needs it."""
    code = f"""
import sys
from bot.store import Store
store = Store.connect("sqlite:///{tmp_path / "hubs.sqlite3"}")
assert store.claim_event("Ev1") and not store.claim_event("Ev1")  # INSERT ... ON CONFLICT
store.close()
print("sqlalchemy.dialects.postgresql" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "False"


COMMAND_IMPORTS = """
import sys
from bot.cli import main
code = main(sys.argv[1:])
print(sorted(m for m in ("numpy", "bm25s", "scipy") if m in sys.modules))
"""


@pytest.mark.parametrize(
    "argv", [["check"], ["digest", "--history"], ["stats"], ["reload"]], ids=" ".join
)
def test_commands_that_do_not_search_load_no_search_engine(tmp_path: Path, argv: list[str]) -> None:
    """numpy and bm25s cost `hubs-bot check` 0.2 s and 27 MB it never needs."""
    env = {**os.environ, "HUBS_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", COMMAND_IMPORTS, *argv], capture_output=True, text=True, env=env
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


SERVE_START = """
import sys
from bot.settings import load_settings
from bot.slack import server
seen = []
importing = server._import_serving_side

def noting_what_is_loaded():  # once the index is named and its corpus with the workers
    seen.append(sorted(m for m in ("slack_bolt", "sqlalchemy", "bot.store") if m in sys.modules))
    seen.append("bot.search.index_cache" in sys.modules)
    importing()

server._import_serving_side = noting_what_is_loaded
index = server._index_importing_meanwhile(load_settings(), None)
print(seen[0], seen[1], len(index.corpus.playbooks))
"""


def test_serve_starts_the_corpus_load_before_importing_its_slack_side(tmp_path: Path) -> None:
    """Bolt, SQLAlchemy and the store are ~0.4 s of the master's start: imported while the
    parse workers parse, not before they are handed the corpus."""
    env = {**os.environ, "HUBS_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", SERVE_START], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "True", "1"]


FLOOR_IMPORTS = """
import runpy, sys
sys.argv = ["minimal_bolt_app.py", "--help"]
try:
    runpy.run_path({script!r}, run_name="__main__")
except SystemExit:
    pass
beyond = {{"bot", "tests", "pytest", "sqlalchemy", "numpy"}}
print(sorted({{m.split(".")[0] for m in sys.modules}} & beyond))
"""


def test_the_benchmarks_floor_loads_nothing_beyond_a_minimal_bolt_app() -> None:
    """The minimal Bolt app is what hubs-bot's start-up, memory and throughput are measured
    against: once it imported the test suite's helpers for two constants, which loaded pytest
    and the whole bot into it and made hubs-bot look 3x closer to the floor than it was."""
    script = REPO_ROOT / "bench" / "minimal_bolt_app.py"
    done = subprocess.run(
        [sys.executable, "-c", FLOOR_IMPORTS.format(script=str(script))],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
