"""A shallow checkout of a Git repository of playbooks, kept in the data directory.

Runs the ``git`` command (see the README's dependencies for why not dulwich). Every operation
on the checkout happens under an exclusive ``flock`` on ``<root>/lock``: the web workers, the
replicas sharing a data directory and ``hubs-bot sync`` take turns, and a reload never reads a
tree half-way through a checkout.

Credentials never reach the disk or the logs: the remote URL is kept without them
(:mod:`bot.settings` splits them off), an https token travels to ``git`` as an
``Authorization`` header in git's own environment (``GIT_CONFIG_*``, not the command line
``ps`` shows), an SSH key as ``GIT_SSH_COMMAND``; every message ``git`` prints passes
:meth:`GitCheckout.redact` before it is logged or raised.
"""

from __future__ import annotations

import base64
import fcntl
import logging
import shlex
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot.corpus.load import load_corpus
from bot.corpus.model import Corpus
from bot.settings import Settings

log = logging.getLogger(__name__)

GIT_TIMEOUT_S = 120.0
ZERO_SHA = "0" * 40


class GitError(Exception):
    """A git command failed; the message is already redacted."""


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    author: str
    email: str
    subject: str

    @property
    def short(self) -> str:
        return self.sha[:8]


@dataclass(frozen=True, slots=True)
class Change:
    status: str  # "added" | "edited" | "removed"
    path: str  # relative to the repository root, '/'-separated


_STATUS = {"A": "added", "M": "edited", "D": "removed", "T": "edited"}


