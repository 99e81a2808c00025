"""How hubs-bot grows with the corpus: start-up, index build, query latency and memory at
1 / 100 / 1,000 / 10,000 synthetic playbooks, cold and warm parse cache.

    python bench/bench_scale.py [--sizes 1,100,1000,10000] [--queries 300] [--workers 2]
                                [--starts 3] [--workdir DIR]

Per size, in one run:

* **in process**: load + index with an empty parse cache (cold) and with the cache the cold
  run wrote (warm); query p50/p99 over a seeded mix of questions and p99 of the ones nothing
  matches (the same generator as ``bench_search.py``);
* **`hubs-bot serve`** (gunicorn, ``--workers``, against a local fake Slack): seconds from
  spawn to the first ``/healthz`` 200, and the memory of master + workers once serving —
  RSS summed (what ``ps`` shows; pages shared copy-on-write are counted in every process)
  and PSS (each shared page split between the processes sharing it: the real total) — with a
  fresh data directory (cold cache), then again with the one that run left (warm). A first
  start writes its caches from a process of its own once it serves: memory is read, and
  the server stopped, after that process is done;
* **the floor**: a minimal Bolt app under the same gunicorn configuration
  (``minimal_bolt_app.py``), spawn to ``/healthz``, measured in the same run; start-up is
  also printed as a ratio to it. After the sizes, the same app with the libraries hubs-bot's
  server cannot do without imported in its master (``--libraries``: numpy and bm25s,
  SQLAlchemy, rapidfuzz, PyYAML), ``--starts`` times: the start-up and memory those cost
  before any of hubs-bot's own code.

hubs-bot starts with its bytecode compiled, as an installed package has it
(:func:`compile_bytecode`). Starts are noisy (a 2-core machine's speed drifts by ±15 % over
minutes), so each size runs ``--starts`` rounds of floor, cold start, warm start back to
back; the table prints each figure's median with its range, and the ratios are the median
of the per-round ratios.

Synthetic corpora are written once per seed under ``--workdir`` and reused.
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_search import make_queries, percentile  # noqa: E402
from bench_slack_http import credentials_env, free_port  # noqa: E402
from synth_corpus import write_corpus  # noqa: E402

from bot.corpus import load_corpus  # noqa: E402
from bot.corpus.cache import WRITER_NAME, ParseCache  # noqa: E402
from bot.search import Index  # noqa: E402
from tests.fake_slack import running_fake_slack  # noqa: E402

SEED = 42


def family(root_pid: int) -> list[int]:
    """A process and its children (gunicorn master + workers)."""
    pids = [root_pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split(") ")[-1].split()
            if int(fields[1]) == root_pid:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def cache_writers() -> int:
    """Processes writing a first start's caches (they belong to init, not to the server)."""
    count = 0
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() != WRITER_NAME:
                continue
            state = (comm.parent / "stat").read_text().split(") ")[-1].split()[0]
        except (OSError, IndexError):
            continue
        count += state != "Z"
    return count


def wait_for_cache_writer(timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while cache_writers() and time.monotonic() < deadline:
        time.sleep(0.05)


def memory_mb(root_pid: int) -> tuple[float, float]:
    """(RSS summed, PSS summed) in MB over the process family, from /proc."""
    rss = pss = 0
    for pid in family(root_pid):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return rss / 1024, pss / 1024


def compile_bytecode() -> None:
    """hubs-bot's modules compiled into their ``__pycache__`` folders (ignored by git), as an
    installed package has them: pip compiles at install (the Docker image's too), but a
    checkout run with PYTHONDONTWRITEBYTECODE compiles every module on every start — ~0.15 s
    of a start on the seeds that an installed wheel does not pay. (Its libraries in the
    virtualenv were compiled by pip already; the floor is one script, run from source.)"""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "bot")], check=True)


