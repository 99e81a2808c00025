"""The README and config/hubs.toml cannot drift from the code: every environment variable and
config key settings reads, every command and flag, every module and every `ask --json` key
is documented (these tests fail when one is removed from the docs)."""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.render.text import response_to_dict
from bot.search import Index
from tests.conftest import REPO_ROOT
from tests.readme_examples import examples

README = (REPO_ROOT / "README.md").read_text()
CONFIG = (REPO_ROOT / "config" / "hubs.toml").read_text()
SETTINGS = ast.parse((REPO_ROOT / "bot" / "settings.py").read_text())
CONFIG_TABLES = {"corpus_cfg": "corpus", "digest_cfg": "digest", "server_cfg": "server"}
CONFIG_TABLES |= {"search_cfg": "search", "config": ""}


def _section(title: str) -> str:
    start = README.index(title)
    end = README.find("\n## ", start + len(title))
    return README[start:end]


def environment_variables() -> set[str]:
    """Every string settings looks up in ``env``."""
    names = set()
    for node in ast.walk(SETTINGS):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            first = node.args[0] if node.args else None
            if (
                isinstance(owner, ast.Name)
                and owner.id == "env"
                and isinstance(first, ast.Constant)
            ):
                names.add(first.value)
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id == "env"
            and isinstance(node.slice, ast.Constant)
        ):
            names.add(node.slice.value)
    return names


def config_keys() -> set[str]:
    """Every ``table.key`` settings reads from the config file."""
    keys = set()
    for node in ast.walk(SETTINGS):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if node.func.attr == "get" and isinstance(owner, ast.Name):
                table = CONFIG_TABLES.get(owner.id)
                arg = node.args[0] if node.args else None
                is_table = table == "" and arg is not None and arg.value in CONFIG_TABLES.values()
                if table is not None and isinstance(arg, ast.Constant) and not is_table:
                    keys.add(f"{table}.{arg.value}" if table else arg.value)
    return keys


def test_the_scan_finds_what_settings_reads() -> None:
    assert {"HUBS_CORPUS", "SLACK_BOT_TOKEN", "PORT", "HUBS_SEMANTIC"} <= environment_variables()
    assert {"corpus.directories", "digest.cron", "search.cues", "data_dir"} <= config_keys()


@pytest.mark.parametrize("name", sorted(environment_variables()))
def test_every_environment_variable_is_documented(name: str) -> None:
    table = _section("## Configuration")
    assert f"`{name}`" in table, f"{name} is missing from the README's configuration table"
    assert name in CONFIG, f"{name} is missing from config/hubs.toml"


@pytest.mark.parametrize("key", sorted(config_keys()))
def test_every_config_key_is_documented(key: str) -> None:
    table = _section("## Configuration")
    assert f"`{key}`" in table, f"{key} is missing from the README's configuration table"
    name = key.rsplit(".", 1)[-1]
    assert re.search(rf"^#?\s*{re.escape(name)}\s*=", CONFIG, re.MULTILINE) or (
        f"[{key}]" in CONFIG
    ), f"{key} is missing from config/hubs.toml"


def _commands() -> list[tuple[str, argparse.ArgumentParser]]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return sorted(action.choices.items())
    raise AssertionError("no subcommands")


@pytest.mark.parametrize(
    ("command", "flag"),
    [
        (name, option)
        for name, sub in _commands()
        for action in sub._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help" and action.help != argparse.SUPPRESS
    ]
    + [(name, "") for name, _ in _commands()],
)
def test_every_command_and_flag_is_documented(command: str, flag: str) -> None:
    usage = _section("## Using it from the terminal")
    lines = [line for line in usage.splitlines() if f"hubs-bot {command}" in line]
    assert lines, f"`hubs-bot {command}` is missing from the README"
    if flag:
        assert any(flag in line for line in lines), f"hubs-bot {command} {flag} is undocumented"


