"""`hubs-bot reload` and the pid files it reads: signals running `serve` / `socket` processes
to re-read the corpus. Kept apart from the servers so that sending a signal loads neither
Slack's SDK nor the search engine."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from bot.settings import Settings


def pidfile(settings: Settings, name: str) -> Path:
    """One per process (serve is per port: two servers on one host must not collide)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.data_dir / f"{name}.pid"


def cmd_reload(args: argparse.Namespace, settings: Settings) -> int:
    """Ask running `serve` / `socket` processes on this host to re-read the corpus (for
    hosts where file watching is not available, or after a bulk change)."""
    signalled = 0
    for path in sorted(settings.data_dir.glob("*.pid")):  # serve-<port>.pid, socket.pid
        name = path.stem
        try:
            pid = int(path.read_text().strip())
            os.kill(pid, signal.SIGHUP)
        except (OSError, ValueError):
            continue
        print(f"asked {name} (pid {pid}) to reload the corpus")
        signalled += 1
    if not signalled:
        print(
            f"no running hubs-bot serve/socket found (pid files in {settings.data_dir})",
            file=sys.stderr,
        )
        return 1
    return 0
