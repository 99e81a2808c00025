"""Slack ack latency of `hubs-bot serve` (gunicorn, real HTTP on 127.0.0.1), and its memory.

    python bench/bench_slack_http.py [--requests 200] [--concurrency 20,50] [--workers 2]
                                     [--rounds 2] [--lean-floor] [--questions N]

Starts `hubs-bot serve` against a local fake Slack Web API, sends signed `/hubs` slash
commands from a thread pool and times each HTTP response (the ack Slack waits up to 3 s
for). The floor is a minimal Bolt app that acks `/hubs` with fixed text, served by gunicorn
the same way (`bench/minimal_bolt_app.py`); the two are measured in alternating rounds in the
same run, and the ratios are printed per round. That app keeps Bolt's defaults, as the
performance targets name it; ``--lean-floor`` runs it with ``process_before_response`` (no
10 ms polling for its ack, as hubs-bot runs), a stricter floor. Also: where the answers went
(in the ack's body, or to the fake Slack's response URL when slower) and the RSS of both
servers. Loopback only; bounded in count and time; stops the servers itself.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_slack import running_fake_slack  # noqa: E402
from tests.slack.conftest import SECRET, TOKEN, mention_request, sign  # noqa: E402

QUESTIONS = (
    "pitfalls",
    "pitfals",
    "case study china",
    "who wrote this",
    "yozma",
    "help",
    "list",
    "quantum error correction",
    "when to use",
    "paul graham",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(root_pid: int) -> float:
    """RSS of a process and its children (gunicorn master + workers), from /proc."""
    pids, total = {root_pid}, 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split(") ")[-1].split()
            if int(fields[1]) == root_pid:
                pids.add(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(request: urllib.request.Request, bodies: list[bytes] | None = None) -> float:
    """Milliseconds to the whole response (kept in ``bodies`` when given)."""
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
        assert response.status == 200
    elapsed = (time.perf_counter() - started) * 1000
    if bodies is not None:
        bodies.append(body)
    return elapsed


def numbered_mention(base: str, number: int, retry: int | None = None) -> urllib.request.Request:
    """A signed `@hubs pitfalls` event, number ``number`` (its own event id and thread);
    ``retry`` marks a redelivery (``X-Slack-Retry-Num``)."""
    ts = f"1700000000.{number:06d}"
    return mention_request(base, f"Ev{number}", ts, "<@UBOT> pitfalls", retry)


@contextmanager
def running(
    name: str, command: list[str], port: int, env: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """``command`` serving on ``port`` until the block ends (then SIGTERM and wait), once
    ``GET /healthz`` answers (60 s at most). Yields (base URL, server pid)."""
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                timed(urllib.request.Request(base + "/healthz"))
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"{name} did not start") from None
                time.sleep(0.2)
        yield base, server.pid
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def credentials_env(**extra: str) -> dict[str, str]:
    """This process's environment plus the test suite's Slack token and signing secret, which
    both servers (hubs-bot and the minimal Bolt app) read from it, and ``extra``."""
    return {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, **extra}


@contextmanager
def serving(
    fake_api_url: str, workers: int, env_extra: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """`hubs-bot serve` on a free loopback port against the fake Slack, until the block ends.
    Yields (base URL, server pid)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = credentials_env(
            SLACK_API_URL=fake_api_url,
            HUBS_DATA_DIR=data,
            WEB_CONCURRENCY=str(workers),
            **(env_extra or {}),
        )
        command = [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)]
        with running("hubs-bot serve", command, port, env) as server:
            yield server


@contextmanager
def minimal_serving(
    fake_api_url: str, workers: int, lean: bool = False
) -> Iterator[tuple[str, int]]:
    """The minimal Bolt app under the same gunicorn configuration (``lean``: with Bolt's
    ``process_before_response``, as hubs-bot runs). Yields (base URL, pid)."""
    port = free_port()
    script = str(ROOT / "bench" / "minimal_bolt_app.py")
    options = ["--port", str(port), "--workers", str(workers), "--api-url", fake_api_url]
    options += ["--lean"] if lean else []
    env = credentials_env()
    with running("the minimal Bolt app", [sys.executable, script, *options], port, env) as server:
        yield server


