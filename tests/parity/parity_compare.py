"""``assert_same(expected, actual)``: two analysis documents agree, as the parity suite needs.

Counts, words, dates and verdicts must be equal; floats within 1e-9 relative (1e-9 absolute near
zero), since backends add up in different orders. The first difference is reported with its path
(``$.stages[2].wip``) and both values.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

REL = 1e-9
ABS = 1e-9
#: Keys that describe the run, not the data: when a record was written, where the workspace is.
RUN_KEYS = frozenset(
    {"workspace", "created_at", "updated_at", "deleted_at", "at", "prepared", "seconds"}
)


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # NumPy and pandas scalars
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def differences(
    expected: Any, actual: Any, path: str = "$", *, ignore: frozenset[str] = RUN_KEYS
) -> list[str]:
    """Every place where ``actual`` differs from ``expected`` (empty when they agree)."""
    expected, actual = _plain(expected), _plain(actual)
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        keys_e = {k for k in expected if k not in ignore}
        keys_a = {k for k in actual if k not in ignore}
        if keys_e != keys_a:
            return [f"{path}: keys {sorted(map(str, keys_e ^ keys_a))} only on one side"]
        out: list[str] = []
        for k in sorted(keys_e, key=str):
            out += differences(expected[k], actual[k], f"{path}.{k}", ignore=ignore)
        return out
    if _sequence(expected) and _sequence(actual):
        if len(expected) != len(actual):
            return [f"{path}: {len(expected)} items, then {len(actual)}"]
        out = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out += differences(e, a, f"{path}[{i}]", ignore=ignore)
        return out
    if _number(expected) and _number(actual):
        if isinstance(expected, int) and isinstance(actual, int):
            same = expected == actual
        elif math.isnan(expected) or math.isnan(actual):
            same = math.isnan(expected) and math.isnan(actual)
        else:
            same = math.isclose(expected, actual, rel_tol=REL, abs_tol=ABS)
        return [] if same else [f"{path}: {expected!r} then {actual!r}"]
    if _missing(expected) and _missing(actual):
        return []
    if isinstance(expected, datetime | date | time | timedelta | str | bool | type(None)):
        return (
            []
            if type(expected) is type(actual) and expected == actual
            else [f"{path}: {expected!r} then {actual!r}"]
        )
    return [] if expected == actual else [f"{path}: {expected!r} then {actual!r}"]


def _sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _missing(value: Any) -> bool:
    """None, NaN and pandas' NaT/NA: a value neither backend has."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return False


def assert_same(expected: Any, actual: Any, *, ignore: frozenset[str] = RUN_KEYS) -> None:
    found = differences(expected, actual, ignore=ignore)
    assert not found, f"{len(found)} differences from DuckDB, first ones:\n" + "\n".join(found[:12])
