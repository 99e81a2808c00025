"""Multi-workspace mode over real HTTP: install → token stored → that workspace answered with its
own token → uninstall forgets it. On SQLite and PostgreSQL (installations live in the store)."""

from __future__ import annotations

import html
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path

import pytest

from bot.digest.fleet import DigestFleet, digest_targets
from bot.search import Index
from bot.settings import ConfigError, Settings
from bot.slack_api.credentials import require_credentials
from bot.slack_api.installations import REDIRECT_PATH, installation_store
from tests.concurrency import eventually
from tests.fake_slack import FakeSlack, workspace_token
from tests.slack.conftest import SlackApp, serving
from tests.slack.test_replicas import start_replicas

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "test-client-secret"


@dataclass
class Page:
    status: int
    body: str
    headers: Message


def get(url: str, cookie: str | None = None) -> Page:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Page(response.status, response.read().decode(), response.headers)
    except urllib.error.HTTPError as error:
        return Page(error.code, error.read().decode(), error.headers)


@pytest.fixture
def oauth_settings(settings: Settings, database_url: str) -> Settings:
    return replace(
        settings,
        slack_bot_token=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        database_url=database_url,
    )


@pytest.fixture
def oauth_app(
    oauth_settings: Settings, fake_slack: FakeSlack, seed_index: Index
) -> Iterator[SlackApp]:
    with serving(oauth_settings, seed_index, fake_slack) as app:
        yield app


def start_install(app: SlackApp) -> tuple[str, str]:
    """GET /slack/install: the state in the authorize link, and the browser cookie."""
    page = get(app.url + "/slack/install")
    assert page.status == 200
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page.body)
    assert link is not None, page.body
    href = html.unescape(link.group(1))
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(href).query))
    assert query["client_id"] == CLIENT_ID and "users:read" in query["scope"].split(",")
    cookie = str(page.headers["Set-Cookie"]).split(";")[0]
    assert cookie == f"slack-app-oauth-state={query['state']}"
    return query["state"], cookie


def install(app: SlackApp, team: str) -> Page:
    state, cookie = start_install(app)
    query = urllib.parse.urlencode({"code": f"code-{team}", "state": state})
    return get(f"{app.url}{REDIRECT_PATH}?{query}", cookie)


def mention(app: SlackApp, team: str, event_id: str) -> None:
    event = {"type": "app_mention", "user": "U1", "text": "<@UBOT> pitfalls"}
    event |= {"channel": f"C{team}", "ts": f"1.{event_id[-1]}"}
    assert app.event(event, event_id=event_id, team=team).status == 200


def test_install_stores_the_token_and_that_workspace_is_answered_with_it(
    oauth_app: SlackApp,
    oauth_settings: Settings,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    page = install(oauth_app, "T2")
    assert page.status == 200, page.body
    (exchange,) = fake_slack.calls_to("oauth.v2.access")
    assert exchange.params["code"] == "code-T2"
    bot = installation_store(oauth_settings, oauth_app.store).find_bot(
        enterprise_id=None, team_id="T2"
    )
    assert bot is not None and bot.bot_token == workspace_token("T2")

    install(oauth_app, "T3")
    mention(oauth_app, "T2", "Ev2")
    mention(oauth_app, "T3", "Ev3")
    replies = {c.params["channel"]: c for c in fake_slack.wait_for("chat.postMessage", 2)}
    assert replies["CT2"].headers["Authorization"] == f"Bearer {workspace_token('T2')}"
    assert replies["CT3"].headers["Authorization"] == f"Bearer {workspace_token('T3')}"
    for secret in (workspace_token("T2"), workspace_token("T3"), CLIENT_SECRET):
        assert secret not in caplog.text


def test_a_workspace_that_never_installed_gets_nothing(
    oauth_app: SlackApp, fake_slack: FakeSlack
) -> None:
    mention(oauth_app, "T9", "Ev9")
    assert not fake_slack.calls_to("chat.postMessage")
    assert not fake_slack.calls_to("reactions.add")


def test_state_is_single_use_and_bound_to_the_browser(
    oauth_app: SlackApp, fake_slack: FakeSlack
) -> None:
    state, cookie = start_install(oauth_app)
    redirect = f"{oauth_app.url}{REDIRECT_PATH}?"
    query = urllib.parse.urlencode({"code": "code-T2", "state": state})
    assert get(redirect + query).status == 400  # another browser: no cookie
    assert get(redirect + query, cookie).status == 200
    replayed = get(redirect + query, cookie)
    assert replayed.status == 401 and "no longer valid" in replayed.body
    forged = urllib.parse.urlencode({"code": "code-T4", "state": "forged"})
    assert get(redirect + forged, "slack-app-oauth-state=forged").status == 401
    assert len(fake_slack.calls_to("oauth.v2.access")) == 1  # only the genuine flow


def test_uninstall_deletes_the_token_and_stops_the_digest(
    oauth_app: SlackApp, oauth_settings: Settings, fake_slack: FakeSlack
) -> None:
    install(oauth_app, "T2")
    install(oauth_app, "T3")
    store = oauth_app.store
    store.set_digest_channel("T2", "CT2", "U0ADMIN")
    store.set_digest_channel("T3", "CT3", "U0ADMIN")
    installations = installation_store(oauth_settings, store)
    targets = digest_targets(oauth_settings, store, installations)
    assert {(t.channel, t.token) for t in targets} == {
        ("CT2", workspace_token("T2")),
        ("CT3", workspace_token("T3")),
    }

    assert oauth_app.event({"type": "app_uninstalled"}, event_id="EvU", team="T2").status == 200
    revoked = {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}}
    assert oauth_app.event(revoked, event_id="EvR", team="T3").status == 200
    for team in ("T2", "T3"):
        assert eventually(
            lambda t=team: (
                installations.find_bot(enterprise_id=None, team_id=t) is None
                and store.digest_channel(t) is None
            )
        ), f"{team} still installed or still has a digest channel"
    assert digest_targets(oauth_settings, store, installations) == []


