"""Logging setup: one line per event, structured context as ``key=value``, secrets redacted.

Modules log with ``log.info("event name", extra={...})``; this formatter appends the extra
fields so logs stay grep-able without a JSON pipeline, and scrubs anything shaped like a Slack
token in case one ever reaches a message.
"""

from __future__ import annotations

import logging
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


def _unused_token_notice(record: logging.LogRecord) -> bool:
    return "`token` will be unused" not in record.getMessage()
