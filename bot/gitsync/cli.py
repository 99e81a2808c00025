"""`hubs-bot sync`: pull HUBS_CORPUS_GIT now and print what changed.

Running servers follow: the commit is recorded in the store, and every replica's follower
pulls it on its next tick (and tells the maintainers about its problems, once)."""

from __future__ import annotations

import argparse
import sys

from bot.gitsync.follow import GitFollower
from bot.settings import ConfigError, Settings
from bot.store import Store

EXIT_OK, EXIT_ERRORS = 0, 1


def cmd_sync(_args: argparse.Namespace, settings: Settings) -> int:
    if not settings.corpus_git:
        raise ConfigError("HUBS_CORPUS_GIT is not set: `hubs-bot sync` pulls a Git corpus")
    follower = GitFollower.as_it_is(settings)
    store = Store.connect(settings.effective_database_url)
    try:
        follower.attach(store)
        report = follower.sync(reason="cli")
    finally:
        store.close()
    if follower.failure is not None:
        print(f"hubs-bot: {follower.failure}", file=sys.stderr)
        return EXIT_ERRORS
    source = f"{follower.checkout.url} ({settings.corpus_git_ref or 'default branch'})"
    if report is None:
        print(f"{source}: up to date at {(follower.served or '?')[:8]}")
        return EXIT_OK
    before = report.before[:8] if report.before else "nothing"
    commit = report.commit
    print(f"{source}: {before} -> {commit.short} by {commit.author}: {commit.subject}")
    for change in report.changes:
        title = report.titles.get(change.path)
        print(f"{change.status:8} {change.path}" + (f"  ({title})" if title else ""))
    if not report.changes:
        print("no playbook changed")
    for problem in report.problems:
        print(f"{problem.path}:{problem.line}: error: {problem.message}")
    print(
        f"{len(report.changes)} playbook file(s) changed, {len(report.problems)} problem(s)",
        file=sys.stderr,
    )
    return EXIT_ERRORS if report.problems else EXIT_OK