class GitCheckout:
    def __init__(
        self,
        url: str,
        root: Path,
        *,
        ref: str | None = None,
        subpath: str = "",
        username: str | None = None,
        password: str | None = None,
        ssh_key: Path | None = None,
        environment: Mapping[str, str] | None = None,
        timeout_s: float = GIT_TIMEOUT_S,
    ) -> None:
        """``url`` without credentials; ``username``/``password`` (an https token) and
        ``ssh_key`` are handed to git through its environment; ``environment`` is the base
        environment for git (PATH, HOME, proxies: :attr:`Settings.git_environment`)."""
        self.url = url
        self.root = root
        self.repo = root / "repo"
        self.ref = ref or None
        self.subpath = subpath.strip("/")
        self.corpus_dir = self.repo / self.subpath if self.subpath else self.repo
        self._timeout_s = timeout_s
        self._secrets = [s for s in (password, username if password is None else None) if s]
        self._env = {
            **(environment or {}),
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            "LC_ALL": "C",
        }
        if self._secrets:
            basic = base64.b64encode(f"{username or ''}:{password or ''}".encode()).decode()
            self._secrets.append(basic)
            self._env |= {
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "http.extraHeader",
                "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
            }
        if ssh_key is not None:
            self._env["GIT_SSH_COMMAND"] = (
                f"ssh -i {shlex.quote(str(ssh_key))} -o IdentitiesOnly=yes -o BatchMode=yes "
                "-o StrictHostKeyChecking=accept-new"
            )

    # ------------------------------------------------------------------ safety

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One process at a time on this checkout (fetch, checkout, and reading it)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ git

    def _git(self, *args: str, cwd: Path | None = None) -> str:
        command = ["git", *args]
        try:
            done = subprocess.run(
                command,
                cwd=cwd or self.repo,
                env=self._env,
                capture_output=True,
                text=True,
                timeout=self._timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise GitError(f"git {args[0]} timed out after {self._timeout_s:.0f} s") from None
        except OSError as exc:  # no git on PATH
            raise GitError(f"cannot run git: {exc.strerror or exc}") from None
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            message = "; ".join(line for line in detail[-3:] if line) or f"exit {done.returncode}"
            raise GitError(self.redact(f"git {args[0]} failed: {message}"))
        return done.stdout

    def _ensure_repository(self) -> None:
        if (self.repo / ".git").is_dir():
            return
        self.repo.mkdir(parents=True, exist_ok=True)
        self._git("init", "--quiet")
        self._git("remote", "add", "origin", self.url)
        # keep the history this checkout needs small: no automatic gc in the middle of a pull
        self._git("config", "gc.auto", "0")

    def head(self) -> str | None:
        """The commit checked out, or None before the first pull."""
        if not (self.repo / ".git").is_dir():
            return None
        try:
            return self._git("rev-parse", "--verify", "--quiet", "HEAD^{commit}").strip() or None
        except GitError:
            return None

    def fetch(self) -> str:
        """Fetch the configured ref's newest commit (depth 1); its sha. Call under :meth:`lock`."""
        self._ensure_repository()
        self._git("fetch", "--quiet", "--depth", "1", "--no-tags", "origin", self.ref or "HEAD")
        return self._git("rev-parse", "FETCH_HEAD^{commit}").strip()

    def checkout(self, sha: str) -> None:
        """Make the working tree exactly ``sha``. Call under :meth:`lock`."""
        self._git("checkout", "--quiet", "--force", "--detach", sha)
        self._git("clean", "--quiet", "-ffdx")

    def pull(self) -> tuple[str | None, str]:
        """Fetch and check out the newest commit: (the commit before, the commit now). Call
        under :meth:`lock`."""
        before = self.head()
        tip = self.fetch()
        if tip != before:
            self.checkout(tip)
        return before, tip

    def default_branch(self) -> str | None:
        """The remote's default branch (``main``), from its HEAD symref; None if unknown."""
        try:
            out = self._git("ls-remote", "--symref", self.url, "HEAD", cwd=self.root)
        except GitError as exc:
            log.warning("cannot read the remote's default branch", extra={"error": str(exc)})
            return None
        for line in out.splitlines():
            if line.startswith("ref: ") and line.endswith("\tHEAD"):
                return line[5:-5].removeprefix("refs/heads/")
        return None

    def commit(self, sha: str) -> Commit:
        out = self._git("log", "-1", "--format=%H%x00%an%x00%ae%x00%s", sha)
        full, author, email, subject = [*out.rstrip("\n").split("\0"), "", "", ""][:4]
        return Commit(full, author, email, subject)

    def changes(self, old: str | None, new: str) -> list[Change]:
        """Markdown files under the corpus path that ``new`` adds, edits or removes against
        ``old`` (every file when ``old`` is None or no longer known here)."""
        scope = ["--", self.subpath] if self.subpath else []
        raw: list[tuple[str, str]] = []
        known_old = old is not None and old != new and self.has(old)
        if known_old:
            out = self._git("diff", "--name-status", "--no-renames", "-z", str(old), new, *scope)
            parts = out.split("\0")
            raw = [(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
        elif old is None or old != new:
            out = self._git("ls-tree", "-r", "--name-only", "-z", new, *scope)
            raw = [("A", path) for path in out.split("\0") if path]
        return [
            Change(_STATUS.get(status[:1], "edited"), path)
            for status, path in raw
            if path.endswith(".md") and not _hidden(path, self.subpath)
        ]

    def has(self, sha: str) -> bool:
        try:
            self._git("cat-file", "-e", f"{sha}^{{commit}}")
            return True
        except GitError:
            return False

    def path_in_repo(self, path: Path) -> str:
        """A corpus file's path as authors know it: relative to the repository root."""
        try:
            return path.relative_to(self.repo).as_posix()
        except ValueError:
            return str(path)


def _hidden(path: str, subpath: str) -> bool:
    """The loader skips files under hidden directories (``.github/``): so does the check."""
    relative = PurePosixPath(path)
    if subpath:
        relative = relative.relative_to(subpath)
    return any(part.startswith(".") for part in relative.parts)


def checkout_for(settings: Settings) -> GitCheckout | None:
    """The checkout HUBS_CORPUS_GIT names (None when the corpus is not a Git one)."""
    root = settings.git_checkout_root
    if settings.corpus_git is None or root is None:
        return None
    return GitCheckout(
        settings.corpus_git,
        root,
        ref=settings.corpus_git_ref,
        subpath=settings.corpus_git_path,
        username=settings.corpus_git_username,
        password=settings.corpus_git_password,
        ssh_key=settings.corpus_git_ssh_key,
        environment=settings.git_environment,
    )


def refresh(settings: Settings, *, only_if_missing: bool = False) -> None:
    """For processes that follow no webhook (``ask``, ``check``, ``digest``, the clock): pull
    now, or with ``only_if_missing`` only when nothing is checked out yet. A failed pull
    keeps the checkout there is (logged); with none, :class:`GitError`."""
    checkout = checkout_for(settings)
    if checkout is None:
        return
    with checkout.lock():
        if only_if_missing and checkout.head() is not None:
            return
        pull_or_keep(checkout)


def pull_or_keep(checkout: GitCheckout) -> None:
    """Pull (the caller holds the checkout's lock); a failed pull keeps the checkout there is
    (logged), and with none raises :class:`GitError` naming no credentials."""
    try:
        checkout.pull()
    except GitError as exc:
        if checkout.head() is None:
            raise GitError(f"cannot pull {checkout.url}: {exc}") from None
        log.error(
            "git pull failed; using the last checkout",
            extra={"source": checkout.url, "error": str(exc)},
        )


def pulled_corpus(settings: Settings) -> Corpus:
    """The corpus at the newest commit (the clock reads it at each digest tick)."""
    refresh(settings)
    checkout = checkout_for(settings)
    assert checkout is not None
    with checkout.lock():
        return load_corpus(settings.corpus_dirs)
