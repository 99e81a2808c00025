"""Every section's words as numbers, read on two cores when the corpus is large.

Reading words (the tokenizer's regular expression, a lookup per word) is the largest part of
an index build: ~3.5 s at 10,000 playbooks, on one core while the other idles. Past
:data:`HELPER_MIN_SECTIONS`, a forked helper reads the second half of the sections while this
process reads the first. The helper numbers its words itself, in the order it meets them,
and sends back the distinct words and one array of numbers; this process then looks up only
those distinct words (~40,000 at 10,000 playbooks, against 3 million words in the half). Terms
are still numbered in the order the corpus first uses them, so the index is the same as one
read on one core (``tests/test_search.py`` holds the two equal).

The helper is forked only while this process runs no other thread (a fork would copy their
locks mid-use: a reload beside the request threads reads on one core), and anything that goes
wrong with it — it fails, dies or sends nothing — leaves its half to be read here.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from bot.corpus import Section
from bot.corpus.parallel import may_fork
from bot.search.tokens import words

log = logging.getLogger(__name__)

WORDS_PER_CHUNK = 1 << 16  # words held as strings at once while reading
HELPER_MIN_SECTIONS = 4_000  # fewer take ~0.2 s to read: not worth a fork


class SectionWords(NamedTuple):
    ids: np.ndarray  # every segment's words, as numbers, end to end
    lengths: list[int]  # each segment's word count: per section its head, then each item
    items: list[int]  # each section's number of items


class _Numbers(dict[str, int]):
    """Word → its number, the next one for a word not met before (the helper's)."""

    def __missing__(self, word: str) -> int:
        number = self[word] = len(self)
        return number


def read_words(sections: Sequence[Section], numbers: dict[str, int]) -> SectionWords:
    """The sections' words, each looked up in ``numbers`` (a dict that fills itself in):
    a section's head is its playbook's title and its heading twice, then come its items.
    Looked up in C (``map`` over a chain of many sections' words), and held as strings a
    chunk at a time, never all at once (at 10,000 playbooks that was 6 million strings,
    and a master whose heap grew by that much kept the pages)."""
    chunks: list[np.ndarray] = []
    lengths: list[int] = []
    items: list[int] = []
    segments: list[list[str]] = []  # the current chunk's, as words
    held = 0

    def look_up_chunk() -> None:
        counts = list(map(len, segments))
        every_word = itertools.chain.from_iterable(segments)
        chunks.append(np.fromiter(map(numbers.__getitem__, every_word), np.int32, sum(counts)))
        lengths.extend(counts)
        segments.clear()

    for section in sections:
        heading = words(section.heading)
        segments.append([*words(section.playbook_title), *heading, *heading])
        held += len(segments[-1])
        text = section.text
        for _kind, title, _slug, _line, _links, spans in section.item_rows:
            segments.append(words(searchable_text(title, text[spans[2] : spans[3]])))
            held += len(segments[-1])
        items.append(len(section.item_rows))
        if held >= WORDS_PER_CHUNK:
            look_up_chunk()
            held = 0
    look_up_chunk()
    return SectionWords(np.concatenate(chunks), lengths, items)


def read_all(sections: Sequence[Section], numbers: dict[str, int]) -> SectionWords:
    """:func:`read_words` of every section, the second half read by a forked helper when
    the corpus is large enough and this process runs no other thread."""
    half = len(sections) // 2
    if len(sections) < HELPER_MIN_SECTIONS or not may_fork():
        return read_words(sections, numbers)
    helper = _Helper(sections[half:])
    try:
        first = read_words(sections[:half], numbers)
    except BaseException:
        helper.abandon()
        raise
    second = helper.result(numbers)
    if second is None:
        second = read_words(sections[half:], numbers)
    return SectionWords(
        np.concatenate([first.ids, second.ids]),
        first.lengths + second.lengths,
        first.items + second.items,
    )


class _Helper:
    """A forked process reading some sections' words, numbering them itself; its result
    comes back pickled through a pipe."""

    def __init__(self, sections: Sequence[Section]) -> None:
        read_end, write_end = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:  # the helper
            os.close(read_end)
            code = 1
            try:
                numbers = _Numbers()
                found = read_words(sections, numbers)
                message = pickle.dumps((list(numbers), found), protocol=5)
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(message)
                code = 0
            except BaseException:  # not logged from a fork (a lock may be held): the parent says
                pass
            finally:
                os._exit(code)
        os.close(write_end)
        self._pipe = os.fdopen(read_end, "rb")

    def abandon(self) -> None:
        """Stop waiting for it: with the pipe closed, its write fails and it exits (it
        would otherwise block on a full pipe for ever)."""
        self._pipe.close()
        os.waitpid(self._pid, 0)

    def result(self, numbers: dict[str, int]) -> SectionWords | None:
        """The helper's words, renumbered through ``numbers`` (its distinct words in the
        order it met them, so terms keep the corpus's order); None when it failed."""
        try:
            with self._pipe as pipe:
                message = pipe.read()
        finally:
            _pid, status = os.waitpid(self._pid, 0)
        if os.waitstatus_to_exitcode(status) != 0 or not message:
            log.warning("the word-reading helper failed; reading its half here")
            return None
        met, found = pickle.loads(message)
        table = np.fromiter(map(numbers.__getitem__, met), np.int32, len(met))
        return SectionWords(table[found.ids], found.lengths, found.items)


def searchable_text(title: str | None, text: str) -> str:
    """An item's words (its title and its text), each once: a bullet's bold lead is both its
    title and part of its text, a topic's lead line only its title. Together a section's items
    hold exactly the words of its text (``tests/test_search.py`` checks it on every corpus the
    tests load)."""
    if not title or title in text:
        return text
    return f"{title} {text}"
