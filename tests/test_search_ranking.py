"""Full top-3 orders on the thirteen-playbook evaluation corpus, for a table of questions of
every kind: a ranking change shows up here as a diff, not only when the first answer flips.

Each row's first answer was checked by hand; the rest of each row pins what the ranking does
today (update a row deliberately, and say why in the commit)."""

from __future__ import annotations

import pytest

from bot.corpus import load_corpus
from bot.search import Index
from tests.conftest import REPO_ROOT

QUALITY = REPO_ROOT / "bench" / "quality" / "corpus"

AMC, ARPA, FAST = "advance-market-commitments", "arpa-program-managers", "fast-grants"
FRO, IRL, LOTTERY = (
    "focused-research-organizations",
    "industrial-research-laboratories",
    ("grant-lotteries"),
)
PATENTS, PRIZES, RD = "patent-buyouts", "inducement-prizes", "rd-tax-credits"
PARKS, SBIR, TRL = (
    "science-parks",
    "small-business-innovation-research",
    ("technology-readiness-levels"),
)
KEY, WHEN, CASE = "key-things-to-know", "when-to-use", "case-study"
PITFALLS, READING, WHO = "potential-pitfalls", "further-readings", "contributors"

RANKINGS = [
    # a section name alone: every playbook's, in corpus order
    ("pitfalls", [f"{AMC}#{PITFALLS}", f"{ARPA}#{PITFALLS}", f"{FAST}#{PITFALLS}"]),
    # a named playbook narrows to it; nothing else clears the bar
    ("sbir pitfalls", [f"{SBIR}#{PITFALLS}"]),
    ("grant lottery case study", [f"{LOTTERY}#{CASE}"]),
    ("pitfals of fast grants", [f"{FAST}#{PITFALLS}"]),
    ("who wrote the science parks playbook", [f"{PARKS}#{WHO}"]),
    # decision phrasing with words several playbooks use ("prize", "grant")
    (
        "when should we use a prize instead of a grant",
        [f"{PRIZES}#{WHEN}", f"{RD}#{WHEN}", f"{PATENTS}#{WHEN}"],
    ),
    # a playbook named by content words, then its other sections by those words
    ("darpa program manager autonomy", [f"{ARPA}#{KEY}", f"{ARPA}#{PITFALLS}", f"{ARPA}#{CASE}"]),
    ("patent buyout auction", [f"{PATENTS}#{KEY}", f"{PATENTS}#{PITFALLS}"]),
    ("TRLs", [f"{TRL}#{KEY}", f"{TRL}#{WHEN}", f"{TRL}#{CASE}"]),
    ("prize", [f"{PRIZES}#{KEY}", f"{PRIZES}#{WHEN}", f"{PRIZES}#{PITFALLS}"]),
    (
        "what went wrong with research triangle park",
        [f"{PARKS}#{PITFALLS}", f"{PARKS}#{CASE}", f"{PARKS}#{KEY}"],
    ),
    (
        "advance market commitment pneumococcal vaccine",
        [f"{AMC}#{CASE}", f"{AMC}#{READING}", f"{AMC}#{KEY}"],
    ),
    ("r&d tax credit further reading", [f"{RD}#{READING}", f"{RD}#{KEY}", f"{RD}#{WHEN}"]),
    (
        "focused research organization vs academic lab",
        [f"{FRO}#{KEY}", f"{FRO}#{CASE}", f"{FRO}#{WHO}"],
    ),
    # arguable: the overview would do as well as the section with the most mentions
    ("bell labs", [f"{IRL}#{WHEN}", f"{IRL}#{KEY}", f"{IRL}#{PITFALLS}"]),
    # off topic: nothing
    ("lunch order for friday?", []),
]


@pytest.fixture(scope="module")
def index() -> Index:
    return Index(load_corpus([QUALITY]))


@pytest.mark.parametrize(("question", "expected"), RANKINGS, ids=[q for q, _ in RANKINGS])
def test_the_whole_top_three(index: Index, question: str, expected: list[str]) -> None:
    assert [r.section.key for r in index.search(question, limit=3).results] == expected
