"""Broken playbooks are reported as path:line and never take the rest of the corpus down."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.corpus import MAX_FILE_BYTES, Problem, iter_corpus_files, load_corpus
from tests.conftest import SEED_FILE, WritePlaybook

GOOD = """
---
title: Good Playbook
---

## Key things to know

- A fine bullet with a [link](https://example.com/good)
"""


def problems_for(write_playbook: WritePlaybook, name: str, content: str | bytes) -> list[Problem]:
    write_playbook("good.md", GOOD)
    write_playbook(name, content)
    corpus = load_corpus([write_playbook.root])  # type: ignore[attr-defined]
    assert "Good Playbook" in [p.title for p in corpus.playbooks]  # the rest still serves
    return [p for p in corpus.problems if p.path.name == name]


@pytest.mark.parametrize(
    ("content", "line", "fragment"),
    [
        pytest.param(
            "---\ntitle: Broken\nstage: [a, b\n---\n\n## S\n\ntext\n",
            4,
            "front matter is not valid YAML",
            id="unparseable-yaml",
        ),
        pytest.param("---\noneliner: x\n---\n\n## S\n\ntext\n", 1, "missing title", id="no-title"),
        pytest.param(
            "---\ntitle: T\n---\n\nJust prose, no sections.\n", 4, "no `##` sections", id="none"
        ),
        pytest.param(
            "---\ntitle: T\n---\n\n## Empty\n\n## Full\n\ntext\n", 5, "empty section", id="empty"
        ),
        pytest.param(
            "---\ntitle: T\n---\n\n## Same\n\na\n\n## Same\n\nb\n",
            9,
            "duplicate heading 'Same' (first at line 5",
            id="duplicate-heading",
        ),
        pytest.param(
            "---\ntitle: T\n---\n\n## S\n\nSee [the report](https://example.com/a b) now.\n",
            7,
            "malformed link",
            id="malformed-link",
        ),
        pytest.param(
            "---\ntitle: T\n---\n\n## S\n\nClick [here](javascript:alert(1)).\n\n"
            "And [there](https:///nohost).\n",
            9,
            "bad link 'https:///nohost': no host",
            id="bad-link",
        ),
        pytest.param(
            b"---\ntitle: T\n---\n\n## S\n\nok\n\n" + b"caf\xe9 au lait\n",
            9,
            "not UTF-8",
            id="not-utf8",
        ),
        pytest.param(
            "---\ntitle: T\n---\n\n## S\n\n" + "x" * (MAX_FILE_BYTES + 1),
            1,
            "the limit is 1,000,000",
            id="too-big",
        ),
        pytest.param(
            "---\ntitle: T\n\n## S\n\ntext\n", 1, "not closed", id="unclosed-front-matter"
        ),
    ],
)
def test_each_problem_kind_has_its_line(
    write_playbook: WritePlaybook, content: str | bytes, line: int, fragment: str
) -> None:
    found = problems_for(write_playbook, "broken.md", content)
    assert any(p.line == line and fragment in p.message for p in found), [str(p) for p in found]
    assert all(str(p).startswith(f"{p.path}:{p.line}: ") for p in found)


def test_a_broken_section_does_not_drop_the_file(write_playbook: WritePlaybook) -> None:
    write_playbook(
        "partial.md",
        """
        ---
        title: Partial
        ---

        ## Empty

        ## Useful

        Still served.
        """,
    )
    corpus = load_corpus([write_playbook.root])  # type: ignore[attr-defined]
    (playbook,) = corpus.playbooks
    assert [s.heading for s in playbook.sections] == ["Useful"]
    assert [str(p).split(": ", 1)[1] for p in corpus.problems] == [
        "error: empty section 'Empty' (skipped)"
    ]


def test_title_falls_back_to_h1_and_extra_keys_warn(write_playbook: WritePlaybook) -> None:
    write_playbook(
        "h1.md",
        """
        ---
        colour: blue
        stage: Catalytic, Growth
        authors: Ada Lovelace,
        ---

        # From The Heading

        ## Notes

        text
        """,
    )
    corpus = load_corpus([write_playbook.root])  # type: ignore[attr-defined]
    (playbook,) = corpus.playbooks
    assert playbook.title == "From The Heading"
    assert playbook.stage == ("Catalytic", "Growth")
    assert [a.name for a in playbook.authors] == ["Ada Lovelace"]
    assert corpus.errors == ()
    assert [p.severity for p in corpus.problems] == ["warning"]


def test_duplicate_titles_keep_one(write_playbook: WritePlaybook) -> None:
    write_playbook("a.md", GOOD)
    write_playbook("b.md", GOOD)
    corpus = load_corpus([write_playbook.root])  # type: ignore[attr-defined]
    assert len(corpus.playbooks) == 1
    assert "duplicate playbook title" in corpus.problems[0].message


def test_missing_directory_is_reported(tmp_path: Path) -> None:
    corpus = load_corpus([tmp_path / "nope", SEED_FILE.parent])
    assert len(corpus.playbooks) == 1
    assert corpus.errors[0].message == "corpus directory does not exist"


def test_subsections_become_items(write_playbook: WritePlaybook) -> None:
    write_playbook(
        "subs.md",
        """
        ---
        title: Subs
        ---

        ## Case study

        ### Boston

        Biotech grew around MIT.

        ### Shenzhen

        Hardware grew around the electronics markets.
        """,
    )
    section = load_corpus([write_playbook.root]).sections[0]  # type: ignore[attr-defined]
    assert [(i.kind, i.title, i.slug) for i in section.items] == [
        ("subsection", "Boston", "boston"),
        ("subsection", "Shenzhen", "shenzhen"),
    ]
    assert section.items[1].line == 11
    assert "electronics markets" in section.items[1].text


def test_corpus_files_are_every_markdown_file_below_sorted_by_path(tmp_path: Path) -> None:
    """Hidden files and directories (a Git checkout's `.git`) are skipped, links to
    directories are not followed (no loops, nothing from outside), a dangling link is no
    file, and a directory named `*.md` is searched, not read."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    for directory in (root / "b", root / "a-z", root / ".git", root / "notes.md", outside):
        directory.mkdir(parents=True)
    for path in (
        root / "b" / "two.md",
        root / "a-z" / "one.md",
        root / "top.md",
        root / "readme.txt",
        root / ".draft.md",
        root / ".git" / "config.md",
        root / "notes.md" / "inside.md",
        outside / "elsewhere.md",
    ):
        path.write_text("x")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "dangling.md").symlink_to(tmp_path / "missing.md")
    (root / "alias.md").symlink_to(outside / "elsewhere.md")
    found = [path.relative_to(root).as_posix() for path in iter_corpus_files([root])]
    assert found == ["a-z/one.md", "alias.md", "b/two.md", "notes.md/inside.md", "top.md"]
    assert list(iter_corpus_files([root / "top.md"])) == [root / "top.md"]
