"""Patterns in the request log: themes in uncategorised requests, their trends, and who causes them.

Themes: TF-IDF over the descriptions' words and word pairs (letters only, so order numbers never
make a theme; English stop words; terms in more than half the requests carry no topic), reduced
by latent semantic analysis (truncated SVD to 50 dimensions, at most one per 10 requests, then
unit length) and clustered by k-means for every k in 2..12; the k with the best cosine silhouette
wins. K-means splits a topic written in a few set phrasings into one cluster per phrasing, so
clusters whose TF-IDF centroids are alike (cosine ≥ 0.3) are then merged: the number of themes
is the data's, not the top of the range. Each theme is named by its most *distinctive* terms
(mean weight inside minus outside, so words every theme shares never name one) and, when its
centroid is close to the requests already filed under a category, by that category. Every
random step has a fixed seed and runs on one thread, so the same log always gives the same
themes.

Measured on generated logs with known topics (3–7 topics, shared filler words, typos, a few to
sixty words per request; tests/analysis/request_texts.py): adjusted Rand index in
benchmarks/README.md (``bench_themes.py``).
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

__all__ = [
    "Theme",
    "ThemeResult",
    "find_themes",
    "label_terms",
    "load_requests",
    "merge_alike",
    "request_patterns",
    "stable_ids",
    "tfidf",
]

K_RANGE = (2, 12)
SEED = 0
MIN_REQUESTS = 10
CATEGORY_MATCH = 0.3  # cosine similarity to an existing category's centroid to reuse its name
SILHOUETTE_SAMPLE = 3000
LSA_DIMS = 50
N_INIT = 3
MERGE_SIMILARITY = 0.3  # TF-IDF centroid cosine above which two clusters are one theme
REQUESTS_PER_DIM = 10  # LSA keeps at most one dimension per 10 requests (noise on small logs)
MAX_SHARE = 0.5  # words in more than this share of requests name no topic
WORDS = r"(?u)\b[^\W\d_]{2,}\b"  # letters only: no order numbers, no prices


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
    """Cluster the uncategorised requests of ``frame`` (from :func:`load_requests`) into themes.

    With ``k`` the number of themes is forced (no merging); without it the data choose.
    """
    from threadpoolctl import threadpool_limits

    todo = frame[frame["category"].isna() & (frame["description"].str.strip() != "")]
    if len(todo) < MIN_REQUESTS:
        raise DataError(
            f"Only {len(todo)} uncategorised requests with a description",
            hint=f"Themes need at least {MIN_REQUESTS}; log more requests first",
        )
    with threadpool_limits(1):  # small matrices: one thread is faster and deterministic
        matrix, lsa, vectorizer = _embed(todo["description"])
        labels, score = _cluster(lsa, k)
        if k is None:
            labels = merge_alike(matrix, labels)
    labels = stable_ids(labels)
    themes = _describe(todo, matrix, lsa, labels, vectorizer, frame)
    labels = _merge_same_category(labels, themes)
    if len(set(labels.tolist())) < len(themes):
        themes = _describe(todo, matrix, lsa, labels, vectorizer, frame)
    assignments = [
        {"request_id": rid, "theme": int(t)}
        for rid, t in zip(todo["request_id"], labels, strict=True)
    ]
    result = ThemeResult(themes, assignments, len(themes), score, len(todo))
    _add_trends(result, todo.assign(theme=labels), frame, as_of)
    return result


def tfidf(texts: Any, *, letters: str = "words", max_share: float = MAX_SHARE):
    """TF-IDF of short texts and its vectorizer: terms in at least two texts and at most
    ``max_share`` of them. ``letters="words"``: words and word pairs (letters only, English stop
    words), as request themes use. ``"pieces"``: 3–5 letter pieces within words, so "approval"
    and "approvals", "forecast" and "forecasting" share terms (few short texts, as statements
    people write, share too few whole words)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if letters == "pieces":
        options: dict[str, Any] = {"analyzer": "char_wb", "ngram_range": (3, 5)}
    else:
        options = {"stop_words": "english", "token_pattern": WORDS, "ngram_range": (1, 2)}
    few = len(texts) < 4  # two or three texts: a shared term is in more than half of them
    vectorizer = TfidfVectorizer(
        min_df=1 if few else 2, max_df=1.0 if few else max_share, sublinear_tf=True, **options
    )
    try:
        return vectorizer.fit_transform(texts), vectorizer
    except ValueError:  # every word is a stop word, a number, or in one text only
        raise DataError(
            "The texts share no words to group them by",
            hint="Grouping needs texts in words (not only numbers or one-off terms)",
        ) from None


