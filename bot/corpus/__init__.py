"""The playbook corpus: Markdown files with front matter, loaded into immutable data.

``model`` says what a playbook is; ``front_matter``, ``markdown`` and ``lint`` read one file
each in bounded time; ``load`` walks the directories and keeps one bad file from taking the
rest down. Everything downstream imports from here.
"""

from bot.corpus.load import (
    MAX_FILE_BYTES,
    CorpusLoad,
    NoPlaybooksError,
    check_playbooks,
    iter_corpus_files,
    load_corpus,
    log_problems,
    parse_playbook,
    require_playbooks,
)
from bot.corpus.markdown import slugify
from bot.corpus.model import Author, Corpus, Item, ItemKind, Link, Playbook, Problem, Section

__all__ = [
    "MAX_FILE_BYTES",
    "Author",
    "Corpus",
    "CorpusLoad",
    "Item",
    "ItemKind",
    "Link",
    "NoPlaybooksError",
    "Playbook",
    "Problem",
    "Section",
    "check_playbooks",
    "iter_corpus_files",
    "load_corpus",
    "log_problems",
    "parse_playbook",
    "require_playbooks",
    "slugify",
]
