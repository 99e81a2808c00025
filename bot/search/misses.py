"""Why a question got no answer, in words a playbook maintainer can act on.

``hubs-bot stats`` lists unanswered questions; this sorts each into a kind that says what to
do about it (README, *Feedback and content gaps*):

* ``unknown acronym: X`` — a short word the playbooks never use: add it to the ``aliases:`` of
  the playbook it means;
* ``unknown words: a, b`` — topic words the playbooks never use: an alias, or content;
* ``no topic`` — only a way of asking ("when is it?"): nothing to look up;
* ``words not together`` — every word is in the playbooks, but no playbook holds most of them,
  or they are everyday words the playbooks never use side by side (office chatter).

Needs no search index (no numpy): the corpus's words and the phrase tables suffice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.corpus import Corpus
from bot.search.intent import META_WORDS, PhraseTable
from bot.search.names import short_forms
from bot.search.tokens import (
    fold,
    is_stopword,
    join_ampersands,
    stem,
    terms,
    typed_acronyms,
    words,
)


class MissExplainer:
    def __init__(
        self,
        corpus: Corpus,
        aliases: Mapping[str, Sequence[str]] | None = None,
        cues: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._phrases = PhraseTable.for_headings(
            [s.heading for s in corpus.sections], aliases, cues
        )
        self._known = {t for s in corpus.sections for t in terms(f"{s.playbook_title} {s.text}")}
        self._known |= self._phrases.stems
        self._forms = {
            form
            for p in corpus.playbooks
            for name in (p.title, *p.aliases)
            for form in short_forms(name)
        }

    def kind(self, question: str) -> str:
        typed = join_ampersands(question)
        folded = words(question)
        intent = self._phrases.match(folded)
        topic = [
            w
            for i, w in enumerate(folded)
            if i not in intent.used and not is_stopword(w) and w not in META_WORDS
        ]
        if not topic:
            return "no topic"
        unknown = [w for w in topic if stem(w) not in self._known and w not in self._forms]
        unknown_acronyms = [a for a in typed_acronyms(typed) if fold(a) in unknown]
        if unknown_acronyms:
            return "unknown acronym: " + ", ".join(dict.fromkeys(unknown_acronyms))
        if unknown:
            return "unknown words: " + ", ".join(dict.fromkeys(unknown))
        return "words not together"
