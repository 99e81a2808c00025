"""Soak: Slack answers 429s and 500s for a minute; no reply and no digest may be lost.

    python bench/bench_soak.py [--outage 60] [--events 300] [--workers 2] [--retries 0.3]

Starts `hubs-bot serve` (gunicorn, ``--workers``) on a SQLite file against the fake Slack,
which then refuses every chat.postMessage for ``--outage`` seconds (HTTP 429 with
Retry-After 1 and HTTP 500 in turn). Meanwhile ``--events`` signed mentions arrive evenly
spread over the outage (a share of them delivered twice, as Slack retries), and the weekly
digest comes due. Reports the ack latency during the outage, how many replies reached Slack
once the outage was over (and how long after), duplicates, and the digest's fate. Loopback
only; bounded: gives up waiting ``--outage`` + 3 minutes after the start.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_slack_http import numbered_mention, percentile, serving, timed  # noqa: E402

from bot.bundled import BUNDLED_CORPUS  # noqa: E402
from bot.corpus import load_corpus  # noqa: E402
from bot.digest.pool import Digest, parse_cron  # noqa: E402
from bot.slack_api.client import make_web_client  # noqa: E402
from bot.store import Store  # noqa: E402
from tests.fake_slack import FakeSlack, running_fake_slack  # noqa: E402
from tests.slack.conftest import TOKEN  # noqa: E402

DIGEST_CHANNEL = "CDIGEST"


def digest_through_outage(fake: FakeSlack, database_url: str, outage_ends: float) -> str:
    """What the clock does: tick when due (fails: Slack is down), tick again at the retry
    time the failure recorded. Returns the story, e.g. ``failed → posted (1 post)``."""
    digest = Digest(
        Store.connect(database_url),
        make_web_client(TOKEN, fake.base_url),
        DIGEST_CHANNEL,
        parse_cron("0 9 * * mon", "UTC"),
        lambda: load_corpus([BUNDLED_CORPUS]),
    )
    due = datetime(2026, 11, 23, 9, 0, 30, tzinfo=UTC)
    first = digest.tick(due)
    story = [first.action]
    while time.monotonic() < outage_ends + 1:
        time.sleep(0.5)
    if first.run is not None and first.run.next_attempt_at is not None:
        story.append(digest.tick(first.run.next_attempt_at).action)
    posts = [
        c
        for c in fake.calls_to("chat.postMessage")
        if not c.failed and c.params.get("channel") == DIGEST_CHANNEL
    ]
    return f"{' → '.join(story)} ({len(posts)} post)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=60.0)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--retries", type=float, default=0.3)
    args = parser.parse_args()
    logging.getLogger("bot").setLevel(logging.CRITICAL)  # the digest's expected failure
    rng = random.Random(7)
    deliveries = [(i, None) for i in range(args.events)]
    deliveries += [(i, 1) for i in range(args.events) if rng.random() < args.retries]
    rng.shuffle(deliveries)
    gap = args.outage * 0.9 / len(deliveries)  # all sent while Slack is still down

    with tempfile.TemporaryDirectory() as data, running_fake_slack() as fake:
        database_url = f"sqlite:///{data}/soak.sqlite3"
        env = {"HUBS_DATABASE_URL": database_url}
        with serving(fake.base_url, args.workers, env) as (base, _pid):
            fake.outage(args.outage)
            started = time.monotonic()
            outage_ends = started + args.outage
            digest_story: list[str] = []
            clock = threading.Thread(
                target=lambda: digest_story.append(
                    digest_through_outage(fake, database_url, outage_ends)
                )
            )
            clock.start()
            with ThreadPoolExecutor(50) as pool:
                futures = []
                for item in deliveries:
                    futures.append(pool.submit(timed, numbered_mention(base, *item)))
                    time.sleep(gap)
                acks = [f.result() for f in futures]
            deadline = outage_ends + 180
            last_reply_at = time.monotonic()
            while time.monotonic() < deadline:
                replies = _replies(fake)
                if len(set(replies)) >= args.events:
                    last_reply_at = time.monotonic()
                    break
                time.sleep(0.2)
            time.sleep(3)  # let any would-be duplicate arrive before counting
            clock.join()
            replies = _replies(fake)
            refused = sum(c.failed for c in fake.calls_to("chat.postMessage"))

    print(
        f"Slack refused chat.postMessage for {args.outage:.0f} s (429/500 in turn: "
        f"{refused} refusals); {len(deliveries)} deliveries ({args.events} mentions, "
        f"{len(deliveries) - args.events} Slack retries); {args.workers} workers, SQLite"
    )
    p50, p99 = percentile(acks, 50), percentile(acks, 99)
    print(f"  ack during the outage: p50 {p50:.1f} ms  p99 {p99:.1f} ms")
    print(
        f"  replies delivered: {len(set(replies))}/{args.events}; duplicates: "
        f"{len(replies) - len(set(replies))}; last one {last_reply_at - outage_ends:.1f} s "
        "after Slack came back"
    )
    print(f"  weekly digest: {digest_story[0] if digest_story else 'did not finish'}")


def _replies(fake: FakeSlack) -> list[str]:
    return [
        c.params["thread_ts"]
        for c in fake.calls_to("chat.postMessage")
        if not c.failed and c.params.get("thread_ts")
    ]


if __name__ == "__main__":
    main()
