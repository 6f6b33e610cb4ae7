"""Any catalog metric with one value per deal as a driver outcome (``--outcome rework_rate``).

The per-deal outcome is *the metric computed on that deal's unit rows alone*: its own aggregation
(``ratio_agg``, ``median_agg``…) grouped by ``opportunity_id``. So ``rework_rate`` is 1 for a
closed deal that moved backwards and 0 otherwise, ``stage_time --filter stage=Proposal`` is the
days a deal spent in Proposal, and a custom ``mean`` metric is that deal's mean.

The model follows the metric's kind: a proportion whose per-deal values are all 0/1 → logistic
(effects in percentage points); a duration → OLS on the log (effects in % of the median); any
other value (amounts, counts, rates, shares that are not 0/1) → OLS on the value with HC3 robust
errors (effects in the metric's own unit, a difference in means). Metrics that count rows,
look at a snapshot, or have no deal behind their rows (``forecast_error``, ``request_volume``,
``wip``…) get an error listing the outcomes that work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from salesflow.analysis.model import OUTCOMES, OutcomeSpec
from salesflow.analysis.variables import stage_key
from salesflow.errors import ConfigError, DataError

if TYPE_CHECKING:
    import pandas as pd
    from ibis.backends import BaseBackend

    from salesflow.metrics.base import Metric
    from salesflow.settings import Settings

__all__ = [
    "METRIC_COLUMN",
    "MetricOutcome",
    "attach",
    "metric_outcome",
    "prepare_outcome",
    "usable_outcomes",
]

METRIC_COLUMN = "metric_outcome"
# Which way is bad news for the built-in metrics; custom durations and counts: a rise.
WORSE = {
    "win_rate": "decreases",
    "cohort_conversion": "decreases",
    "stage_conversion": "decreases",
}
PER_DEAL_AGGREGATES = ("ratio_agg", "rows_ratio_agg", "sum_agg", "mean_agg", "median_agg")


@dataclass(frozen=True)
class MetricOutcome:
    """A metric outcome: its spec and the per-deal values (``opportunity_id``, value)."""

    spec: OutcomeSpec
    values: pd.DataFrame
    params: dict[str, Any]


def _why_not(metric: Metric) -> str | None:
    """Why a metric has no single value per deal, or None when it has one."""
    if metric.table == "forecasts":
        return "its rows are forecasts per owner, not deals"
    if metric.snapshot:
        return "it counts deals open at a moment, not a value per deal"
    name = getattr(metric.aggregate, "__name__", "")
    if name == "count_agg":
        return "it counts rows per period; a single deal has no value of it"
    if name not in PER_DEAL_AGGREGATES:
        return "it combines several measures of the whole pipeline, not a value per deal"
    return None


def is_builtin(outcome: str, params: Mapping[str, Any] | None) -> bool:
    """A built-in outcome — unless it gets parameters and a metric of the same name takes them
    (``cycle_time`` with ``clock=business`` is the cycle_time metric on the business clock)."""
    from salesflow.metrics.registry import builtins

    if outcome not in OUTCOMES:
        return False
    if not params:
        return True
    if outcome in builtins():
        return False
    raise ConfigError(
        f"Outcome {outcome!r} takes no --param",
        hint="Parameters are for metric outcomes such as stage_conversion",
    )


def usable_outcomes(settings: Settings) -> list[str]:
    """The outcomes ``drivers`` accepts: the three built-ins and the per-deal metrics."""
    from salesflow.metrics.registry import catalog

    names = list(OUTCOMES)
    names += [m.id for m in catalog(settings) if m.id not in names and _why_not(m) is None]
    return names


def _refuse(metric_id: str, why: str, settings: Settings) -> DataError:
    return DataError(
        f"Metric {metric_id!r} cannot be a driver outcome: {why}",
        hint=f"Use one of: {', '.join(usable_outcomes(settings))}",
    )


def metric_outcome(
    con: BaseBackend,
    settings: Settings,
    metric_id: str,
    *,
    params: Mapping[str, Any] | None = None,
    filters: Mapping[str, Any] | None = None,
) -> MetricOutcome:
    """The metric's value per deal, and the model that fits it."""
    from salesflow.metrics.compute import unit_rows
    from salesflow.metrics.registry import get

    try:
        metric = get(metric_id, settings)
    except Exception as exc:  # NotFoundError: say which outcomes exist instead of only metrics
        raise DataError(
            f"Unknown outcome {metric_id!r}",
            hint=f"Choose one of: {', '.join(usable_outcomes(settings))}",
        ) from exc
    why = _why_not(metric)
    if why:
        raise _refuse(metric_id, why, settings)
    if metric.needs_filter and metric.needs_filter not in (filters or {}):
        raise ConfigError(
            f"Outcome {metric_id!r} needs a {metric.needs_filter}",
            hint=f"Pick one with --filter {metric.needs_filter}=NAME",
        )
    rows, _ = unit_rows(metric, con, settings, period=None, filters=filters, params=params)
    if "opportunity_id" not in rows.columns:
        raise _refuse(metric_id, "its rows do not belong to deals", settings)
    rows = rows.filter(rows.opportunity_id.notnull())
    agg = metric.aggregate(rows)
    per = rows.group_by("opportunity_id").aggregate(value=agg["value"])
    values = per.execute().rename(columns={"value": METRIC_COLUMN})
    values[METRIC_COLUMN] = values[METRIC_COLUMN].astype(float)
    values = values[values[METRIC_COLUMN].notna()]
    _check_varies(metric_id, values[METRIC_COLUMN])
    public = metric.public_params(params, settings)
    spec = _spec(metric, values[METRIC_COLUMN], public, filters or {}, settings)
    qualifiers = [*_words(params or {}), *_words(filters or {})]
    if qualifiers:
        spec = replace(spec, label=f"{spec.label} ({', '.join(qualifiers)})")
    return MetricOutcome(spec, values, public)


