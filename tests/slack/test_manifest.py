"""manifest.yml and the code agree: every event, command and shortcut it sends is handled,
and the file is exactly what `hubs-bot manifest` prints for the bundled seeds."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.corpus import load_corpus
from bot.slack.listeners import commands, shortcuts
from bot.slack.manifest import PLACEHOLDER_DOMAIN, build_manifest
from bot.slack_api.installations import BOT_SCOPES, REDIRECT_PATH
from tests.conftest import REPO_ROOT

MANIFEST_TEXT = (REPO_ROOT / "manifest.yml").read_text()
MANIFEST = yaml.safe_load(MANIFEST_TEXT)
SLACK_ENV = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "HUBS_CORPUS", "HUBS_CORPUS_GIT")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*SLACK_ENV, "HUBS_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def manifest_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["manifest", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_command_and_shortcut_ids_match_the_listeners() -> None:
    (command,) = MANIFEST["features"]["slash_commands"]
    assert commands.COMMAND.match(command["command"])
    (shortcut,) = MANIFEST["features"]["shortcuts"]
    assert shortcut["callback_id"] == shortcuts.CALLBACK_ID


def test_events_are_the_ones_handled() -> None:
    events = MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(events) == [
        "app_home_opened",
        "app_mention",
        "app_uninstalled",
        "link_shared",
        "message.im",
        "tokens_revoked",
    ]
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True


def test_scopes_are_the_minimal_set_and_the_install_flow_asks_for_them() -> None:
    assert sorted(MANIFEST["oauth_config"]["scopes"]["bot"]) == [
        "app_mentions:read",
        "channels:history",
        "chat:write",
        "commands",
        "groups:history",
        "im:history",
        "links:read",
        "links:write",
        "reactions:write",
        "users:read",
    ]
    assert sorted(MANIFEST["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)


def test_manifest_yml_is_what_hubs_bot_manifest_prints_for_the_seeds(
    clean_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = manifest_cli([], capsys)
    assert code == 0
    assert out == MANIFEST_TEXT, "regenerate it: hubs-bot manifest > manifest.yml"
    assert "redirect_urls" not in MANIFEST["oauth_config"]  # single workspace by default
    assert MANIFEST["features"]["unfurl_domains"] == [PLACEHOLDER_DOMAIN]  # seeds have no url
    assert "no playbook has a `url:`" in err


def write_playbooks(root: Path, hosts: list[str]) -> None:
    for n, host in enumerate(hosts):
        (root / f"p{n}.md").write_text(
            f"---\ntitle: P{n}\nurl: https://{host}/pb/{n}\n---\n\n## A\n\nx\n"
        )


def test_manifest_with_url_points_every_request_url_at_the_host(
    clean_env: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write_playbooks(tmp_path, ["docs.acme.org", "www.acme.org", "docs.acme.org"])
    argv = ["--url", "https://bot.acme.org/", "--corpus", str(tmp_path), "--multi-workspace"]
    code, out, err = manifest_cli(argv, capsys)
    assert code == 0 and err == ""
    manifest = yaml.safe_load(out)
    events = "https://bot.acme.org/slack/events"
    assert manifest["settings"]["event_subscriptions"]["request_url"] == events
    assert manifest["settings"]["interactivity"]["request_url"] == events
    assert manifest["features"]["slash_commands"][0]["url"] == events
    assert manifest["oauth_config"]["redirect_urls"] == [f"https://bot.acme.org{REDIRECT_PATH}"]
    assert {"links:read", "links:write"} <= set(manifest["oauth_config"]["scopes"]["bot"])
    assert "link_shared" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert manifest["features"]["unfurl_domains"] == ["docs.acme.org", "www.acme.org"]
    assert "example.com" not in out


def test_more_than_five_domains_keeps_the_most_used_and_warns(
    clean_env: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hosts = ["z.org", "z.org", "y.org", "y.org", "a.org", "b.org", "c.org", "d.org", "e.org"]
    write_playbooks(tmp_path, hosts)
    code, out, err = manifest_cli(["--url", "https://h.io", "--corpus", str(tmp_path)], capsys)
    assert code == 0
    domains = yaml.safe_load(out)["features"]["unfurl_domains"]
    assert domains == ["a.org", "b.org", "c.org", "y.org", "z.org"]
    assert err.count("\n") == 1 and "d.org, e.org" in err and "warning" in err


def test_oauth_credentials_add_the_redirect_url(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", "1.2")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "s")
    _, out, _ = manifest_cli(["--url", "https://h.io"], capsys)
    assert yaml.safe_load(out)["oauth_config"]["redirect_urls"] == [
        "https://h.io/slack/oauth_redirect"
    ]


@pytest.mark.parametrize("url", ["http://h.io", "h.io", "https://h.io/?a=b", "https://h.io/#x"])
def test_a_url_that_slack_cannot_call_is_a_usage_error(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["manifest", "--url", url])
    assert exit_.value.code == 2
    assert "https://your.host" in capsys.readouterr().err


def test_odd_hosts_are_quoted_into_valid_yaml(tmp_path: Path) -> None:
    write_playbooks(tmp_path, ["xn--bcher-kva.example", "bücher.example"])
    manifest = yaml.safe_load(build_manifest(load_corpus([tmp_path])).text)
    assert manifest["features"]["unfurl_domains"] == ["bücher.example", "xn--bcher-kva.example"]
