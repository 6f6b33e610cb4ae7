"""Design matrices and model fits behind the driver analysis (pandas + statsmodels, no I/O).

Outcomes: ``won`` (closed deals) and ``stalled`` (deals old enough to have stalled) are binary and
fitted by logistic regression; effects are average marginal effects in percentage points
(statsmodels ``get_margeff``, discrete changes for 0/1 columns). ``cycle_time`` (closed deals) is
fitted by OLS on log days with HC3 robust standard errors; effects are percent changes in the
median duration, ``100·(exp(b) − 1)``, which hold for a log-normal spread around the median.
Metric outcomes (:mod:`salesflow.analysis.outcomes`) add ``linear``: OLS on the value itself with
HC3 errors, effects a difference in means in the metric's unit (× ``scale``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from salesflow.analysis.variables import Variable
from salesflow.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["OUTCOMES", "Design", "OutcomeSpec", "design", "fit", "population"]

MIN_LEVEL = 10  # levels with fewer deals are pooled into "(other)"
OTHER = "(other)"
MIN_DAYS = 1 / 24  # a deal closed within the hour counts as one hour long


@dataclass(frozen=True)
class OutcomeSpec:
    """What the model explains: its column in the feature table, model kind and units."""

    name: str
    kind: Literal["binary", "duration", "linear"]
    column: str
    population: str
    unit: str  # "points", "percent", or a metric's own unit for a linear outcome
    worse: Literal["increases", "decreases"]  # which direction of the effect is bad news
    label: str = ""  # the measure in words: "win rate", "rework rate"
    metric: str | None = None  # the catalog metric behind a metric outcome
    scale: float = 1.0  # linear outcomes: effects × scale (100 turns a share into points)
    leaks: tuple[tuple[str, str], ...] = ()  # (variable, why it is part of the outcome)


OUTCOMES = {
    "won": OutcomeSpec(
        "won", "binary", "won", "closed deals", "points", "decreases", label="win rate"
    ),
    "stalled": OutcomeSpec(
        "stalled",
        "binary",
        "stalled",
        "deals old enough to stall",
        "points",
        "increases",
        label="share of stalled deals",
    ),
    "cycle_time": OutcomeSpec(
        "cycle_time",
        "duration",
        "cycle_days",
        "closed deals",
        "percent",
        "increases",
        label="cycle time",
    ),
}


@dataclass
class Design:
    """The model matrix: one column per numeric/binary variable and per non-reference level."""

    X: pd.DataFrame
    y: pd.Series
    columns: dict[str, tuple[str, str | None]]  # column → (variable, level)
    references: dict[str, str]
    scales: dict[str, tuple[float, str]]  # numeric variable → (scale, unit words)
    notes: list[dict]

    def variable_columns(self, variable: str) -> list[str]:
        return [c for c, (v, _) in self.columns.items() if v == variable]


def outcome_spec(outcome: str | OutcomeSpec) -> OutcomeSpec:
    """A built-in outcome by name (metric outcomes come from :func:`outcomes.metric_outcome`)."""
    if isinstance(outcome, OutcomeSpec):
        return outcome
    try:
        return OUTCOMES[outcome]
    except KeyError:
        raise DataError(
            f"Unknown outcome {outcome!r}",
            hint=f"Choose one of: {', '.join(OUTCOMES)} or a per-deal metric",
        ) from None


def population(frame: pd.DataFrame, spec: OutcomeSpec) -> pd.DataFrame:
    """The deals the outcome is defined for."""
    if spec.name == "stalled" and spec.metric is None:
        return frame[frame["eligible"].astype(bool) & frame["stalled"].notna()]
    return frame[frame[spec.column].notna()]


def design(frame: pd.DataFrame, spec: OutcomeSpec, variables: list[Variable]) -> Design:
    """Encode variables for the model, dropping deals with a missing numeric value."""
    import numpy as np
    import pandas as pd

    data = population(frame, spec)
    notes: list[dict] = []
    numeric = [v.name for v in variables if v.kind != "categorical"]
    missing = data[numeric].isna().any(axis=1) if numeric else pd.Series(False, data.index)
    if missing.any():
        names = [n for n in numeric if data[n].isna().any()]
        notes.append(
            _note(
                "missing",
                names,
                f"{int(missing.sum()):,} deals without a value for "
                f"{', '.join(names)} were left out",
            )
        )
        data = data[~missing]
    parts, columns, references, scales = [], {}, {}, {}
    for v in variables:
        if v.kind == "categorical":
            block, reference, pooled = _dummies(data[v.name], v.name)
            references[v.name] = reference
            if pooled:
                notes.append(
                    _note(
                        "too_few_cases",
                        [v.name],
                        f"{v.name}: levels with fewer than "
                        f"{MIN_LEVEL} deals ({', '.join(pooled)}) were pooled as {OTHER}",
                    )
                )
            columns.update({c: (v.name, c.split("=", 1)[1]) for c in block.columns})
        else:
            scale, unit = _scale(v, data[v.name])
            block = data[[v.name]].astype(float) / scale
            scales[v.name] = (scale, unit)
            columns[v.name] = (v.name, None)
        parts.append(block)
    X = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=data.index)
    y = data[spec.column].astype(float)
    if spec.kind == "duration":
        y = np.log(y.clip(lower=MIN_DAYS))
    return Design(X, y, columns, references, scales, notes)


def _dummies(values: pd.Series, name: str) -> tuple[pd.DataFrame, str, list[str]]:
    import pandas as pd

    values = values.fillna("(missing)").astype(str)
    counts = values.value_counts()
    rare = sorted(counts[counts < MIN_LEVEL].index)
    if rare and len(counts) > len(rare):
        values = values.where(~values.isin(rare), OTHER)
        counts = values.value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    reference = str(counts.index[0])
    levels = [str(level) for level in counts.index[1:]]
    block = pd.DataFrame(
        {f"{name}={level}": (values == level).astype(float) for level in levels}, index=values.index
    )
    return block, reference, rare


def _scale(variable: Variable, values: pd.Series) -> tuple[float, str]:
    """The unit effects are reported per: the variable's own, or a round number near its spread."""
    if variable.kind == "binary":
        return 1.0, variable.unit or "yes vs no"
    if variable.origin == "built-in" or variable.scale != 1.0 or variable.unit:
        return variable.scale, variable.unit or f"per {variable.scale:g}"
    sd = float(values.std()) if len(values) > 1 else 0.0
    scale = 10 ** math.floor(math.log10(sd)) if sd > 0 and math.isfinite(sd) else 1.0
    return scale, f"per {scale:,g}"


