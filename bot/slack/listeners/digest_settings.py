"""`/hubs digest here [day] [time]|off|status`: a workspace admin chooses where (and when)
the weekly digest goes.

Only admins and owners (``users.info``, scope ``users:read``) may change it, because the
digest speaks in a channel on everyone's behalf. ``here`` first posts a short announcement in
the channel: that proves the bot can post there (an uninvited bot learns it now, not on
Monday) and tells the channel why a bot will write to it every week.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError

from bot.digest.fleet import DigestPlan
from bot.digest.when import schedule_from_words
from bot.render import slack as render
from bot.slack.listeners.replies import explain, post_message, slack_error

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.slack.deps import Deps

log = logging.getLogger(__name__)

KEYWORD = "digest"
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")

USAGE = (
    "`/hubs digest` shows where the weekly digest goes; admins can use "
    "`/hubs digest here` (post it in this channel; add a day and time to choose when, e.g. "
    "`/hubs digest here friday 4pm`) or `/hubs digest off` (stop it)."
)
NOT_ADMIN = "Only workspace admins and owners can choose where the weekly digest goes."
NEEDS_SCOPE = (
    "I need the `users:read` permission to check that you are an admin. "
    "Ask whoever manages the app to reinstall it, then try again."
)


def is_digest_command(text: str) -> bool:
    return text.split()[:1] == [KEYWORD] if text else False


def digest_command(text: str, command: dict[str, Any], client: WebClient, deps: Deps) -> str:
    """The ephemeral answer to `/hubs digest …` (changing the setting on the way)."""
    words = text.casefold().split()
    action = words[1] if len(words) > 1 else "status"
    team, user, channel = command.get("team_id"), command.get("user_id"), command.get("channel_id")
    if action == "status":
        return _status(deps, team)
    if action not in ("here", "off") or not (team and user and channel):
        return USAGE
    profile, refusal = admin_profile(client, str(user))
    if refusal:
        return refusal
    if action == "off":
        previous = deps.digest_plan(team).channel
        deps.store.set_digest_channel(team, None, user)
        log.info("digest switched off", extra={"team": team, "by": user})
        return f"The weekly digest is off{f' (it went to <#{previous}>)' if previous else ''}."
    if not _CHANNEL_ID.match(channel):
        return USAGE
    try:  # "here friday 4pm": the workspace's own day and hour (else the configured ones)
        cron = schedule_from_words(words[2:], deps.settings.digest_cron) if words[2:] else None
    except ValueError as exc:
        return str(exc)
    # the schedule is read in the choosing admin's time zone (as Slack knows it)
    timezone = known_zone(profile.get("tz")) or deps.settings.timezone
    plan = DigestPlan(channel, timezone, cron or deps.settings.digest_cron)
    line = render.digest_line(channel, deps.next_digest_run(plan))
    try:
        post_message(
            client,
            channel=channel,
            text=f"<@{user}> chose this channel for the weekly playbook digest. {line} "
            "`/hubs digest off` stops it.",
        )
    except (SlackApiError, OSError) as exc:  # OSError: a timeout or refused connection
        log.warning("digest channel refused", extra={"team": team, "error": slack_error(exc)})
        return explain(exc) or f"I couldn't post in this channel (Slack said `{slack_error(exc)}`)."
    deps.store.set_digest_channel(team, channel, user, timezone=timezone, cron=cron)
    log.info(
        "digest channel chosen",
        extra={"team": team, "channel": channel, "by": user, "timezone": timezone, "cron": cron},
    )
    return f"Done. {line}"


def _status(deps: Deps, team: str | None) -> str:
    plan = deps.digest_plan(team)
    return f"{render.digest_line(plan.channel, deps.next_digest_run(plan))}\n{USAGE}"


def admin_profile(client: WebClient, user: str) -> tuple[dict[str, Any], str | None]:
    """``user``'s Slack profile, and None if they are a workspace admin or owner, else the
    sentence to show them."""
    try:
        profile = client.users_info(user=user)["user"]
    except (SlackApiError, OSError) as exc:
        error = slack_error(exc)
        log.warning("admin check failed", extra={"error": error})
        if error == "missing_scope":
            return {}, NEEDS_SCOPE
        return {}, f"I couldn't check that you are an admin (Slack said `{error}`). Try again soon."
    if profile.get("is_admin") or profile.get("is_owner") or profile.get("is_primary_owner"):
        return profile, None
    return profile, NOT_ADMIN


def known_zone(name: object) -> str | None:
    """An IANA zone name this machine knows, else None."""
    if not isinstance(name, str) or not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name
