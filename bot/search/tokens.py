"""Turning text into search terms: one tokenizer for the corpus and for queries.

Both sides must agree exactly (same case folding, accent stripping, stop words and Snowball
stemmer), so the rules live in one place.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import Stemmer


def _bm25s_stopwords() -> tuple[str, ...]:
    """bm25s's English list, read from its data module without importing the bm25s package
    (which loads numpy and scipy: 0.2 s and 27 MB that `check`, `stats` and `digest` never
    need)."""
    package = importlib.util.find_spec("bm25s")
    if package is None or package.origin is None:
        raise ImportError("bm25s is not installed")
    path = Path(package.origin).parent / "stopwords.py"
    spec = importlib.util.spec_from_file_location("_bm25s_stopwords", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return tuple(module.STOPWORDS_EN_PLUS)


# Words that carry no meaning in a question to a bot; on top of the usual English list.
EXTRA_STOPWORDS = frozenset({"tell", "show", "please", "give", "find", "anything", "something"})
# Contractions typed without the apostrophe, as chat often is ("whats", "dont"): with it, the
# list already drops both halves ("don", "t"); without it, each was a rare word the playbooks
# lack and counted against every section's coverage.
CONTRACTIONS = frozenset(
    {
        *("whats", "hows", "whos", "wheres", "whens", "thats", "theres", "heres", "im"),
        *("ive", "youre", "youve", "theyre", "theyve", "weve", "dont", "doesnt", "didnt"),
        *("isnt", "arent", "wasnt", "werent", "cant", "couldnt", "wont", "wouldnt"),
        *("shouldnt", "hasnt", "havent", "hadnt", "gonna", "wanna"),
    }
)
# Chat filler: greetings, shorthand and hedges that say nothing about the topic ("hey", "pls",
# "ppl", "w/" for "with", "u" for "you"); as words the playbooks lack, each counted against
# every section's coverage.
CHAT_FILLER = frozenset(
    {
        *("hey", "hi", "hello", "pls", "plz", "ppl", "tbh", "imo", "imho", "btw", "fyi"),
        *("lol", "u", "ur", "w", "thx", "yo", "ok", "okay", "yeah", "yep", "nah", "tho"),
        *("thru", "kinda", "sorta"),
    }
)
STOPWORDS = frozenset(_bm25s_stopwords()) | EXTRA_STOPWORDS | CONTRACTIONS | CHAT_FILLER

_WORD = re.compile(r"[^\W_]+")
# the same on ASCII text, without the Unicode category lookups: twice as fast, and most
# playbook text is ASCII (tests/test_search.py holds the two to the same words)
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")
_AMPERSAND = re.compile(r"\b(\w)\s*&\s*(\w)\b")
_STEMMER = Stemmer.Stemmer("english")


class _WithoutMarks(dict[int, int | None]):
    """A ``str.translate`` table that deletes combining marks, filled in as characters are
    met: each distinct character is looked up once, and the per-character work is C's (a
    Python loop over every character was half of an index build)."""

    def __missing__(self, code: int) -> int | None:
        value = None if unicodedata.combining(chr(code)) else code
        self[code] = value
        return value


_WITHOUT_MARKS = _WithoutMarks()


def fold(text: str) -> str:
    """Case-fold and strip accents, so ``Zürich`` and ``zurich`` are one word. Idempotent:
    compatibility decomposition can itself produce capitals (``🄐`` → ``(A)``), so it comes
    before the case fold."""
    if text.isascii():
        return text.lower()  # what NFKD and casefold do to ASCII
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return decomposed if decomposed.isascii() else decomposed.translate(_WITHOUT_MARKS)


_TYPED_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,7}s?\b")


def typed_acronyms(text: str) -> list[str]:
    """The words typed in capitals ("PTO", "QBRs"), as typed, each once, in order; none in a
    text typed all in capitals (shouting is no acronym). One definition for the search (an
    acronym is never a typo) and for the reasons a question went unanswered."""
    if text.isupper():
        return []
    return list(dict.fromkeys(_TYPED_ACRONYM.findall(text)))


def join_ampersands(text: str) -> str:
    """``R&D`` → ``RD``, ``M&A`` → ``MA``: one token, as the acronym is said."""
    return _AMPERSAND.sub(r"\1\2", text) if "&" in text else text


def words(text: str) -> list[str]:
    """All words, folded, in order (stop words included). ``R&D`` and ``M&A`` are one word
    each (``rd``, ``ma``), as they are said."""
    folded = join_ampersands(fold(text))
    return (_ASCII_WORD if folded.isascii() else _WORD).findall(folded)


_VOWELS = frozenset("aeiouy")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball's stem; and an acronym's plural is its singular ("trls", "stps", "pms"):
    Snowball keeps the ``s`` of a word with no vowel before it."""
    found = _STEMMER.stemWord(word)
    if (
        found == word
        and len(word) >= 3
        and word[-1] == "s"
        and word[-2] != "s"
        and _VOWELS.isdisjoint(word[:-1])
    ):
        return word[:-1]
    return found


def is_stopword(word: str) -> bool:
    return word in STOPWORDS


def terms(text: str) -> list[str]:
    """Search terms: words minus stop words, stemmed."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]