def _note(kind: str, variables: list[str], message: str) -> dict:
    return {"kind": kind, "variables": variables, "message": message}


def fit(X: pd.DataFrame, y: pd.Series, spec: OutcomeSpec, *, effects: bool = True):
    """Fit the outcome's model; return a frame (effect, ci_low, ci_high, p) per column of X.

    With ``effects=False`` the raw coefficients (log-odds or log-days) are returned instead,
    which is what the confounding check compares.
    """
    import numpy as np
    import pandas as pd
    import statsmodels.api as sm

    exog = sm.add_constant(X, has_constant="add")
    try:
        if spec.kind == "binary":
            result = sm.Logit(y, exog).fit(disp=0, maxiter=200)
        else:
            result = sm.OLS(y, exog).fit(cov_type="HC3")
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise DataError(
            f"The {spec.name} model cannot be fitted with these variables ({exc})",
            hint="Leave out one of two variables that say the same thing, or a level that "
            "always wins or always loses (--variables a,b,…)",
        ) from exc
    if not effects or X.shape[1] == 0:
        return pd.DataFrame(
            {"coef": result.params.drop("const"), "p": result.pvalues.drop("const")}
        )
    if spec.kind == "binary":
        m = result.get_margeff(at="overall", dummy=True)
        ci = m.conf_int()
        frame = pd.DataFrame(
            {
                "effect": m.margeff * 100,
                "ci_low": ci[:, 0] * 100,
                "ci_high": ci[:, 1] * 100,
                "p": m.pvalues,
            },
            index=X.columns,
        )
    else:
        ci = result.conf_int().drop("const")
        params = result.params.drop("const")
        frame = pd.DataFrame(
            {
                "effect": _plain(params, spec),
                "ci_low": _plain(ci[0], spec),
                "ci_high": _plain(ci[1], spec),
                "p": result.pvalues.drop("const"),
            },
        )
    return frame


def _plain(coef: pd.Series, spec: OutcomeSpec) -> pd.Series:
    """Coefficients in plain units: % of the median for durations, the metric's unit otherwise."""
    import numpy as np

    return np.expm1(coef) * 100 if spec.kind == "duration" else coef * spec.scale
