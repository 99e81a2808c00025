"""One process's search index kept on the newest commit of HUBS_CORPUS_GIT.

Where the work runs: ``serve`` pulls once in gunicorn's master and builds the index there
(workers share it copy-on-write), then every worker runs its own :class:`GitFollower` thread,
because every worker holds its own copy of the index and only it can swap that copy. A push
reaches them all through the store: whoever learns of a new commit (the worker a webhook
reached, a poll, ``hubs-bot sync``) records it with :meth:`Store.want_commit`, which bumps a
generation number; every follower (every worker of every replica) reads that row on its short
tick (2 s), pulls, reloads its own index and notes the generation. The checkout on disk is
shared by the processes of one data directory and guarded by a file lock, so the first one
fetches and the others only re-read the files (the parse cache makes that cheap: only changed
files are parsed).

After a pull, ``check`` runs on the changed files; errors go to HUBS_MAINTAINERS_CHANNEL once
per commit (a claim in the store), and an "all clear" once a later commit fixes those files.
The index keeps serving the last good version of a broken file (:class:`LiveIndex`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from slack_sdk import WebClient

from bot.corpus import parse_playbook
from bot.corpus.git import Change, Commit, GitCheckout, GitError, checkout_for, pull_or_keep
from bot.gitsync.notify import FileProblem, all_clear_message, problems_message
from bot.search.live import LiveIndex, ReloadReport
from bot.settings import Settings
from bot.slack_api.client import post_message, slack_error
from bot.store import Store

log = logging.getLogger(__name__)

TICK_S = 2.0  # how often a follower reads the wanted commit from the store
PRUNE_EVERY_S = 24 * 3600  # old webhook delivery ids are dropped once a day
WANTED_RETRIES = 3  # a webhook may arrive before the Git host serves its commit everywhere


@dataclass(frozen=True, slots=True)
class SyncReport:
    before: str | None
    commit: Commit
    changes: tuple[Change, ...]
    problems: tuple[FileProblem, ...]
    titles: dict[str, str] = field(default_factory=dict)  # path -> playbook title
    reload: ReloadReport | None = None


class GitFollower:
    def __init__(
        self,
        settings: Settings,
        checkout: GitCheckout,
        index: LiveIndex | None,
        served: str | None,
        branch: str | None = None,
    ) -> None:
        """``served``: the commit ``index`` was built from; ``branch``: the ref webhooks must
        name (the configured one, else the remote's default branch)."""
        self.settings = settings
        self.checkout = checkout
        self.index = index
        self.served = served
        self.branch = settings.corpus_git_ref or branch
        self.source = checkout.root.name  # a hash of URL and ref: safe to store and log
        self.store: Store | None = None
        self.client: WebClient | None = None
        self.failure: str | None = None  # why the last pull failed (redacted); None: it worked
        self._generation: int | None = None
        self._wake = threading.Event()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ start

    @classmethod
    def start_from(cls, settings: Settings, build: Callable[[], LiveIndex] | None) -> GitFollower:
        """Pull now and build the index from the checkout (``build``; None: no index, for
        ``hubs-bot sync``). A failed pull with an earlier checkout on disk serves that one
        (logged); with none, :class:`GitError` (the message names no credentials)."""
        checkout = checkout_for(settings)
        if checkout is None:
            raise ValueError("HUBS_CORPUS_GIT is not set")
        with checkout.lock():
            pull_or_keep(checkout)
            served = checkout.head()
            index = build() if build is not None else None
        branch = None if settings.corpus_git_ref else checkout.default_branch()
        log.info(
            "git corpus checked out",
            extra={
                "source": checkout.url,
                "ref": settings.corpus_git_ref or branch,
                "commit": served,
            },
        )
        return cls(settings, checkout, index, served, branch)

    @classmethod
    def as_it_is(cls, settings: Settings) -> GitFollower:
        """The checkout as it is on disk, no pull yet, no index (``hubs-bot sync``)."""
        checkout = checkout_for(settings)
        if checkout is None:
            raise ValueError("HUBS_CORPUS_GIT is not set")
        with checkout.lock():
            served = checkout.head()
        return cls(settings, checkout, None, served)

    def attach(self, store: Store, client: WebClient | None = None) -> GitFollower:
        """Per worker, after the fork: the store it follows and the client it posts with."""
        self.store = store
        self.client = client
        return self

    def start(
        self, stop: threading.Event, tick_s: float = TICK_S, poll_s: float | None = None
    ) -> threading.Thread:
        """Follow in a daemon thread until ``stop``: the store every ``tick_s``, the remote
        every ``poll_s`` (default HUBS_CORPUS_GIT_POLL minutes; 0: never)."""
        thread = threading.Thread(
            target=self.run, args=(stop, tick_s, poll_s), name="git-follow", daemon=True
        )
        thread.start()
        return thread

    def wake(self) -> None:
        """Look at the store now rather than at the next tick (a webhook just arrived)."""
        self._wake.set()

    def run(
        self, stop: threading.Event, tick_s: float = TICK_S, poll_s: float | None = None
    ) -> None:
        if poll_s is None:
            poll_s = self.settings.corpus_git_poll * 60.0
        next_poll = time.monotonic() + poll_s if poll_s else float("inf")
        next_prune = time.monotonic() + PRUNE_EVERY_S
        while not stop.is_set():
            self._wake.wait(tick_s)
            self._wake.clear()
            if stop.is_set():
                return
            try:
                if time.monotonic() >= next_poll:
                    next_poll = time.monotonic() + poll_s
                    self.sync(reason="poll")
                self.tick()
                if self.store is not None and time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + PRUNE_EVERY_S
                    self.store.prune_git_deliveries()  # GitHub redelivers for days, not weeks
            except Exception:  # a database or git blip must not end the follower
                log.exception("git follower tick failed; retrying at the next tick")

    # ------------------------------------------------------------------ work

    def tick(self) -> SyncReport | None:
        """Pull when the store wants another commit than the one served."""
        if self.store is None:
            return None
        wanted = self.store.wanted_commit(self.source)
        if wanted is None or wanted.generation == self._generation:
            return None
        report = None
        if wanted.commit != self.served:
            report = self.sync(wanted=wanted.commit, reason="store")
        self._generation = wanted.generation
        return report

    def sync(self, wanted: str | None = None, reason: str = "poll") -> SyncReport | None:
        """Pull (unless the checkout already holds ``wanted``), reload the index, check the
        changed files and tell the maintainers; None when nothing changed or the pull failed
        (logged). A pull that is not the store's doing publishes what it found."""
        with self._lock:
            with self.checkout.lock():
                try:
                    head = self._pull(wanted)
                    self.failure = None
                except GitError as exc:
                    self.failure = str(exc)
                    log.error(
                        "git pull failed; still serving the last commit",
                        extra={"source": self.checkout.url, "error": str(exc), "reason": reason},
                    )
                    return None
                report = None if head == self.served else self._update(head)
            if reason != "store" and self.store is not None and head is not None:
                stored = self.store.wanted_commit(self.source)
                if stored is None or stored.commit != head:
                    self.store.want_commit(self.source, head)
            if report is not None:
                self._log(report, reason)
                self._notify(report)
                # last: a commit shown as served has been checked and announced
                self.served = head
        return report

    def reload(self) -> ReloadReport | None:
        """Re-read the checkout (SIGHUP), under the lock: never half-way through a pull."""
        if self.index is None:
            return None
        with self.checkout.lock():
            return self.index.reload()

    def _pull(self, wanted: str | None) -> str | None:
        if wanted is not None and self.checkout.head() == wanted:
            return wanted  # another process on this data directory fetched it already
        _before, tip = self.checkout.pull()
        for _attempt in range(WANTED_RETRIES):
            if wanted is None or tip == wanted or self.checkout.has(wanted):
                break
            time.sleep(1.0)  # the Git host has not caught up with its own webhook yet
            _before, tip = self.checkout.pull()
        return self.checkout.head()

    def _update(self, head: str | None) -> SyncReport | None:
        if head is None:
            return None
        changes = tuple(self.checkout.changes(self.served, head))
        reloaded = self.index.reload() if self.index is not None else None
        problems, titles = self._check(changes)
        return SyncReport(
            self.served, self.checkout.commit(head), changes, problems, titles, reloaded
        )

    def _check(self, changes: tuple[Change, ...]) -> tuple[tuple[FileProblem, ...], dict[str, str]]:
        """``hubs-bot check`` on the changed files: their errors, and their titles."""
        problems: list[FileProblem] = []
        titles: dict[str, str] = {}
        for change in changes:
            if change.status == "removed":
                continue
            playbook, found = parse_playbook(self.checkout.repo / change.path)
            if playbook is not None:
                titles[change.path] = playbook.title
            problems += [
                FileProblem(change.path, p.line, p.message) for p in found if p.severity == "error"
            ]
        return tuple(problems), titles

    def _still_broken(self, paths: tuple[str, ...]) -> list[str]:
        broken = []
        for path in paths:
            file = self.checkout.repo / path
            if not file.is_file():
                continue  # removed: no longer a problem
            _playbook, found = parse_playbook(file)
            if any(p.severity == "error" for p in found):
                broken.append(path)
        return broken

    # ------------------------------------------------------------------ telling people

    def _log(self, report: SyncReport, reason: str) -> None:
        counts = {
            status: sum(1 for c in report.changes if c.status == status)
            for status in ("added", "edited", "removed")
        }
        log.info(
            "git corpus updated",
            extra={
                "source": self.checkout.url,
                "commit": report.commit.short,
                "reason": reason,
                **counts,
                "problems": len(report.problems),
                "playbooks": report.reload.playbooks if report.reload else None,
            },
        )
        for problem in report.problems:
            log.error("corpus problem: %s", problem, extra={"commit": report.commit.short})

    def _notify(self, report: SyncReport) -> None:
        channel = self.settings.maintainers_channel
        if not channel or self.store is None:
            return
        sha = report.commit.sha
        if report.problems:
            paths = sorted({p.path for p in report.problems})
            if self.store.claim_git_notice(self.source, sha, "problems", paths):
                self._post(channel, problems_message(report.commit, report.problems), sha)
            return
        last = self.store.last_git_notice(self.source)
        if last is None or last.kind != "problems" or last.commit == sha:
            return
        if self._still_broken(last.paths):
            return
        if self.store.claim_git_notice(self.source, sha, "clear", []):
            self._post(channel, all_clear_message(report.commit, last.paths), sha)

    def _post(self, channel: str, text: str, sha: str) -> None:
        if self.client is None:
            log.warning(
                "maintainers not told: no bot token (multi-workspace mode)",
                extra={"channel": channel, "commit": sha[:8]},
            )
            return
        try:
            post_message(self.client, channel=channel, text=text)
        except Exception as exc:  # logged, never raised into the follower
            log.error(
                "cannot tell the maintainers about a commit",
                extra={"channel": channel, "commit": sha[:8], "error": slack_error(exc)},
            )