def varied_questions(count: int) -> tuple[str, ...]:
    """``count`` questions about the corpus the server serves, seeded: the mix of
    ``bench_search.py`` (section names, typos, content words, narrowed, unanswerable)."""
    from bench_search import make_queries

    from bot.corpus import load_corpus
    from bot.settings import load_settings

    corpus = load_corpus(load_settings({}).corpus_dirs)
    return tuple(make_queries(corpus, count, random.Random(2)))


def load(
    base: str,
    response_url: str,
    requests: int,
    concurrency: int,
    rng: random.Random,
    questions: tuple[str, ...] = QUESTIONS,
) -> tuple[list[float], float, int]:
    """(ack times in ms, commands per second, answers carried by the acks) for ``requests``
    signed `/hubs` commands."""
    bodies: list[bytes] = []
    for _ in range(20):  # warm every worker
        timed(urllib.request.Request(base + "/healthz"))

    def command(i: int) -> float:
        body = urllib.parse.urlencode(
            {
                "command": "/hubs",
                "text": rng.choice(questions),
                "user_id": "U1",
                "channel_id": "C1",
                "response_url": response_url,
                "trigger_id": str(i),
            }
        )
        return timed(
            urllib.request.Request(
                base + "/slack/events",
                data=body.encode(),
                method="POST",
                headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)},
            ),
            bodies,
        )

    with ThreadPoolExecutor(concurrency) as pool:
        started = time.perf_counter()
        acks = list(pool.map(command, range(requests)))
        wall = time.perf_counter() - started
    return acks, requests / wall, sum(1 for body in bodies if body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", default="20,50")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--lean-floor",
        action="store_true",
        help="the floor without Bolt's 10 ms ack polling (process_before_response, as "
        "hubs-bot runs): a stricter floor than the targets name",
    )
    parser.add_argument(
        "--questions",
        type=int,
        default=0,
        help="ask this many generated questions (bench_search.py's mix) instead of the ten "
        "fixed ones, so the search's and the renderer's memos are rarely warm",
    )
    args = parser.parse_args()
    rng = random.Random(1)
    questions = varied_questions(args.questions) if args.questions else QUESTIONS
    levels = [int(c) for c in args.concurrency.split(",")]
    print(
        f"{args.requests} signed /hubs commands per measurement, {args.workers} gunicorn "
        f"workers x 8 threads each, rounds alternate hubs-bot / minimal Bolt app"
        + (" (lean: process_before_response)" if args.lean_floor else "")
        + f", {len(set(questions))} distinct questions"
    )
    answered = 0
    with running_fake_slack() as fake:
        for round_number in range(1, args.rounds + 1):
            for concurrency in levels:
                before = len(fake.calls_to("response_url"))
                with serving(fake.base_url, args.workers) as (base, pid):
                    acks, rate, in_ack = load(
                        base, fake.response_url, args.requests, concurrency, rng, questions
                    )
                    # every answer arrives: in its ack, or else through the response URL
                    fake.wait_for("response_url", before + args.requests - in_ack, timeout=60)
                    answered += args.requests
                    hubs_rss = rss_mb(pid)
                with minimal_serving(fake.base_url, args.workers, args.lean_floor) as (
                    base,
                    pid,
                ):
                    floor, floor_rate, _ = load(
                        base, fake.response_url, args.requests, concurrency, rng, questions
                    )
                    floor_rss = rss_mb(pid)
                p50, p99 = percentile(acks, 50), percentile(acks, 99)
                f50, f99 = percentile(floor, 50), percentile(floor, 99)
                print(
                    f"round {round_number}, {concurrency:>2} concurrent: "
                    f"hubs-bot p50 {p50:6.1f} p99 {p99:6.1f} ms {rate:5.0f}/s {hubs_rss:4.0f} MB"
                    f" | minimal p50 {f50:6.1f} p99 {f99:6.1f} ms {floor_rate:5.0f}/s "
                    f"{floor_rss:4.0f} MB | ratio p50 {p50 / f50:4.2f}x p99 {p99 / f99:4.2f}x "
                    f"throughput {rate / floor_rate:4.2f}x | answers in the ack {in_ack}"
                )
        by_url = len(fake.calls_to("response_url"))
    print(f"  hubs-bot answers: {answered} ({answered - by_url} in the ack, {by_url} by URL)")


if __name__ == "__main__":
    main()
