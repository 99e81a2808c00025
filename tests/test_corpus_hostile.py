"""Hostile and odd playbook files: each is reported against itself, in bounded time and
memory, and the rest of the corpus keeps serving."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.corpus import load_corpus
from bot.corpus.lint import text_link_problem, text_links
from bot.digest.pool import digest_pool
from tests.conftest import SEED_FILE, WritePlaybook
from tests.hostile import HOSTILE, Hostile, run_cli_measured, write_hostile

GOOD = "---\ntitle: Good Playbook\n---\n\n## Key things to know\n\n- fine\n"


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_each_hostile_file_is_its_own_problem(
    write_playbook: WritePlaybook, hostile: Hostile
) -> None:
    write_playbook("good.md", GOOD)
    write_playbook(hostile.name, hostile.content.encode())
    corpus = load_corpus([write_playbook.root])  # type: ignore[attr-defined]
    assert "Good Playbook" in [p.title for p in corpus.playbooks]
    mine = [p for p in corpus.problems if p.path.name == hostile.name]
    assert any(p.line == hostile.line and hostile.fragment in p.message for p in mine), [
        str(p) for p in mine
    ]
    assert all(p.path.name == hostile.name for p in corpus.problems)


def test_keys_of_any_yaml_type_leave_the_playbook_served(write_playbook: WritePlaybook) -> None:
    write_playbook(*next((h.name, h.content) for h in HOSTILE if h.name == "non-string-keys.md"))
    corpus = load_corpus([write_playbook.root])  # type: ignore[attr-defined]
    (playbook,) = corpus.playbooks
    assert playbook.title == "Odd Keys"
    # `1:` and `true:` are one key to YAML (1 == True); `null:` reads as None
    assert sorted(p.line for p in corpus.problems) == [2, 4, 5]
    assert {p.severity for p in corpus.problems} == {"warning"}


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("title: [a, b]", "front matter 'title' must be text, not a list (ignored)"),
        ("title: T\noneliner: {a: 1}", "front matter 'oneliner' must be text, not a mapping"),
        ("title: T\nstage: {a: 1}", "front matter 'stage' must be a list, not a mapping"),
        ("title: T\nstage: [a, [b, c]]", "front matter 'stage' holds a list (that entry ignored)"),
        ("title: T\nauthors: [{link: 'https://x.org'}]", "an author without a `name`"),
        ("title: T\nauthors: [{name: A, link: 'javascript:x'}]", "author link 'javascript:x'"),
        ("title: T\nurl: [https://x.org]", "front matter url '': not text (ignored)"),
        ("title: !!python/object:os.system x", "could not determine a constructor"),
        ("title: T\nstage: " + "[" * 1500 + "]" * 1500, "front matter is nested too deeply"),
    ],
)
def test_values_of_the_wrong_type_are_named(
    write_playbook: WritePlaybook, front: str, expected: str
) -> None:
    write_playbook("good.md", GOOD)
    write_playbook("odd.md", f"---\n{front}\n---\n\n## S\n\ntext\n".encode())
    corpus = load_corpus([write_playbook.root])  # type: ignore[attr-defined]
    messages = [p.message for p in corpus.problems if p.path.name == "odd.md"]
    assert any(expected in m for m in messages), messages
    assert "Good Playbook" in [p.title for p in corpus.playbooks]


def test_valid_json_front_matter_is_read(write_playbook: WritePlaybook) -> None:
    write_playbook("j.md", '{\n"title": "From JSON",\n"stage": ["Growth"]\n}\n\n## S\n\ntext\n')
    (playbook,) = load_corpus([write_playbook.root]).playbooks  # type: ignore[attr-defined]
    assert (playbook.title, playbook.stage) == ("From JSON", ("Growth",))


def test_bad_json_front_matter_names_its_line(write_playbook: WritePlaybook) -> None:
    write_playbook("j.md", '{\n"title": "T",\n"stage": [\n}\n\n## S\n\ntext\n')
    (problem,) = load_corpus([write_playbook.root]).problems  # type: ignore[attr-defined]
    assert (problem.line, problem.message.split(":")[0]) == (4, "front matter is not valid JSON")


def test_colliding_heading_slugs_get_distinct_keys(write_playbook: WritePlaybook) -> None:
    write_playbook(
        "c.md",
        "---\ntitle: C\nurl: https://example.org/c\n---\n\n"
        "## Case study\n\none\n\n## Case-study\n\n- two\n- three\n\n"
        "## !!!\n\nfour\n\n## ???\n\nfive\n",
    )
    corpus = load_corpus([write_playbook.root])  # type: ignore[attr-defined]
    keys = [s.key for s in corpus.sections]
    assert keys == ["c#case-study", "c#case-study-1", "c#section", "c#section-1"]
    for section in corpus.sections:
        assert corpus.section(section.key) is section
    assert corpus.sections[1].url == "https://example.org/c#case-study-1"  # GitHub's anchor
    ids = [item.id for item in digest_pool(corpus)]
    assert len(ids) == len(set(ids))
    assert [p.severity for p in corpus.problems] == ["warning", "warning"]


def test_a_refused_front_matter_url_is_not_used(write_playbook: WritePlaybook) -> None:
    write_playbook(*next((h.name, h.content) for h in HOSTILE if h.name == "script-url.md"))
    (playbook,) = load_corpus([write_playbook.root]).playbooks  # type: ignore[attr-defined]
    assert playbook.url is None
    assert all(s.url is None for s in playbook.sections)


def test_link_lint_reads_each_character_a_bounded_number_of_times() -> None:
    """The old regex was quadratic on `[a ` runs (5.7 s on 60 KB); the scanner's work is
    proportional to the text, so 300 KB of any bracket soup is scanned at once."""
    for unit in ("[a ", "[a](", "](", "[a] (", "[[[", "]("):
        text = unit * (300_000 // len(unit))
        found = list(text_links(text))
        assert len(found) <= text.count("](") + text.count("] (")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see [it](https://x.org/a b) now", "malformed link '[it](https://x.org/a'"),
        ("[it](https://x.org", "malformed link '[it](https://x.org'"),
        ("[y](javascript:alert(1))", "scheme 'javascript' is not allowed"),
        ("[y](JavaScript:alert(1))", "scheme 'javascript' is not allowed"),
        ("[v](vbscript:x)", "scheme 'vbscript' is not allowed"),
        ("[d](data:text/html,x)", "scheme 'data' is not allowed"),
        ("a ](b) without an opening", None),
        ("[a]\n(b c", None),
        ("[a] (https://x.org/a b", "malformed link '[a] (https://x.org/a'"),
        ("[long](https://x.org/" + "x" * 3000 + ")", "3,014 characters; the limit is 3,000"),
    ],
)
def test_links_left_as_text_are_classified(text: str, expected: str | None) -> None:
    problems = [text_link_problem(link) for link in text_links(text)]
    problems = [p for p in problems if p]
    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's VmHWM")
def test_check_lists_every_hostile_file_once_within_bounds(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_hostile(corpus)
    (corpus / SEED_FILE.name).write_bytes(SEED_FILE.read_bytes())
    code, out, err, peak_kib = run_cli_measured(["check", "--corpus", str(corpus)])
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == len(set(lines)), "a problem printed twice"
    for hostile in HOSTILE:
        expected = f"{corpus / hostile.name}:{hostile.line}: "
        assert any(line.startswith(expected) and hostile.fragment in line for line in lines), (
            hostile.name
        )
    assert err.splitlines() == ["6 playbook(s), 14 section(s): 12 error(s), 5 warning(s)"], (
        err
    )  # the summary only: no log-record copy of the problems
    assert peak_kib < 200 * 1024

    code, out, err, _ = run_cli_measured(["ask", "--json", "--corpus", str(corpus), "pitfalls"])
    assert code == 0
    best = json.loads(out)["results"][0]
    assert (best["playbook"], best["section"]) == ("Regional Innovation Hubs", "Potential pitfalls")
    assert "hubs-bot check" in err  # one summary line points at the problems
