"""`/hubs digest here <day> <time>` words → a crontab line over the configured one."""

from __future__ import annotations

import pytest

from bot.digest.pool import parse_cron
from bot.digest.when import schedule_from_words

DEFAULT = "0 9 * * mon"


@pytest.mark.parametrize(
    ("words", "cron"),
    [
        ("friday 4pm", "0 16 * * fri"),
        ("fri 4 pm", "0 16 * * fri"),
        ("at 16:45 on thursdays", "45 16 * * thu"),
        ("8:15", "15 8 * * mon"),  # the day stays the configured one
        ("sunday", "0 9 * * sun"),  # and so does the hour
        ("12am", "0 0 * * mon"),
        ("12pm tue", "0 12 * * tue"),
    ],
)
def test_days_and_times(words: str, cron: str) -> None:
    assert schedule_from_words(words.split(), DEFAULT) == cron
    parse_cron(cron, "UTC")  # and the scheduler accepts it


@pytest.mark.parametrize(("words", "bad"), [("noon", "noon"), ("25:00", "25:00"), ("13pm", "13pm")])
def test_what_it_cannot_read_is_named(words: str, bad: str) -> None:
    with pytest.raises(ValueError, match=f"“{bad}”"):
        schedule_from_words(words.split(), DEFAULT)
