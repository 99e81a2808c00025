"""Questions and 👍/👎 are recorded; `hubs-bot stats` turns them into a content-gap report."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.cli import main
from bot.settings import Settings
from bot.slack.listeners.actions import click_time
from bot.stats import build_report
from tests.slack.conftest import SlackApp


def vote(app: SlackApp, direction: str, query: str, key: str, user: str = "U0USER1") -> None:
    value = json.dumps({"q": query, "k": key})
    app.action(f"feedback_{direction}", value, user={"id": user})


def test_the_vote_clicked_last_counts_whichever_is_written_last(slack_app: SlackApp) -> None:
    """Votes are written after the ack, each in a thread of its own: two quick clicks can
    reach the store in either order, and the later click must win (it did not: a flaky
    failure of the test below showed the earlier one overwriting it)."""
    key = "regional-innovation-hubs#potential-pitfalls"
    store = slack_app.store
    clicked = datetime.now(UTC)
    day_before = clicked - timedelta(days=1)
    store.record_feedback("voter", "pitfalls", key, +1, clicked)
    store.record_feedback("voter", "pitfalls", key, -1, clicked - timedelta(seconds=1))
    assert store.usage_since(day_before)[1] == [(key, 1, "pitfalls")]
    store.record_feedback("voter", "pitfalls", key, -1, clicked + timedelta(seconds=1))
    assert store.usage_since(day_before)[1] == [(key, -1, "pitfalls")]


@pytest.mark.parametrize(
    ("action_ts", "expected"),
    [
        ("1700000000.5", None),  # years away from this machine's clock
        ("not a time", None),
        (None, None),
        ("nan", None),
        ("1e400", None),
    ],
)
def test_a_click_time_slack_could_not_have_sent_is_not_used(
    action_ts: str | None, expected: None
) -> None:
    assert click_time(action_ts) is expected


def test_slacks_click_time_is_used(slack_app: SlackApp) -> None:
    now = datetime.now(UTC)
    assert abs(click_time(f"{now.timestamp():.6f}") - now) < timedelta(milliseconds=1)  # type: ignore[operator]


def test_answers_and_gaps_are_logged_and_votes_counted(slack_app: SlackApp) -> None:
    for text in ("pitfalls", "Pitfalls", "quantum error correction", "help"):
        slack_app.answer(text)
    key = "regional-innovation-hubs#potential-pitfalls"
    before = len(slack_app.fake.calls_to("response_url"))
    vote(slack_app, "down", "pitfalls", key)
    vote(slack_app, "up", "pitfalls", key)  # the same person changes their mind: one vote
    vote(slack_app, "down", "pitfalls", key, user="U0USER2")
    replies = slack_app.fake.wait_for("response_url", before + 3)[before:]
    assert [r.params["text"].split("!")[0].split(" —")[0] for r in replies] == [
        "Thanks",
        "Thanks",
        "Thanks",
    ]
    report = build_report(slack_app.store, days=7)
    assert report.questions == 3  # help is not a question
    assert report.top_queries[0] == ("pitfalls", 2)
    assert report.no_match_queries == [("quantum error correction", 1)]
    (worst,) = report.worst_sections
    assert (worst.section, worst.up, worst.down) == (key, 1, 1)
    assert (
        build_report(slack_app.store, days=7, now=datetime.now(UTC) + timedelta(days=8)).questions
        == 0
    )


def test_stats_command_formats(
    slack_app: SlackApp,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    slack_app.answer("zeppelin maintenance")
    # `stats` is another process: it sees the question once the server's writer commits it
    # (within half a second); flushing here spares the test the wait
    assert slack_app.store.flush_queries()
    monkeypatch.setenv("HUBS_DATA_DIR", str(settings.data_dir))
    assert main(["stats"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Last 30 days: 1 questions, 100% unanswered.")
    assert "Unanswered (what the playbooks lack):\n      1  zeppelin maintenance" in text
    assert main(["stats", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["kind", "key", "count", "up", "down", "why"]
    assert [
        "unanswered",
        "zeppelin maintenance",
        "1",
        "",
        "",
        "unknown words: zeppelin, maintenance",
    ] in rows
    assert ["replies", "waiting", "0", "", "", ""] in rows
    assert main(["stats", "--format", "json", "--days", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["no_match_rate"] == 1.0 and data["days"] == 1
