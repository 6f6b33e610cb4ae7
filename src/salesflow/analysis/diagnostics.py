"""Warnings that keep a driver analysis honest: too few cases, collinearity, confounding, leakage.

Thresholds are the usual rules of thumb: fewer than 30 deals in a level is too few (fewer than 10
events per model term is refused outright, see :mod:`salesflow.analysis.estimable`); |r| > 0.8 between two variables or a
variance inflation factor above 5 is collinear; a variable that is associated with both a driver
and the outcome and moves the driver's coefficient by more than 20 % when added is a possible
confounder (the change-in-estimate criterion, Greenland 1989).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from salesflow.analysis.model import Design, OutcomeSpec, fit
from salesflow.analysis.variables import Variable

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["collinearity", "confounders", "leakage", "too_few_cases"]

MIN_PER_LEVEL = 30
MAX_CORRELATION = 0.8
MAX_VIF = 5.0
CONFOUNDING_CHANGE = 0.2
MIN_ASSOCIATION = 0.1


def _warning(kind: str, variables: list[str], message: str) -> dict:
    return {"kind": kind, "variables": variables, "message": message}


def too_few_cases(d: Design, spec: OutcomeSpec) -> list[dict]:
    """Small levels, or too few deals overall."""
    found = []
    n = len(d.y)
    if n < MIN_PER_LEVEL:
        found.append(
            _warning(
                "too_few_cases", [], f"Only {n} {spec.population}: any effect below is a guess"
            )
        )
    for column, (variable, level) in d.columns.items():
        if level is None and not _is_binary(d.X[column]):
            continue
        size = int(d.X[column].sum())
        small = size if level is not None else min(size, n - size)
        if small < MIN_PER_LEVEL:
            what = f"{variable} = {level}" if level else variable
            found.append(
                _warning(
                    "too_few_cases",
                    [variable],
                    f"{what}: only {small} deals on "
                    f"one side; its effect is imprecise (want {MIN_PER_LEVEL}+)",
                )
            )
    for variable, reference in d.references.items():
        size = int((~d.X[d.variable_columns(variable)].astype(bool).any(axis=1)).sum())
        if size < MIN_PER_LEVEL:
            found.append(
                _warning(
                    "too_few_cases",
                    [variable],
                    f"{variable}: the reference level {reference!r} has only {size} deals",
                )
            )
    return found


def _is_binary(values: pd.Series) -> bool:
    return bool(values.isin([0.0, 1.0]).all())


def collinearity(d: Design) -> list[dict]:
    """Pairs of different variables with |r| > 0.8, and variables with VIF > 5."""
    import numpy as np

    cols = [c for c in d.X.columns if d.X[c].std() > 0]
    if len(cols) < 2:
        return []
    found, seen = [], set()
    corr = d.X[cols].corr().to_numpy()
    for i, a in enumerate(cols):
        for j in range(i + 1, len(cols)):
            va, vb = d.columns[a][0], d.columns[cols[j]][0]
            if va != vb and abs(corr[i, j]) > MAX_CORRELATION and (va, vb) not in seen:
                seen.add((va, vb))
                found.append(
                    _warning(
                        "collinear",
                        [va, vb],
                        f"{va} and {vb} move together "
                        f"(r = {corr[i, j]:.2f}): their separate effects cannot "
                        "be told apart; keep one",
                    )
                )
    # VIF_j is the j-th diagonal element of the inverse correlation matrix.
    vifs = np.diag(np.linalg.pinv(corr))
    worst: dict[str, float] = {}
    for column, vif in zip(cols, vifs, strict=True):
        variable = d.columns[column][0]
        worst[variable] = max(worst.get(variable, 0.0), float(vif))
    flagged = {v: x for v, x in worst.items() if x > MAX_VIF}
    paired = {v for pair in seen for v in pair}
    for variable, vif in flagged.items():
        if variable not in paired:
            vif_text = "∞" if not np.isfinite(vif) else f"{vif:.1f}"
            found.append(
                _warning(
                    "collinear",
                    [variable],
                    f"{variable} is largely explained by "
                    f"the other variables (VIF {vif_text} > {MAX_VIF:g})",
                )
            )
    return found


def leakage(variables: list[Variable], spec: OutcomeSpec) -> list[dict]:
    """Variables known only after the outcome (or part of a metric outcome); counts that grow
    with the deal's length."""
    found = []
    part_of = dict(spec.leaks)
    for v in variables:
        if v.name in part_of:
            found.append(
                _warning(
                    "leakage",
                    [v.name],
                    f"{v.name} is known only after the outcome starts "
                    f"({part_of[v.name]}), so it partly *is* the outcome: leave it out",
                )
            )
        elif v.when == "after":
            found.append(
                _warning(
                    "leakage",
                    [v.name],
                    f"{v.name} is known only after the deal "
                    "closes, so it partly *is* the outcome: leave it out",
                )
            )
        elif (
            v.when == "during"
            and v.kind == "numeric"
            and spec.name != "stalled"
            and v.name != "first_response_hours"
        ):
            found.append(
                _warning(
                    "timing",
                    [v.name],
                    f"{v.name} accumulates while the deal is "
                    "open, so longer deals have more of it: it may follow the "
                    "outcome rather than drive it",
                )
            )
    return found


def confounders(d: Design, spec: OutcomeSpec, drivers: list[str]) -> list[dict]:
    """Other variables that change a driver's coefficient by > 20 % when added (crude vs adjusted)."""
    variables = list(dict.fromkeys(v for v, _ in d.columns.values()))
    with_outcome = {v: _associated_with_outcome(d, spec, v) for v in variables}
    found = []
    for driver in drivers:
        cols = d.variable_columns(driver)
        crude = fit(d.X[cols], d.y, spec, effects=False)
        strong = crude[crude["p"] < 0.05]["coef"]
        if strong.empty:
            continue
        for other in variables:
            if other == driver or not with_outcome[other]:
                continue
            ocols = d.variable_columns(other)
            link = d.X[cols + ocols].corr().loc[cols, ocols].abs().to_numpy().max()
            if not link >= MIN_ASSOCIATION:
                continue
            adjusted = fit(d.X[cols + ocols], d.y, spec, effects=False)["coef"][strong.index]
            change = float(((adjusted - strong).abs() / strong.abs()).max())
            if change > CONFOUNDING_CHANGE:
                found.append(
                    _warning(
                        "confounder",
                        [driver, other],
                        f"{other} may confound "
                        f"{driver}: it goes with both, and taking it into account "
                        f"changes {driver}'s effect by {change:.0%}",
                    )
                )
    return found


def _associated_with_outcome(d: Design, spec: OutcomeSpec, variable: str) -> bool:
    cols = d.variable_columns(variable)
    try:
        result = fit(d.X[cols], d.y, spec, effects=False)
    except Exception:  # a variable that cannot be fitted alone is no confounder we can judge
        return False
    return bool((result["p"] < 0.05).any())
