"""Metrics take "today" in the workspace's ``[calendar] timezone``, not on the server's clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from salesflow.metrics.query import Query


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_an_empty_workspace_measures_up_to_today_in_its_zone(tmp_path, zone):
    """UTC+14 and UTC-11: at any moment one of them is on another date than UTC (and than a
    server on UTC), so reading the server's date fails one of the two cases."""
    from salesflow.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws", timezone=zone)
    try:
        before = datetime.now(ZoneInfo(zone)).date()
        first, last = Query(ws.data, ws.settings).data_range()
        after = datetime.now(ZoneInfo(zone)).date()
    finally:
        ws.close()
    assert first == last and first in (before, after)