def _embed(texts: pd.Series):
    """TF-IDF of the words (the matrix, its LSA rows at unit length, and the vectorizer)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    matrix, vectorizer = tfidf(texts)
    dims = min(LSA_DIMS, max(2, len(texts) // REQUESTS_PER_DIM), matrix.shape[1] - 1)
    dims = max(1, min(dims, len(texts) - 1))
    lsa = normalize(TruncatedSVD(dims, random_state=SEED).fit_transform(matrix))
    return matrix, lsa, vectorizer


def _cluster(lsa: np.ndarray, k: int | None) -> tuple[np.ndarray, float | None]:
    """K-means labels for ``k``, or for the k in :data:`K_RANGE` with the best silhouette."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    candidates = [k] if k else range(K_RANGE[0], min(K_RANGE[1], len(lsa) - 1) + 1)
    best: tuple[float, np.ndarray] | None = None
    for n in candidates:
        labels = KMeans(n, n_init=N_INIT, random_state=SEED).fit(lsa).labels_
        score = (
            float(
                silhouette_score(
                    lsa,
                    labels,
                    metric="cosine",
                    sample_size=min(SILHOUETTE_SAMPLE, len(lsa)),
                    random_state=SEED,
                )
            )
            if len(set(labels.tolist())) > 1
            else 0.0
        )
        if best is None or score > best[0] + 1e-9:
            best = (score, labels)
    assert best is not None
    return best[1], best[0]


def merge_alike(matrix: Any, labels: np.ndarray, threshold: float = MERGE_SIMILARITY) -> np.ndarray:
    """Merge the two clusters with the most alike TF-IDF centroids until none reach
    ``threshold`` (one topic's phrasings are one theme). Started from one cluster per text,
    this is centroid-linkage agglomerative clustering."""
    import numpy as np
    from sklearn.preprocessing import normalize

    labels = labels.copy()
    while len(ids := sorted(set(labels.tolist()))) > 1:
        centroids = normalize(
            np.vstack([np.asarray(matrix[labels == i].mean(axis=0)).ravel() for i in ids])
        )
        alike = centroids @ centroids.T
        np.fill_diagonal(alike, -1.0)
        a, b = np.unravel_index(int(alike.argmax()), alike.shape)
        if alike[a, b] < threshold:
            break
        labels[labels == ids[b]] = ids[a]
    return labels


def stable_ids(labels: np.ndarray) -> np.ndarray:
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
    return stable_ids(np.array([mapping[int(x)] for x in labels]))


def _describe(todo, matrix, lsa, labels, vectorizer, frame) -> list[Theme]:
    import numpy as np

    terms = np.array(vectorizer.get_feature_names_out())
    categories = _category_centroids(frame, vectorizer)
    themes = []
    for theme in sorted(set(labels.tolist())):
        mask = labels == theme
        centroid = np.asarray(matrix[mask].mean(axis=0)).ravel()
        rest = np.asarray(matrix[~mask].mean(axis=0)).ravel() if (~mask).any() else 0.0
        top = [str(t) for t in terms[np.argsort(-(centroid - rest), kind="stable")[:6]]]
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
    """The closest existing category, or the two most distinctive terms."""
    import numpy as np

    best, score = None, 0.0
    for name, other in categories.items():
        denom = float(np.linalg.norm(centroid) * np.linalg.norm(other))
        sim = float(centroid @ other) / denom if denom else 0.0
        if sim > score:
            best, score = name, sim
    if best is not None and score >= CATEGORY_MATCH:
        return best, True
    return label_terms(top), False


def label_terms(terms: list[str]) -> str:
    """The two most distinctive terms that share no word ("credit note / refund", never
    "users / new users")."""
    chosen: list[str] = []
    for term in terms:
        if not any(set(term.split()) & set(c.split()) for c in chosen):
            chosen.append(term)
        if len(chosen) == 2:
            break
    return " / ".join(chosen)


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
