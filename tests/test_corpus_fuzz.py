"""Property: whatever a playbook file holds, loading it raises nothing, the good file beside
it still serves, and every problem names the file it is about.

Hypothesis with a fixed seed (derandomize) and a bounded number of examples, so the suite is
deterministic and quick; the strategies aim at what broke the loader before: keys and values
of every YAML type, JSON/TOML/YAML front matter delimiters, Markdown punctuation soup."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from pathlib import Path
from unittest.mock import patch

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.corpus import front_matter, load_corpus
from bot.corpus.front_matter import WEB_SCHEMES, _load_yaml, _NoAliasLoader, url_problem
from bot.corpus.lint import ALLOWED_LINK_SCHEMES
from bot.corpus.markdown import normalize_link
from bot.corpus.model import Section
from bot.render.mrkdwn import to_units

GOOD = "---\ntitle: Good Playbook\n---\n\n## Key things to know\n\n- fine\n"
FUZZ = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.dates(min_value=date(1900, 1, 1)),
    st.datetimes(min_value=datetime(1900, 1, 1)),
)
keys = st.one_of(
    st.sampled_from(["title", "oneliner", "authors", "stage", "domain", "type", "url", "aliases"]),
    scalars,
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(["name", "link", "url", "x"]), children, max_size=3),
    ),
    max_leaves=12,
)


def _yaml(mapping: dict[object, object]) -> str:
    try:
        return yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, TypeError, ValueError):
        return "title: unrepresentable\n"


structured_front = st.dictionaries(keys, values, max_size=6).map(_yaml)
raw_front = st.lists(
    st.sampled_from(
        [
            *["title: T", "a: &x [1]", "b: *x", "{", "}", '"k": 1,', "- x", "? k", ": v"],
            *["!!set", "\t", "stage: [", "url: javascript:x", "null: 1", "1: 2", "title:", "'"],
        ]
    ),
    max_size=8,
).map("\n".join)
fronts = st.tuples(
    st.sampled_from(["---\n{}\n---\n", "+++\n{}\n+++\n", "{{\n{}\n}}\n", "{}", "---\n{}"]),
    st.one_of(structured_front, raw_front),
).map(lambda pair: pair[0].replace("{}", pair[1], 1) if "{}" in pair[0] else pair[0])
markdown_pieces = st.sampled_from(
    [
        *["## ", "### ", "# ", "- ", "1. ", "> ", "```", "\n", "\n\n", " ", "    ", "text"],
        *["Foo bar", "foo-bar", "!!!", "[", "]", "(", ")", "![", "](", "[a](", "javascript:"],
        *["https://x.org", "data:", "*", "_", "`", "<", ">", "<!channel>", "|", "\\", "&amp;"],
        *["\x00", "\r", "é"],
    ]
)
bodies = st.lists(markdown_pieces, max_size=60).map("".join)


@FUZZ
@given(front=fronts, body=bodies)
def test_no_file_can_take_the_corpus_down(front: str, body: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "good.md").write_text(GOOD, encoding="utf-8")
        fuzzed = root / "fuzzed.md"
        fuzzed.write_text(front + "\n" + body, encoding="utf-8", errors="surrogatepass")
        corpus = load_corpus([root])
        titles = [p.title for p in corpus.playbooks]
        assert "Good Playbook" in titles
        for problem in corpus.problems:
            assert problem.path == fuzzed
            assert problem.line >= 1
            assert str(problem).startswith(f"{fuzzed}:{problem.line}: ")
        keys = [s.key for s in corpus.sections]
        assert len(keys) == len(set(keys))
        for section in corpus.sections:
            assert corpus.section(section.key) is section
            _assert_items_tile_their_section(section)
        for unit in to_units("\n\n".join(s.markdown for s in corpus.sections)):
            assert isinstance(unit, str)  # whatever was served renders


def _assert_items_tile_their_section(section: Section) -> None:
    """Items are spans of their section, in order, and together hold all of its text."""
    assert " ".join(item.text for item in section.items) == section.text
    at = 0
    for item in section.items:
        assert section.markdown.index(item.markdown, at) == item.spans[0]
        at = item.spans[1]
        assert item.markdown == item.markdown.strip()


@FUZZ
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_are_a_problem_of_their_file(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "good.md").write_text(GOOD, encoding="utf-8")
        (root / "bytes.md").write_bytes(data)
        corpus = load_corpus([root])
        assert "Good Playbook" in [p.title for p in corpus.playbooks]
        assert all(problem.path.name == "bytes.md" for problem in corpus.problems)


def _read(load: Callable[[str], object], source: str) -> str:
    """What a loader makes of ``source``, as comparable text (NaN is not equal to itself)."""
    try:
        return repr(load(source))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return f"refused: {getattr(exc, 'problem', None)} at {mark and mark.line}"


@FUZZ
@given(st.one_of(structured_front, raw_front))
def test_libyaml_and_the_python_loader_read_front_matter_alike(source: str) -> None:
    """The fast path (libyaml) may only change speed: the same mapping, or the same refusal
    on the same line."""
    slow = partial(yaml.load, Loader=_NoAliasLoader)
    assert _read(_load_yaml, source) == _read(slow, source)


plain_urls = st.builds(
    "{}{}{}{}{}".format,
    st.sampled_from(["http://", "https://", "HTTPS://", "mailto:", "//", ""]),
    st.text("abcXYZ019.-@[]:", max_size=14),
    st.sampled_from(["", ":80", ":", "::1"]),
    st.sampled_from(["", "/", "?", "#"]),
    st.text("aZ09;/?:@&=+$,-_.!~*'()#%[] é<>", max_size=24),
)


@FUZZ
@given(plain_urls)
def test_skipping_link_normalisation_changes_no_link(url: str) -> None:
    """The shortcut may only skip work: every address comes out as markdown-it makes it."""
    assert normalize_link(url) == MarkdownIt("commonmark").normalizeLink(url)


@FUZZ
@given(plain_urls, st.sampled_from([WEB_SCHEMES, ALLOWED_LINK_SCHEMES]))
def test_skipping_urlsplit_changes_no_verdict(url: str, allowed: frozenset[str]) -> None:
    """A plain http(s) address is taken without urlsplit: only where urlsplit finds nothing
    wrong with it either."""
    with patch.object(front_matter, "PLAIN_WEB_URL", re.compile(r"(?!)")):  # matches nothing
        slow = url_problem(url, allowed)
    assert url_problem(url, allowed) == slow
