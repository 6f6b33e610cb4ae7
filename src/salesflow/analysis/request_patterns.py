"""Patterns in the request log: themes in uncategorised requests, their trends, and who causes them.

Themes: TF-IDF over the descriptions (English stop words, words and word pairs), reduced by
latent semantic analysis (truncated SVD, then unit length), clustered by k-means for every k in
2..12; the k with the best silhouette score wins. Every random step has a fixed seed, so the same
log always gives the same themes. Each theme is named by its top terms and, when its centroid is
close to the requests already filed under a category, by that category.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from salesflow.errors import DataError
from salesflow.source import require_table

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from ibis.backends import BaseBackend

__all__ = ["Theme", "ThemeResult", "find_themes", "load_requests", "request_patterns"]

K_RANGE = (2, 12)
SEED = 0
MIN_REQUESTS = 10
CATEGORY_MATCH = 0.3  # cosine similarity to an existing category's centroid to reuse its name
SILHOUETTE_SAMPLE = 3000
LSA_DIMS = 50
N_INIT = 3


@dataclass
class Theme:
    id: int
    label: str
    terms: list[str]
    count: int
    examples: list[str]
    existing_category: bool = False
    trend: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "terms": self.terms,
            "count": self.count,
            "examples": self.examples,
            "existing_category": self.existing_category,
            "trend": self.trend,
        }


@dataclass
class ThemeResult:
    themes: list[Theme]
    assignments: list[dict[str, Any]]
    k: int
    silhouette: float | None
    uncategorised: int
    pareto: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "silhouette": self.silhouette,
            "uncategorised": self.uncategorised,
            "themes": [t.as_dict() for t in self.themes],
            "assignments": self.assignments,
            "pareto": self.pareto,
        }


def load_requests(con: BaseBackend) -> pd.DataFrame:
    """Every request with its description, category and, when linked, the deal's facts."""
    r = require_table(con, "requests")
    cols = ["request_id", "received_at", "category", "description", "opportunity_id"]
    frame = r.select(*cols).execute()
    frame["category"] = frame["category"].where(
        frame["category"].notna() & (frame["category"].astype(str).str.strip() != ""), None
    )
    frame["description"] = frame["description"].fillna("").astype(str)
    return frame.sort_values("request_id", kind="stable").reset_index(drop=True)


