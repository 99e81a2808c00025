"""manifest.yml and the code agree: every event, command and shortcut it sends is handled."""

from __future__ import annotations

import yaml

from bot.slack.listeners import commands, shortcuts
from bot.slack_api.installations import BOT_SCOPES, REDIRECT_PATH
from tests.conftest import REPO_ROOT

MANIFEST = yaml.safe_load((REPO_ROOT / "manifest.yml").read_text())


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
        "reactions:write",
        "users:read",
    ]
    assert sorted(MANIFEST["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    (redirect,) = MANIFEST["oauth_config"]["redirect_urls"]
    assert redirect.endswith(REDIRECT_PATH)
