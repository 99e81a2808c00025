"""How common a word is in everyday English, to tell a playbook question from office chatter.

Two decisions need a yardstick outside the corpus, which alone cannot know that "lunch" is a
word and not a typo of "launch", or that "office", "open" and "day" say nothing about
*which* playbook a question is about even when some playbook happens to contain them:

* **not a typo**: a word among the ~20,000 most frequent English words is left as typed;
* **domain weight** of a corpus term: how over-represented it is in the corpus compared with
  English ("weirdness", the log ratio of the two relative frequencies). "lottery" and "patent"
  score high, "office" and "review" low. A question is only answered when one of its words
  clears ``index.DOMAIN_STRONG``, or clears :data:`DOMAIN_MIN` beside another of its words as
  in some playbook (or it names a playbook or a section).

The frequencies come from pyspellchecker's English list (160,000 words counted in film and TV
subtitles, so it is everyday speech, not academic prose), read straight from the file in its
wheel: the spell checker itself is not used. Parsing that JSON and hashing its words takes
~0.2 s, a fifth of a first start on the seeds, so the package ships the result
(``english-frequencies.npz``, loaded in milliseconds) together with the size and checksum of
the list it was made from; an installed list that differs is read the slow way instead.
Regenerate it after upgrading pyspellchecker: ``python -m bot.search.english``.
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import logging
import re
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

COMMON_RANK = 20_000  # words this frequent are real words, never typos
SEEN_LIMIT = 50_000  # words whose count is remembered
# A word the playbooks use once is weak evidence that they are about it: its count is
# discounted (absolute discounting, as in Kneser-Ney smoothing), so "holiday", used once,
# no longer looks specific to a ten-playbook corpus while "grant", used 200 times, barely
# changes. Tuned on the dev questions only: off-topic answered 25 % -> 20 %, top-1 unchanged.
EVIDENCE_DISCOUNT = 0.5
MIN_EVIDENCE = 0.05  # keeps the logarithm finite for a count at or under the discount
DOMAIN_MIN = 2.0  # log ratio: a term at least e^2 ≈ 7x more frequent in the corpus
SNAPSHOT = Path(__file__).with_name("english-frequencies.npz")

log = logging.getLogger(__name__)


class EnglishFrequencies:
    """The whole list in ~2 MB: a sorted array of 64-bit word hashes and their counts (a
    dict of 160,000 words would be ~15 MB in every process)."""

    def __init__(self, keys: np.ndarray, counts: np.ndarray) -> None:
        """``keys``: the words' :func:`word_key`, sorted; ``counts``: each one's count."""
        self._keys = keys
        self._counts = counts
        self.total = int(counts.sum())
        rank = min(COMMON_RANK, len(counts))  # the COMMON_RANK-th largest count
        self._common_count = int(np.partition(counts, len(counts) - rank)[-rank]) if rank else 0
        self._seen: dict[str, int] = {}

    @classmethod
    def from_counts(cls, counts: Mapping[str, int]) -> EnglishFrequencies:
        keys = word_keys(list(counts))
        order = np.argsort(keys)
        values = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
        return cls(keys[order], values[order])

    def __reduce__(self) -> tuple[object, tuple[Any, ...]]:
        """Pickled (in a cached index) as its arrays: 2.6 MB that load in milliseconds, where
        reading and hashing the word list takes 0.3 s of every start. A process that has a
        list already keeps its one copy."""
        return (_restored, (self._keys, self._counts))

    def _lookup(self, word: str) -> int:
        key = np.uint64(word_key(word))
        i = int(np.searchsorted(self._keys, key))
        return int(self._counts[i]) if i < len(self._keys) and self._keys[i] == key else 0

    def count(self, word: str) -> int:
        """How often ``word`` was counted, under its American spelling too: the list is
        American, so "organised" and "labour" would otherwise look like rare jargon.
        Remembered: each lookup is a binary search through numpy, and a question asks for
        each of its words several times."""
        found = self._seen.get(word)
        if found is None:
            found = max(self._lookup(word), self._lookup(american(word)))
            if len(self._seen) >= SEEN_LIMIT:  # questions are outside input: bounded
                self._seen.clear()
            self._seen[word] = found
        return found

    def is_everyday(self, word: str) -> bool:
        """Among the most frequent English words, in either spelling: never a typo."""
        return self.count(word) > self._common_count

    def is_word(self, word: str) -> bool:
        """In the list at all ("enrollment" is; "okr" and "hsinchu" are not)."""
        return self.count(word) > 0

    def domain_weights(
        self, corpus_counts: Mapping[str, int], surfaces: Mapping[str, Iterable[str]]
    ) -> dict[str, float]:
        """Log ratio of each term's corpus frequency to its English frequency. ``surfaces``:
        the words as written that share the term (its stem): "grants", "granted" → "grant"."""
        terms = list(corpus_counts)
        owners, forms = [], []
        for t, term in enumerate(terms):
            for word in surfaces.get(term, ()):
                owners.extend((t, t))
                forms.extend((word, american(word)))
        english = np.zeros(len(terms))
        if forms:  # a word's count under either spelling, summed over the term's words
            per_form = self._counts_of(forms).reshape(-1, 2).max(axis=1)
            np.add.at(english, np.array(owners[::2], dtype=np.int64), per_form)
        corpus = np.fromiter(corpus_counts.values(), dtype=np.float64, count=len(terms))
        total = max(corpus.sum(), 1.0)
        seen = np.maximum(corpus - EVIDENCE_DISCOUNT, MIN_EVIDENCE)
        ratio = (seen / total) / ((english + 1) / max(self.total, 1))
        return dict(zip(terms, np.log(ratio).tolist(), strict=True))

    def _counts_of(self, forms: list[str]) -> np.ndarray:
        keys = word_keys(forms)
        at = np.minimum(np.searchsorted(self._keys, keys), max(len(self._keys) - 1, 0))
        if not len(self._keys):
            return np.zeros(len(forms))
        return np.where(self._keys[at] == keys, self._counts[at], 0).astype(np.float64)


def word_key(word: str) -> int:
    """A stable 64-bit key (two checksums), the same in every process."""
    data = word.encode("utf-8")
    return (zlib.crc32(data) << 32) | zlib.adler32(data)


def word_keys(words: list[str]) -> np.ndarray:
    """:func:`word_key` of each word, the checksums mapped in C: 0.06 s for the whole list
    instead of 0.25 s a word at a time (on every first start, the seeds' included)."""
    data = [word.encode("utf-8") for word in words]
    crc = np.fromiter(map(zlib.crc32, data), dtype=np.uint64, count=len(data))
    adler = np.fromiter(map(zlib.adler32, data), dtype=np.uint64, count=len(data))
    return (crc << np.uint64(32)) | adler


_BRITISH = (
    (re.compile(r"(?<=[a-z]{3})is(e|ed|es|ing|ation|ations)$"), r"iz\1"),
    (re.compile(r"(?<=[a-z]{2})our(s|ed|ing|ful)?$"), r"or\1"),
    (re.compile(r"(?<=[a-z]{2})tre(s)?$"), r"ter\1"),
    (re.compile(r"^programme"), "program"),
)


_BRITISH_HINT = re.compile(r"is|our|tre|programme")


def american(word: str) -> str:
    """The American spelling of a British one ("organised" → "organized"), else the word."""
    if not _BRITISH_HINT.search(word):
        return word
    for pattern, replacement in _BRITISH:
        word = pattern.sub(replacement, word)
    return word


_loaded: EnglishFrequencies | None = None  # this process's one list


def load_english() -> EnglishFrequencies:
    """Read once per process; every index build and reload shares it."""
    global _loaded
    if _loaded is None:
        source = _word_list()
        _loaded = _from_snapshot(SNAPSHOT, _fingerprint(source)) or _from_word_list(source)
    return _loaded


def _word_list() -> bytes:
    """pyspellchecker's list as installed (gzip-compressed JSON, ~1 MB)."""
    return (importlib.resources.files("spellchecker") / "resources" / "en.json.gz").read_bytes()


def _fingerprint(source: bytes) -> np.ndarray:
    return np.array([len(source), zlib.crc32(source)], dtype=np.int64)


def _from_word_list(source: bytes) -> EnglishFrequencies:
    return EnglishFrequencies.from_counts(json.loads(gzip.decompress(source)))


def _from_snapshot(path: Path, fingerprint: np.ndarray) -> EnglishFrequencies | None:
    """The shipped arrays, if they were made from this very list (else None: a different
    pyspellchecker is installed, or the file is missing or unreadable)."""
    try:
        with np.load(path) as snapshot:
            if not np.array_equal(snapshot["source"], fingerprint):
                log.info("english word list differs from the snapshot", extra={"path": str(path)})
                return None
            return EnglishFrequencies(snapshot["keys"], snapshot["counts"].astype(np.int64))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        log.warning("english snapshot unreadable", extra={"path": str(path), "error": str(error)})
        return None


def write_snapshot(path: Path = SNAPSHOT) -> None:
    """Save the installed list's arrays for :func:`load_english` (a maintainer's step after
    upgrading pyspellchecker; a test fails until it is done)."""
    source = _word_list()
    english = _from_word_list(source)
    counts = english._counts
    assert counts.max(initial=0) < 2**32  # stored as 32 bits: the list's largest is ~49 million
    np.savez(path, keys=english._keys, counts=counts.astype(np.uint32), source=_fingerprint(source))


def _restored(keys: np.ndarray, counts: np.ndarray) -> EnglishFrequencies:
    """The list a cached index was built with (the index cache's name covers the word list's
    version), unless this process has one already."""
    global _loaded
    if _loaded is None:
        _loaded = EnglishFrequencies(keys, counts)
    return _loaded


if __name__ == "__main__":
    write_snapshot()
    print(f"wrote {SNAPSHOT}")
