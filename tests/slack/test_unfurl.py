"""Pasted playbook links get a preview: `link_shared` in, one `chat.unfurl` out, over HTTP."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.corpus import load_corpus
from bot.corpus.urls import UrlTable, unfurl_domains, url_table
from bot.render.mrkdwn import visible
from bot.render.slack import ACTION_OPEN_SECTION, UNFURL_CHARS
from bot.search import Index
from bot.settings import Settings
from tests.fake_slack import FakeSlack
from tests.slack.conftest import CHANNEL, USER, SlackApp, serving
from tests.slack.test_errors import wait_for_record

HUBS = "https://playbooks.example.org/hubs"
LONG = "A sentence about hubs that goes on for a while, and then some more. " * 12

PLAYBOOK = f"""\
---
title: Regional Hubs
oneliner: Local foci of technological creativity
url: {HUBS}
---

## Key things to know

- Hubs are clusters of businesses. {LONG}
- A second item.

## Potential pitfalls

- Efforts to create a Silicon X rarely work.
"""

HOSTILE = """\
---
title: "<!channel> Hubs & <@U123>"
oneliner: "ping <!here>"
url: http://www.Other.example.net/p/
---

## <!channel> alert

- Body <!everyone> here.
"""


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    root = tmp_path / "playbooks"
    root.mkdir()
    (root / "hubs.md").write_text(PLAYBOOK)
    (root / "hostile.md").write_text(HOSTILE)
    return root


@pytest.fixture
def app(settings: Settings, fake_slack: FakeSlack, corpus_dir: Path) -> Iterator[SlackApp]:
    with serving(settings, Index(load_corpus([corpus_dir])), fake_slack) as running:
        yield running


def link_shared(*urls: str, ts: str = "1700000300.000300", **extra: str) -> dict:
    return {
        "type": "link_shared",
        "channel": CHANNEL,
        "user": USER,
        "message_ts": ts,
        "unfurl_id": "Uf1",
        "source": "conversations_history",
        "links": [{"domain": url.split("/")[2], "url": url} for url in urls],
        "event_ts": ts,
        **extra,
    }


def texts(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_a_playbook_link_unfurls_with_its_title_and_oneliner(app: SlackApp) -> None:
    assert app.event(link_shared(HUBS)).status == 200
    (call,) = app.fake.wait_for("chat.unfurl")
    assert call.params["channel"] == CHANNEL and call.params["ts"] == "1700000300.000300"
    assert list(call.params["unfurls"]) == [HUBS]
    blocks = call.params["unfurls"][HUBS]["blocks"]
    assert blocks[0]["text"]["text"] == (
        "📘 *Regional Hubs*\nLocal foci of technological creativity"
    )
    assert "Key things to know · Potential pitfalls" in texts(blocks)


def test_a_section_link_unfurls_its_heading_first_item_and_open_button(app: SlackApp) -> None:
    url = f"{HUBS}#key-things-to-know"
    app.event(link_shared(url))
    (call,) = app.fake.wait_for("chat.unfurl")
    assert list(call.params["unfurls"]) == [url]
    heading, excerpt, actions = call.params["unfurls"][url]["blocks"]
    assert heading["text"]["text"] == "*Key things to know* · Regional Hubs"
    body = excerpt["text"]["text"]
    assert body.startswith("• Hubs are clusters of businesses.")
    assert "A second item" not in body  # the first item only
    assert 100 < len(visible(body)) <= UNFURL_CHARS and body.endswith("…")
    (button,) = actions["elements"]
    assert button["action_id"] == ACTION_OPEN_SECTION
    assert button["value"] == "hubs#key-things-to-know"


def test_the_open_button_opens_the_section_modal(app: SlackApp) -> None:
    app.action(ACTION_OPEN_SECTION, "hubs#potential-pitfalls")
    (call,) = app.fake.wait_for("views.open")
    assert "Silicon X" in json.dumps(call.params["view"])


def test_spellings_of_the_address_all_unfurl_in_one_call(app: SlackApp) -> None:
    spellings = [
        "http://playbooks.example.org/hubs/",
        "https://www.PLAYBOOKS.example.org/hubs?utm_source=slack",
        "https://playbooks.example.org:443/hubs#Potential-Pitfalls",
        "https://playbooks.example.org/hubs#no-such-section",  # the page itself
        "https://elsewhere.example.com/hubs",  # another domain
        "https://playbooks.example.org/other",  # an unknown page
    ]
    app.event(link_shared(*spellings))
    (call,) = app.fake.wait_for("chat.unfurl")
    unfurls = call.params["unfurls"]
    assert list(unfurls) == spellings[:4]
    assert "*Potential pitfalls* · Regional Hubs" in texts(unfurls[spellings[2]]["blocks"])
    assert "📘 *Regional Hubs*" in texts(unfurls[spellings[3]]["blocks"])


def test_links_to_other_domains_and_pages_are_ignored(
    app: SlackApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack.listeners.unfurl")
    app.event(link_shared("https://elsewhere.example.com/hubs", "https://playbooks.example.org/x"))
    wait_for_record(caplog, "no playbook links to unfurl")  # handled: nothing to send
    assert app.fake.calls_to("chat.unfurl") == []


def test_a_hostile_title_and_heading_are_escaped(app: SlackApp) -> None:
    page, section = "https://other.example.net/p", "https://other.example.net/p#channel-alert"
    app.event(link_shared(page, section))
    (call,) = app.fake.wait_for("chat.unfurl")
    text = texts(call.params["unfurls"][page]["blocks"])
    text += texts(call.params["unfurls"][section]["blocks"])
    assert "&lt;!channel&gt; Hubs &amp; &lt;@U123&gt;" in text
    assert "&lt;!channel&gt; alert" in text and "&lt;!here&gt;" in text
    assert "<!" not in text and "<@" not in text


def test_a_failed_unfurl_is_logged_not_raised(
    app: SlackApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app.fake.fail("chat.unfurl", error="cannot_unfurl_url")
    assert app.event(link_shared(HUBS)).status == 200
    wait_for_record(caplog, "unfurl failed")
    assert not [r for r in caplog.records if r.getMessage() == "listener failed"]


def test_a_rate_limited_unfurl_is_retried(app: SlackApp) -> None:
    app.fake.fail("chat.unfurl", status=429, retry_after=1)
    app.event(link_shared(HUBS))
    first, second = app.fake.wait_for("chat.unfurl", 2)
    assert first.failed and not second.failed and first.params == second.params


def test_a_retried_event_unfurls_once(app: SlackApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    app.event(link_shared(HUBS), event_id="EvL")
    app.fake.wait_for("chat.unfurl")
    app.event(link_shared(HUBS), event_id="EvL", retry_num=1)
    wait_for_record(caplog, "duplicate event ignored")
    assert len(app.fake.calls_to("chat.unfurl")) == 1


def test_a_link_in_the_composer_unfurls_by_unfurl_id(app: SlackApp) -> None:
    app.event(link_shared(HUBS, channel="COMPOSER", source="composer", unfurl_id="Uf9"))
    (call,) = app.fake.wait_for("chat.unfurl")
    assert call.params["unfurl_id"] == "Uf9" and call.params["source"] == "composer"
    assert "channel" not in call.params


# ---------------------------------------------------------------------------- the table


def test_the_table_is_built_once_per_corpus_and_follows_a_new_one(corpus_dir: Path) -> None:
    corpus = load_corpus([corpus_dir])
    assert url_table(corpus) is url_table(corpus)
    (corpus_dir / "hostile.md").unlink()
    reloaded = load_corpus([corpus_dir])
    table = url_table(reloaded)
    assert table is not url_table(corpus)
    assert table.lookup("https://other.example.net/p") is None
    assert url_table(corpus).lookup("https://other.example.net/p") is not None


def test_not_web_addresses_name_nothing(corpus_dir: Path) -> None:
    table = UrlTable.build(load_corpus([corpus_dir]))
    for url in ("mailto:a@playbooks.example.org", "playbooks.example.org/hubs", "", "http://["):
        assert table.lookup(url) is None


def test_unfurl_domains_keep_the_five_most_used(tmp_path: Path) -> None:
    for n, host in enumerate(["a.org", "a.org", "www.b.org", "c.org", "d.org", "e.org", "f.org"]):
        (tmp_path / f"p{n}.md").write_text(
            f"---\ntitle: P{n}\nurl: https://{host}/p{n}\n---\n\n## A\n\nx\n"
        )
    kept, dropped = unfurl_domains(load_corpus([tmp_path]))
    assert kept == ["a.org", "c.org", "d.org", "e.org", "f.org"]
    assert dropped == ["www.b.org"]  # one playbook each: the first five by name are kept
