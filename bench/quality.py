"""Search quality on the project's own evaluation set (bench/quality/): top-1, top-3, MRR and
how often an off-topic question gets an answer, per split and per question kind, beside a
plain BM25 baseline computed in the same run.

    python bench/quality.py                 # both splits, markdown tables
    python bench/quality.py --misses        # also list the dev questions answered wrongly

The corpus is the seed plus twelve playbooks in its format (bench/quality/corpus/); the
questions (bench/quality/questions/<playbook>.csv, one file per playbook, plus off-topic.csv)
were written by people who had not read the search code. A question that only makes sense
inside a conversation ("who put this page together?") carries that conversation in a
`context` column and is searched as a mention in such a thread is (the thread's first message
as context); the BM25 floor gets the same text. split.toml assigns whole playbooks to
dev or held-out: tune on dev only. `--misses` refuses to print held-out misses, on purpose.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tomllib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import bm25s
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.corpus import Corpus, load_corpus, slugify  # noqa: E402
from bot.search import Index  # noqa: E402
from bot.search.tokens import terms  # noqa: E402

QUALITY = ROOT / "bench" / "quality"
OFF_TOPIC = "off-topic"
KINDS = ("keywords", "question", "typo", "acronym", "decision", "example", "paraphrase")
DEPTH = 10  # ranks looked at for MRR


class Ranking(NamedTuple):
    ranked: list[str]  # section keys, best first ([] = no match)
    suggested: tuple[str, ...] = ()  # after a miss, those offered instead ("Try one of these")


Ranker = Callable[[str, str], Ranking]  # (question, thread context) -> its ranking


@dataclass(frozen=True)
class Question:
    text: str
    expected: str | None  # section key; None = the right answer is "no match"
    kind: str
    split: str
    context: str = ""  # asked inside a thread about this ("who put this page together?")


def load_questions(root: Path = QUALITY) -> list[Question]:
    split = tomllib.loads((root / "split.toml").read_text())
    split_of = dict.fromkeys(split["dev"], "dev") | dict.fromkeys(split["held_out"], "held-out")
    questions = []
    for path in sorted((root / "questions").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        for n, row in enumerate(rows):
            if path.stem == OFF_TOPIC:  # alternating, unless the row names its split
                split_of_row = row.get("split") or ("dev" if n % 2 == 0 else "held-out")
                questions.append(Question(row["question"], None, OFF_TOPIC, split_of_row))
            else:
                key = f"{path.stem}#{slugify(row['section'])}"
                questions.append(
                    Question(
                        row["question"],
                        key,
                        row["kind"],
                        split_of[path.stem],
                        row.get("context") or "",
                    )
                )
    return questions


def hubs_index(corpus: Corpus, semantic: bool = False) -> Index:
    embedder = None
    if semantic:
        from bot.search.semantic import load_embedder

        embedder = load_embedder()
    return Index(corpus, embedder=embedder)


def hubs_ranker(corpus: Corpus, semantic: bool = False) -> Ranker:
    index = hubs_index(corpus, semantic)

    def rank(question: str, context: str) -> Ranking:
        response = index.search(question, limit=DEPTH, context=context)
        return Ranking(
            [r.section.key for r in response.results], tuple(s.key for s in response.suggestions)
        )

    return rank


def bm25_ranker(corpus: Corpus) -> Ranker:
    """The floor: BM25 over title + heading + body with the same stemmed tokens, no typo
    correction, no intent, no threshold beyond "some term matched"."""
    keys = [s.key for s in corpus.sections]
    docs = [terms(f"{s.playbook_title} {s.heading} {s.text}") or [""] for s in corpus.sections]
    model = bm25s.BM25()
    model.index(docs, show_progress=False)
    known = {t for doc in docs for t in doc}

    def rank(question: str, context: str) -> Ranking:
        query = [t for t in terms(f"{context} {question}") if t in known]
        if not query:
            return Ranking([])
        scores = model.get_scores(query)
        order = np.argsort(-scores, kind="stable")[:DEPTH]
        return Ranking([keys[i] for i in order if scores[i] > 0])

    return rank


@dataclass
class Tally:
    n: int = 0
    top1: int = 0
    top3: int = 0
    reciprocal: float = 0.0
    answered: int = 0  # off-topic questions that got an answer
    unanswered: int = 0  # on-topic questions that got "no match"...
    suggested: int = 0  # ...with the right section among the sections offered instead

    def add(self, question: Question, ranking: Ranking) -> None:
        ranked = ranking.ranked
        self.n += 1
        if question.expected is None:
            self.answered += bool(ranked)
            return
        if not ranked:
            self.unanswered += 1
            self.suggested += question.expected in ranking.suggested
        if ranked[:1] == [question.expected]:
            self.top1 += 1
        if question.expected in ranked[:3]:
            self.top3 += 1
        if question.expected in ranked:
            self.reciprocal += 1 / (ranked.index(question.expected) + 1)

    def row(self) -> tuple[str, str, str]:
        if not self.n:
            return "–", "–", "–"
        return (
            f"{100 * self.top1 / self.n:.1f}",
            f"{100 * self.top3 / self.n:.1f}",
            f"{self.reciprocal / self.n:.3f}",
        )


def evaluate(questions: Sequence[Question], ranker: Ranker) -> dict[str, Tally]:
    """Tallies by kind, plus "all" (on-topic questions) and "off-topic"."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    for question in questions:
        ranking = ranker(question.text, question.context)
        tallies[question.kind].add(question, ranking)
        if question.expected is not None:
            tallies["all"].add(question, ranking)
    return tallies


