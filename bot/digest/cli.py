"""``hubs-bot digest``: look at, post, or list the weekly digest from the terminal."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from bot.corpus import Corpus, load_corpus, require_playbooks
from bot.digest.pool import Digest, history_lines, iso_week
from bot.render.blocks import visible_text
from bot.render.slack import render_digest_message
from bot.settings import ConfigError, Settings
from bot.slack_api.installations import bot_token_for, installation_store
from bot.store import Store

PREVIEW_CHANNEL = "preview"


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    channel = args.channel or settings.digest_channel
    try:
        if args.history:
            store = Store.connect(settings.effective_database_url)
            lines = history_lines(store.history(channel))
            print("\n".join(lines) if lines else "No digest has been posted yet.")
            return 0
        # no playbooks is a configuration error, not a failed week recorded in the store; the
        # corpus read for that check is the one the digest picks from (one read, not two)
        corpus = require_playbooks(load_corpus(settings.corpus_dirs))
        if args.preview:
            # looks only: an existing store is read, a missing SQLite file is not created
            store = Store.connect_without_creating(settings.effective_database_url)
            if not channel:
                print(
                    "No channel (--channel C… or HUBS_DIGEST_CHANNEL): showing what a channel "
                    f"named {PREVIEW_CHANNEL!r} with no digest history would get.",
                    file=sys.stderr,
                )
            digest = Digest.from_settings(
                settings, channel or PREVIEW_CHANNEL, store, corpus=corpus
            )
            return _preview(digest, corpus)
        if not channel:
            raise ConfigError("no channel: pass --channel C… or set HUBS_DIGEST_CHANNEL")
        if not settings.oauth_enabled:
            settings.require("SLACK_BOT_TOKEN")
            digest = Digest.from_settings(settings, channel, corpus=corpus)
            return _post_now(digest, settings, args.force)
        store = Store.connect(settings.effective_database_url)
        token = _workspace_token(settings, store, channel)
        digest = Digest.from_settings(settings, channel, store, token, corpus=corpus)
        return _post_now(digest, settings, args.force)
    except ValueError as exc:  # bad cron or time zone
        raise ConfigError(str(exc)) from None


def _workspace_token(settings: Settings, store: Store, channel: str) -> str:
    """Multi-workspace mode: the token of the workspace that chose ``channel`` (only its
    installation is looked up)."""
    installations = installation_store(settings, store)
    for choice in store.digest_channels():
        token = bot_token_for(installations, choice.team_id) if choice.channel == channel else None
        if token:
            return token
    raise ConfigError(
        f"{channel} is not the digest channel of an installed workspace: "
        "run `/hubs digest here` in it first"
    )


def _preview(digest: Digest, corpus: Corpus) -> int:
    """Exactly what the next post in the channel will be, and no write to the store."""
    item = digest.peek()
    if item is None:
        print("The corpus has no Case study or Potential pitfalls section to post from.")
        return 1
    week = iso_week(datetime.now(digest.trigger.timezone))
    text, blocks = render_digest_message(item.section, item.item, week, corpus)
    print(f"Next digest item: {item.id}")
    print(f"Notification text: {text}\n")
    print(visible_text(blocks))
    print("\nBlock Kit:")
    print(json.dumps({"text": text, "blocks": blocks}, indent=2, ensure_ascii=False))
    return 0


def _post_now(digest: Digest, settings: Settings, force: bool) -> int:
    now = datetime.now(UTC)
    week = iso_week(now.astimezone(digest.trigger.timezone))
    outcome = digest.post_now(week, now, force)
    run = outcome.run
    if outcome.action == "posted" and run is not None:
        print(f"Posted the {week} digest to {digest.channel} (ts {run.message_ts}).")
        return 0
    if outcome.action == "done":
        ts = run.message_ts if run else None
        print(
            f"{week} is already {run.status if run else 'claimed'} for {digest.channel}"
            f"{f' (ts {ts})' if ts else ''}; use --force to post again.",
            file=sys.stderr,
        )
        return 1
    print(
        f"Could not post the {week} digest: {outcome.detail or outcome.action}. "
        "It is recorded as failed; the clock retries it.",
        file=sys.stderr,
    )
    return 1
