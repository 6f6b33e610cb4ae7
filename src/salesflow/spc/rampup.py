"""Ramp-up: the first periods of a log, while a CRM was being adopted, hold few records.

A series that starts with three months of 5 deals before settling at 60 a month does not
describe the process of those months, only how many of its deals were typed in. Limits computed
over them are too wide (or too low, for counts), so they are left out of default baselines.

The rule: the leading periods, in a row from the first one, whose volume (records behind the
value) is below :data:`FRACTION` of the median volume of the periods after them. At least
:data:`MIN_LATER` later periods must remain, so a short log is never cut, and the ramp-up is at
most a third of the log.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["FRACTION", "MIN_LATER", "ramp_up"]

FRACTION = 0.25  # "far below": under a quarter of the later median volume
MIN_LATER = 6  # periods that must follow a ramp-up for its median to mean anything


def ramp_up(volumes: Sequence[float | None] | np.ndarray) -> int:
    """How many leading periods are ramp-up (0 when none): volume < FRACTION × later median."""
    n = np.array([np.nan if v is None else v for v in volumes], dtype=float)
    limit = min(len(n) - MIN_LATER, len(n) // 3)
    k = 0
    while k < limit:
        later = n[k + 1 :]
        later = later[~np.isnan(later)]
        if later.size < MIN_LATER:
            break
        volume = 0.0 if np.isnan(n[k]) else n[k]
        if volume >= FRACTION * float(np.median(later)):
            break
        k += 1
    return k
