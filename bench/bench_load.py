"""Load and fault run: many signed Slack events against `hubs-bot serve`, duplicates counted.

    python bench/bench_load.py [--events 1000] [--concurrency 50] [--workers 2] [--retries 0.3]
                               [--rate-limited 0.2]

Each event is an `@hubs` mention with its own event_id; a share of them (``--retries``) is
delivered a second time with ``X-Slack-Retry-Num: 1``, as Slack does after a slow ack; a share
of the bot's chat.postMessage calls (``--rate-limited``) is answered by the fake Slack with
HTTP 429 + ``Retry-After: 1``. Reports ack p50/p99 and how many replies reached Slack:
exactly one per event means no loss and no duplicate. Loopback only; bounded; stops itself.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_slack_http import numbered_mention, percentile, rss_mb, serving, timed  # noqa: E402

from tests.databases import PostgresCluster, find_postgres_bin  # noqa: E402
from tests.fake_slack import FakeSlack, running_fake_slack  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--retries", type=float, default=0.3)
    parser.add_argument("--rate-limited", type=float, default=0.2)
    parser.add_argument(
        "--postgres", action="store_true", help="a throwaway PostgreSQL cluster, not SQLite"
    )
    args = parser.parse_args()
    rng = random.Random(7)
    with ExitStack() as stack:
        env = {}
        if args.postgres:
            env["HUBS_DATABASE_URL"] = stack.enter_context(throwaway_postgres())
        fake = stack.enter_context(running_fake_slack())
        base, pid = stack.enter_context(serving(fake.base_url, args.workers, env))
        run(args, rng, fake, base, pid)


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL cluster from the machine's server binaries (as the tests use); its URL."""
    bindir = find_postgres_bin()
    if bindir is None:
        raise SystemExit("--postgres needs PostgreSQL server binaries (initdb, pg_ctl)")
    cluster = PostgresCluster(bindir)
    cluster.start()
    try:
        yield cluster.create_database()
    finally:
        cluster.stop()


def run(args: argparse.Namespace, rng: random.Random, fake: FakeSlack, base: str, pid: int) -> None:
    fake.fail(
        "chat.postMessage",
        status=429,
        retry_after=1,
        times=int(args.events * args.rate_limited),
    )
    deliveries = [(i, None) for i in range(args.events)]
    deliveries += [(i, 1) for i in range(args.events) if rng.random() < args.retries]
    rng.shuffle(deliveries)

    def deliver(item: tuple[int, int | None]) -> float:
        return timed(numbered_mention(base, *item))

    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        acks = list(pool.map(deliver, deliveries))
    wall = time.perf_counter() - started
    deadline = time.monotonic() + 120
    while (
        time.monotonic() < deadline
        and sum(not c.failed for c in fake.calls_to("chat.postMessage")) < args.events
    ):
        time.sleep(0.1)
    time.sleep(2)  # let any would-be duplicate arrive before counting
    posts = [c for c in fake.calls_to("chat.postMessage") if not c.failed]
    answered = {c.params.get("thread_ts") for c in posts}
    rate_limited = sum(c.failed for c in fake.calls_to("chat.postMessage"))
    memory = rss_mb(pid)
    print(
        f"{len(deliveries)} signed event deliveries ({args.events} events, "
        f"{len(deliveries) - args.events} Slack retries), {args.concurrency} concurrent, "
        f"{args.workers} workers, {'PostgreSQL' if args.postgres else 'SQLite'}; "
        f"{int(args.events * args.rate_limited)} posts answered 429"
    )
    print(
        f"  ack p50 {percentile(acks, 50):.1f} ms  p99 {percentile(acks, 99):.1f} ms  "
        f"({len(deliveries) / wall:.0f} deliveries/s)"
    )
    print(
        f"  events answered: {len(answered)}/{args.events}; duplicate replies: "
        f"{len(posts) - len(answered)}; posts answered 429 then retried: {rate_limited}"
    )
    print(f"  RSS (master + workers): {memory:.0f} MB")


if __name__ == "__main__":
    main()
