"""Playbook files that once took the whole corpus down, one per kind, for tests and the bench.

Each entry is (file name, content, the line ``check`` reports, a fragment of the message).
Sizes follow the issue that found them: the large ones are what a fuzzer or a broken export
produces, not what anyone writes by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

BILLION_LAUGHS = """---
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
title: Laughs
stage: *i
---

## Key things to know

- lol
"""


class Hostile(NamedTuple):
    name: str
    content: str
    line: int
    fragment: str


def _playbook(front: str, body: str) -> str:
    return f"---\n{front}\n---\n\n{body}"


HOSTILE = (
    Hostile(
        "non-string-keys.md",
        _playbook(
            "1: a\ntrue: b\nnull: c\n2024-01-01: d\ntitle: Odd Keys",
            "## Key things to know\n\n- keys of every YAML type\n",
        ),
        2,
        "front matter key 1 is read as int, not text (ignored)",
    ),
    Hostile("json-brace.md", "{\n## Looks like JSON\n\ntext\n", 1, "not closed by a `}` line"),
    Hostile("billion-laughs.md", BILLION_LAUGHS, 3, "YAML aliases (*name) are not allowed"),
    Hostile(
        "many-items.md",
        _playbook("title: Items", "## S\n\n" + "- a\n" * 60_000),
        4,
        "Markdown too costly to parse safely (over 100,000 elements: 33,333 runs of text",
    ),
    Hostile(
        "unclosed-links.md",
        _playbook("title: Unclosed", "## S\n\n" + "[a](" * 240_000 + "\n"),
        4,
        "240,000 `](` link brackets",
    ),
    Hostile(
        "deep-quotes.md",
        _playbook("title: Quotes", "## S\n\nintro\n\n" + "> " * 40 + "deep\n"),
        9,
        "Markdown nested over 32 levels deep",
    ),
    Hostile(
        "one-letter-lines.md",
        _playbook("title: Lines", "## S\n\n" + "a\n" * 200_000),
        4,
        "Markdown too costly to parse safely",
    ),
    Hostile(
        "script-links.md",
        _playbook(
            "title: Script Links",
            "## S\n\n[y](javascript:alert(1)) and [v](vbscript:msgbox) and "
            "[d](data:text/html,hi) and [i](data:image/png;base64,AAAA)\n",
        ),
        7,
        "bad link 'javascript:alert(1)': scheme 'javascript' is not allowed",
    ),
    Hostile(
        "script-url.md",
        _playbook("title: Script Url\nurl: javascript:alert(1)", "## S\n\ntext\n"),
        3,
        "front matter url 'javascript:alert(1)': scheme 'javascript' is not allowed (ignored)",
    ),
    Hostile(
        "long-url.md",
        _playbook("title: Long Url\nurl: https://example.com/" + "x" * 4000, "## S\n\ntext\n"),
        3,
        "4,020 characters; the limit is 3,000 (ignored)",
    ),
    Hostile(
        "colliding-headings.md",
        _playbook(
            "title: Colliding Headings",
            "## Foo bar\n\none\n\n## foo-bar\n\ntwo\n\n## !!!\n\nthree\n\n## ???\n\nfour\n",
        ),
        9,
        "heading 'foo-bar' has the same anchor #foo-bar as 'Foo bar' (line 5)",
    ),
)


def write_hostile(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for hostile in HOSTILE:
        path = directory / hostile.name
        path.write_text(hostile.content, encoding="utf-8")
        paths.append(path)
    return paths


def run_cli_measured(args: list[str]) -> tuple[int, str, str, int]:
    """Run the command line in a fresh interpreter; returns (code, stdout, stderr, peak KiB).
    The peak is the kernel's high-water mark of this process's own memory (VmHWM starts anew
    at exec; getrusage's maxrss would include pytest's, inherited through fork)."""
    code = (
        "import re, sys\n"
        "from bot.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "sys.stdout.flush()\n"
        "status = open('/proc/self/status').read()\n"
        "print('PEAK', re.search(r'VmHWM:\\s+(\\d+)', status).group(1), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )
    *err, peak = done.stderr.rstrip("\n").split("\n")
    return done.returncode, done.stdout, "\n".join(err), int(peak.split()[1])
