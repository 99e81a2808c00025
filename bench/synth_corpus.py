"""A reproducible synthetic playbook corpus, shaped like the real one, for benchmarks.

Each playbook has the seed's front matter and six ``##`` sections with bullets, nested bullets,
links, prose and a lead-line pitfall. Words come from the seed playbook plus generated
pseudo-words drawn with a Zipf-like skew, so the vocabulary grows with the corpus as a real
one does (Heaps' law) instead of staying at the seed's few hundred words.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

SEED = Path(__file__).resolve().parent.parent / "seeds" / "regional-innovation-hubs.md"
SYLLABLES = ("ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "dan", "sor", "lin", "tek")


def _seed_words() -> list[str]:
    return sorted(set(re.findall(r"[a-z]{3,}", SEED.read_text(encoding="utf-8").lower())))


class WordSource:
    def __init__(self, rng: random.Random, pseudo_words: int) -> None:
        self.rng = rng
        self.common = _seed_words()
        self.rare = sorted(
            {
                "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
                for _ in range(pseudo_words)
            }
        )

    def word(self) -> str:
        if self.rng.random() < 0.7:
            return self.rng.choice(self.common)
        # Zipf-ish: low indices far more often, the long tail still appears
        index = int(len(self.rare) * self.rng.random() ** 3)
        return self.rare[min(index, len(self.rare) - 1)]

    def sentence(self, n: int) -> str:
        words = [self.word() for _ in range(n)]
        return " ".join(words).capitalize() + "."


def playbook_markdown(words: WordSource, number: int) -> str:
    rng = words.rng
    title = f"{words.word().title()} {words.word().title()} Playbook {number}"

    def link() -> str:
        return f"[{words.word()} {words.word()}](https://example.org/{number}/{words.word()})"

    def bullets(count: int) -> str:
        lines = []
        for _ in range(count):
            lines.append(f"- {words.sentence(rng.randint(8, 20))} {link()}")
            lines.extend(
                f"  - {words.sentence(rng.randint(5, 12))}" for _ in range(rng.randint(0, 2))
            )
        return "\n".join(lines)

    def prose(count: int) -> str:
        return "\n\n".join(
            " ".join(words.sentence(rng.randint(10, 25)) for _ in range(rng.randint(2, 4)))
            for _ in range(count)
        )

    return f"""---
title: {title}
oneliner: "{words.sentence(6)}"
authors:
  - name: Author {number},
stage: [Catalytic, Growth]
domain: [Policy]
type: [Funding]
---

## Contributors

{prose(1)} {link()}

## Key things to know

{bullets(rng.randint(3, 6))}

## When to use

{prose(2)}

{bullets(2)}

## Case study

{prose(rng.randint(2, 5))}

## Potential pitfalls

{words.word().title()} {words.word()} {words.word()} across the world

{prose(rng.randint(1, 3))}

## Further readings

{chr(10).join(f"- {link()}" for _ in range(rng.randint(3, 7)))}
"""


def write_corpus(directory: Path, playbooks: int, seed: int = 42) -> Path:
    """Write ``playbooks`` files into ``directory`` (created); same seed, same bytes."""
    rng = random.Random(seed)
    words = WordSource(rng, pseudo_words=200 + 60 * playbooks)
    directory.mkdir(parents=True, exist_ok=True)
    for number in range(playbooks):
        (directory / f"playbook-{number:04d}.md").write_text(
            playbook_markdown(words, number), encoding="utf-8"
        )
    return directory
