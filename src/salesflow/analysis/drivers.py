"""Driver analysis: which operating variables go with winning, speed and stalls — and how much.

The outcome is ``won``, ``cycle_time``, ``stalled`` or any catalog metric with a value per deal
(:mod:`salesflow.analysis.outcomes`). ``drivers(workspace, outcome=…)`` builds the feature table where the data lives, fits one model
(see :mod:`salesflow.analysis.model`), reports each variable's effect in plain units with a 95 %
confidence interval and a Benjamini–Hochberg adjusted p-value, and warns about the usual traps
(:mod:`salesflow.analysis.diagnostics`). The result is an association in past data, never proof.

For checking a why-link, :func:`variable_effect` gives one variable's effect and
:func:`link_verdict` turns it into *supports*, *contradicts* or *inconclusive* with the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from salesflow.analysis import diagnostics, estimable, wording
from salesflow.analysis.effects import ALPHA, DriverResult, Effect, LinkEvidence
from salesflow.analysis.features import Catalog, feature_frame
from salesflow.analysis.model import OutcomeSpec, design, fit, outcome_spec
from salesflow.analysis.outcomes import attach, is_builtin, metric_outcome, prepare_outcome
from salesflow.analysis.variables import Variable
from salesflow.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from salesflow.workspace import Workspace

__all__ = [
    "ALPHA",
    "DriverResult",
    "Effect",
    "LinkEvidence",
    "analyse",
    "default_variables",
    "drivers",
    "link_verdict",
    "variable_effect",
]

MIN_COVERAGE = 0.8
MAX_DEFAULT_LEVELS = 20
DEFAULT_BUILTINS = (
    "first_response_over_48h",
    "amount_band",
    "source",
    "segment",
    "product",
    "team",
)
MODELS = {
    "binary": "logistic regression (statsmodels Logit); effects are average marginal effects "
    "in percentage points",
    "duration": "linear regression on log days (statsmodels OLS, HC3 robust errors); effects "
    "are % change in the median duration",
    "linear": "linear regression on the value per deal (statsmodels OLS, HC3 robust errors); "
    "effects are differences in the mean, in the metric's unit",
}


def drivers(
    workspace: Workspace,
    *,
    outcome: str,
    variables: Sequence[str] | None = None,
    filters: Mapping[str, str] | None = None,
    stall_days: int = 30,
    params: Mapping[str, str] | None = None,
) -> DriverResult:
    """Fit the driver model for ``outcome`` on the workspace's deals.

    For a metric outcome the filters apply to the metric's rows (a stage visit's ``stage``, or
    the deal's columns), and ``params`` are the metric's ``--param`` values.
    """
    con, settings = workspace.data, workspace.settings
    if is_builtin(outcome, params):
        frame, cat = feature_frame(con, settings, filters=filters, stall_days=stall_days)
        frame, spec = prepare_outcome(workspace, frame, outcome, params=params)
        found = None
    else:  # the metric first: a wrong outcome fails before the features are built
        found = metric_outcome(con, settings, outcome, params=params, filters=filters)
        frame, cat = feature_frame(con, settings, stall_days=stall_days)
        frame, spec = attach(frame, found)
    chosen = [cat.get(v) for v in variables] if variables else default_variables(frame, cat, spec)
    result = analyse(frame, spec, chosen)
    if found is not None:
        result.params = found.params
    return result


def default_variables(
    frame: pd.DataFrame, cat: Catalog, spec: OutcomeSpec | None = None
) -> list[Variable]:
    """Variables known before the outcome, well covered, with a handful of levels."""
    names = [*DEFAULT_BUILTINS, *cat.imported]
    leaky = dict(spec.leaks) if spec is not None else {}
    chosen = []
    for name in names:
        v = cat.variables.get(name)
        if v is None or v.when == "after" or name in leaky or name not in frame:
            continue
        if usable(v, frame[name]):
            chosen.append(v)
    return chosen


def usable(v: Variable, values: pd.Series) -> bool:
    """Worth a default place in a model: well covered, varying, with a handful of levels."""
    if values.notna().mean() < MIN_COVERAGE or values.nunique(dropna=True) < 2:
        return False
    return not (v.kind == "categorical" and values.nunique() > MAX_DEFAULT_LEVELS)


def analyse(frame: pd.DataFrame, spec: OutcomeSpec, variables: list[Variable]) -> DriverResult:
    """The whole analysis on an in-memory feature table (one row per deal)."""
    from statsmodels.stats.multitest import multipletests

    if not variables:
        raise DataError(
            "No operating variables to analyse",
            hint="Name some with --variables (see `salesflow variables`)",
        )
    d = design(frame, spec, variables)
    if len(d.y) == 0:
        raise DataError(
            f"No {spec.population} to analyse", hint="Check the filters, or import closed deals"
        )
    estimable.check(d, spec)
    fitted = fit(d.X, d.y, spec)
    p_adj = multipletests(fitted["p"].to_numpy(), method="fdr_bh")[1] if len(fitted) else []
    by_name = {v.name: v for v in variables}
    effects = [
        _effect(spec, by_name[d.columns[col][0]], d, col, row, float(q))
        for (col, row), q in zip(fitted.iterrows(), p_adj, strict=True)
    ]
    effects.sort(key=lambda e: (not e.significant, -abs(e.effect)))
    warnings = [
        *d.notes,
        *diagnostics.too_few_cases(d, spec),
        *diagnostics.collinearity(d),
        *diagnostics.leakage(variables, spec),
        *diagnostics.confounders(d, spec, [v.name for v in variables]),
    ]
    result = DriverResult(
        spec.name, len(d.y), MODELS[spec.kind], [v.name for v in variables], effects, warnings
    )
    result.summary = wording.summary(result, spec)
    result.experiment = wording.experiment(result, spec)
    return result


def _effect(spec: OutcomeSpec, v: Variable, d: Any, column: str, row: Any, p_adj: float) -> Effect:
    level = d.columns[column][1]
    if level is not None:
        n, per = int(d.X[column].sum()), f"vs {d.references[v.name]}"
    else:
        n, per = len(d.y), d.scales[v.name][1]
        if v.kind == "binary":
            n = int(d.X[column].sum())
    effect = Effect(
        variable=v.name,
        level=level,
        reference=d.references.get(v.name) if level else None,
        effect=float(row["effect"]),
        ci_low=float(row["ci_low"]),
        ci_high=float(row["ci_high"]),
        p=float(row["p"]),
        p_adj=p_adj,
        n=n,
        unit=spec.unit,
        per=per,
        outcome=spec.name,
        worse=spec.worse,
    )
    return _with_phrase(effect, v, spec)


def _with_phrase(effect: Effect, v: Variable, spec: OutcomeSpec) -> Effect:
    return replace(effect, phrase=wording.phrase(effect, v, spec))


def variable_effect(
    frame: pd.DataFrame,
    cat: Catalog,
    *,
    outcome: str | OutcomeSpec,
    variable: str,
    level: str | None = None,
    adjust_for: Sequence[str] = (),
) -> tuple[Effect, list[dict]]:
    """One variable's effect on ``outcome``, optionally adjusted for others, with its warnings.

    For a categorical variable name the ``level`` (compared with the most common level); without
    one, the level with the smallest adjusted p-value is returned. A metric outcome is passed as
    its spec, with ``frame`` from :func:`salesflow.analysis.outcomes.prepare_outcome`.
    """
    spec = outcome_spec(outcome)
    chosen = [cat.get(variable), *(cat.get(a) for a in adjust_for if a != variable)]
    result = analyse(frame, spec, chosen)
    mine = [e for e in result.effects if e.variable == variable]
    if level is not None:
        mine = [e for e in mine if e.level == level]
        if not mine:
            raise DataError(
                f"{variable} has no level {level!r} to compare",
                hint="Use a level other than the reference, with at least 10 deals",
            )
    best = min(mine, key=lambda e: e.p_adj)
    return best, [w for w in result.warnings if not w["variables"] or variable in w["variables"]]


def link_verdict(
    effect: Effect,
    *,
    claims: Literal["worsens", "improves"] = "worsens",
    warnings: Sequence[dict] = (),
    alpha: float = ALPHA,
) -> LinkEvidence:
    """Does the data support "more of this variable ``claims`` the outcome"?

    Supports when the 95 % interval excludes no effect and points the claimed way; contradicts
    when it excludes no effect and points the other way; inconclusive otherwise, or when the
    variable leaks the outcome.
    """
    worse = effect.direction == (effect.worse or outcome_spec(effect.outcome).worse)
    said = wording.effect_words(effect)
    if any(w["kind"] == "leakage" for w in warnings):
        return LinkEvidence(
            "inconclusive",
            f"{effect.variable} is only known after the outcome, "
            f"so it cannot test the link ({said})",
            effect,
            list(warnings),
        )
    if effect.p_adj >= alpha:
        return LinkEvidence(
            "inconclusive",
            f"No clear association: {said}; adjusted p = {effect.p_adj:.2f}",
            effect,
            list(warnings),
        )
    agrees = worse if claims == "worsens" else not worse
    verdict = "supports" if agrees else "contradicts"
    return LinkEvidence(
        verdict,
        f"{said}; adjusted p = {effect.p_adj:.3g}. An association in past deals, not proof",
        effect,
        list(warnings),
    )
