"""Where files and state are found: the bundled corpus from any directory, paths resolved
against the right base, and "no playbooks" as an error every command states the same way."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from slack_bolt import App

from bot.bundled import BUNDLED_CORPUS, DEFAULT_CONFIG
from bot.cli import main
from bot.corpus import Corpus, NoPlaybooksError, check_playbooks, load_corpus
from bot.search.live import LiveIndex
from bot.settings import ConfigError, default_data_dir, load_settings
from bot.slack.server import build_wsgi
from bot.store import Store
from tests.conftest import SEED_FILE, WritePlaybook

SLACK_ENV = {"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "SLACK_APP_TOKEN": "xapp-x"}


def test_the_bundled_corpus_and_config_are_found_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings({}).corpus_dirs == (BUNDLED_CORPUS,)
    assert DEFAULT_CONFIG.is_file()
    assert main(["ask", "pitfalls"]) == 0
    assert capsys.readouterr().out.startswith("1. Regional Innovation Hubs › Potential pitfalls")


def test_state_never_defaults_to_the_package_or_the_working_directory(tmp_path: Path) -> None:
    data_dir = load_settings({}).data_dir
    assert data_dir == default_data_dir()
    package = Path(__file__).resolve().parent.parent / "bot"
    assert package not in data_dir.parents and Path.cwd() not in data_dir.parents
    assert data_dir.name == "hubs-bot"


def test_environment_paths_resolve_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"HUBS_CORPUS": f"a{os.pathsep}b/c", "HUBS_DATA_DIR": "state"})
    assert settings.corpus_dirs == (tmp_path / "a", tmp_path / "b" / "c")
    assert settings.data_dir == tmp_path / "state"
    assert settings.with_corpus([Path("d")]).corpus_dirs == (tmp_path / "d",)


def test_config_paths_resolve_against_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "etc" / "hubs.toml"
    config.parent.mkdir()
    config.write_text('data_dir = "state"\n[corpus]\ndirectories = ["../playbooks", "/abs"]\n')
    monkeypatch.chdir(SEED_FILE.parent)  # somewhere else entirely
    settings = load_settings({"HUBS_CONFIG": str(config)})
    assert settings.corpus_dirs == (tmp_path / "playbooks", Path("/abs"))
    assert settings.data_dir == tmp_path / "etc" / "state"


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"HUBS_CONFIG names .*nope.toml, which does not exist"):
        load_settings({"HUBS_CONFIG": str(tmp_path / "nope.toml")})


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORT": "abc"}, "PORT must be a whole number, got 'abc'"),
        ({"WEB_CONCURRENCY": "two"}, "WEB_CONCURRENCY must be a whole number"),
        ({"HUBS_CLOCK_METRICS_PORT": "x"}, "HUBS_CLOCK_METRICS_PORT must be a whole number"),
    ],
)
def test_a_bad_number_names_its_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(env)


# --------------------------------------------------------------------------- no playbooks


def _no_playbooks(tmp_path: Path) -> dict[str, Path]:
    empty = tmp_path / "empty"
    empty.mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.md").write_text("no front matter, no sections\n")
    return {"missing": tmp_path / "nonexistent", "empty": empty, "all broken": broken}


@pytest.mark.parametrize("kind", ["missing", "empty", "all broken"])
@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "pitfalls"],
        ["digest", "--preview"],
        ["digest", "--post-now", "--channel", "C1"],
        ["serve"],
        ["socket"],
        ["clock"],
    ],
    ids=lambda argv: "-".join(argv[:2]),
)
def test_no_playbooks_stops_every_serving_command_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    argv: list[str],
) -> None:
    for name, value in SLACK_ENV.items():
        monkeypatch.setenv(name, value)
    directory = _no_playbooks(tmp_path)[kind]
    command, *rest = argv
    assert main([command, "--corpus", str(directory), *rest]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    why = {
        "missing": "does not exist",
        "empty": "has no .md files",
        "all broken": "1 file(s), none usable",
    }
    assert line.startswith(f"hubs-bot: no playbooks to serve: {directory} {why[kind]}")
    assert "--corpus DIR or HUBS_CORPUS=" in line


def test_check_says_the_same_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--corpus", str(tmp_path / "nonexistent")]) == 1
    _out, err = capsys.readouterr()
    assert "no playbooks to serve" in err.splitlines()[-1]


def test_a_comma_separated_corpus_variable_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUBS_CORPUS", f"{tmp_path}/a,{tmp_path}/b")
    assert main(["ask", "pitfalls"]) == 2
    assert f"separate directories with {os.pathsep!r}, not ','" in capsys.readouterr().err


def test_a_reload_that_would_leave_nothing_keeps_the_last_corpus(
    write_playbook: WritePlaybook,
) -> None:
    path = write_playbook("only.md", SEED_FILE.read_text())
    live = LiveIndex([write_playbook.root])  # type: ignore[attr-defined]
    path.unlink()
    report = live.reload()
    assert (report.playbooks, report.sections) == (1, 6)
    assert live.search("pitfalls").results[0].section.heading == "Potential pitfalls"


def test_healthz_is_503_with_no_playbooks(tmp_path: Path, seed_corpus: Corpus) -> None:
    store = Store.connect(f"sqlite:///{tmp_path}/h.db")
    app = App(signing_secret="s", token_verification_enabled=False, token="xoxb-x")
    served: list[Corpus] = [seed_corpus]
    wsgi = build_wsgi(app, store, lambda: served[0])

    def get() -> tuple[str, dict[str, object]]:
        statuses: list[str] = []
        environ = {"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET"}
        body = b"".join(wsgi(environ, lambda status, _headers: statuses.append(status)))
        return statuses[0], json.loads(body)

    assert get() == ("200 OK", {"ok": True, "store": "up", "playbooks": 1, "sections": 6})
    served[0] = load_corpus([tmp_path / "nothing"])
    assert get() == (
        "503 Service Unavailable",
        {"ok": False, "store": "up", "playbooks": 0, "sections": 0},
    )


def test_the_start_up_check_parses_only_until_a_playbook_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """serve's master and the clock check before loading: one good file settles it."""
    import bot.corpus.load as load

    for name in ("a.md", "b.md", "c.md"):
        (tmp_path / name).write_text(SEED_FILE.read_text())
    parsed: list[str] = []
    real = load.parse_playbook
    monkeypatch.setattr(load, "parse_playbook", lambda path: parsed.append(path.name) or real(path))
    check_playbooks([tmp_path])
    assert parsed == ["a.md"]
    with pytest.raises(NoPlaybooksError, match="does not exist"):
        check_playbooks([tmp_path / "nope"])
