"""Which open deals to work first: win probability × amount per week still to close, with reasons.

The model learns from deals closed by the scoring moment and uses only variables known when a
deal is created (:mod:`salesflow.analysis.variables` records when each is known): a variable
filled in during the deal is incomplete on a deal still open, and one known after the outcome
is the outcome in disguise, so both are left out and listed. The honest check is a backtest
(:mod:`salesflow.analysis.backtest`): learn from the deals closed before a cut-off, score the
deals open at it, and compare with what happened next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from salesflow.analysis.drivers import DEFAULT_BUILTINS, usable
from salesflow.analysis.features import Catalog, feature_frame
from salesflow.analysis.variables import Variable
from salesflow.analysis.wording import label
from salesflow.errors import ConfigError, DataError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from salesflow.workspace import Workspace

__all__ = ["Priorities", "Scorer", "candidates", "deal_frame", "prioritise", "split"]

MIN_TRAIN = 30  # closed deals needed to learn anything
MIN_LEVEL = 10  # rarer levels are pooled, as in the driver model
OTHER = "(other)"
MIN_WEEKS = 1.0  # a deal is never closer than a week away
MAX_REASONS = 3
MIN_CONTRIBUTION = 0.05  # log-odds; smaller pushes are not worth saying
WHY_LEFT_OUT = {
    "during": "filled in while the deal runs, so incomplete on a deal still open",
    "after": "known only after the outcome",
}


@dataclass(frozen=True)
class Scorer:
    """A logistic model on creation-time variables, with what it needs to explain a score."""

    variables: tuple[Variable, ...]
    columns: tuple[str, ...]
    levels: dict[str, tuple[str, ...]]
    centre: dict[str, float]
    spread: dict[str, float]
    model: Any
    means: Any  # training mean of each column, the baseline a contribution is measured from
    base_rate: float
    ratios: dict[tuple[str, str], float]  # (variable, level or side) → win-rate ratio
    weeks_won: Any  # cycle weeks of won training deals, for the time still to close

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        import numpy as np

        parts = []
        for v in self.variables:
            if v.kind == "categorical":
                values = _levels(frame[v.name], self.levels[v.name])
                parts += [(values == level).to_numpy(float) for level in self.levels[v.name]]
            else:
                x = frame[v.name].astype(float).fillna(self.centre[v.name])
                parts.append(((x - self.centre[v.name]) / self.spread[v.name]).to_numpy())
        return np.column_stack(parts) if parts else np.zeros((len(frame), 0))

    def probability(self, frame: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(self.matrix(frame))[:, 1]

    def reasons(self, row: pd.Series, x: np.ndarray) -> list[dict[str, Any]]:
        """The biggest pushes on this deal's score, in words."""
        push = self.model.coef_[0] * (x - self.means)
        found = []
        for v in self.variables:
            idx = [i for i, c in enumerate(self.columns) if c.split("=", 1)[0] == v.name]
            total = float(push[idx].sum())
            if abs(total) >= MIN_CONTRIBUTION:
                found.append((total, v))
        found.sort(key=lambda t: -abs(t[0]))
        return [self._reason(v, row, total) for total, v in found[:MAX_REASONS]]

    def _reason(self, v: Variable, row: pd.Series, total: float) -> dict[str, Any]:
        if v.kind == "categorical":
            level = _levels(row[[v.name]], self.levels[v.name]).iloc[0]
            key, what = level, f"{label(v.name)} {level}"
        else:
            high = float(row[v.name]) > self.centre[v.name] if row[v.name] == row[v.name] else None
            key = "high" if high else "low"
            what = f"{label(v.name)} {'above' if high else 'at or below'} the usual"
        ratio = self.ratios.get((v.name, key))
        return {
            "variable": v.name,
            "value": None if row[v.name] != row[v.name] else _plain(row[v.name]),
            "push": "up" if total > 0 else "down",
            "win_rate_ratio": ratio,
            "words": f"{what}: {_ratio_words(ratio)}",
        }

    def weeks_to_close(self, age_days: float) -> float | None:
        """Median time still to go of won deals that were at least this old; None when almost
        no won deal ever got this old (the deal has probably gone quiet)."""
        import numpy as np

        age = age_days / 7
        later = self.weeks_won[self.weeks_won > age] - age
        if len(later) < MIN_LEVEL:
            return None
        return max(float(np.median(later)), MIN_WEEKS)


@dataclass
class Priorities:
    """The ``salesflow prioritise --json`` document."""

    as_of: datetime
    variables: list[str]
    left_out: list[dict[str, str]]
    trained_on: int
    base_rate: float
    open_deals: int
    deals: list[dict[str, Any]]
    backtest: dict[str, Any] | None = None
    summary: str = ""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "model": "logistic regression (scikit-learn, L2) on variables known at creation",
            "score": "win probability × amount ÷ weeks still to close",
            "variables": self.variables,
            "left_out": self.left_out,
            "trained_on": self.trained_on,
            "base_win_rate": self.base_rate,
            "open_deals": self.open_deals,
            "deals": self.deals,
            "backtest": self.backtest,
            "summary": self.summary,
            "notes": self.notes,
        }


