"""`/hubs digest here friday 4pm`: the day and hour words an admin may add, as a crontab line.

Words not given keep the configured schedule's (``HUBS_DIGEST_CRON``): ``here 8:30`` keeps
the day, ``here fri`` keeps the hour. Weekdays are written as names, as the crontab must be
(see :func:`bot.digest.parse_cron`).
"""

from __future__ import annotations

import re

from bot.render.mrkdwn import quote_user_text

_DAYS = {
    "mon": "mon", "monday": "mon", "tue": "tue", "tues": "tue", "tuesday": "tue",
    "wed": "wed", "wednesday": "wed", "thu": "thu", "thur": "thu", "thurs": "thu",
    "thursday": "thu", "fri": "fri", "friday": "fri", "sat": "sat", "saturday": "sat",
    "sun": "sun", "sunday": "sun",
}  # fmt: skip
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")

EXAMPLE = "`/hubs digest here friday 4pm` or `/hubs digest here mon 9:30`"


def schedule_from_words(words: list[str], default_cron: str) -> str:
    """The crontab line for ``words`` (e.g. ``["friday", "4pm"]``) over ``default_cron``;
    ValueError naming the word it cannot read."""
    minute, hour, day_of_month, month, day_of_week = default_cron.split()
    joined = " ".join(words).casefold()
    # "4 pm" is one time, not two words
    tokens = re.sub(r"(\d)\s+(am|pm)\b", r"\1\2", joined).replace(",", " ").split()
    for token in tokens:
        if token in ("at", "on", "every", "each"):
            continue
        day = _DAYS.get(token) or _DAYS.get(token.rstrip("s"))  # "fridays" too
        if day:
            day_of_week = day
            continue
        match = _TIME.match(token)
        shown = quote_user_text(token, limit=40)  # echoed: escaped, never a ping or a link
        if match is None:
            raise ValueError(f"I can't read “{shown}” as a day or a time: try {EXAMPLE}.")
        hours, minutes = int(match.group(1)), int(match.group(2) or 0)
        if match.group(3):
            if not 1 <= hours <= 12:
                raise ValueError(f"“{shown}” is not a time: try {EXAMPLE}.")
            hours = hours % 12 + (12 if match.group(3) == "pm" else 0)
        if hours > 23 or minutes > 59:
            raise ValueError(f"“{shown}” is not a time: try {EXAMPLE}.")
        minute, hour = str(minutes), str(hours)
    return " ".join((minute, hour, day_of_month, month, day_of_week))
