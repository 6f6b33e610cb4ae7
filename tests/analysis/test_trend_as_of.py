"""Request trends are fitted on complete months only (issue 12): the month still running at as-of
is listed, marked and named, never read as a fall."""

from __future__ import annotations

import pandas as pd
import pytest

from salesflow.analysis.request_log import monthly_trend


def test_the_running_month_is_shown_but_not_fitted():
    # about 100 requests a month for a year (96 in even months), then 3 in the running month
    stamps = [pd.Timestamp(2025, m, d, h) for m in range(1, 13) for d in range(1, 26 - m % 2)
              for h in (9, 11, 14, 16)]  # fmt: skip
    stamps += [pd.Timestamp(2026, 1, d) for d in (1, 2, 3)]
    stamps = pd.Series(stamps)
    span = (pd.Period("2025-01", "M"), pd.Period("2026-01", "M"))
    naive = monthly_trend(stamps, span)
    assert naive["shrinking"] is True  # judged with the partial month, it reads "falling"
    honest = monthly_trend(stamps, span, complete_until=pd.Period("2026-01", "M"))
    assert honest["growth_per_month"] == pytest.approx(0.0, abs=1.0)
    assert not honest["shrinking"] and not honest["growing"]
    assert honest["months"][-1] == {"month": "2026-01", "count": 3, "status": "running"}
    assert honest["months"][0]["status"] == "complete"
    assert honest["not_judged"] == "January 2026 is still running and is not judged."