def test_credentials_each_mode_needs(oauth_settings: Settings) -> None:
    require_credentials(oauth_settings)  # no SLACK_BOT_TOKEN needed
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is not set"):
        require_credentials(replace(oauth_settings, slack_signing_secret=None))
    with pytest.raises(ConfigError, match="Socket Mode serves one workspace"):
        require_credentials(oauth_settings, socket_mode=True)
    half = replace(oauth_settings, slack_client_secret=None)  # a typo, not token mode
    with pytest.raises(ConfigError, match="SLACK_CLIENT_SECRET is not set; multi-workspace"):
        require_credentials(half)
    single = replace(half, slack_client_id=None)
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN is not set"):
        require_credentials(single)


def test_a_flow_started_on_one_replica_finishes_on_another(
    oauth_app: SlackApp, oauth_settings: Settings, fake_slack: FakeSlack, seed_index: Index
) -> None:
    state, cookie = start_install(oauth_app)
    with serving(oauth_settings, seed_index, fake_slack) as other_replica:
        query = urllib.parse.urlencode({"code": "code-T5", "state": state})
        page = get(f"{other_replica.url}{REDIRECT_PATH}?{query}", cookie)
        assert page.status == 200, page.body
        mention(other_replica, "T5", "Ev5")
    mention(oauth_app, "T5", "Ev6")  # and the first replica knows the workspace too
    replies = fake_slack.wait_for("chat.postMessage", 2)
    assert {c.headers["Authorization"] for c in replies} == {f"Bearer {workspace_token('T5')}"}


def test_serve_in_multi_workspace_mode_offers_the_install_page(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """The real `hubs-bot serve` (gunicorn) with only the OAuth credentials: no bot token."""
    oauth_env = {
        "SLACK_BOT_TOKEN": "",
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
    }
    database = f"sqlite:///{tmp_path}/hubs.sqlite3"
    with start_replicas(database, fake_slack, tmp_path, 1, oauth_env) as (url,):
        page = get(url + "/slack/install")
        assert page.status == 200 and "slack.com/oauth/v2/authorize" in page.body
        assert get(url + "/healthz").status == 200
    log = next(tmp_path.glob("serve-*.log")).read_text()
    assert "multi-workspace (OAuth)" in log and CLIENT_SECRET not in log


def test_the_clock_posts_each_workspace_with_its_token_and_skips_the_uninstalled(
    oauth_app: SlackApp, oauth_settings: Settings, fake_slack: FakeSlack
) -> None:
    install(oauth_app, "T2")
    store = oauth_app.store
    chosen = datetime(2026, 1, 1, tzinfo=UTC)
    store.set_digest_channel("T2", "CT2", "U0ADMIN", now=chosen)
    store.set_digest_channel("T7", "CT7", "U0ADMIN", now=chosen)  # never installed
    fleet = DigestFleet(oauth_settings, store, installation_store(oauth_settings, store))
    outcomes = fleet.tick(datetime(2027, 1, 4, 9, 1, tzinfo=UTC))
    assert [o.action for o in outcomes] == ["posted"]
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert post.params["channel"] == "CT2"
    assert post.headers["Authorization"] == f"Bearer {workspace_token('T2')}"