def table(split: str, ours: dict[str, Tally], floor: dict[str, Tally]) -> str:
    lines = [
        f"**{split}** ({ours['all'].n} questions + {ours[OFF_TOPIC].n} off-topic)",
        "",
        "| kind | n | top-1 | top-3 | MRR | BM25 top-1 | BM25 top-3 | BM25 MRR |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in ("all", *KINDS):
        if kind in ours:
            lines.append(
                f"| {kind} | {ours[kind].n} | "
                + " | ".join(ours[kind].row())
                + " | "
                + " | ".join(floor[kind].row())
                + " |"
            )
    off, off_floor = ours[OFF_TOPIC], floor[OFF_TOPIC]
    lines.append(
        f"| off-topic answered (lower is better) | {off.n} | "
        f"{100 * off.answered / max(off.n, 1):.1f}% | | | "
        f"{100 * off_floor.answered / max(off_floor.n, 1):.1f}% | | |"
    )
    every = ours["all"]
    lines.append(
        f"\nNo answer for {every.unanswered} of {every.n} questions; for {every.suggested} of them "
        "the right section was among the three the reply offers instead."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list dev questions answered wrong")
    parser.add_argument("--dev", action="store_true", help="dev split only (while tuning)")
    parser.add_argument(
        "--semantic", action="store_true", help="with the semantic extra (WordLlama) on"
    )
    args = parser.parse_args()
    corpus = load_corpus([QUALITY / "corpus"])
    if corpus.errors:
        raise SystemExit("\n".join(map(str, corpus.errors)))
    questions = load_questions()
    ours, floor = hubs_ranker(corpus, args.semantic), bm25_ranker(corpus)
    print(f"{len(corpus.playbooks)} playbooks, {len(corpus.sections)} sections\n")
    for split in ("dev",) if args.dev else ("dev", "held-out"):
        chosen = [q for q in questions if q.split == split]
        print(table(split, evaluate(chosen, ours), evaluate(chosen, floor)), end="\n\n")
    if args.misses:
        for question in questions:
            if question.split != "dev":
                continue
            ranked = ours(question.text, question.context).ranked
            if question.expected is None and ranked:
                print(f"OFF-TOPIC ANSWERED  {question.text!r} -> {ranked[0]}")
            elif question.expected is not None and ranked[:1] != [question.expected]:
                got = ranked[0] if ranked else "no match"
                print(
                    f"{question.kind:10} {question.text!r}\n   want {question.expected}\n"
                    f"   got  {got}"
                )


if __name__ == "__main__":
    main()
