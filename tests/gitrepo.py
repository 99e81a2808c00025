"""A local Git "host" for tests: a bare repository reached by ``file://`` and a working clone
that commits and pushes to it, as an author would. No network."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

PLAYBOOK = """\
---
title: {title}
---

## Potential pitfalls

- {title} can go wrong when {words}.
"""


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={
            "PATH": "/usr/bin:/bin:/usr/local/bin",
            "HOME": str(cwd),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Ada Author",
            "GIT_AUTHOR_EMAIL": "ada@example.org",
            "GIT_COMMITTER_NAME": "Ada Author",
            "GIT_COMMITTER_EMAIL": "ada@example.org",
        },
    )
    return done.stdout.strip()


class Origin:
    """``url``: what HUBS_CORPUS_GIT names. :meth:`write` / :meth:`remove` change the
    working clone; :meth:`push` commits everything and pushes; returns the commit's sha."""

    def __init__(self, root: Path, branch: str = "main") -> None:
        self.bare = root / "origin.git"
        self.work = root / "author"
        self.branch = branch
        self.bare.mkdir(parents=True)
        git("init", "--quiet", "--bare", "-b", branch, cwd=self.bare)
        self.work.mkdir()
        git("init", "--quiet", "-b", branch, cwd=self.work)
        git("remote", "add", "origin", self.url, cwd=self.work)

    @property
    def url(self) -> str:
        return f"file://{self.bare}"

    def write(self, path: str, text: str) -> None:
        file = self.work / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(textwrap.dedent(text))

    def playbook(self, path: str, title: str, words: str = "nobody reads it") -> None:
        self.write(path, PLAYBOOK.format(title=title, words=words))

    def remove(self, path: str) -> None:
        (self.work / path).unlink()

    def push(self, message: str = "edit playbooks", branch: str | None = None) -> str:
        git("add", "--all", cwd=self.work)
        git("commit", "--quiet", "--allow-empty", "-m", message, cwd=self.work)
        git("push", "--quiet", "origin", f"HEAD:refs/heads/{branch or self.branch}", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)
