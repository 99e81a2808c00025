"""`hubs-bot stats`: what people ask, what the playbooks lack, which answers disappoint,
and whether replies are stuck waiting for Slack.

Reads the query log and the 👍/👎 feedback from the store. The no-match list is the one
playbook authors want: questions the corpus could not answer.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from bot.settings import Settings
from bot.store import Store

TOP = 20


@dataclass
class SectionFeedback:
    section: str
    up: int = 0
    down: int = 0

    @property
    def net(self) -> int:
        return self.up - self.down


@dataclass
class UsageReport:
    days: int
    questions: int
    no_match_rate: float
    top_queries: list[tuple[str, int]] = field(default_factory=list)
    no_match_queries: list[tuple[str, int]] = field(default_factory=list)
    no_match_kinds: dict[str, str] = field(default_factory=dict)
    """question -> why it got no answer (bot/search/misses.py), when the corpus was given"""
    worst_sections: list[SectionFeedback] = field(default_factory=list)
    replies_waiting: int = 0  # in the outbox: Slack has not taken them yet
    replies_given_up: int = 0  # in the last week


def build_report(
    store: Store,
    days: int,
    now: datetime | None = None,
    explain: Callable[[str], str] | None = None,
) -> UsageReport:
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    queries, votes = store.usage_since(since)
    asked = Counter(q for q, _, _ in queries)
    missed = Counter(q for q, section, _ in queries if section is None)
    per_section: dict[str, SectionFeedback] = defaultdict(lambda: SectionFeedback(""))
    for section, vote, _ in votes:
        entry = per_section[section]
        entry.section = section
        if vote > 0:
            entry.up += 1
        else:
            entry.down += 1
    worst = sorted(
        (f for f in per_section.values() if f.down),
        key=lambda f: (f.net, -f.down, f.section),
    )
    delivery = store.outbox_counts()
    return UsageReport(
        days=days,
        questions=len(queries),
        no_match_rate=round(sum(missed.values()) / len(queries), 3) if queries else 0.0,
        top_queries=asked.most_common(TOP),
        no_match_queries=missed.most_common(TOP),
        no_match_kinds={q: explain(q) for q, _ in missed.most_common(TOP)} if explain else {},
        worst_sections=worst[:TOP],
        replies_waiting=delivery["pending"],
        replies_given_up=delivery["dead"],
    )


def as_text(report: UsageReport) -> str:
    lines = [
        f"Last {report.days} days: {report.questions} questions, "
        f"{report.no_match_rate:.0%} unanswered."
    ]
    sections = (
        ("Top questions", report.top_queries),
        ("Unanswered (what the playbooks lack)", report.no_match_queries),
    )
    for title, rows in sections:
        lines.append(f"\n{title}:")
        for query, count in rows:
            why = report.no_match_kinds.get(query) if rows is report.no_match_queries else None
            lines.append(f"  {count:>5}  {query}" + (f"   [{why}]" if why else ""))
        if not rows:
            lines.append("  (none)")
    lines.append("\nSections with the worst feedback (👍 / 👎):")
    lines.extend(f"  {f.up:>3} / {f.down:<3} {f.section}" for f in report.worst_sections)
    if not report.worst_sections:
        lines.append("  (none)")
    lines.append(
        f"\nReplies Slack has not taken: {report.replies_waiting} waiting for a retry, "
        f"{report.replies_given_up} given up this week."
    )
    return "\n".join(lines) + "\n"


def as_csv(report: UsageReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["kind", "key", "count", "up", "down", "why"])
    writer.writerows(("question", q, n, "", "", "") for q, n in report.top_queries)
    writer.writerows(
        ("unanswered", q, n, "", "", report.no_match_kinds.get(q, ""))
        for q, n in report.no_match_queries
    )
    writer.writerows(("feedback", f.section, "", f.up, f.down, "") for f in report.worst_sections)
    writer.writerow(("replies", "waiting", report.replies_waiting, "", "", ""))
    writer.writerow(("replies", "given up", report.replies_given_up, "", "", ""))
    return out.getvalue()


def as_json(report: UsageReport) -> str:
    data = asdict(report)
    data["worst_sections"] = [{**asdict(f), "net": f.net} for f in report.worst_sections]
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


FORMATS = {"text": as_text, "csv": as_csv, "json": as_json}


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from bot.corpus import load_corpus
    from bot.search.misses import MissExplainer

    store = Store.connect(settings.effective_database_url)
    corpus = load_corpus(settings.corpus_dirs)
    explainer = MissExplainer(corpus, settings.aliases, settings.cues) if corpus.playbooks else None
    report = build_report(store, args.days, explain=explainer.kind if explainer else None)
    print(FORMATS[args.format](report), end="")
    return 0
