"""Ranking-quality metrics, as defined in ../shared/eval/README.md."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def ndcg_at_k(ranked: Sequence[str], relevant: set[str] | Mapping[str, int], k: int = 10
              ) -> float:
    """nDCG@k: binary gains for a set of relevant items, graded (linear) ones for a mapping
    of item to grade; log2 discount, ideal ranking from the judgments."""
    if not relevant:
        return 0.0
    gains = relevant if isinstance(relevant, Mapping) else dict.fromkeys(relevant, 1)
    dcg = sum(gains.get(item, 0) / math.log2(rank + 2) for rank, item in enumerate(ranked[:k]))
    ideal = sum(gain / math.log2(rank + 2) for rank, gain in
                enumerate(sorted(gains.values(), reverse=True)[:k]))
    return dcg / ideal if ideal else 0.0


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """Recall@k, capped at min(R, k) so a perfect top-k scores 1."""
    if not relevant:
        return 0.0
    found = sum(1 for item in ranked[:k] if item in relevant)
    return found / min(len(relevant), k)