def find_themes(frame: pd.DataFrame, *, k: int | None = None, as_of: Any = None) -> ThemeResult:
    """Cluster the uncategorised requests of ``frame`` (from :func:`load_requests`) into themes."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import normalize

    todo = frame[frame["category"].isna() & (frame["description"].str.strip() != "")]
    if len(todo) < MIN_REQUESTS:
        raise DataError(
            f"Only {len(todo)} uncategorised requests with a description",
            hint=f"Themes need at least {MIN_REQUESTS}; log more requests first",
        )
    vectorizer = TfidfVectorizer(
        stop_words="english", ngram_range=(1, 2), min_df=2, sublinear_tf=True
    )
    tfidf = vectorizer.fit_transform(todo["description"])
    dims = max(2, min(LSA_DIMS, tfidf.shape[1] - 1, len(todo) - 1))
    lsa = normalize(TruncatedSVD(dims, random_state=SEED).fit_transform(tfidf))
    candidates = [k] if k else range(K_RANGE[0], min(K_RANGE[1], len(todo) - 1) + 1)
    best: tuple[float, Any] | None = None
    for n in candidates:
        model = KMeans(n, n_init=N_INIT, random_state=SEED).fit(lsa)
        score = (
            float(
                silhouette_score(
                    lsa,
                    model.labels_,
                    sample_size=min(SILHOUETTE_SAMPLE, len(todo)),
                    random_state=SEED,
                )
            )
            if n > 1
            else 0.0
        )
        if best is None or score > best[0] + 1e-9:
            best = (score, model)
    assert best is not None
    score, model = best
    labels = _stable_ids(model.labels_)
    themes = _describe(todo, tfidf, lsa, labels, vectorizer, frame)
    labels = _merge_same_category(labels, themes)
    if len(set(labels.tolist())) < len(themes):
        themes = _describe(todo, tfidf, lsa, labels, vectorizer, frame)
    assignments = [
        {"request_id": rid, "theme": int(t)}
        for rid, t in zip(todo["request_id"], labels, strict=True)
    ]
    result = ThemeResult(themes, assignments, len(themes), score, len(todo))
    _add_trends(result, todo.assign(theme=labels), frame, as_of)
    return result


def _stable_ids(labels: np.ndarray) -> np.ndarray:
    """Number themes by size, largest first, so ids read the same run after run."""
    import numpy as np

    values, counts = np.unique(labels, return_counts=True)
    order = values[np.lexsort((values, -counts))]
    mapping = {int(old): new for new, old in enumerate(order, start=1)}
    return np.array([mapping[int(x)] for x in labels])


def _merge_same_category(labels: np.ndarray, themes: list[Theme]) -> np.ndarray:
    """Themes matched to the same existing category are one theme (k-means may split it)."""
    import numpy as np

    first: dict[str, int] = {}
    mapping = {}
    for t in themes:
        key = t.label if t.existing_category else f"#{t.id}"
        mapping[t.id] = first.setdefault(key, t.id)
    return _stable_ids(np.array([mapping[int(x)] for x in labels]))


def _describe(todo, tfidf, lsa, labels, vectorizer, frame) -> list[Theme]:
    import numpy as np

    terms = np.array(vectorizer.get_feature_names_out())
    categories = _category_centroids(frame, vectorizer)
    themes = []
    for theme in sorted(set(labels.tolist())):
        mask = labels == theme
        centroid = np.asarray(tfidf[mask].mean(axis=0)).ravel()
        top = [str(t) for t in terms[np.argsort(-centroid, kind="stable")[:6]]]
        center = lsa[mask].mean(axis=0)
        closest = np.argsort(-(lsa[mask] @ center), kind="stable")[:3]
        examples = todo["description"].to_numpy()[mask][closest].tolist()
        label, existing = _name(centroid, categories, top)
        themes.append(Theme(theme, label, top, int(mask.sum()), examples, existing))
    return themes


def _category_centroids(frame: pd.DataFrame, vectorizer) -> dict[str, np.ndarray]:
    import numpy as np

    done = frame[frame["category"].notna()]
    if done.empty:
        return {}
    matrix = vectorizer.transform(done["description"])
    return {
        str(cat): np.asarray(matrix[(done["category"] == cat).to_numpy()].mean(axis=0)).ravel()
        for cat in sorted(done["category"].unique())
    }


def _name(
    centroid: np.ndarray, categories: Mapping[str, np.ndarray], top: list[str]
) -> tuple[str, bool]:
    """The closest existing category, or the top two terms."""
    import numpy as np

    best, score = None, 0.0
    for name, other in categories.items():
        denom = float(np.linalg.norm(centroid) * np.linalg.norm(other))
        sim = float(centroid @ other) / denom if denom else 0.0
        if sim > score:
            best, score = name, sim
    if best is not None and score >= CATEGORY_MATCH:
        return best, True
    return " / ".join(top[:2]), False


def _add_trends(
    result: ThemeResult, themed: pd.DataFrame, frame: pd.DataFrame, as_of: Any = None
) -> None:
    """Each theme's monthly counts over the request log's months; the month still running at
    as-of is shown but not fitted. (The log is not zero-filled up to as-of: a request log is
    often a separate export that ends before the CRM's.)"""
    import pandas as pd

    from salesflow.analysis.request_log import monthly_trend, pareto_by_theme

    months = frame["received_at"].dt.to_period("M")
    span, running = (months.min(), months.max()), None  # the request log's own months
    if as_of is not None:
        running = pd.Timestamp(as_of).to_period("M")  # complete only once as-of is past its end
    for theme in result.themes:
        stamps = themed.loc[themed["theme"] == theme.id, "received_at"]
        theme.trend = monthly_trend(stamps, span, complete_until=running)
    result.pareto["by_theme"] = pareto_by_theme(result.themes)


def request_patterns(con: BaseBackend, *, k: int | None = None, as_of: Any = None) -> ThemeResult:
    """Themes, trends and Pareto tables for the workspace's request log; trends are fitted on
    the months complete at ``as_of`` (default: the data's latest timestamp)."""
    from salesflow.analysis.request_log import pareto_per_won_order
    from salesflow.workspace import data_end

    frame = load_requests(con)
    if as_of is None:
        as_of = data_end(con)
    result = find_themes(frame, k=k, as_of=as_of)
    result.pareto.update(pareto_per_won_order(con))
    return result