def start_to_healthy(command: list[str], env: dict[str, str], port: int, workers: int) -> dict:
    """Spawn, poll /healthz every 20 ms until 200 (300 s at most), measure, stop."""
    started = time.perf_counter()
    server = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.perf_counter() - started > 300:
                    raise SystemExit(f"{command[2:4]} did not start") from None
                time.sleep(0.02)
        seconds = time.perf_counter() - started
        deadline = time.monotonic() + 30  # memory once every worker is up
        while len(family(server.pid)) < workers + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        # and once the caches a first start built are written (by a process of their own,
        # after it started serving): the memory of serving, and a warm start that finds them
        wait_for_cache_writer()
        rss, pss = memory_mb(server.pid)
        return {"start_s": seconds, "rss_mb": rss, "pss_mb": pss}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def in_process(directory: Path, cache_dir: Path, n_queries: int) -> dict:
    started = time.perf_counter()
    corpus = load_corpus([directory], cache=ParseCache(cache_dir))
    index = Index(corpus)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    index = Index(load_corpus([directory], cache=ParseCache(cache_dir)))
    warm = time.perf_counter() - started
    queries = make_queries(index.corpus, n_queries, random.Random(SEED))
    index.search("warm up the code paths")
    timings, misses = [], []
    for query in queries:
        begun = time.perf_counter_ns()
        response = index.search(query)
        elapsed = (time.perf_counter_ns() - begun) / 1e6
        timings.append(elapsed)
        if response.no_match:
            misses.append(elapsed)
    return {
        "build_cold_s": cold,
        "build_warm_s": warm,
        "p50_ms": percentile(timings, 50),
        "p99_ms": percentile(timings, 99),
        "no_match_p99_ms": percentile(misses, 99) if misses else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,100,1000,10000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--starts", type=int, default=3, help="rounds of starts per size")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "hubs-scale")
    args = parser.parse_args()
    with running_fake_slack() as fake:
        env = credentials_env(SLACK_API_URL=fake.base_url, WEB_CONCURRENCY=str(args.workers))
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        compile_bytecode()
        port = free_port()
        floor_command = [
            sys.executable,
            str(ROOT / "bench" / "minimal_bolt_app.py"),
            *("--port", str(port), "--workers", str(args.workers), "--api-url", fake.base_url),
        ]
        print(HEADER)
        floors = []
        for size in map(int, args.sizes.split(",")):
            directory = args.workdir / f"corpus-{size}-{SEED}"
            if not directory.exists():
                write_corpus(directory, size, SEED)
            with tempfile.TemporaryDirectory(prefix="hubs-scale-") as scratch:
                row = {"playbooks": size, **in_process(directory, Path(scratch), args.queries)}
            rounds = []
            for _ in range(args.starts):
                measured = {"floor": start_to_healthy(floor_command, env, port, args.workers)}
                data_dir = Path(tempfile.mkdtemp(prefix="hubs-scale-data-"))
                try:
                    serve_env = {
                        **env,
                        "HUBS_CORPUS": str(directory),
                        "HUBS_DATA_DIR": str(data_dir),
                    }
                    command = [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)]
                    for cache in ("cold", "warm"):
                        measured[cache] = start_to_healthy(command, serve_env, port, args.workers)
                finally:
                    shutil.rmtree(data_dir, ignore_errors=True)
                rounds.append(measured)
            floors.extend(r["floor"] for r in rounds)
            print_row(row, rounds)
        with_libraries = [
            start_to_healthy([*floor_command, "--libraries"], env, port, args.workers)
            for _ in range(args.starts)
        ]
    print(
        f"\nfloor (minimal Bolt app, {args.workers} workers, {len(floors)} starts): "
        f"{summary(floors)}. Start ratios are hubs-bot / floor, round by round. RSS counts "
        "shared pages once per process; PSS splits them.\n"
        f"The same with hubs-bot's server libraries imported before the fork "
        f"({len(with_libraries)} starts): {summary(with_libraries)}."
    )


def summary(starts: list[dict]) -> str:
    return (
        f"start {spread([s['start_s'] for s in starts])} s, "
        f"RSS {statistics.median(s['rss_mb'] for s in starts):.0f} MB, "
        f"PSS {statistics.median(s['pss_mb'] for s in starts):.0f} MB"
    )


HEADER = (
    "| playbooks | build cold / warm (s) | query p50 / p99 (ms) | no-match p99 (ms) "
    "| serve start cold / warm (s) | × floor | RSS / PSS cold (MB) | RSS / PSS warm (MB) |\n"
    "|---:|---|---|---:|---|---|---|---|"
)


def spread(values: list[float]) -> str:
    """Median (min–max), or the one value."""
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def print_row(row: dict, rounds: list[dict]) -> None:
    def median(cache: str, key: str) -> float:
        return statistics.median(r[cache][key] for r in rounds)

    def ratio(cache: str) -> float:
        return statistics.median(r[cache]["start_s"] / r["floor"]["start_s"] for r in rounds)

    print(
        f"| {row['playbooks']:,} | {row['build_cold_s']:.2f} / {row['build_warm_s']:.2f} "
        f"| {row['p50_ms']:.2f} / {row['p99_ms']:.2f} | {row['no_match_p99_ms']:.2f} "
        f"| {spread([r['cold']['start_s'] for r in rounds])} "
        f"/ {spread([r['warm']['start_s'] for r in rounds])} "
        f"| {ratio('cold'):.2f}× / {ratio('warm'):.2f}× "
        f"| {median('cold', 'rss_mb'):.0f} / {median('cold', 'pss_mb'):.0f} "
        f"| {median('warm', 'rss_mb'):.0f} / {median('warm', 'pss_mb'):.0f} |",
        flush=True,
    )


if __name__ == "__main__":
    main()
