"""Configuration, read once into a :class:`Settings` and passed down.

Precedence (highest first): command-line flags, environment variables, the file named by
``HUBS_CONFIG`` (else the bundled ``config/hubs.toml``), built-in defaults. Relative paths
from the environment or the command line are read against the working directory; relative
paths inside a config file against that file's directory. State lives in ``HUBS_DATA_DIR``,
by default the user's data directory (``platformdirs``): never inside an installed package,
and the same whichever directory a command is run from. No other module reads
``os.environ``; secrets come only from the environment and are never logged (``repr`` hides
them).
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

import platformdirs

from bot.bundled import BUNDLED_CORPUS, DEFAULT_CONFIG

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
# what `git` is given of the environment (HUBS_CORPUS_GIT): enough to find its programs, its
# home, a proxy and an SSH agent; never the Slack secrets
GIT_ENVIRONMENT = (
    "PATH",
    "HOME",
    "LANG",
    "TMPDIR",
    "SSH_AUTH_SOCK",
    "GIT_SSH_COMMAND",
    "GIT_SSL_CAINFO",
    "SSL_CERT_FILE",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
)


class ConfigError(Exception):
    """A configuration problem the user can fix; printed as one line."""


@dataclass(frozen=True)
class Settings:
    corpus_dirs: tuple[Path, ...] = (BUNDLED_CORPUS,)
    data_dir: Path = field(default_factory=lambda: default_data_dir())
    database_url: str = ""
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_client_id: str | None = None
    slack_client_secret: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    digest_channel: str | None = None
    digest_cron: str = "0 9 * * mon"
    timezone: str = "UTC"
    port: int = 3000
    clock_metrics_port: int | None = None
    web_workers: int = 2
    web_threads: int = 8
    result_limit: int = 3
    # additions to the built-in alias and cue tables (bot/search/intent.py), by heading
    aliases: Mapping[str, Sequence[str]] = field(default_factory=dict)
    cues: Mapping[str, Sequence[str]] = field(default_factory=dict)
    semantic: str = "off"  # the [semantic] extra: off (default); on (required); auto (if installed)
    metrics_dir: Path | None = None  # PROMETHEUS_MULTIPROC_DIR: workers' shared metrics
    # HUBS_CORPUS_GIT, without its credentials (those are kept apart, below); None: no Git
    corpus_git: str | None = None
    corpus_git_ref: str | None = None  # branch or tag; None: the remote's default branch
    corpus_git_path: str = ""  # the playbooks' directory inside the repository
    corpus_git_poll: int = 5  # minutes between pulls; 0: only on a webhook (and at start)
    corpus_git_username: str | None = field(default=None, repr=False)
    corpus_git_password: str | None = field(default=None, repr=False)
    corpus_git_ssh_key: Path | None = None
    git_webhook_secret: str | None = field(default=None, repr=False)
    maintainers_channel: str | None = None
    git_environment: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def oauth_enabled(self) -> bool:
        """Multi-workspace ("distributed") mode: tokens come from installations in the store,
        not from SLACK_BOT_TOKEN."""
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'hubs-bot.sqlite3'}"

    @property
    def index_cache_dir(self) -> Path:
        """The built index, named by what it is built from (bot/search/index_cache.py)."""
        return self.data_dir / "cache"

    @property
    def parse_cache_dir(self) -> Path:
        """Parsed playbooks by content (bot/corpus/cache.py): safe to delete at any time."""
        return self.data_dir / "cache" / "parsed"

    @property
    def git_checkout_root(self) -> Path | None:
        """Where the checkout of HUBS_CORPUS_GIT lives: one directory per URL and ref."""
        if not self.corpus_git:
            return None
        key = hashlib.sha256(f"{self.corpus_git}\0{self.corpus_git_ref or ''}".encode())
        return self.data_dir / "git" / key.hexdigest()[:12]

    def with_corpus(self, dirs: Sequence[Path]) -> Settings:
        """``--corpus DIR`` flags (relative to the working directory) replace the corpus
        (a Git one too)."""
        return (
            replace(
                self, corpus_dirs=tuple(_absolute(d, Path.cwd()) for d in dirs), corpus_git=None
            )
            if dirs
            else self
        )

    def require(self, *names: str) -> None:
        """Fail with one line naming every missing secret at once (one run, not one per
        variable), e.g. ``SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set``."""
        missing = [name for name in names if not getattr(self, name.lower(), None)]
        if len(missing) == 1:
            raise ConfigError(f"{missing[0]} is not set; export it in the environment")
        if missing:
            listed = ", ".join(missing[:-1]) + f" and {missing[-1]}"
            raise ConfigError(f"{listed} are not set; export them in the environment")


def default_data_dir() -> Path:
    """Where the SQLite file and pid files go when HUBS_DATA_DIR is not set."""
    return Path(platformdirs.user_data_dir("hubs-bot", appauthor=False))


def _absolute(path: str | Path, base: Path) -> Path:
    path = Path(path).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _config_file(env: Mapping[str, str]) -> Path:
    named = env.get("HUBS_CONFIG")
    if not named:
        return DEFAULT_CONFIG
    path = _absolute(named, Path.cwd())
    if not path.is_file():
        raise ConfigError(f"HUBS_CONFIG names {path}, which does not exist or is not a file")
    return path


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:  # only the bundled default may be absent (a stripped install)
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _split_paths(value: str, base: Path) -> tuple[Path, ...]:
    return tuple(_absolute(part, base) for part in value.split(os.pathsep) if part.strip())


def _phrase_table(name: str, extra: object) -> dict[str, list[str]]:
    """``[search.<name>]`` from the config file: heading = [phrases], added by the index to
    its built-in table."""
    if not isinstance(extra, dict):
        raise ConfigError(f"[search.{name}] must be a table of heading = [phrases]")
    table: dict[str, list[str]] = {}
    for heading, phrases in extra.items():
        if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            raise ConfigError(f"[search.{name}] {heading!r} must be a list of phrases")
        table[heading] = list(phrases)
    return table


def split_git_url(url: str) -> tuple[str, str | None, str | None]:
    """(the URL without credentials, username, password) of HUBS_CORPUS_GIT. Only http(s)
    URLs carry credentials (``https://x-access-token:TOKEN@github.com/…``, or a token alone
    as the user name); ``ssh://git@host/…`` and ``git@host:…`` name a user, not a secret."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or "@" not in parts.netloc:
        return url, None, None
    host = parts.netloc.rsplit("@", 1)[1]
    clean = urlunsplit(SplitResult(parts.scheme, host, parts.path, parts.query, parts.fragment))
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return clean, username, password


