"""The ``hubs-bot`` command line: every capability reachable from a terminal.

The contract (DESIGN.md) is::

    hubs-bot ask [--corpus DIR]... [--json] [--limit N] [QUERY...]
    hubs-bot check [--corpus DIR]...
    hubs-bot serve [--port N]
    hubs-bot socket
    hubs-bot digest --preview | --post-now [--channel C] | --history
    hubs-bot clock
    hubs-bot stats [--days N] [--format text|csv|json]
    hubs-bot reload
    hubs-bot sync
    hubs-bot manifest [--url URL] [--multi-workspace]

Usage errors exit 2 with one line; user-fixable problems (missing env var, bad config) exit 2
with one line; bugs get a traceback in the log, never a half-printed answer.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from bot.corpus import Corpus, NoPlaybooksError, load_corpus, require_playbooks
from bot.corpus.git import GitError, refresh
from bot.observability.logs import configure_logging
from bot.render.text import format_response, response_to_dict
from bot.search import SearchResponse

if TYPE_CHECKING:
    from bot.search.index import Index
from bot.search.semantic import SemanticUnavailableError
from bot.settings import ConfigError, Settings, load_settings

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
LONG_RUNNING = frozenset({"serve", "socket", "clock"})
# commands that read the corpus from disk without pulling it themselves (serve, socket and
# sync pull on their own)
READS_CORPUS = frozenset({"ask", "check", "digest", "clock", "manifest"})


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {number}")
        return number

    return parse


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hubs-bot")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hubs-bot",
        description="Search a corpus of Markdown playbooks from the terminal or from Slack.",
    )
    parser.add_argument("--version", action="version", version=f"hubs-bot {_version()}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="hubs-bot's own debug lines on stderr"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    # -v also after the subcommand (`hubs-bot ask -v pitfalls`); SUPPRESS keeps the top-level
    # value when the subcommand's is not given
    verbose_opt = _Parser(add_help=False)
    verbose_opt.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    corpus_opt = _Parser(add_help=False, parents=[verbose_opt])
    corpus_opt.add_argument(
        "--corpus",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="playbook directory (repeatable); replaces the default seeds/",
    )

    ask = commands.add_parser(
        "ask", parents=[corpus_opt], help="answer a question from the playbooks"
    )
    ask.add_argument("--json", action="store_true", help="print JSON (JSON Lines for stdin)")
    ask.add_argument("--limit", type=_int_between(1, 100), default=None, help="results (default 3)")
    ask.add_argument("query", nargs="*", help="the question; none = one question per stdin line")
    ask.set_defaults(handler=cmd_ask)

    check = commands.add_parser("check", parents=[corpus_opt], help="lint the corpus")
    check.set_defaults(handler=cmd_check)

    serve = commands.add_parser("serve", parents=[corpus_opt], help="run the Slack app (HTTP)")
    serve.add_argument("--port", type=int, default=None, help="port (default $PORT or 3000)")
    serve.set_defaults(handler=_lazy("bot.slack.server", "cmd_serve"))

    socket = commands.add_parser(
        "socket", parents=[corpus_opt], help="run the Slack app over Socket Mode"
    )
    socket.set_defaults(handler=_lazy("bot.slack.server", "cmd_socket"))

    digest = commands.add_parser(
        "digest", parents=[corpus_opt], help="preview or post the weekly digest"
    )
    mode = digest.add_mutually_exclusive_group(required=True)
    mode.add_argument("--preview", action="store_true", help="show the next item, post nothing")
    mode.add_argument("--post-now", action="store_true", help="post this week's digest now")
    mode.add_argument("--history", action="store_true", help="list past digest posts")
    digest.add_argument("--channel", help="channel ID (default $HUBS_DIGEST_CHANNEL)")
    digest.add_argument("--force", action="store_true", help="post even if this week is done")
    digest.set_defaults(handler=_lazy("bot.digest.cli", "cmd_digest"))

    reload = commands.add_parser(
        "reload", parents=[verbose_opt], help="make running servers re-read the corpus"
    )
    reload.set_defaults(handler=_lazy("bot.slack.reload", "cmd_reload"))

    sync = commands.add_parser(
        "sync", parents=[verbose_opt], help="pull the Git corpus now and show what changed"
    )
    sync.set_defaults(handler=_lazy("bot.gitsync.cli", "cmd_sync"))

    manifest = commands.add_parser(
        "manifest", parents=[corpus_opt], help="print the Slack app manifest (YAML)"
    )
    manifest.add_argument(
        "--url",
        type=_manifest_url,
        default=None,
        help="https://your.host where Slack reaches `serve` (default a placeholder)",
    )
    manifest.add_argument(
        "--multi-workspace",
        action="store_true",
        help="add the OAuth redirect URL (also when SLACK_CLIENT_ID/SECRET are set)",
    )
    manifest.set_defaults(handler=_lazy("bot.slack.manifest", "cmd_manifest"))

    stats = commands.add_parser(
        "stats", parents=[verbose_opt], help="top questions, unanswered ones, worst feedback"
    )
    stats.add_argument("--days", type=_int_between(1, 3650), default=30, help="period (default 30)")
    stats.add_argument("--format", choices=("text", "csv", "json"), default="text")
    stats.set_defaults(handler=_lazy("bot.stats", "cmd_stats"))

    clock = commands.add_parser(
        "clock", parents=[corpus_opt], help="run the weekly digest scheduler"
    )
    clock.set_defaults(handler=_lazy("bot.digest.clock", "cmd_clock"))
    return parser


def _manifest_url(value: str) -> str:
    """``manifest --url``: an https base URL (checked here, so a typo is a usage error)."""
    from bot.slack.manifest import base_url

    return base_url(value)


Handler = Callable[[argparse.Namespace, Settings], int]


def _lazy(module: str, name: str) -> Handler:
    """Import Slack/scheduler code only for the commands that need it (fast `ask`)."""

    def handler(args: argparse.Namespace, settings: Settings) -> int:
        import importlib

        return int(getattr(importlib.import_module(module), name)(args, settings))

    return handler


def load_index(settings: Settings) -> Index:
    """The corpus as an index, for one-shot commands: no playbooks is an error (exit 2), and
    problems are one summary line, not a log record each (`check` lists them). Through the
    caches: an unchanged corpus is not parsed or indexed again."""
    # numpy and bm25s: only for commands that search
    from bot.search.index_cache import IndexBuild, inputs_from

    index, _cached = IndexBuild(**inputs_from(settings)).result()
    _summarise_problems(index.corpus)
    return index


def _summarise_problems(corpus: Corpus) -> None:
    if corpus.errors:
        log.warning(
            "%d problem(s) in the corpus; `hubs-bot check` lists them",
            len(corpus.errors),
            extra={"errors": len(corpus.errors)},
        )


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if not args.query and sys.stdin.isatty():  # not a pipe: nobody is about to type a batch
        print(
            'usage: hubs-bot ask QUESTION  (e.g. hubs-bot ask "pitfalls"), or pipe one '
            "question per line into hubs-bot ask",
            file=sys.stderr,
        )
        return EXIT_USAGE
    index = load_index(settings)
    limit = args.limit or settings.result_limit
    if args.query:
        response = index.search(" ".join(args.query), limit=limit)
        _write_answer(sys.stdout, response, args.json)
        return EXIT_OK
    for line in sys.stdin:  # batch mode: one question per line, answers in order
        response = index.search(line.strip(), limit=limit)
        if args.json:
            sys.stdout.write(json.dumps(response_to_dict(response), ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(f"> {line.strip()}\n{format_response(response)}\n")
    return EXIT_OK


def _write_answer(out: TextIO, response: SearchResponse, as_json: bool) -> None:
    if as_json:
        out.write(json.dumps(response_to_dict(response), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(format_response(response))


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """Each problem once on stdout (``path:line: severity: message``), a summary on stderr;
    exit 1 when there are errors or nothing to serve."""
    corpus = load_corpus(settings.corpus_dirs)
    for problem in corpus.problems:
        print(problem)
    errors = len(corpus.errors)
    warnings = len(corpus.problems) - errors
    summary = (
        f"{len(corpus.playbooks)} playbook(s), {len(corpus.sections)} section(s): "
        f"{errors} error(s), {warnings} warning(s)"
    )
    print(summary, file=sys.stderr)
    try:
        require_playbooks(corpus)
    except NoPlaybooksError as exc:
        print(f"hubs-bot: {exc}", file=sys.stderr)
        return EXIT_ERRORS
    return EXIT_ERRORS if errors else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # servers log what they do (start, requests, posts) at INFO; one-shot commands only
    # what went wrong
    configure_logging(logging.INFO if args.command in LONG_RUNNING else logging.WARNING)
    if args.verbose:  # hubs-bot's own debug lines, not every parser's and library's
        logging.getLogger("bot").setLevel(logging.DEBUG)
    try:
        settings = load_settings().with_corpus(getattr(args, "corpus", []))
        if settings.corpus_git and args.command in READS_CORPUS:  # from Git: check it out
            refresh(settings, only_if_missing=args.command in ("ask", "check", "manifest"))
        return args.handler(args, settings)
    except (ConfigError, NoPlaybooksError, SemanticUnavailableError, GitError) as exc:
        print(f"hubs-bot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `hubs-bot ask ... | head`
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
