"""Playbooks from a Git repository (HUBS_CORPUS_GIT), end to end over real HTTP: a local bare
repository (``file://``) stands in for GitHub or GitLab, the app runs in-process on a real port
with its follower thread, and `/hubs` is answered through the fake Slack."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from wsgiref.simple_server import make_server

import pytest

from bot.gitsync.follow import GitFollower
from bot.gitsync.webhook import git_webhook
from bot.settings import Settings, load_settings
from bot.slack.app import create_app
from bot.slack.outbox import Outbox
from bot.slack.server import build_wsgi, git_follower
from bot.slack_api.client import make_web_client
from bot.store import Store
from tests.concurrency import eventually
from tests.fake_slack import FakeSlack
from tests.gitrepo import Origin
from tests.net import free_port
from tests.serving import serve_env, start_serve, wait_until_serving
from tests.slack.conftest import (
    SECRET,
    TOKEN,
    Reply,
    SlackApp,
    _QuietHandler,
    _ThreadingWSGIServer,
    track_listeners,
)

WEBHOOK_SECRET = "whsec-test-secret"
MAINTAINERS = "CMAINT"


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    repo = Origin(tmp_path / "host")
    repo.playbook("hubs.md", "Regional Hubs", "the region has no anchor firm")
    repo.push("first playbook")
    return repo


def git_settings(origin: Origin, data: Path, fake: FakeSlack, **env: str) -> Settings:
    return load_settings(
        {
            "HUBS_CORPUS_GIT": origin.url,
            "HUBS_DATA_DIR": str(data),
            "HUBS_CORPUS_GIT_POLL": "0",
            "HUBS_GIT_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "HUBS_MAINTAINERS_CHANNEL": MAINTAINERS,
            "HUBS_SEMANTIC": "off",
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.base_url,
            "PATH": os.environ["PATH"],
            "HOME": str(data),
            **env,
        }
    )


@dataclass
class GitApp:
    slack: SlackApp
    follower: GitFollower

    def webhook(self, body: bytes, headers: dict[str, str]) -> Reply:
        return self.slack.post(body, "application/json", headers, path="/webhooks/git")

    def push_hook(self, sha: str, ref: str = "refs/heads/main", delivery: str | None = None):
        body, headers = github_push(sha, ref, delivery)
        return self.webhook(body, headers)

    def answers(self, question: str, expected: str, timeout: float = 10.0) -> float:
        """Ask `/hubs question` until an answer mentions ``expected``; seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            reply = self.slack.answer(question)  # the ack's body (or its response-URL post)
            if expected in json.dumps(reply, ensure_ascii=False):
                return time.monotonic() - started
            time.sleep(0.05)
        raise AssertionError(f"/hubs {question} never mentioned {expected!r}")


def github_push(
    sha: str,
    ref: str = "refs/heads/main",
    delivery: str | None = None,
    secret: str = WEBHOOK_SECRET,
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {"ref": ref, "before": "1" * 40, "after": sha, "repository": {"default_branch": "main"}}
    ).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={signature}",
    }


def gitlab_push(sha: str, token: str = WEBHOOK_SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {"object_kind": "push", "ref": "refs/heads/main", "after": sha, "checkout_sha": sha}
    ).encode()
    return body, {
        "X-Gitlab-Event": "Push Hook",
        "X-Gitlab-Token": token,
        "X-Gitlab-Event-UUID": str(uuid.uuid4()),
    }


