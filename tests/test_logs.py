"""Log lines: written by one thread in a server worker, none lost at exit, secrets redacted."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import REPO_ROOT

THREADS, LINES = 8, 250

# a worker's life in miniature: logging configured (before the fork, in gunicorn's master),
# moved to the background in the worker, threads logging at once, then a normal exit
WORKER = textwrap.dedent(
    f"""
    import logging, threading
    from bot.observability.logs import configure_logging, log_in_background

    configure_logging()
    log = logging.getLogger("bot.test")
    log.info("before", extra={{"phase": "master"}})
    log_in_background()
    log_in_background()  # a second call changes nothing

    def chatter(thread):
        for n in range({LINES}):
            log.info("answered", extra={{"writer": thread, "n": n}})

    threads = [threading.Thread(target=chatter, args=(t,)) for t in range({THREADS})]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed", extra={{"token": "xoxb-123-secret"}})
    handler = logging.getLogger().handlers[0]
    print(type(handler).__name__)
    """
)


def test_a_worker_logs_in_the_background_and_loses_nothing_at_exit() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WORKER],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "_Enqueue", "the root logger only queues records"
    lines = done.stderr.splitlines()
    answered = [line for line in lines if " answered " in line]
    assert len(answered) == THREADS * LINES, "every line written before the exit"
    assert {line.split("writer=")[1].split()[0] for line in answered} == {
        str(t) for t in range(THREADS)
    }
    assert all(line.count(" INFO bot.test: answered ") == 1 for line in answered), "one per line"
    assert any("before phase=master" in line for line in lines)
    text = done.stderr
    assert "ValueError: boom" in text, "a traceback still reaches the log"
    assert "xoxb-***" in text and "secret" not in text