def prioritise(
    workspace: Workspace,
    *,
    as_of: datetime | None = None,
    top: int = 10,
    backtest: bool = True,
    cutoff: datetime | None = None,
) -> Priorities:
    """Score the deals open at ``as_of`` (default: the data's latest moment), best first."""
    from salesflow.analysis.backtest import run_backtest
    from salesflow.workspace import resolve_as_of

    moment = as_of or resolve_as_of(workspace.settings, workspace.data)
    if cutoff is not None and cutoff >= moment:
        raise ConfigError(
            f"The backtest cut-off {cutoff:%Y-%m-%d} is not before the scoring moment "
            f"{moment:%Y-%m-%d}: nothing has happened since to compare with",
            hint="Choose an earlier cut-off, or leave it out to test each month",
        )
    frame, cat = deal_frame(workspace)
    chosen, left_out = candidates(frame, cat)
    result = score_open(frame, chosen, moment, top=top)
    result.left_out = left_out
    if backtest:
        result.backtest = run_backtest(frame, chosen, moment, cutoff=cutoff)
    result.summary = _summary(result)
    return result


def deal_frame(workspace: Workspace) -> tuple[pd.DataFrame, Catalog]:
    """The feature table with each deal's created and closed moments and descriptive columns."""
    import pandas as pd

    from salesflow.source import require_table

    frame, cat = feature_frame(workspace.data, workspace.settings)
    opps = require_table(workspace.data, "opportunities")
    keep = [
        c for c in ("opportunity_id", "account", "created_at", "closed_at") if c in opps.columns
    ]
    dates = opps.select(*keep).execute()
    dates = dates.rename(columns={"account": "_account"})
    for column in ("created_at", "closed_at"):
        dates[column] = pd.to_datetime(dates[column])
    return frame.merge(dates, on="opportunity_id", how="left"), cat


def candidates(frame: pd.DataFrame, cat: Catalog) -> tuple[list[Variable], list[dict[str, str]]]:
    """Variables known at creation, well covered, with a handful of levels; and the others."""
    chosen, left_out = [], []
    for name in (*DEFAULT_BUILTINS, *cat.imported):
        v = cat.variables.get(name)
        if v is None or name not in frame:
            continue
        if v.when != "creation":
            left_out.append({"name": name, "when": v.when, "why": WHY_LEFT_OUT[v.when]})
            continue
        if usable(v, frame[name]):
            chosen.append(v)
    return chosen, left_out


