"""`hubs-bot reload` and the pid files it reads: signals running `serve` / `socket` processes
to re-read the corpus. Kept apart from the servers so that sending a signal loads neither
Slack's SDK nor the search engine."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from bot.settings import Settings


def pidfile(settings: Settings, name: str) -> Path:
    """One per process (serve is per port: two servers on one host must not collide)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.data_dir / f"{name}.pid"


def is_hubs_bot(pid: int) -> bool:
    """Whether ``pid`` is a running hubs-bot process (its command line names hubs-bot or
    ``bot.cli``): a stale pid file may name a pid the system gave to something else since."""
    proc = Path(f"/proc/{pid}/cmdline")
    try:
        if proc.parent.exists():
            command = proc.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        else:  # no /proc (macOS): ask ps
            done = subprocess.run(
                ["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True
            )
            command = done.stdout
    except OSError:
        return False
    return "hubs-bot" in command or "bot.cli" in command


def cmd_reload(args: argparse.Namespace, settings: Settings) -> int:
    """Ask running `serve` / `socket` processes on this host to re-read the corpus (for
    hosts where file watching is not available, or after a bulk change). Only live hubs-bot
    processes are signalled; a stale pid file is removed."""
    signalled = 0
    for path in sorted(settings.data_dir.glob("*.pid")):  # serve-<port>.pid, socket.pid
        name = path.stem
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            continue
        if not is_hubs_bot(pid):
            print(f"{path} names pid {pid}, which is not a running hubs-bot: removed it")
            path.unlink(missing_ok=True)
            continue
        try:
            os.kill(pid, signal.SIGHUP)
        except OSError:
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
