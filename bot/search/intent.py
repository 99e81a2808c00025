"""Which kind of section a question asks for: headings, their aliases, and intent cues.

Two tables map phrases to section headings:

* **aliases** are other names of a section (``pitfalls``, ``risks`` → *Potential pitfalls*).
  A question that is only an alias (``/hubs pitfalls``) is answered: it asks for that section.
* **cues** are ways of asking (``should we``, ``is it worth`` → *When to use*; ``what could go
  wrong`` → *Potential pitfalls*; ``who put together`` → *Contributors*). A cue needs a topic
  beside it: "when is the next all-hands" names no playbook and gets no answer.

Matching is on lightly normalised words (plural endings only: Snowball would make
``authority`` an ``author``), longest span first, so a multi-word cue wins over the single
words inside it; the words a matched phrase covers stop counting as topic words, and so do
words about the corpus itself (``page``, ``playbook``, ``section``). This module imports no
numpy: settings reads the default tables from here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.search.tokens import fold, is_stopword, stem, words

MAX_PHRASE_WORDS = 5
PHRASE_CUTOFF = 88.0  # rapidfuzz ratio for a typo'd heading or alias ("pitfals")
CUE_STRENGTH = 0.6  # one word: "problems", "worth", "tried"
PHRASE_CUE_STRENGTH = 0.9  # several: "what could go wrong", "should we", "in what situations"
WEAK_CUE_STRENGTH = 0.5  # one everyday word: "who", "when", "why"
LATER_CUE = 0.85  # a cue for a second kind of section, after the first

DEFAULT_ALIASES: Mapping[str, Sequence[str]] = {
    "Potential pitfalls": (
        *("pitfalls", "pitfall", "risks", "risk", "mistakes", "mistake", "failures"),
        *("failure", "lessons learned", "downsides", "dangers", "traps", "gotchas"),
    ),
    "Case study": ("case study", "case studies", "cases", "example", "examples", "real world"),
    "Further readings": (
        *("further reading", "reading", "readings", "sources", "references", "resources"),
        *("bibliography", "more reading", "reading list"),
    ),
    "Contributors": ("who wrote", "authors", "author", "contributors", "contributed", "written by"),
    "When to use": ("when to use", "use cases", "use case"),
    "Key things to know": (
        *("overview", "basics", "key things", "summary", "introduction", "intro", "tldr"),
        *("essentials", "key facts"),
    ),
}

DEFAULT_CUES: Mapping[str, Sequence[str]] = {
    "Potential pitfalls": (
        *("what could go wrong", "could go wrong", "can go wrong", "go wrong", "goes wrong"),
        *("went wrong", "gone wrong", "watch out", "problems", "problem", "issues"),
        *("drawbacks", "downside", "criticism", "criticisms", "concerns", "fail", "fails"),
        *("failed", "flop", "flopped", "backfire", "unintended consequences", "limitations"),
        *("avoid", "careful", "danger", "weaknesses", "abuse", "gaming", "game the system"),
        *("what stops", "what prevents", "how to prevent", "prevent", "how hard", "hard to"),
        *("difficult", "difficulty", "challenges", "challenge", "obstacles", "collusion"),
        *("never", "doesn t work", "don t work", "didn t work", "struggle", "struggled"),
    ),
    "When to use": (
        *("should we", "should i", "should our", "should the", "should a", "should they"),
        *("is it worth", "worth it", "worth", "does it make sense", "make sense"),
        *("makes sense", "good fit", "good idea", "bad idea", "right for", "right tool"),
        *("when does", "when should", "when is it", "when would", "in what situations"),
        *("which situations", "what situations", "instead of", "rather than"),
        *("appropriate", "suitable", "when to", "why would", "why bother", "when"),
        *("good candidate", "candidate for", "right structure", "right model", "right choice"),
        *("right approach", "right fit", "would it work", "will it work", "could it work"),
    ),
    "Key things to know": (
        *("how does", "how do", "how it works", "what is", "what are", "what exactly"),
        *("explain", "difference between", "different from", "differ", "definition"),
        *("difference", "differences", "the same as", "compare", "compared", "vs", "versus"),
        *("define", "what does", "mean", "means", "primer", "explainer", "in a nutshell"),
        *("mechanism", "came up with", "who invented", "origin", "origins"),
    ),
    "Case study": (
        *("what happened", "happened", "in practice", "track record", "did it work"),
        *("has anyone tried", "anyone tried", "tried", "precedent", "story", "results"),
        *("evidence", "worked", "real example", "for example", "example of"),
        *("how did", "why did", "how was", "did"),
    ),
    "Further readings": (
        *("papers", "paper", "articles", "books", "book", "read more", "learn more"),
        *("where can i read", "citations", "literature", "good reads", "links"),
        *("anything written", "written about", "written on", "is there a paper", "report"),
        *("reports", "overview report", "study on", "studies on"),
    ),
    "Contributors": (
        *("who put together", "put together", "who is behind", "who s behind", "behind this"),
        *("authored", "wrote", "written", "who made", "thanks", "thank", "who"),
    ),
}
# One everyday word is a weaker hint than a phrase, and only where a question starts with it
# ("who wrote…", not "how much say does a manager have over who gets funded").
WEAK_CUES = frozenset({"who", "when", "why", "what is", "what are", "links", "results", "did"})

# Words about the corpus, not topics in it ("who put this page together?").
META_WORDS = frozenset(
    {
        *("page", "pages", "playbook", "playbooks", "section", "sections", "writeup", "doc"),
        *("docs", "document", "article", "entry", "thing", "things", "stuff", "info", "bot"),
        *("actually", "really", "basically", "exactly", "just", "quick", "know"),
        *("general", "work", "works", "one", "ones", "kind", "sort"),
    }
)


# contractions typed without the apostrophe ("whats the difference")
_CONTRACTIONS = {"whats": "what", "hows": "how", "whos": "who", "wheres": "where"}


def light(word: str) -> str:
    """Singular of a plural, nothing more: ``pitfalls`` → ``pitfall``, ``studies`` → ``study``;
    ``whats`` → ``what``."""
    if word in _CONTRACTIONS:
        return _CONTRACTIONS[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def inflection_bases(word: str) -> list[str]:
    """What an -ing or -ed form may be inflected from: ``flopping`` → ``flop``, ``failing`` →
    ``fail``, ``struggling`` → ``struggle``, ``worried`` → ``worry`` (candidates, not one
    answer: the cue table says which exists)."""
    bases: list[str] = []
    for suffix in ("ing", "ed"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            base = word[: -len(suffix)]
            bases.extend((base, base + "e"))
            if base[-1] == base[-2]:  # a doubled consonant: "flopp"
                bases.append(base[:-1])
            if base.endswith("i"):  # "worri"
                bases.append(base[:-1] + "y")
    return bases


def _key(words_: Sequence[str]) -> str:
    return " ".join(light(w) for w in words_)


@dataclass(frozen=True, slots=True)
class Phrase:
    heading: int  # index into PhraseTable.headings
    strength: float
    text: str
    standalone: bool  # a heading or alias: may be the whole question


@dataclass
class Intent:
    """The section kinds a question names, and which of its words did the naming."""

    strength: dict[int, float] = field(default_factory=dict)
    phrase: dict[int, tuple[str, str]] = field(default_factory=dict)
    """heading -> (the strongest heading, alias or cue matched, its span as typed)"""
    standalone: bool = False  # some matched phrase is a heading or alias
    used: set[int] = field(default_factory=set)  # word positions covered by matched phrases

    def add(self, found: Phrase, strength: float, typed: str) -> None:
        """Several phrases for one heading add up like independent evidence (noisy-or):
        "should we … instead of …" asks for *When to use* more surely than either alone."""
        self.standalone |= found.standalone
        before = self.strength.get(found.heading, 0.0)
        if strength > before:
            self.phrase[found.heading] = (found.text, typed)
        self.strength[found.heading] = 1 - (1 - before) * (1 - strength)

    def drop_spans_within(self, stems: set[str]) -> None:
        """Forget intents spelled only with these (playbook-name) words: "open source program
        offices" names a playbook, not *Further readings*."""
        for heading, (_, typed) in list(self.phrase.items()):
            if all(stem(w) in stems for w in typed.split()):
                del self.strength[heading], self.phrase[heading]