@contextmanager
def serving_git(
    settings: Settings, fake: FakeSlack, tick_s: float = 2.0, poll_s: float | None = None
) -> Iterator[GitApp]:
    """What one `serve` worker runs, in-process on a real port: the repository pulled and
    indexed, the follower thread, Bolt and the webhook route."""
    follower = git_follower(settings)
    assert follower is not None and follower.index is not None
    store = Store.connect(settings.effective_database_url)
    outbox = Outbox.from_settings(settings, store)
    client = make_web_client(TOKEN, settings.slack_api_url, server_error_retries=1)
    app = create_app(settings, follower.index, store, client, outbox=outbox)
    listeners = track_listeners(app)
    follower.attach(store, client)
    stop = threading.Event()
    follower.start(stop, tick_s=tick_s, poll_s=poll_s)
    index = follower.index
    wsgi = build_wsgi(
        app, store, lambda: index.corpus, git_webhook=git_webhook(settings, store, follower)
    )
    server = make_server(
        "127.0.0.1", 0, wsgi, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield GitApp(
            SlackApp(f"http://127.0.0.1:{server.server_port}", fake, store, outbox, listeners),
            follower,
        )
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        store.close()


def maintainer_posts(fake: FakeSlack) -> list[str]:
    return [
        c.params["text"]
        for c in fake.calls_to("chat.postMessage")
        if c.params.get("channel") == MAINTAINERS
    ]


# ---------------------------------------------------------------------------------------------


def test_a_pushed_playbook_announced_by_a_webhook_is_answered_within_5_seconds(
    origin: Origin, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    settings = git_settings(origin, tmp_path / "data", fake_slack)
    with serving_git(settings, fake_slack) as app:
        app.answers("regional hubs pitfalls", "Regional Hubs")
        origin.playbook("labs/quantum-gardening.md", "Quantum Gardening", "zucchini entangle")
        started = time.monotonic()
        sha = origin.push("add quantum gardening")
        reply = app.push_hook(sha)
        assert reply.status == 202 and json.loads(reply.body)["outcome"] == "accepted"
        app.answers("quantum gardening", "Quantum Gardening", timeout=5)
        latency = time.monotonic() - started
        assert latency < 5
        print(f"push-to-answer latency (webhook, in-process): {latency * 1000:.0f} ms")
        # the new index answers a moment before the follower records the commit it serves
        assert eventually(lambda: app.follower.served == sha)
        assert len(app.follower.index.corpus.playbooks) == 2  # type: ignore[union-attr]
        # a good commit tells the maintainers nothing
        assert maintainer_posts(fake_slack) == []


def test_a_mis_signed_or_unsigned_webhook_gets_401_and_nothing_is_pulled(
    origin: Origin, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    settings = git_settings(origin, tmp_path / "data", fake_slack)
    with serving_git(settings, fake_slack) as app:
        first = app.follower.served
        origin.playbook("labs.md", "Innovation Labs")
        sha = origin.push("add labs")
        body, headers = github_push(sha, secret="not-the-secret")
        assert app.webhook(body, headers).status == 401
        body, headers = github_push(sha)
        assert app.webhook(body, {**headers, "X-Hub-Signature-256": "sha256=00"}).status == 401
        assert app.webhook(body, {"X-GitHub-Event": "push"}).status == 401  # unsigned
        tampered = body.replace(sha.encode(), b"f" * 40)
        assert app.webhook(tampered, headers).status == 401  # signed a different body
        glbody, glheaders = gitlab_push(sha, token="wrong")
        assert app.webhook(glbody, glheaders).status == 401
        # nothing recorded for the replicas, nothing pulled here
        assert app.slack.store.wanted_commit(app.follower.source) is None
        assert app.follower.served == first == app.follower.checkout.head()
        # the same push from GitLab, with the right token, is pulled
        glbody, glheaders = gitlab_push(sha)
        assert app.webhook(glbody, glheaders).status == 202
        app.answers("innovation labs", "Innovation Labs", timeout=5)


def test_other_refs_are_ignored_and_a_delivery_is_handled_once(
    origin: Origin, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    settings = git_settings(origin, tmp_path / "data", fake_slack)
    with serving_git(settings, fake_slack) as app:
        origin.playbook("labs.md", "Innovation Labs")
        other = origin.push("on a branch", branch="drafts")
        reply = app.push_hook(other, ref="refs/heads/drafts")
        assert reply.status == 202 and json.loads(reply.body)["outcome"] == "ignored"
        assert app.slack.store.wanted_commit(app.follower.source) is None
        sha = origin.push("and on main")
        assert json.loads(app.push_hook(sha, delivery="d-1").body)["outcome"] == "accepted"
        again = app.push_hook(sha, delivery="d-1")
        assert (again.status, json.loads(again.body)["outcome"]) == (202, "duplicate")
        wanted = app.slack.store.wanted_commit(app.follower.source)
        assert wanted is not None and (wanted.generation, wanted.commit) == (1, sha)
        # a deleted branch is no commit to pull
        deleted = app.push_hook("0" * 40)
        assert json.loads(deleted.body)["outcome"] == "ignored"


def test_a_push_that_breaks_a_file_tells_the_maintainers_once_and_the_last_good_version_serves(
    origin: Origin, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    settings = git_settings(origin, tmp_path / "data", fake_slack)
    with serving_git(settings, fake_slack) as app:
        origin.write("hubs.md", "---\ntitle: Regional Hubs\n---\n\nNo sections any more.\n")
        origin.playbook("labs.md", "Innovation Labs")
        broken = origin.push("rewrite hubs")
        assert app.push_hook(broken).status == 202
        (message,) = fake_slack.wait_for("chat.postMessage", 1)
        assert message.params["channel"] == MAINTAINERS
        text = message.params["text"]
        assert re.search(r"• `hubs\.md:\d+`: no `##` sections", text), text
        assert broken[:8] in text and "Ada Author" in text
        assert eventually(lambda: app.follower.served == broken)
        # the rest serves, and so does the broken file's last good version
        app.answers("innovation labs", "Innovation Labs", timeout=5)
        app.answers("regional hubs pitfalls", "no anchor firm", timeout=5)
        # the same commit again (a redelivery, another worker): no second message
        assert app.follower.sync(wanted=broken, reason="store") is None
        assert maintainer_posts(fake_slack) == [text]

        origin.playbook("hubs.md", "Regional Hubs", "the region finally has a university")
        fixed = origin.push("fix hubs")
        assert app.push_hook(fixed).status == 202
        posts = fake_slack.wait_for("chat.postMessage", 2)
        assert posts[1].params["channel"] == MAINTAINERS
        assert "All clear" in posts[1].params["text"] and "hubs.md" in posts[1].params["text"]
        app.answers("regional hubs pitfalls", "finally has a university", timeout=5)


def test_polling_alone_picks_up_a_push(
    origin: Origin, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    settings = git_settings(origin, tmp_path / "data", fake_slack)
    with serving_git(settings, fake_slack, tick_s=0.2, poll_s=0.5) as app:
        origin.playbook("labs.md", "Innovation Labs")
        started = time.monotonic()
        origin.push("add labs, no webhook")
        app.answers("innovation labs", "Innovation Labs", timeout=5)
        print(f"push-to-answer latency (0.5 s poll): {(time.monotonic() - started) * 1000:.0f} ms")


@pytest.mark.parametrize("shared_data_dir", [False, True], ids=["two-hosts", "one-host"])
def test_two_replicas_on_one_database_both_serve_the_new_commit_within_10_seconds(
    origin: Origin,
    tmp_path: Path,
    fake_slack: FakeSlack,
    database_url: str,
    shared_data_dir: bool,
) -> None:
    """Two app instances on one database (SQLite file, PostgreSQL): the webhook reaches one;
    the other sees the wanted commit on its 2-second tick. On two hosts each has its own
    checkout; on one host they share it (and its lock): the second only re-reads."""
    data = [tmp_path / "a", tmp_path / ("a" if shared_data_dir else "b")]
    settings = [git_settings(origin, d, fake_slack, HUBS_DATABASE_URL=database_url) for d in data]
    with serving_git(settings[0], fake_slack) as one, serving_git(settings[1], fake_slack) as two:
        origin.write("hubs.md", "---\ntitle: Regional Hubs\n---\n\nbroken\n")
        origin.playbook("labs.md", "Innovation Labs")
        started = time.monotonic()
        sha = origin.push("add labs, break hubs")
        assert one.push_hook(sha).status == 202
        two.answers("innovation labs", "Innovation Labs", timeout=10)
        one.answers("innovation labs", "Innovation Labs", timeout=10)
        elapsed = time.monotonic() - started
        assert elapsed < 10
        print(f"push-to-answer on the replica the webhook did not reach: {elapsed * 1000:.0f} ms")
        assert eventually(lambda: one.follower.served == two.follower.served == sha)
        # both replicas checked and announced the commit (``served`` is set last); the
        # maintainers heard about it once
        assert len(maintainer_posts(fake_slack)) == 1
        assert one.slack.store.last_git_notice(one.follower.source) is not None


def test_serve_with_two_workers_follows_the_repository_in_each(
    origin: Origin, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """The real `hubs-bot serve` (gunicorn, two workers): the master pulls and indexes once,
    a webhook reaches one worker, and the other follows on its tick; /healthz (spread over
    both workers by the kernel) counts the new playbook six times in a row."""
    port = free_port()
    env = serve_env(
        fake_slack,
        tmp_path / "data",
        2,
        HUBS_CORPUS_GIT=origin.url,
        HUBS_CORPUS_GIT_POLL="0",
        HUBS_GIT_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    server = start_serve(env, port)
    base = f"http://127.0.0.1:{port}"
    lines: list[str] = []  # the server's log, read as it comes
    reader = threading.Thread(target=lambda: lines.extend(iter(server.stderr.readline, "")))
    reader.start()

    def updated() -> int:
        return len([line for line in list(lines) if "git corpus updated" in line])

    try:
        wait_until_serving(base, server, playbooks=1, in_a_row=6)
        origin.playbook("labs.md", "Innovation Labs")
        started = time.monotonic()
        body, headers = github_push(origin.push("add labs"))
        request = urllib.request.Request(
            base + "/webhooks/git", data=body, headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
        wait_until_serving(base, server, playbooks=2, in_a_row=6)
        # the kernel may have sent every /healthz to one worker: wait for both to say so
        while updated() < 2 and time.monotonic() - started < 10:
            time.sleep(0.05)
        assert time.monotonic() - started < 10
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        reader.join(timeout=10)
    err = "".join(lines)
    assert server.returncode == 0, err
    assert len([line for line in err.splitlines() if "index built" in line]) == 1, err
    assert len([line for line in err.splitlines() if "git corpus updated" in line]) == 2, err