def split(frame: pd.DataFrame, moment: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deals closed by ``moment`` (with ``won``) and deals open at it, as ``moment`` saw them."""
    closed = frame["outcome"].isin(["won", "lost"])
    done = closed & frame["closed_at"].notna() & (frame["closed_at"] <= moment)
    later = closed & frame["closed_at"].notna() & (frame["closed_at"] > moment)
    started = frame["created_at"].notna() & (frame["created_at"] <= moment)
    train = frame[done].copy()
    train["won"] = (train["outcome"] == "won").astype(float)
    # A deal closed without a close date is neither open nor usable: when it closed is unknown.
    return train, frame[started & ((frame["outcome"] == "open") | later)].copy()


def fit_scorer(train: pd.DataFrame, variables: list[Variable]) -> Scorer:
    """Learn the win probability from closed deals (refused when too few to learn from)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    y = train["won"].to_numpy()
    if len(train) < MIN_TRAIN or y.min() == y.max():
        raise DataError(
            f"Only {len(train):,} closed deals ({int(y.sum()) if len(y) else 0} won) before the "
            "scoring moment: too few to learn which deals win",
            hint=f"Score later, or import more closed deals (at least {MIN_TRAIN}, won and lost)",
        )
    levels, centre, spread, columns = {}, {}, {}, []
    for v in variables:
        if v.kind == "categorical":
            counts = train[v.name].fillna("(missing)").astype(str).value_counts()
            kept = sorted(counts[counts >= MIN_LEVEL].index)
            levels[v.name] = (*kept, OTHER)
            columns += [f"{v.name}={level}" for level in levels[v.name]]
        else:
            x = train[v.name].astype(float)
            centre[v.name] = float(x.median()) if x.notna().any() else 0.0
            sd = float(x.std()) if x.notna().sum() > 1 else 0.0
            spread[v.name] = sd if sd > 0 else 1.0
            columns.append(v.name)
    partial = Scorer(
        tuple(variables), tuple(columns), levels, centre, spread, None, None, 0, {}, []
    )
    X = partial.matrix(train)
    model = LogisticRegression(C=1.0, max_iter=1000).fit(X, y) if X.shape[1] else _Constant(y)
    weeks = ((train["closed_at"] - train["created_at"]).dt.total_seconds() / (7 * 86_400.0))[
        y == 1
    ].to_numpy()
    return Scorer(
        tuple(variables),
        tuple(columns),
        levels,
        centre,
        spread,
        model,
        X.mean(axis=0) if len(X) else np.zeros(0),
        float(y.mean()),
        _ratios(train, partial),
        weeks,
    )


class _Constant:
    """The base rate for every deal, when no variable is usable."""

    def __init__(self, y: Any) -> None:
        import numpy as np

        self.rate = float(y.mean())
        self.coef_ = np.zeros((1, 0))

    def predict_proba(self, X: Any) -> Any:
        import numpy as np

        return np.column_stack([np.full(len(X), 1 - self.rate), np.full(len(X), self.rate)])


def _ratios(train: pd.DataFrame, scorer: Scorer) -> dict[tuple[str, str], float]:
    """Win rate of deals with each level (or above/below the usual value) vs all other deals."""
    won = train["won"]
    ratios = {}
    for v in scorer.variables:
        if v.kind == "categorical":
            values = _levels(train[v.name], scorer.levels[v.name])
            groups = {level: values == level for level in scorer.levels[v.name]}
        else:
            high = train[v.name].astype(float) > scorer.centre[v.name]
            groups = {"high": high, "low": ~high}
        for key, inside in groups.items():
            if inside.sum() and (~inside).sum() and won[~inside].mean() > 0:
                ratios[(v.name, key)] = round(float(won[inside].mean() / won[~inside].mean()), 2)
    return ratios


def score_open(
    frame: pd.DataFrame, variables: list[Variable], moment: datetime, *, top: int
) -> Priorities:
    """Train on deals closed by ``moment`` and rank the deals open at it."""
    train, open_ = split(frame, moment)
    scorer = fit_scorer(train, variables)
    p = scorer.probability(open_) if len(open_) else []
    X = scorer.matrix(open_) if len(open_) else None
    rows = []
    for i, (_, row) in enumerate(open_.iterrows()):
        age = (moment - row["created_at"]).total_seconds() / 86_400.0
        rows.append((_deal(row, float(p[i]), scorer.weeks_to_close(age)), row, i, age))
    rows.sort(
        key=lambda r: (
            r[0]["stale"],
            r[0]["score"] is None,
            -(r[0]["score"] or 0),
            -r[0]["win_probability"],
        )
    )
    listed = []
    for deal, row, i, age in rows[: max(top, 0)]:  # reasons only for the deals shown
        deal["reasons"] = [_stale(age)] if deal["stale"] else scorer.reasons(row, X[i])
        listed.append(deal)
    return Priorities(
        as_of=moment,
        variables=[v.name for v in variables],
        left_out=[],
        trained_on=len(train),
        base_rate=round(scorer.base_rate, 4),
        open_deals=len(open_),
        deals=[{"rank": i + 1, **r} for i, r in enumerate(listed)],
    )


def _stale(age_days: float) -> dict[str, Any]:
    return {
        "variable": "age",
        "value": round(age_days),
        "push": "down",
        "win_rate_ratio": None,
        "words": f"open {age_days:,.0f} days, longer than almost every won deal took: "
        "check it is still alive",
    }


def _deal(row: pd.Series, p: float, weeks: float | None) -> dict[str, Any]:
    amount = row.get("amount")
    has_amount = amount is not None and amount == amount
    value = p * float(amount) if has_amount else None
    per_week = None if value is None else value / (weeks or MIN_WEEKS)
    return {
        "opportunity_id": str(row["opportunity_id"]),
        "account": None if row.get("_account") is None else str(row.get("_account")),
        "owner": None if row.get("owner") in (None, "(missing)") else str(row.get("owner")),
        "amount": float(amount) if has_amount else None,
        "win_probability": round(p, 4),
        "expected_value": None if value is None else round(value, 2),
        "weeks_to_close": None if weeks is None else round(weeks, 1),
        "score": None if per_week is None else round(per_week, 2),
        "stale": weeks is None,
        "reasons": [],
    }


def _levels(values: pd.Series, levels: tuple[str, ...]) -> pd.Series:
    values = values.fillna("(missing)").astype(str)
    return values.where(values.isin(levels[:-1]), OTHER)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _ratio_words(ratio: float | None) -> str:
    if ratio is None:
        return "too few deals to compare"
    if 0.95 <= ratio <= 1.05:
        return "wins about as often as other deals"
    return f"wins {ratio:.1f}× as often as other deals"


def _summary(result: Priorities) -> str:
    head = (
        f"{result.open_deals:,} deals open; the model learnt from {result.trained_on:,} closed "
        f"deals (won {result.base_rate:.0%}) using {', '.join(map(label, result.variables))}."
        if result.variables
        else f"{result.open_deals:,} deals open; no variable known at creation could be used, "
        "so every deal gets the same win probability and amount decides the order."
    )
    test = result.backtest
    return head if not test else f"{head} {test['verdict']}"
