"""`hubs-bot digest` and `hubs-bot clock` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from bot.cli import main
from bot.digest.clock import schedule_digest
from bot.digest.pool import Digest
from bot.settings import load_settings
from bot.slack_api.installations import installation_store
from bot.store import Store, metadata
from tests.concurrency import eventually
from tests.digest.conftest import CHANNEL, MakeDigest
from tests.fake_slack import FakeSlack, installation, workspace_token
from tests.net import free_port


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_slack: FakeSlack) -> dict[str, str]:
    values = {
        "HUBS_DATA_DIR": str(tmp_path / "data"),
        "SLACK_API_URL": fake_slack.base_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "HUBS_DIGEST_CHANNEL": CHANNEL,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def test_preview_needs_no_slack_and_consumes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUBS_DATA_DIR", str(tmp_path / "data"))
    for name in ("SLACK_BOT_TOKEN", "HUBS_DIGEST_CHANNEL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["digest", "--preview"]) == 0
    first = capsys.readouterr().out
    assert main(["digest", "--preview"]) == 0
    assert capsys.readouterr().out == first
    assert first.startswith("Next digest item: regional-innovation-hubs#")
    payload = json.loads(first.split("Block Kit:\n", 1)[1])
    assert payload["blocks"][0]["text"]["text"].startswith("Weekly playbook digest · ")
    assert payload["text"].startswith("Weekly playbook digest: ")
    assert not (tmp_path / "data").exists()  # no database was created to look


def _store_rows(url: str) -> dict[str, list[tuple]]:
    store = Store.connect(url)
    try:
        with store.engine.connect() as conn:
            return {
                table.name: sorted(map(tuple, conn.execute(table.select())), key=repr)
                for table in metadata.sorted_tables
            }
    finally:
        store.close()


@pytest.mark.parametrize("history", ["new channel", "mid-cycle", "cycle just ended"])
def test_preview_shows_what_post_now_posts_and_writes_nothing(
    env: dict[str, str],
    fake_slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
    history: str,
) -> None:
    url = load_settings().effective_database_url
    weeks = {"new channel": 0, "mid-cycle": 3, "cycle just ended": 6}[history]  # 6 seed items
    digest = Digest.from_settings(load_settings(), "C1")
    for n in range(weeks):  # earlier weeks' digests in this channel
        week = f"2025-W{n + 10:02d}"
        assert digest.post_now(week, datetime(2025, 3, 1, tzinfo=UTC), False).action == "posted"
    digest.store.close()
    before = _store_rows(url)

    assert main(["digest", "--preview", "--channel", "C1"]) == 0
    preview = capsys.readouterr().out
    assert _store_rows(url) == before  # looking wrote nothing

    assert main(["digest", "--post-now", "--channel", "C1"]) == 0
    post = fake_slack.calls_to("chat.postMessage")[-1]
    assert len(fake_slack.calls_to("chat.postMessage")) == weeks + 1
    previewed = preview.split("\n", 1)[0].removeprefix("Next digest item: ")
    assert post.params["metadata"]["event_payload"]["item"] == previewed
    payload = json.loads(preview.split("Block Kit:\n", 1)[1])
    assert post.params["text"] == payload["text"]
    assert post.params["blocks"] == payload["blocks"]
    assert "more_like_this" not in json.dumps(payload["blocks"])  # the seed has one playbook


def test_post_now_claims_the_week_and_force_posts_again(
    env: dict[str, str], fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["digest", "--post-now"]) == 0
    assert capsys.readouterr().out.startswith("Posted the ")
    assert main(["digest", "--post-now"]) == 1
    assert "already posted" in capsys.readouterr().err
    assert main(["digest", "--post-now", "--force"]) == 0
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    assert main(["digest", "--history"]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()[-1:]
    assert f"  {CHANNEL}  posted " in line and "ts=1700000000.000002" in line


def test_post_now_reports_a_slack_error(
    env: dict[str, str], fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    assert main(["digest", "--post-now", "--channel", "CNOPE"]) == 1
    err = capsys.readouterr().err
    assert "channel_not_found" in err and "the clock retries it" in err


def test_post_now_without_token_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUBS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert main(["digest", "--post-now", "--channel", "C1"]) == 2
    assert capsys.readouterr().err == (
        "hubs-bot: SLACK_BOT_TOKEN is not set; export it in the environment\n"
    )


def test_jobs_are_idempotent_with_fixed_ids(make_digest: MakeDigest) -> None:
    digest = make_digest(timezone="America/New_York")
    scheduler = BackgroundScheduler(timezone=digest.trigger.timezone)
    schedule_digest(scheduler, digest)
    schedule_digest(scheduler, digest)  # a restart re-adds: still one of each
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == ["digest-retry", "prune-events", "weekly-digest"]
    weekly = jobs["weekly-digest"]
    assert weekly.coalesce and weekly.max_instances == 1 and weekly.misfire_grace_time == 6 * 3600


def test_clock_process_catches_up_then_stops_on_sigterm(
    env: dict[str, str], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    metrics_port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "clock"],
        env={
            **os.environ,
            **env,
            "HUBS_DIGEST_CRON": "0 0 * * mon",  # always past this week
            "HUBS_CLOCK_METRICS_PORT": str(metrics_port),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not fake_slack.calls_to("chat.postMessage") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(fake_slack.calls_to("chat.postMessage")) == 1

        def counted() -> bool:  # the counter moves once Slack's answer is back in the clock
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics") as page:
                    return 'hubs_digest_posts_total{outcome="posted"} 1.0' in page.read().decode()
            except OSError:  # the metrics server is not listening yet
                return False

        assert eventually(counted, timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "clock started" in err and "this_week=posted" in err and "next_run=" in err
    assert "xoxb-test" not in err


def test_post_now_in_multi_workspace_mode_uses_that_workspaces_token(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    fake_slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    monkeypatch.setenv("SLACK_CLIENT_ID", "1.2")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "secret")
    settings = load_settings()
    store = Store.connect(settings.effective_database_url)
    installation_store(settings, store).save(installation("T2"))
    store.set_digest_channel("T2", "CT2", "U0ADMIN")

    assert main(["digest", "--post-now", "--channel", "CT2"]) == 0
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert post.headers["Authorization"] == f"Bearer {workspace_token('T2')}"
    assert main(["digest", "--post-now", "--channel", "CNOPE"]) == 2
    assert "CNOPE is not the digest channel of an installed workspace" in capsys.readouterr().err
