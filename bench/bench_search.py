"""Search speed at 1, 100 and 1,000 synthetic playbooks, next to a rapidfuzz-only baseline.

    python bench/bench_search.py [--sizes 1,100,1000] [--queries 300] [--seed 42] [--json]
                                 [--semantic]

For each size: index build time (load + parse + index), then per-query latency of
``Index.search`` — cold (first time each question is seen: typo correction not cached) and
warm (the same questions again) — and of the baseline (``rapidfuzz.process.extract`` with
``WRatio`` over every section body, limit 3) on the same questions, in the same run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rapidfuzz import fuzz, process

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth_corpus import write_corpus

from bot.corpus import Corpus, load_corpus
from bot.search import Index
from bot.search.tokens import words

HEADING_QUERIES = (
    "pitfalls",
    "case study",
    "further reading",
    "who wrote this",
    "when to use",
    "basics",
    "risks",
    "examples",
)
TYPO_QUERIES = ("pitfals", "case studdy", "furhter reading", "whne to use")


def make_queries(corpus: Corpus, count: int, rng: random.Random) -> list[str]:
    """A seeded, realistic mix: section names, typos, content words, playbook-narrowed,
    typo'd content words, and questions the corpus cannot answer."""
    sections = corpus.sections
    queries = []
    for i in range(count):
        section = rng.choice(sections)
        vocab = [w for w in words(section.text) if len(w) > 3] or ["hubs"]
        kind = i % 6
        if kind == 0:
            queries.append(rng.choice(HEADING_QUERIES))
        elif kind == 1:
            queries.append(rng.choice(TYPO_QUERIES))
        elif kind == 2:
            queries.append(" ".join(rng.sample(vocab, min(len(vocab), rng.randint(1, 4)))))
        elif kind == 3:
            title = " ".join(section.playbook_title.split()[:2])
            queries.append(f"{title} {rng.choice(HEADING_QUERIES)}")
        elif kind == 4:
            word = rng.choice(vocab)
            cut = rng.randrange(1, len(word) - 1)
            queries.append(word[:cut] + word[cut + 1 :] + " " + rng.choice(vocab))
        else:
            queries.append(f"zq{rng.randint(0, 10**6)}xv quantum{rng.randint(0, 99)}")
    return queries


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def time_each(fn, queries: list[str]) -> list[float]:
    timings = []
    for query in queries:
        started = time.perf_counter_ns()
        fn(query)
        timings.append((time.perf_counter_ns() - started) / 1e6)
    return timings


def summary(timings: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(timings, 50), 4),
        "p99_ms": round(percentile(timings, 99), 4),
        "mean_ms": round(statistics.fmean(timings), 4),
        "n": len(timings),
    }


def bench_size(size: int, n_queries: int, seed: int, root: Path, semantic: bool = False) -> dict:
    directory = write_corpus(root / f"corpus-{size}", size, seed)
    started = time.perf_counter()
    corpus = load_corpus([directory])
    loaded = time.perf_counter()
    embedder = None
    if semantic:  # the [semantic] extra: one model per process, loaded before timing
        from bot.search.semantic import load_embedder

        embedder = load_embedder()
        loaded = time.perf_counter()
    index = Index(corpus, embedder=embedder)
    built = time.perf_counter()
    assert not corpus.errors, corpus.errors[:3]
    queries = make_queries(corpus, n_queries, random.Random(seed))
    index.search("warm up the code paths")
    cold = time_each(index.search, queries)
    warm = time_each(index.search, queries)
    bodies = [s.text for s in corpus.sections]
    baseline_queries = queries[: max(20, n_queries // (10 if size >= 1000 else 1))]

    def baseline(query: str) -> object:
        return process.extract(query, bodies, scorer=fuzz.WRatio, limit=3)

    baseline(baseline_queries[0])
    base = time_each(baseline, baseline_queries)
    same_cold = cold[: len(base)]  # the same questions, for a like-for-like ratio
    return {
        "playbooks": size,
        "sections": len(corpus.sections),
        "vocabulary": index.vocabulary_size,
        "load_s": round(loaded - started, 3),
        "index_build_s": round(built - loaded, 3),
        "search_cold": summary(cold),
        "search_warm": summary(warm),
        "baseline_wratio": summary(base),
        "speedup_p50": round(percentile(base, 50) / percentile(same_cold, 50), 1),
        "speedup_p99": round(percentile(base, 99) / percentile(same_cold, 99), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,100,1000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--semantic", action="store_true", help="with the [semantic] extra on")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hubs-bench-") as tmp:
        rows = [
            bench_size(int(s), args.queries, args.seed, Path(tmp), args.semantic)
            for s in args.sizes.split(",")
        ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(
        f"{'playbooks':>9} {'sections':>8} {'vocab':>7} {'build s':>8} "
        f"{'cold p50':>9} {'cold p99':>9} {'warm p99':>9} {'WRatio p50':>11} {'WRatio p99':>11} "
        f"{'x p50':>7} {'x p99':>7}"
    )
    for r in rows:
        print(
            f"{r['playbooks']:>9} {r['sections']:>8} {r['vocabulary']:>7} "
            f"{r['load_s'] + r['index_build_s']:>8.2f} "
            f"{r['search_cold']['p50_ms']:>7.3f}ms {r['search_cold']['p99_ms']:>7.3f}ms "
            f"{r['search_warm']['p99_ms']:>7.3f}ms "
            f"{r['baseline_wratio']['p50_ms']:>9.3f}ms {r['baseline_wratio']['p99_ms']:>9.3f}ms "
            f"{r['speedup_p50']:>6.0f}x {r['speedup_p99']:>6.0f}x"
        )
    print(
        f"\n{args.queries} questions per size (baseline: {args.queries} at <1,000 playbooks, "
        f"{args.queries // 10} at 1,000); times per question; build = load + parse + index."
    )


if __name__ == "__main__":
    main()
