"""What the maintainers' channel is told after a pull: the problems a commit brought, once per
commit, and a short "all clear" when a later commit fixes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.corpus.git import Commit
from bot.render.mrkdwn import escape, one_line

MAX_LISTED = 25


@dataclass(frozen=True, slots=True)
class FileProblem:
    """One error in a changed file, with its path as authors know it (repository-relative)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _who(commit: Commit) -> str:
    subject = one_line(commit.subject, 120)
    author = escape(commit.author or commit.email or "someone")
    return f"`{commit.short}` by {author}" + (f" ({escape(subject)})" if subject else "")


def problems_message(commit: Commit, problems: Sequence[FileProblem]) -> str:
    files = len({p.path for p in problems})
    lines = [
        f":warning: Commit {_who(commit)} broke {files} playbook file(s): "
        f"{len(problems)} problem(s). The last good version of each keeps serving until it "
        "is fixed.",
    ]
    lines += [
        f"• `{escape(p.path)}:{p.line}`: {escape(one_line(p.message, 300))}"
        for p in problems[:MAX_LISTED]
    ]
    if len(problems) > MAX_LISTED:
        lines.append(f"…and {len(problems) - MAX_LISTED} more: run `hubs-bot check` to see all.")
    return "\n".join(lines)


def all_clear_message(commit: Commit, fixed: Sequence[str]) -> str:
    listed = ", ".join(f"`{escape(path)}`" for path in fixed[:MAX_LISTED])
    return f":white_check_mark: All clear: commit {_who(commit)} fixed {listed}."
