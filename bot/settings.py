"""Configuration, read once into a :class:`Settings` and passed down.

Precedence (highest first): command-line flags, environment variables, ``config/hubs.toml``
(or the file named by ``HUBS_CONFIG``), built-in defaults. No other module reads
``os.environ``; secrets come only from the environment and are never logged (``repr`` hides
them).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.search import DEFAULT_ALIASES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CORPUS = PROJECT_ROOT / "seeds"
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "hubs.toml"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class ConfigError(Exception):
    """A configuration problem the user can fix; printed as one line."""


@dataclass(frozen=True)
class Settings:
    corpus_dirs: tuple[Path, ...] = (BUNDLED_CORPUS,)
    data_dir: Path = PROJECT_ROOT / "data"
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
    aliases: Mapping[str, Sequence[str]] = field(default_factory=lambda: dict(DEFAULT_ALIASES))

    @property
    def oauth_enabled(self) -> bool:
        """Multi-workspace ("distributed") mode: tokens come from installations in the store,
        not from SLACK_BOT_TOKEN."""
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'hubs-bot.sqlite3'}"

    def with_corpus(self, dirs: Sequence[Path]) -> Settings:
        return replace(self, corpus_dirs=tuple(dirs)) if dirs else self

    def require(self, *names: str) -> None:
        """Fail with one line naming the first missing secret, e.g. SLACK_BOT_TOKEN."""
        for name in names:
            if not getattr(self, name.lower(), None):
                raise ConfigError(f"{name} is not set; export it in the environment")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _split_paths(value: str, base: Path) -> tuple[Path, ...]:
    return tuple(
        (base / part).resolve() if not Path(part).is_absolute() else Path(part)
        for part in value.split(os.pathsep)
        if part.strip()
    )


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the config file and the environment."""
    env = os.environ if env is None else env
    config_path = Path(env.get("HUBS_CONFIG") or DEFAULT_CONFIG)
    config = _read_toml(config_path)
    corpus_cfg = config.get("corpus", {})
    digest_cfg = config.get("digest", {})
    server_cfg = config.get("server", {})
    search_cfg = config.get("search", {})

    base = config_path.parent.parent if config_path == DEFAULT_CONFIG else Path.cwd()
    corpus_dirs: tuple[Path, ...] = (BUNDLED_CORPUS,)
    if corpus_cfg.get("directories"):
        corpus_dirs = tuple(
            (base / d).resolve() if not Path(d).is_absolute() else Path(d)
            for d in corpus_cfg["directories"]
        )
    if env.get("HUBS_CORPUS"):
        corpus_dirs = _split_paths(env["HUBS_CORPUS"], Path.cwd())

    aliases: dict[str, Sequence[str]] = {k: list(v) for k, v in DEFAULT_ALIASES.items()}
    for heading, extra in search_cfg.get("aliases", {}).items():
        aliases[heading] = [*aliases.get(heading, []), *extra]

    try:
        port = int(env.get("PORT") or server_cfg.get("port", 3000))
        workers = int(env.get("WEB_CONCURRENCY") or server_cfg.get("workers", 2))
        threads = int(server_cfg.get("threads", 8))
        clock_port = env.get("HUBS_CLOCK_METRICS_PORT") or digest_cfg.get("metrics_port")
        clock_metrics_port = int(clock_port) if clock_port else None
        limit = int(search_cfg.get("result_limit", 3))
    except ValueError as exc:
        raise ConfigError(f"not a number: {exc}") from None

    data_dir = Path(env.get("HUBS_DATA_DIR") or config.get("data_dir") or "data")
    if not data_dir.is_absolute():
        data_dir = (base / data_dir).resolve()
    return Settings(
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
        port=port,
        clock_metrics_port=clock_metrics_port,
        web_workers=workers,
        web_threads=threads,
        result_limit=limit,
        aliases=aliases,
    )
