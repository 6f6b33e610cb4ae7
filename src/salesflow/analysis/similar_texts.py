"""What people have in common: short statements grouped by similar wording.

The request themes' text tools (:mod:`salesflow.analysis.request_patterns`), on a handful of
texts: TF-IDF over 3–5 letter pieces within words (so "approval" and "approvals" match and a
team's two dozen statements still share terms), then centroid-linkage grouping from one group per
statement, merging the two most alike groups while their TF-IDF centroids have a cosine of at
least :data:`SIMILAR` (``merge_alike``). No k to choose and no random step: an unrelated
statement stays alone, and the same statements always give the same groups.

Measured on hand-written paraphrases in four known groups plus an unrelated one
(tests/analysis/test_similar_texts.py): adjusted Rand index 1.0 for thresholds 0.2–0.4; 0.3 sits
in the middle of that plateau.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from salesflow.errors import DataError

__all__ = ["SIMILAR", "TextGroup", "group_texts"]

SIMILAR = 0.3  # centroid cosine at and above which two groups say the same thing


@dataclass(frozen=True)
class TextGroup:
    """Positions of the texts in one group (in input order) and the words they share."""

    members: tuple[int, ...]
    terms: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"members": list(self.members), "terms": list(self.terms)}


def group_texts(texts: Sequence[str], *, similar: float = SIMILAR) -> list[TextGroup]:
    """Groups of alike texts, the largest first (ties: the earliest text first)."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from salesflow.analysis.request_patterns import merge_alike, tfidf

    if not texts:
        return []
    labels = np.arange(len(texts))
    if len(texts) > 1:
        try:
            matrix, _ = tfidf(list(texts), letters="pieces")
        except DataError:  # no piece of a word in two statements: nothing in common
            matrix = None
        if matrix is not None:
            with threadpool_limits(1):
                labels = merge_alike(matrix, labels, similar)
    groups = [tuple(int(i) for i in np.flatnonzero(labels == g)) for g in dict.fromkeys(labels)]
    groups.sort(key=lambda members: (-len(members), members[0]))
    return [TextGroup(members, _shared_words(texts, members)) for members in groups]


def _shared_words(texts: Sequence[str], members: tuple[int, ...]) -> tuple[str, ...]:
    """Words (not stop words) in at least two of the group's texts, the most shared first."""
    if len(members) < 2:
        return ()
    import re
    from collections import Counter

    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from salesflow.analysis.request_patterns import WORDS

    counts: Counter[str] = Counter()
    for i in members:
        words = {w.lower() for w in re.findall(WORDS, texts[i])}
        counts.update(w for w in words if w not in ENGLISH_STOP_WORDS)
    shared = [w for w, n in sorted(counts.items(), key=lambda x: (-x[1], x[0])) if n >= 2]
    return tuple(shared[:5])
