"""``[calendar] timezone``: checked when settings load; "now" and "today" are taken there."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from salesflow.errors import ConfigError
from salesflow.settings import CONFIG_FILE, Settings, load_settings


def _with_zone(workspace, zone: str):
    path = workspace.path / CONFIG_FILE
    text = path.read_text(encoding="utf-8").replace('timezone = "UTC"', f'timezone = "{zone}"')
    path.write_text(text, encoding="utf-8")
    return load_settings(workspace.path)


def test_a_known_zone_loads(workspace):
    assert _with_zone(workspace, "Europe/Berlin").timezone == "Europe/Berlin"


def test_an_unknown_zone_names_the_file_the_key_the_value_and_a_fix(workspace):
    with pytest.raises(ConfigError) as info:
        _with_zone(workspace, "Europe/Berln")
    message = str(info.value)
    assert "[calendar] timezone" in message and "'Europe/Berln'" in message
    assert str(workspace.path / CONFIG_FILE) in message
    assert 'Did you mean "Europe/Berlin"?' in message and '"America/New_York"' in message


def test_the_cli_reports_an_unknown_zone_in_one_line(cli, workspace):
    with pytest.raises(ConfigError):
        _with_zone(workspace, "Mars/Olympus")
    result = cli("status", "-w", workspace.path, ok=False)
    assert result.exit_code == 1
    assert "Mars/Olympus" in result.stderr and "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("zone", "instant", "wall_clock"),
    [
        # worked out by hand from the zone rules, not by the code under test
        ("Europe/Berlin", "2024-01-15T09:00:00+00:00", "2024-01-15T10:00:00"),  # CET, +1
        ("Europe/Berlin", "2024-07-15T09:00:00+00:00", "2024-07-15T11:00:00"),  # CEST, +2
        ("Europe/Berlin", "2024-03-30T23:30:00+00:00", "2024-03-31T00:30:00"),  # next day
        ("Europe/Berlin", "2024-03-31T00:59:00+00:00", "2024-03-31T01:59:00"),  # before the jump
        ("Europe/Berlin", "2024-03-31T01:00:00+00:00", "2024-03-31T03:00:00"),  # 02:00 -> 03:00
        ("Europe/Berlin", "2024-10-27T00:30:00+00:00", "2024-10-27T02:30:00"),  # 02:30 CEST
        ("Europe/Berlin", "2024-10-27T01:30:00+00:00", "2024-10-27T02:30:00"),  # 02:30 CET again
        ("America/New_York", "2024-01-15T03:00:00+00:00", "2024-01-14T22:00:00"),  # day before
        ("UTC", "2024-01-15T03:00:00+00:00", "2024-01-15T03:00:00"),
        ("Europe/Berlin", "2024-01-15T09:00:00", "2024-01-15T10:00:00"),  # zone-less: UTC
    ],
)
def test_now_and_today_are_wall_clock_in_the_workspace_zone(tmp_path, zone, instant, wall_clock):
    settings = Settings(workspace=tmp_path, timezone=zone)
    moment = datetime.fromisoformat(instant)
    assert settings.now(moment) == datetime.fromisoformat(wall_clock)
    assert settings.today(moment) == date.fromisoformat(wall_clock[:10])


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_today_is_the_date_in_the_zone_right_now(tmp_path, zone):
    """UTC+14 and UTC-11: at any moment one of the two dates differs from the UTC date."""
    before = datetime.now(ZoneInfo(zone)).date()
    today = Settings(workspace=tmp_path, timezone=zone).today()
    after = datetime.now(ZoneInfo(zone)).date()
    assert today in (before, after)


def test_the_two_far_zones_cannot_both_agree_with_utc():
    """Keeps the test above meaningful: a helper that ignored the zone fails one of its cases."""
    utc = datetime.now(UTC).date()
    dates = [datetime.now(ZoneInfo(z)).date() for z in ("Pacific/Kiritimati", "Pacific/Pago_Pago")]
    assert any(d != utc for d in dates)
