"""Paraphrases: a semantic channel from static word embeddings, an optional extra.

Lexical search cannot see that "people stopped coming to the meetups" is about engagement
fading; static embeddings can, in microseconds on the CPU. WordLlama (MIT) ships its weights in
its wheel, so it loads offline — but its loader looks for the tokenizer in the wrong folder and
then calls the network, so it is pointed at its own package directory with downloads disabled.

It is an extra (``pip install "hubs-bot[semantic]"``) turned on with ``HUBS_SEMANTIC=on`` (or
``auto``: when installed): it did not meet the bar for being on by default (see the README's search
quality section for the measured gain, latency and memory). Loading it limits BLAS to one
thread for the process (threadpoolctl): a multithreaded BLAS made a 6,000-section similarity
~7 ms.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # numpy only where the extra is used: `check` and `stats` import this module
    import numpy as np

log = logging.getLogger(__name__)


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text."""
        ...

    def similarities(self, matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of ``vector`` to each row of ``matrix``."""
        ...


class WordLlamaEmbedder:
    def __init__(self) -> None:
        import wordllama
        from threadpoolctl import threadpool_limits

        self._model = wordllama.WordLlama.load(
            cache_dir=Path(wordllama.__file__).parent, disable_download=True
        )
        # once, for the whole process: a per-call limit costs ~3 ms of library inspection,
        # more than the product itself; the workers' concurrency is threads, not BLAS
        threadpool_limits(limits=1, user_api="blas")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        vectors = self._model.embed(list(texts), norm=True)
        return np.asarray(vectors, dtype=np.float32)

    def similarities(self, matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
        return matrix @ vector


def available() -> bool:
    try:
        import threadpoolctl  # noqa: F401
        import wordllama  # noqa: F401
    except ImportError:
        return False
    return True


class SemanticUnavailableError(Exception):
    """``HUBS_SEMANTIC=on`` without the extra installed."""


def embedder_for(mode: str) -> WordLlamaEmbedder | None:
    """The embedder a setting asks for: ``auto`` (when installed), ``on`` (required), ``off``."""
    if mode == "off" or (mode == "auto" and not available()):
        return None
    if not available():
        raise SemanticUnavailableError(
            'HUBS_SEMANTIC=on needs the semantic extra: pip install "hubs-bot[semantic]"'
        )
    return load_embedder()


@cache
def load_embedder() -> WordLlamaEmbedder:
    """One model per process, shared by every index a reload builds."""
    embedder = WordLlamaEmbedder()
    log.info("semantic search on", extra={"model": "wordllama l2_supercat 256"})
    return embedder
