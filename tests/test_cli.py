"""The command-line contract: ask (text, --json, JSON Lines batch), check, usage errors."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys

import pytest

from bot.cli import main
from tests.conftest import SEED_FILE, WritePlaybook


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_prints_the_section_its_source_and_links(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ask", "pitfals"], capsys)
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("1. Regional Innovation Hubs › Potential pitfalls")
    assert 'matched "pitfalls" (you typed "pitfals")' in out
    assert "regional-innovation-hubs.md:55" in out
    assert "Yozma Program: https://link.springer.com/" in out


def test_ask_json_follows_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ask", "--json", "--limit", "2", "china", "ai", "pilot", "zones"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["query"] == "china ai pilot zones"
    assert len(data["results"]) <= 2
    best = data["results"][0]
    assert {"playbook", "section", "score", "text"} <= set(best)
    assert (best["playbook"], best["section"]) == ("Regional Innovation Hubs", "Case study")
    assert "<3 years old" in best["text"]


def test_ask_no_match_exits_zero_with_suggestions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ask", "quantum error correction"], capsys)
    assert code == 0
    assert out.startswith("Nothing in the playbooks matches 'quantum error correction'.")
    assert "  - Regional Innovation Hubs › " in out
    code, out, _ = run(["ask", "--json", "quantum error correction"], capsys)
    data = json.loads(out)
    assert data["results"] == [] and len(data["suggestions"]) == 3
    assert len(set(data["suggestions"])) == 3  # three different sections
    code, out, _ = run(["ask", "quantum error correction"], capsys)
    listed = [line.removeprefix("  - ") for line in out.splitlines() if line.startswith("  - ")]
    assert listed == data["suggestions"]  # the text output offers the same three, in order


@pytest.mark.parametrize("limit", [1, 2, 3, 5])
def test_ask_limit_returns_that_many_of_the_best(
    limit: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """--limit N gives the first N of the ranking (the seed corpus has more than five
    sections about hubs), not fewer and not others."""
    _, out, _ = run(["ask", "--json", "--limit", "6", "hubs"], capsys)
    ranking = [(r["playbook"], r["section"]) for r in json.loads(out)["results"]]
    assert len(ranking) >= 5
    code, out, _ = run(["ask", "--json", "--limit", str(limit), "hubs"], capsys)
    assert code == 0
    got = [(r["playbook"], r["section"]) for r in json.loads(out)["results"]]
    assert got == ranking[:limit]


@pytest.mark.parametrize(
    "argv",
    [["ask", "--limit", "x", "q"], ["ask", "--limit", "0", "q"], ["ask", "--nope"], ["frobnicate"]],
)
def test_usage_errors_exit_2_with_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err and "Traceback" not in err


def test_check_reports_file_line_and_exits_1(
    write_playbook: WritePlaybook, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(SEED_FILE, write_playbook.root)  # type: ignore[attr-defined]
    broken = write_playbook("broken.md", "---\ntitle: [unclosed\n---\n\n## S\n\ntext\n")
    code, out, err = run(["check", "--corpus", str(write_playbook.root)], capsys)  # type: ignore[attr-defined]
    assert code == 1
    assert out.startswith(f"{broken}:3: error: front matter is not valid YAML")
    assert "1 playbook(s), 6 section(s): 1 error(s)" in err
    # ...and ask still answers from the good file in the same directory
    code, out, _ = run(["ask", "--corpus", str(write_playbook.root), "yozma"], capsys)  # type: ignore[attr-defined]
    assert code == 0 and "Potential pitfalls" in out


def test_check_clean_corpus_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["check"], capsys)
    assert code == 0 and out == ""
    assert "0 error(s)" in err


def test_corpus_from_environment(
    write_playbook: WritePlaybook,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_playbook("only.md", "---\ntitle: Only One\n---\n\n## Potential pitfalls\n\n- Rust.\n")
    monkeypatch.setenv("HUBS_CORPUS", str(write_playbook.root))  # type: ignore[attr-defined]
    code, out, _ = run(["ask", "--json", "pitfalls"], capsys)
    assert code == 0
    assert json.loads(out)["results"][0]["playbook"] == "Only One"


def test_console_script_batch_mode_is_json_lines_in_order() -> None:
    """The installed `hubs-bot` entry point, many questions through one process."""
    exe = shutil.which("hubs-bot") or f"{sys.executable} -m bot.cli"
    questions = ["pitfalls", "", "paul graham", "quantum error correction", "who contributed"]
    questions = questions * 40
    done = subprocess.run(
        [*exe.split(), "ask", "--json"],
        input="\n".join(questions) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert len(lines) == len(questions)
    answers = [json.loads(line) for line in lines]
    assert [a["query"] for a in answers] == questions
    assert answers[0]["results"][0]["section"] == "Potential pitfalls"
    assert answers[1]["results"] == [] and answers[1]["notice"] == "empty"
    assert answers[2]["results"][0]["section"] == "Further readings"
    assert answers[3]["results"] == []
    assert answers[4]["results"][0]["section"] == "Contributors"
    assert done.stderr == ""


def test_ask_says_what_it_corrected(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ask", "chna", "pilot", "zones"], capsys)
    assert code == 0
    assert out.splitlines()[0] == "note: searched for 'china pilot zones' ('chna' → 'china')"
    assert "Regional Innovation Hubs › Case study" in out.splitlines()[1]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert re.fullmatch(r"hubs-bot \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


@pytest.mark.parametrize("argv", [["-v", "ask", "pitfalls"], ["ask", "-v", "pitfalls"]])
def test_verbose_shows_our_debug_lines_only(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "bot.search.index_cache: index " in err  # built, or loaded from the cache
    assert "markdown_it" not in err and "bm25s" not in err


def test_ask_without_a_question_on_a_terminal_says_how(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    assert main(["ask"]) == 2
    assert capsys.readouterr().err.startswith("usage: hubs-bot ask QUESTION")


def test_every_missing_secret_is_named_at_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert main(["socket"]) == 2
    assert capsys.readouterr().err == (
        "hubs-bot: SLACK_BOT_TOKEN and SLACK_APP_TOKEN are not set; export them in the "
        "environment\n"
    )