def _check_varies(metric_id: str, values: pd.Series) -> None:
    """A model needs deals that differ in the outcome."""
    if values.empty:
        raise DataError(
            f"No deal has a value of {metric_id}",
            hint="Check the filters and parameters, or import the table the metric reads",
        )
    if values.nunique() < 2:
        raise DataError(
            f"Every deal has the same {metric_id} ({values.iloc[0]:g}): nothing to explain",
            hint="Pick another outcome, or check the data behind the metric",
        )


def _words(pairs: Mapping[str, Any]) -> list[str]:
    out = []
    for key, value in pairs.items():
        many = isinstance(value, list | tuple)
        out.append(f"{key} = {', '.join(map(str, value)) if many else value}")
    return out


def _spec(
    metric: Metric,
    values: pd.Series,
    params: Mapping[str, Any],
    filters: Mapping[str, Any],
    settings: Settings,
) -> OutcomeSpec:
    known = values.dropna()
    binary = metric.kind == "proportion" and bool(known.isin([0.0, 1.0]).all())
    worse = WORSE.get(metric.id, "increases")
    common = {
        "name": metric.id,
        "column": METRIC_COLUMN,
        "population": f"deals measured by {metric.id}",
        "worse": worse,
        "label": metric.title.lower(),
        "metric": metric.id,
        "leaks": tuple(leaky_variables(metric, params, filters, settings).items()),
    }
    if binary:
        return OutcomeSpec(kind="binary", unit="points", **common)
    if metric.kind == "duration":
        return OutcomeSpec(kind="duration", unit="percent", **common)
    if metric.kind == "proportion":
        return OutcomeSpec(kind="linear", unit="points", scale=100.0, **common)
    return OutcomeSpec(kind="linear", unit=metric.unit or "units", **common)


def leaky_variables(
    metric: Metric, params: Mapping[str, Any], filters: Mapping[str, Any], settings: Settings
) -> dict[str, str]:
    """Variables that are part of the outcome or measured after its clock starts, with why."""
    stage = _anchor_stage(metric, params, filters)
    found: dict[str, str] = {}
    if stage in settings.stages.order:
        later = settings.stages.order[settings.stages.order.index(stage) :]
        for s in later:
            why = f"measured in {s}, at or after {stage} where {metric.id} starts"
            found[f"days_in_{stage_key(s)}"] = why
            found[f"activities_in_{stage_key(s)}"] = why
    own = {
        "rework_rate": ("backward_moves",),
        "requests_per_order": ("requests_count",),
        "cohort_conversion": ("cycle_days", "days_in_last_stage"),
    }.get(metric.id, ())
    for name in own:
        found[name] = f"it measures the same thing as {metric.id}"
    for column in _custom_columns(metric, settings):
        found[column] = f"{metric.id} is computed from it"
    return found


def _anchor_stage(metric: Metric, params: Mapping[str, Any], filters: Mapping[str, Any]) -> Any:
    """The stage where the outcome's clock starts, for stage-based metrics."""
    if metric.id == "stage_conversion":
        return params.get("from")
    if metric.id == "late_stage_losses":
        return params.get("stage")
    if metric.id == "stage_time":
        wanted = filters.get("stage")
        return wanted[0] if isinstance(wanted, list | tuple) and len(wanted) == 1 else wanted
    return None


def _custom_columns(metric: Metric, settings: Settings) -> list[str]:
    """The columns a custom metric on opportunities measures (its column and numerator)."""
    if metric.family != "custom" or metric.table != "opportunities":
        return []
    spec = settings.section("metrics").get(metric.id, {})
    columns = [spec.get("column"), *(spec.get("numerator", {}) or {})]
    return [c for c in columns if isinstance(c, str)]


def prepare_outcome(
    workspace: Any,
    frame: pd.DataFrame,
    outcome: str,
    *,
    params: Mapping[str, Any] | None = None,
    filters: Mapping[str, Any] | None = None,
    bad_if: str | None = None,
) -> tuple[pd.DataFrame, OutcomeSpec]:
    """The feature table with the outcome's column, and its spec (built-ins pass through).

    ``bad_if`` ("above" or "below", from a UDR bound to the metric) says which way of a metric
    outcome is bad news; without it, the built-in metrics' known direction or a rise.
    """
    if is_builtin(outcome, params):
        return frame, OUTCOMES[outcome]
    found = metric_outcome(
        workspace.data, workspace.settings, outcome, params=params, filters=filters
    )
    return attach(frame, found, bad_if=bad_if)


def attach(
    frame: pd.DataFrame, found: MetricOutcome, *, bad_if: str | None = None
) -> tuple[pd.DataFrame, OutcomeSpec]:
    """The deals that have a value of the metric, with it as the outcome column."""
    spec = found.spec
    if bad_if in ("above", "below"):
        spec = replace(spec, worse="increases" if bad_if == "above" else "decreases")
    merged = frame.drop(columns=[METRIC_COLUMN], errors="ignore").merge(
        found.values, on="opportunity_id", how="inner"
    )
    return merged, spec
