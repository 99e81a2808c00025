"""Logging setup: one line per event, structured context as ``key=value``, secrets redacted.

Modules log with ``log.info("event name", extra={...})``; this formatter appends the extra
fields so logs stay grep-able without a JSON pipeline, and scrubs anything shaped like a Slack
token in case one ever reaches a message.

A server worker logs in the background (:func:`log_in_background`): its request threads hand
records to a queue and one thread formats and writes them, as the standard library's
``QueueHandler`` is meant for. Eight threads writing each answer's line themselves queued on the
handler's lock (its holder can lose the GIL mid-write): under load that wait was a quarter of
a worker's samples. Nothing queued is lost on a clean exit.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import re
import sys

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
_SECRET = re.compile(r"\b(xox[abposr]|xapp)-[A-Za-z0-9-]+")


def redact(text: str) -> str:
    return _SECRET.sub(lambda m: f"{m.group(1)}-***", text)


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        context = " ".join(
            f"{key}={value!r}" if isinstance(value, str) and " " in value else f"{key}={value}"
            for key, value in record.__dict__.items()
            if key not in _STANDARD and not key.startswith("_")
        )
        return redact(f"{base} {context}" if context else base)


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Bolt reads SLACK_BOT_TOKEN itself and warns that it goes unused beside our configured
    # client (which carries that very token), once per worker: noise, not a problem
    logging.getLogger("slack_bolt.App").addFilter(_unused_token_notice)


class _Enqueue(logging.handlers.QueueHandler):
    """A queue handler without the handler lock every ``Handler.handle`` takes: the queue is
    thread-safe and preparing a record touches only that record, so threads never wait on
    each other to log."""

    def handle(self, record: logging.LogRecord) -> bool:
        passed = self.filter(record)
        if isinstance(passed, logging.LogRecord):  # Python 3.12+: a filter may replace it
            record = passed
        if passed:
            self.emit(record)
        return bool(passed)


def log_in_background() -> None:
    """From now on this process's records are written by one thread: the root's handlers
    move behind a queue. Called in each server worker after the fork (a thread does not
    survive a fork, and a thread in gunicorn's master would make every later fork unsafe);
    at exit the thread writes what is queued and stops."""
    root = logging.getLogger()
    if any(isinstance(h, logging.handlers.QueueHandler) for h in root.handlers):
        return
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    writer = logging.handlers.QueueListener(records, *root.handlers, respect_handler_level=True)
    root.handlers[:] = [_Enqueue(records)]
    writer.start()
    atexit.register(writer.stop)


def _unused_token_notice(record: logging.LogRecord) -> bool:
    return "`token` will be unused" not in record.getMessage()
