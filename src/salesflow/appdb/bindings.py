"""The shape of a measure binding, checked when it is stored.

A UDR's ``binding`` and an improvement's ``measure`` are JSON documents the verdict code reads
later; storing a malformed one would only surface as a confusing verdict weeks afterwards, so the
repositories normalise them here (every key present, known values only). Whether the metric id
exists in the catalog is checked by the layer that knows the catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from salesflow.appdb.errors import InvalidRecordError

__all__ = ["normalise_binding", "normalise_measure"]

BAD_IF = ("above", "below")
MODES = ("threshold", "signal")
PERIODS = ("week", "month", "quarter")


def normalise_binding(raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A UDR binding: metric, filters, params, period, season, bad_if, threshold, mode."""
    if raw is None:
        return None
    doc = _common(raw, "UDR binding")
    threshold = _number(raw.get("threshold"), "threshold")
    mode = raw.get("mode") or ("threshold" if threshold is not None else "signal")
    if mode not in MODES:
        raise InvalidRecordError(
            f"UDR binding mode is {mode!r}", hint="Use 'threshold' or 'signal'"
        )
    if mode == "threshold" and threshold is None:
        raise InvalidRecordError(
            "A UDR bound in 'threshold' mode needs a threshold",
            hint="Give --threshold X, or bind it to 'any signal in the bad direction'",
        )
    doc.update(threshold=threshold, mode=mode)
    return doc


def normalise_measure(raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """An improvement's measure: the binding keys plus baseline window, start date and target."""
    if raw is None:
        return None
    doc = _common(raw, "Improvement measure")
    doc["target"] = _number(raw.get("target"), "target")
    for key in ("baseline_start", "baseline_end", "start_date"):
        doc[key] = _date(raw.get(key), key)
    if (
        doc["baseline_start"]
        and doc["baseline_end"]
        and doc["baseline_start"] > doc["baseline_end"]
    ):
        raise InvalidRecordError(
            f"The baseline ends ({doc['baseline_end']}) before it starts ({doc['baseline_start']})",
            hint="Give the baseline as START:END with START first",
        )
    return doc


def _common(raw: Mapping[str, Any], what: str) -> dict[str, Any]:
    unknown = set(raw) - {
        "metric", "filters", "params", "period", "season", "bad_if", "threshold", "mode",
        "target", "baseline_start", "baseline_end", "start_date",
    }  # fmt: skip
    if unknown:
        raise InvalidRecordError(f"{what} has unknown keys: {', '.join(sorted(unknown))}")
    metric = raw.get("metric")
    if not isinstance(metric, str) or not metric:
        raise InvalidRecordError(f"{what} needs a metric id", hint="Give --metric METRIC")
    bad_if = raw.get("bad_if")
    if bad_if not in BAD_IF:
        raise InvalidRecordError(
            f"{what}: bad_if is {bad_if!r}",
            hint="Say whether higher or lower is bad: --bad-if above|below",
        )
    period = raw.get("period") or "month"
    if period not in PERIODS:
        raise InvalidRecordError(f"{what}: period is {period!r}", hint="Use week, month or quarter")
    return {
        "metric": metric,
        "filters": _str_map(raw.get("filters"), "filters", what),
        "params": _str_map(raw.get("params"), "params", what),
        "period": period,
        "season": _season(raw.get("season"), period, what),
        "bad_if": bad_if,
    }


def _season(value: Any, period: str, what: str) -> str | None:
    """The canonical season (``Q4``, ``Nov-Dec``) or None; bindings stored before it have none."""
    from salesflow.errors import ConfigError
    from salesflow.metrics.seasons import parse_season

    try:
        season = parse_season(value, option=f"{what}: season")
        if season is not None:
            season.check_period(period, option=f"{what}: season")
    except ConfigError as exc:
        raise InvalidRecordError(exc.what, hint=exc.hint) from None
    return season.label if season else None


def _str_map(value: Any, key: str, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidRecordError(f"{what}: {key} must be a mapping of name to value")
    return {str(k): str(v) for k, v in sorted(value.items())}


def _number(value: Any, key: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidRecordError(f"{key} is {value!r}, not a number") from None


def _date(value: Any, key: str) -> str | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise InvalidRecordError(f"{key} is {value!r}", hint="Write dates as YYYY-MM-DD") from None
