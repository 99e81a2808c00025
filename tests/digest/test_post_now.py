"""`hubs-bot digest --post-now` as the manual recovery after a failed week."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.digest.pool import iso_week
from bot.settings import load_settings
from bot.store import Store
from tests.digest.conftest import CHANNEL
from tests.fake_slack import FakeSlack


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_slack: FakeSlack) -> None:
    monkeypatch.setenv("HUBS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SLACK_API_URL", fake_slack.base_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("HUBS_DIGEST_CHANNEL", CHANNEL)


def this_weeks_run(channel: str = CHANNEL):
    (run,) = Store.connect(load_settings().effective_database_url).history(channel)
    return run


def test_post_now_after_a_failed_run_posts_that_weeks_item_once(
    env: None, fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_slack.fail("chat.postMessage", error="not_in_channel")  # the bot was not invited yet
    assert main(["digest", "--post-now"]) == 1
    assert "not_in_channel" in capsys.readouterr().err
    failed = this_weeks_run()
    assert failed.status == "failed" and failed.attempts == 1 and failed.item_id

    # someone invites the bot, then recovers the week by hand, before the clock's retry time
    assert main(["digest", "--post-now"]) == 0
    assert capsys.readouterr().out.startswith(f"Posted the {failed.week} digest to {CHANNEL}")
    posted = this_weeks_run()
    assert posted.status == "posted" and posted.attempts == 2
    assert posted.item_id == failed.item_id  # the week's item, not a second draw
    first, second = fake_slack.calls_to("chat.postMessage")
    assert second.params["text"] == first.params["text"]

    # and the recovery is not repeated by running it again
    assert main(["digest", "--post-now"]) == 1
    assert "is already posted" in capsys.readouterr().err
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


def test_post_now_leaves_a_live_claim_alone(
    env: None, fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another process holds this week's claim (it may be posting right now): --post-now
    without --force does not post beside it."""
    settings = load_settings()
    store = Store.connect(settings.effective_database_url)
    now = datetime.now(UTC)
    week = iso_week(now.astimezone(ZoneInfo(settings.timezone)))
    assert store.claim_week(CHANNEL, week, now) is not None
    assert main(["digest", "--post-now"]) == 1
    err = capsys.readouterr().err
    assert "is already claimed" in err and "--force" in err
    assert fake_slack.calls_to("chat.postMessage") == []