def redact_url(url: str) -> str:
    """A URL fit for a log line: any credentials replaced by ``***``."""
    clean, username, password = split_git_url(url)
    if username is None and password is None:
        return url
    parts = urlsplit(clean)
    return urlunsplit(parts._replace(netloc=f"***@{parts.netloc}"))


def _git_subpath(value: object) -> str:
    text = str(value or "").strip().strip("/")
    if text and (".." in text.split("/") or text.startswith("~")):
        raise ConfigError(
            f"HUBS_CORPUS_GIT_PATH must be a path inside the repository, got {text!r}"
        )
    return text


def _choice(name: str, value: object, allowed: Sequence[str]) -> str:
    text = str(value).strip().lower()
    if text not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return text


def _whole_number(name: str, value: object) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the config file and the environment."""
    env = os.environ if env is None else env
    config_path = _config_file(env)
    config = _read_toml(config_path)
    config_dir = config_path.parent
    corpus_cfg = config.get("corpus", {})
    digest_cfg = config.get("digest", {})
    server_cfg = config.get("server", {})
    search_cfg = config.get("search", {})

    corpus_dirs: tuple[Path, ...] = (BUNDLED_CORPUS,)
    if corpus_cfg.get("directories"):
        corpus_dirs = tuple(_absolute(d, config_dir) for d in corpus_cfg["directories"])
    if env.get("HUBS_CORPUS"):
        corpus_dirs = _split_paths(env["HUBS_CORPUS"], Path.cwd())

    aliases = _phrase_table("aliases", search_cfg.get("aliases", {}))
    cues = _phrase_table("cues", search_cfg.get("cues", {}))

    git_url = env.get("HUBS_CORPUS_GIT") or corpus_cfg.get("git") or None
    git_clean, git_user, git_password = split_git_url(git_url) if git_url else (None, None, None)
    if git_url and env.get("HUBS_CORPUS"):
        raise ConfigError("HUBS_CORPUS and HUBS_CORPUS_GIT are both set; keep one of them")
    git_ssh_key = env.get("HUBS_CORPUS_GIT_SSH_KEY")
    git_poll = _whole_number(
        "HUBS_CORPUS_GIT_POLL", env.get("HUBS_CORPUS_GIT_POLL") or corpus_cfg.get("git_poll", 5)
    )
    if git_poll < 0:
        raise ConfigError(f"HUBS_CORPUS_GIT_POLL must be 0 or more minutes, got {git_poll}")

    clock_port = env.get("HUBS_CLOCK_METRICS_PORT") or digest_cfg.get("metrics_port")
    if env.get("HUBS_DATA_DIR"):
        data_dir = _absolute(env["HUBS_DATA_DIR"], Path.cwd())
    elif config.get("data_dir"):
        data_dir = _absolute(config["data_dir"], config_dir)
    else:
        data_dir = default_data_dir()
    settings = Settings(
        corpus_dirs=corpus_dirs,
        data_dir=data_dir,
        database_url=env.get("HUBS_DATABASE_URL") or config.get("database_url", ""),
        slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        slack_app_token=env.get("SLACK_APP_TOKEN") or None,
        slack_client_id=env.get("SLACK_CLIENT_ID") or None,
        slack_client_secret=env.get("SLACK_CLIENT_SECRET") or None,
        slack_api_url=env.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL,
        digest_channel=env.get("HUBS_DIGEST_CHANNEL") or digest_cfg.get("channel") or None,
        digest_cron=env.get("HUBS_DIGEST_CRON") or digest_cfg.get("cron", "0 9 * * mon"),
        timezone=env.get("HUBS_TIMEZONE") or digest_cfg.get("timezone", "UTC"),
        port=_whole_number("PORT", env.get("PORT") or server_cfg.get("port", 3000)),
        clock_metrics_port=(
            _whole_number("HUBS_CLOCK_METRICS_PORT", clock_port) if clock_port else None
        ),
        web_workers=_whole_number(
            "WEB_CONCURRENCY", env.get("WEB_CONCURRENCY") or server_cfg.get("workers", 2)
        ),
        web_threads=_whole_number("[server] threads", server_cfg.get("threads", 8)),
        result_limit=_whole_number("[search] result_limit", search_cfg.get("result_limit", 3)),
        aliases=aliases,
        cues=cues,
        metrics_dir=(
            _absolute(env["PROMETHEUS_MULTIPROC_DIR"], Path.cwd())
            if env.get("PROMETHEUS_MULTIPROC_DIR")
            else None
        ),
        semantic=_choice(
            "HUBS_SEMANTIC",
            env.get("HUBS_SEMANTIC") or search_cfg.get("semantic", "off"),
            ("auto", "on", "off"),
        ),
        corpus_git=git_clean,
        corpus_git_ref=env.get("HUBS_CORPUS_GIT_REF") or corpus_cfg.get("git_ref") or None,
        corpus_git_path=_git_subpath(
            env.get("HUBS_CORPUS_GIT_PATH") or corpus_cfg.get("git_path", "")
        ),
        corpus_git_poll=git_poll,
        corpus_git_username=git_user,
        corpus_git_password=git_password,
        corpus_git_ssh_key=_absolute(git_ssh_key, Path.cwd()) if git_ssh_key else None,
        git_webhook_secret=env.get("HUBS_GIT_WEBHOOK_SECRET") or None,
        maintainers_channel=(
            env.get("HUBS_MAINTAINERS_CHANNEL") or corpus_cfg.get("maintainers_channel") or None
        ),
        git_environment={name: env[name] for name in GIT_ENVIRONMENT if name in env},
    )
    root = settings.git_checkout_root
    if root is not None:  # every command reads the playbooks from the checkout
        checkout = root / "repo"
        corpus = checkout / settings.corpus_git_path if settings.corpus_git_path else checkout
        settings = replace(settings, corpus_dirs=(corpus,))
    return settings
