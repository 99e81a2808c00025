"""Digest fixtures: a corpus with a known pool, a fake Slack, and Digest objects on one DB."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.corpus import Corpus, load_corpus
from bot.digest.pool import Digest, parse_cron
from bot.slack_api.client import make_web_client
from bot.store import Store
from tests.fake_slack import FakeSlack, running_fake_slack

CHANNEL = "CDIGEST"


def write_corpus(root: Path, playbooks: int = 4) -> Path:
    """Each playbook: 3 pitfall bullets + 2 case-study sub-sections = 5 pool items."""
    root.mkdir(parents=True, exist_ok=True)
    for p in range(playbooks):
        (root / f"playbook-{p}.md").write_text(
            f"---\ntitle: Playbook {p}\n---\n\n"
            "## Key things to know\n\n- Not part of the digest.\n\n"
            "## Case study\n\n"
            f"### City {p}A\n\nA story about city {p}A.\n\n"
            f"### City {p}B\n\nA story about city {p}B.\n\n"
            "## Potential pitfalls\n\n"
            + "".join(
                f"- Pitfall {p}.{i} with a [source](https://example.com/{p}/{i})\n"
                for i in range(3)
            ),
            encoding="utf-8",
        )
    return root


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with running_fake_slack() as fake:
        yield fake


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus")


MakeDigest = Callable[..., Digest]


@pytest.fixture
def make_digest(tmp_path: Path, fake_slack: FakeSlack, corpus_dir: Path) -> MakeDigest:
    """A new Digest on the same database each call: a restarted or a second clock."""
    url = f"sqlite:///{tmp_path / 'data' / 'hubs.sqlite3'}"

    def make(
        *,
        cron: str = "0 9 * * mon",
        timezone: str = "UTC",
        seed: int | None = 7,
        database_url: str | None = None,
        corpus: Callable[[], Corpus] | None = None,
    ) -> Digest:
        store = Store.connect(database_url or url)
        # one 5xx retry instead of four keeps the failure tests fast (backoff 0.5 s, not 7.5 s)
        client = make_web_client("xoxb-test", fake_slack.base_url, server_error_retries=1)
        return Digest(
            store,
            client,
            CHANNEL,
            parse_cron(cron, timezone),
            corpus or (lambda: load_corpus([corpus_dir])),
            salt=str(seed) if seed is not None else "",
        )

    return make