@pytest.mark.parametrize(
    "flag",
    [
        option
        for action in build_parser()._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    ],
)
def test_every_global_flag_is_documented(flag: str) -> None:
    """--version, and -v/--verbose (accepted before or after the subcommand)."""
    assert flag in _section("## Using it from the terminal"), f"{flag} is undocumented"


def _modules() -> list[Path]:
    return sorted(
        p.relative_to(REPO_ROOT)
        for p in (REPO_ROOT / "bot").rglob("*.py")
        if p.name != "__init__.py" and "_bundled" not in p.parts
    )


@pytest.mark.parametrize("module", _modules(), ids=str)
def test_every_module_is_in_the_module_table(module: Path) -> None:
    table = _section("### Modules")
    rows = [line for line in table.splitlines() if line.startswith("| `bot/")]
    if len(module.parts) == 2:  # bot/x.py
        assert any(f"`{module.as_posix()}`" in row for row in rows), module
        return
    package = f"`{module.parent.as_posix()}/`"
    row = next((row for row in rows if row.startswith(f"| {package}")), None)
    assert row is not None, f"no row for {package}"
    assert f"`{module.stem}`" in row, f"{module} is missing from the {package} row"


def test_every_json_key_of_ask_is_documented(write_playbook) -> None:  # type: ignore[no-untyped-def]
    write_playbook(
        "p.md",
        "---\ntitle: Fast Grants\nurl: https://example.org/fg\n---\n\n"
        "## Key things to know\n\n- [A link](https://example.org/a) about money\n",
    )
    from bot.corpus import load_corpus

    index = Index(load_corpus([write_playbook.root]))
    responses = [
        index.search("money"),
        index.search("fast grants zebra"),  # partial, playbook
        index.search("mony"),  # corrected
        index.search("quantum error correction"),  # suggestions
        index.search(""),  # notice
    ]
    keys: set[str] = set()
    for response in responses:
        data = response_to_dict(response)
        keys |= set(data)
        for result in data.get("results", []):
            keys |= set(result)
    documented = _section("## Using it from the terminal")
    missing = sorted(k for k in keys if f'"{k}"' not in documented and f"`{k}`" not in documented)
    assert not missing, f"ask --json keys missing from the README: {missing}"


def test_only_settings_reads_the_environment() -> None:
    """os.environ / os.getenv outside bot/settings.py: only writes are allowed (serve hands
    PROMETHEUS_MULTIPROC_DIR to prometheus_client in its workers)."""
    offenders = []
    for path in (REPO_ROOT / "bot").rglob("*.py"):
        if path.name == "settings.py" and path.parent.name == "bot":
            continue
        tree = ast.parse(path.read_text())
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                parent = parents.get(node)
                is_write = (
                    isinstance(parent, ast.Subscript)
                    and parent.value is node
                    and isinstance(parent.ctx, ast.Store)
                )
                if not is_write:
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert not offenders, offenders


def test_the_message_examples_are_what_the_code_renders() -> None:
    """The README's "What people see" is generated from the seed: regenerate it with
    ``python -m tests.readme_examples`` when a message changes."""
    assert examples() in README


def test_every_mutation_tested_module_has_its_score_in_the_readme() -> None:
    """bench/mutation.sh's modules and the README's *Mutation testing* table agree, and
    mutmut stays out of CI and out of the test extra."""
    script = (REPO_ROOT / "bench" / "mutation.sh").read_text()
    order = re.search(r"^ORDER=\((.*)\)$", script, re.MULTILINE)
    assert order is not None
    section = _section("## Mutation testing")
    for module in order.group(1).split():
        row = next((line for line in section.splitlines() if f"| `{module}`" in line), None)
        assert row is not None, f"{module} has no row in the README's Mutation testing table"
        assert re.search(r"\d+(\.\d)? ?%", row), row
    assert "mutmut" not in (REPO_ROOT / ".ci" / "run").read_text()
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    test_extra = pyproject[
        pyproject.index("test = [") : pyproject.index("]", pyproject.index("test = ["))
    ]
    assert "mutmut" not in test_extra
