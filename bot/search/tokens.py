"""Turning text into search terms: one tokenizer for the corpus and for queries.

Both sides must agree exactly (same case folding, accent stripping, stop words and Snowball
stemmer), so the rules live in one place.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

# Words that carry no meaning in a question to a bot; on top of the usual English list.
EXTRA_STOPWORDS = frozenset({"tell", "show", "please", "give", "find", "anything", "something"})
STOPWORDS = frozenset(STOPWORDS_EN_PLUS) | EXTRA_STOPWORDS

_WORD = re.compile(r"[^\W_]+")
_AMPERSAND = re.compile(r"\b(\w)\s*&\s*(\w)\b")
_STEMMER = Stemmer.Stemmer("english")


def fold(text: str) -> str:
    """Case-fold and strip accents, so ``Zürich`` and ``zurich`` are one word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def join_ampersands(text: str) -> str:
    """``R&D`` → ``RD``, ``M&A`` → ``MA``: one token, as the acronym is said."""
    return _AMPERSAND.sub(r"\1\2", text)


def words(text: str) -> list[str]:
    """All words, folded, in order (stop words included). ``R&D`` and ``M&A`` are one word
    each (``rd``, ``ma``), as they are said."""
    return _WORD.findall(join_ampersands(fold(text)))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word)


def is_stopword(word: str) -> bool:
    return word in STOPWORDS


def terms(text: str) -> list[str]:
    """Search terms: words minus stop words, stemmed."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]