def _merged(
    defaults: Mapping[str, Sequence[str]], extra: Mapping[str, Sequence[str]] | None
) -> dict[str, list[str]]:
    table = {heading: list(phrases) for heading, phrases in defaults.items()}
    for heading, phrases in (extra or {}).items():
        table[heading] = [*table.get(heading, []), *phrases]
    return table


class PhraseTable:
    """Headings, aliases and cues, matched against a question's words."""

    def __init__(
        self,
        headings: Sequence[str],
        aliases: Mapping[str, Sequence[str]],
        cues: Mapping[str, Sequence[str]],
    ) -> None:
        keys: dict[str, int] = {}
        for heading in [*headings, *aliases, *cues]:
            keys.setdefault(fold(heading), len(keys))
        self.headings = list(keys)
        phrases: dict[str, Phrase] = {key: Phrase(i, 1.0, key, True) for key, i in keys.items()}
        for table, standalone in ((aliases, True), (cues, False)):
            for canonical, texts in table.items():
                heading = keys[fold(canonical)]
                for text in texts:
                    folded = " ".join(words(text))
                    strength = 1.0 if standalone else CUE_STRENGTH
                    if not standalone and len(folded.split()) > 1:
                        strength = PHRASE_CUE_STRENGTH
                    if folded in WEAK_CUES:
                        strength = WEAK_CUE_STRENGTH
                    if folded:
                        phrases.setdefault(folded, Phrase(heading, strength, folded, standalone))
        self.phrases = phrases
        self.by_key: dict[str, Phrase] = {}
        for text, phrase in phrases.items():  # headings first, then aliases, then cues
            self.by_key.setdefault(_key(text.split()), phrase)
        self.by_length: dict[int, list[str]] = defaultdict(list)
        for text, phrase in phrases.items():
            if phrase.standalone:  # typo tolerance for names, not for everyday cue words
                self.by_length[len(text.split())].append(text)
        self.stems = {stem(w) for text in phrases for w in text.split()}

    @classmethod
    def for_headings(
        cls,
        headings: Sequence[str],
        aliases: Mapping[str, Sequence[str]] | None = None,
        cues: Mapping[str, Sequence[str]] | None = None,
    ) -> PhraseTable:
        """The corpus's headings with the built-in tables plus these additions."""
        return cls(headings, _merged(DEFAULT_ALIASES, aliases), _merged(DEFAULT_CUES, cues))

    def _inflected_cue(self, word: str) -> Phrase | None:
        """A one-word cue in another inflection ("flopping", "failing", "struggling"). Cues
        only: a heading or alias found in a longer word would name a section the question
        does not ask for ("sourcing" is no *Further readings*)."""
        for base in inflection_bases(word):
            found = self.by_key.get(light(base))
            if found is not None and not found.standalone:
                return found
        return None

    def match(self, query_words: Sequence[str]) -> Intent:
        """Longest spans first; a word belongs to at most one phrase. When cues for several
        kinds of section appear, the earlier one counts more ("how does it work in practice"
        asks how it works): each later kind is discounted by LATER_CUE."""
        intent = Intent()
        found_at: list[tuple[int, Phrase, float, str]] = []
        keys = [light(w) for w in query_words]
        longest = min(MAX_PHRASE_WORDS, len(query_words))
        for n in range(longest, 0, -1):
            for start in range(len(query_words) - n + 1):
                positions = set(range(start, start + n))
                if positions & intent.used:
                    continue
                span = " ".join(query_words[start : start + n])
                found = self.by_key.get(" ".join(keys[start : start + n]))
                if found is None and n == 1:
                    found = self._inflected_cue(query_words[start])
                strength = found.strength if found else 0.0
                if found is None and len(span) >= 5 and not all(map(is_stopword, span.split())):
                    match = process.extractOne(
                        span,
                        self.by_length.get(n, ()),
                        scorer=fuzz.ratio,
                        score_cutoff=PHRASE_CUTOFF,
                    )
                    if match:
                        found = self.phrases[match[0]]
                        strength = found.strength * match[1] / 100
                late = any(not is_stopword(w) for w in query_words[:start])
                if found is not None and found.text in WEAK_CUES and late:
                    continue
                if found is not None:
                    found_at.append((start, found, strength, span))
                    intent.used |= positions
        order: dict[int, int] = {}
        for _start, found, strength, span in sorted(found_at, key=lambda f: f[0]):
            rank = order.setdefault(found.heading, len(order))
            discount = 1.0 if found.standalone else LATER_CUE**rank
            intent.add(found, strength * discount, span)
        return intent
