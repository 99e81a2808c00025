"""What people call a playbook: its title words, aliases, acronyms and short forms.

Acronyms and short forms are derived from every title and alias, never listed by hand:

* initials of the whole name and of every run of two or more of its words, stop words skipped
  (*Small Business Innovation Research* → ``sbir``; *ARPA-Style Program Managers* → ``pm``,
  ``aspm``…; *Research and Development Tax Credits* → ``rd``, ``rdtc``…), each also with a
  plural ``s`` (``trls``, ``fros``);
* the first three or more letters of a long name word as people clip it (``lab``/``labs`` for
  *Laboratories*): a clipping counts as that title word when no other playbook uses it as a
  word of its own (``read`` is not *Readiness* when other playbooks say "read").

A form derived for two playbooks is ambiguous and names neither: it narrows to nothing
rather than to the wrong playbook. A form that more than a third of the playbooks use as an
ordinary word (``R&D`` in a corpus about research funding) names none either.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence

from bot.corpus import Playbook
from bot.search.tokens import fold, is_stopword, stem, terms, words

MIN_CLIPPING = 3
MAX_INITIALS_WORDS = 6


def _name_words(name: str) -> list[str]:
    return [w for w in words(name) if not is_stopword(w)]


def short_forms(name: str) -> set[str]:
    """Acronyms and plural acronyms of a playbook name (folded)."""
    name_words = _name_words(name)
    forms: set[str] = set()
    for size in range(2, min(len(name_words), MAX_INITIALS_WORDS) + 1):
        for start in range(len(name_words) - size + 1):
            initials = "".join(w[0] for w in name_words[start : start + size])
            if not is_stopword(initials):
                forms.update((initials, initials + "s"))
    return {f for f in forms if not is_stopword(f)}


def clippings(name: str) -> dict[str, str]:
    """Clipped word → the name word it shortens (``labs`` → ``laboratories``): prefixes of at
    least three letters that leave at least three out."""
    found: dict[str, str] = {}
    for word in _name_words(name):
        for end in range(MIN_CLIPPING, len(word) - 2):
            clip = word[:end]
            for form in (clip, clip + "s"):
                if not is_stopword(form):
                    found.setdefault(form, word)
    return found


class PlaybookNames:
    """Maps question words to the playbooks they name."""

    def __init__(
        self,
        playbooks: Sequence[Playbook],
        uses: Callable[[int, str], bool],
        playbooks_using: Mapping[str, int],
    ) -> None:
        """``uses(p, term)``: whether playbook ``p`` uses a search term (a stem);
        ``playbooks_using``: how many playbooks use a term. Together they tell a clipping
        from a word others use."""
        self.title_terms: list[set[str]] = []
        self._by_title_term: dict[str, list[int]] = defaultdict(list)
        owners: dict[str, set[int]] = defaultdict(set)
        clipped: dict[str, set[str]] = defaultdict(set)  # clipping -> title stems it stands for
        for p, playbook in enumerate(playbooks):
            names = [playbook.title, *playbook.aliases]
            title_terms = {t for name in names for t in terms(name)}
            self.title_terms.append(title_terms)
            for term in title_terms:
                self._by_title_term[term].append(p)
            for name in names:
                for form in short_forms(name):
                    owners[form].add(p)
                for clip, word in clippings(name).items():
                    clip_stem = stem(clip)
                    # a word of no other playbook: none uses it, or only this one
                    using = playbooks_using.get(clip_stem, 0)
                    if using == 0 or (using == 1 and uses(p, clip_stem)):
                        clipped[clip_stem].add(stem(word))
        # a form most playbooks use as a word ("R&D") is vocabulary, not a name
        common = max(2, len(playbooks) // 3)
        for form in list(owners):
            if playbooks_using.get(stem(form), 0) > common:
                del owners[form]
        self.forms: dict[str, int] = {  # unambiguous acronyms only
            form: next(iter(ps)) for form, ps in owners.items() if len(ps) == 1
        }
        # an acronym of several playbooks names none of them, but it is no topic word either
        self.ambiguous = frozenset(form for form, ps in owners.items() if len(ps) > 1)
        self._clipped = {clip: stems for clip, stems in clipped.items() if len(stems) == 1}

    @property
    def known_words(self) -> set[str]:
        """Words typo correction must leave alone (``fros`` is not a typo of ``from``)."""
        return set(self.forms) | self.ambiguous

    def named_by_forms(self, query_words: Iterable[str]) -> dict[int, list[str]]:
        """Playbook → the acronyms or short forms of it the question used."""
        found: dict[int, list[str]] = defaultdict(list)
        for word in query_words:
            if (p := self.forms.get(fold(word))) is not None:
                found[p].append(word)
        return dict(found)

    def title_hits(self, content: Iterable[str]) -> dict[int, dict[str, str]]:
        """Playbook → {title stem: question stem} for the title words the question contains,
        as written or clipped (``lab`` for ``laboratori``)."""
        hits: dict[int, dict[str, str]] = defaultdict(dict)
        for term in set(content):
            title_stems = {term} if term in self._by_title_term else self._clipped.get(term, ())
            for title_stem in title_stems:
                for p in self._by_title_term.get(title_stem, ()):
                    hits[p][title_stem] = term
        return dict(hits)
