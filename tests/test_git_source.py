"""HUBS_CORPUS_GIT without Slack: settings and credentials, the checkout, webhook signatures,
and `hubs-bot sync` (a local bare repository, ``file://``)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from pathlib import Path

import pytest

from bot.cli import main
from bot.corpus.git import GitError, checkout_for
from bot.gitsync.follow import GitFollower
from bot.gitsync.webhook import verify
from bot.settings import ConfigError, load_settings, redact_url, split_git_url
from tests.gitrepo import Origin

TOKEN = "ghp_s3cretT0kenThatMustNeverShow"


def env_for(url: str, data: Path, **extra: str) -> dict[str, str]:
    return {
        "HUBS_CORPUS_GIT": url,
        "HUBS_DATA_DIR": str(data),
        "PATH": os.environ["PATH"],
        "HOME": str(data),
        "SLACK_BOT_TOKEN": "xoxb-never-given-to-git",
        **extra,
    }


def test_credentials_are_split_off_the_url_and_kept_out_of_repr() -> None:
    url = f"https://x-access-token:{TOKEN}@github.com/acme/playbooks.git"
    assert split_git_url(url) == (
        "https://github.com/acme/playbooks.git",
        "x-access-token",
        TOKEN,
    )
    assert split_git_url(f"https://{TOKEN}@github.com/a/b.git")[1] == TOKEN
    assert redact_url(url) == "https://***@github.com/acme/playbooks.git"
    # ssh names a user, not a secret
    assert split_git_url("ssh://git@github.com/a/b.git") == (
        "ssh://git@github.com/a/b.git",
        None,
        None,
    )
    assert split_git_url("git@github.com:a/b.git")[1:] == (None, None)
    settings = load_settings(env_for(url, Path("/tmp/x")))
    assert settings.corpus_git == "https://github.com/acme/playbooks.git"
    assert TOKEN not in repr(settings)
    assert "SLACK_BOT_TOKEN" not in settings.git_environment  # git never sees Slack secrets
    assert settings.corpus_dirs == (settings.git_checkout_root / "repo",)  # type: ignore[operator]


def test_git_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="both set"):
        load_settings({"HUBS_CORPUS_GIT": "file:///x", "HUBS_CORPUS": "/y"})
    with pytest.raises(ConfigError, match="HUBS_CORPUS_GIT_PATH"):
        load_settings({"HUBS_CORPUS_GIT": "file:///x", "HUBS_CORPUS_GIT_PATH": "../etc"})
    with pytest.raises(ConfigError, match="HUBS_CORPUS_GIT_POLL"):
        load_settings({"HUBS_CORPUS_GIT": "file:///x", "HUBS_CORPUS_GIT_POLL": "often"})
    settings = load_settings(
        {"HUBS_CORPUS_GIT": "file:///x", "HUBS_CORPUS_GIT_PATH": "/docs/playbooks/"}
    )
    assert settings.corpus_dirs[0].parts[-3:] == ("repo", "docs", "playbooks")


def test_a_failed_pull_never_shows_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # nothing listens on port 9 of this machine: the fetch fails at once, with no network
    url = f"http://x-access-token:{TOKEN}@127.0.0.1:9/acme/playbooks.git"
    settings = load_settings(env_for(url, tmp_path))
    with caplog.at_level(logging.DEBUG), pytest.raises(GitError) as failure:
        GitFollower.start_from(settings, None)
    assert "127.0.0.1:9" in str(failure.value)
    assert TOKEN not in str(failure.value) and TOKEN not in caplog.text
    checkout = checkout_for(settings)
    assert checkout is not None
    config = (checkout.repo / ".git" / "config").read_text()
    assert TOKEN not in config and "127.0.0.1:9" in config
    assert checkout.redact(f"Authorization: {TOKEN}") == "Authorization: ***"


def test_webhook_signatures() -> None:
    body = b'{"ref": "refs/heads/main"}'
    good = "sha256=" + hmac.new(b"s", body, hashlib.sha256).hexdigest()
    assert verify({"x-hub-signature-256": good}, body, "s") == "github"
    assert verify({"x-hub-signature-256": good}, body + b" ", "s") is None
    assert verify({"x-hub-signature-256": good}, body, "other") is None
    assert verify({"x-hub-signature-256": good}, body, None) is None  # no secret: refuse
    assert verify({"x-gitlab-token": "s"}, body, "s") == "gitlab"
    assert verify({"x-gitlab-token": "S"}, body, "s") is None
    assert verify({}, body, "s") is None


def test_sync_prints_what_changed_and_the_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    origin = Origin(tmp_path / "host")
    origin.playbook("pb/hubs.md", "Regional Hubs")
    origin.playbook("pb/labs.md", "Innovation Labs")
    origin.write("README.md", "not a playbook: outside HUBS_CORPUS_GIT_PATH")
    first = origin.push("two playbooks")
    for name, value in env_for(origin.url, tmp_path / "data", HUBS_CORPUS_GIT_PATH="pb").items():
        monkeypatch.setenv(name, value)

    assert main(["sync"]) == 0
    out = capsys.readouterr().out
    assert f"nothing -> {first[:8]} by Ada Author: two playbooks" in out
    assert "added    pb/hubs.md  (Regional Hubs)" in out and "README" not in out

    origin.remove("pb/labs.md")
    origin.playbook("pb/hubs.md", "Regional Hubs", "it rains")
    origin.playbook("pb/grants.md", "Fast Grants")
    origin.write("pb/broken.md", "---\ntitle: Broken\n---\n\nno sections\n")
    second = origin.push("more")
    assert main(["sync"]) == 1  # a problem
    out = capsys.readouterr().out
    assert f"{first[:8]} -> {second[:8]}" in out
    assert "added    pb/grants.md  (Fast Grants)" in out
    assert "edited   pb/hubs.md  (Regional Hubs)" in out
    assert "removed  pb/labs.md" in out
    assert "pb/broken.md:4: error: no `##` sections" in out

    assert main(["sync"]) == 0
    assert f"up to date at {second[:8]}" in capsys.readouterr().out
    # the one-shot commands read the checkout
    assert main(["ask", "fast grants"]) == 0
    assert "Fast Grants" in capsys.readouterr().out


def test_sync_without_a_git_corpus_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync"]) == 2
    assert "HUBS_CORPUS_GIT is not set" in capsys.readouterr().err
