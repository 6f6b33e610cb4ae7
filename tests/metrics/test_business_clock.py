"""Durations on the business clock (``--param clock=business``) equal an independent computation
on hand-made calendars with holidays and daylight-saving switches, on DuckDB and PostgreSQL.

The oracle walks each duration in real (UTC) quarter hours, converts every quarter hour to the
workspace's wall clock with ``zoneinfo`` and counts the ones that fall in business hours on a
workday that is not a holiday — nothing shared with the engine's day table. Whole-day calendars
are checked against ``numpy.busday_count`` as well. The German holidays are written out by hand
(Good Friday 3 April and Easter Monday 6 April 2026), not taken from the ``holidays`` library.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import ibis
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from metrics_data import Data, load

from salesflow import metrics
from salesflow.errors import ConfigError
from salesflow.metrics.clock import elapsed
from salesflow.metrics.query import Query
from salesflow.settings import settings_from_mapping

ZONE = "Europe/Berlin"  # clocks go forward 29 March 2026 02:00, back 25 October 2026 03:00
GERMAN_2026 = {date(2026, 4, 3), date(2026, 4, 6)}  # in the windows the data spans
QUARTER = timedelta(minutes=15)
WINDOWS = (datetime(2026, 3, 16), datetime(2026, 10, 12))  # each three weeks of new deals

OFFICE = {  # Monday to Friday, 9 to 5, German holidays and a company day off
    "timezone": ZONE,
    "business_hours": "09:00-17:00",
    "holidays": "DE",
    "extra_holidays": ["2026-04-01"],
}
NIGHT_DESK = {  # every night 1 to 5 a.m.: both DST switches happen inside business hours
    "timezone": ZONE,
    "workdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sunday"],
    "business_hours": "01:00-05:00",
    "extra_holidays": ["2026-03-20"],
}
WHOLE_DAYS = {"timezone": ZONE, "business_hours": "00:00-24:00", "holidays": "DE"}


def _moment(rng: random.Random, start: datetime, days: int, *, midnight: bool) -> datetime:
    """A quarter-hour wall-clock moment that exists once (not in a DST switch hour)."""
    while True:
        at = start + timedelta(days=rng.randrange(days))
        if not midnight:
            at += QUARTER * rng.randrange(96)
        if not (at.month in (3, 10) and at.day in (25, 29) and 2 <= at.hour < 3):
            return at


def hand_made(*, midnight: bool = False, deals: int = 60) -> Data:
    """Deals, stage visits and requests across both DST switches and the Easter holidays."""
    rng = random.Random(19)
    data = Data([], [], [], [], [])
    for i in range(deals):
        oid = f"D{i:02d}"
        created = _moment(rng, WINDOWS[i % 2], 21, midnight=midnight)
        middle = _moment(rng, created, 8, midnight=midnight)
        closed = _moment(rng, middle, 12, midnight=midnight)
        outcome = rng.choice(("won", "lost"))
        data.opportunities.append(
            {"opportunity_id": oid, "account": f"A{i}", "owner": rng.choice(("Ann", "Bob")),
             "team": "East", "product": "Core", "segment": "SMB", "source": "inbound",
             "stage": outcome.title(), "created_at": created, "closed_at": closed,
             "outcome": outcome, "amount": 1000.0 * (1 + i % 5)}
        )  # fmt: skip
        for stage, at in (("Lead", created), ("Proposal", middle), (outcome.title(), closed)):
            data.stage_events.append(
                {"opportunity_id": oid, "stage": stage, "entered_at": at, "owner": "Ann",
                 "amount": 1000.0, "forecast_category": None}
            )  # fmt: skip
        data.requests.append(
            {"request_id": f"R{i:02d}", "received_at": created, "channel": "email",
             "requester_type": "customer", "account": f"A{i}", "opportunity_id": oid,
             "category": "pricing", "description": "quote please", "handled_by": "Dee",
             "first_response_at": middle, "resolved_at": None, "outcome": None}
        )  # fmt: skip
    data.activities.append(
        {"activity_id": "X1", "opportunity_id": "D00", "account": "A0", "owner": "Ann",
         "type": "call", "occurred_at": WINDOWS[0]}
    )  # fmt: skip
    data.forecasts.append(
        {"period_start": date(2026, 3, 1), "owner": "Ann", "team": None, "category": "commit",
         "submitted_at": WINDOWS[0], "amount": 1.0}
    )  # fmt: skip
    return data


def business_seconds(start: datetime, end: datetime, cal: dict, off: set[date]) -> float:
    """Real seconds between two wall-clock moments that fall in business time, quarter hour by
    quarter hour (all moments, opening hours and DST switches lie on quarter hours)."""
    zone = ZoneInfo(cal["timezone"])
    names = cal.get("workdays", ["mon", "tue", "wed", "thu", "fri"])
    workdays = {["mon", "tue", "wed", "thu", "fri", "sat", "sun"].index(n[:3]) for n in names}
    opens, closes = (int(h[:2]) * 60 + int(h[3:]) for h in cal["business_hours"].split("-"))
    at = start.replace(tzinfo=zone).astimezone(UTC)
    stop = end.replace(tzinfo=zone).astimezone(UTC)
    total = 0.0
    while at < stop:
        wall = at.astimezone(zone)
        minute = wall.hour * 60 + wall.minute
        if wall.weekday() in workdays and wall.date() not in off and opens <= minute < closes:
            total += QUARTER.total_seconds()
        at += QUARTER
    return total


def holidays_of(cal: dict) -> set[date]:
    extra = {date.fromisoformat(d) for d in cal.get("extra_holidays", [])}
    return extra | (GERMAN_2026 if cal.get("holidays") == "DE" else set())


def day_seconds(cal: dict) -> float:
    opens, closes = (int(h[:2]) * 60 + int(h[3:]) for h in cal["business_hours"].split("-"))
    return (closes - opens) * 60.0


@pytest.fixture(scope="module")
def calendar_data() -> Data:
    return hand_made()


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])  # fmt: skip
def engine(request, calendar_data, tmp_path_factory) -> Iterator:
    """A connection to DuckDB or a PostgreSQL database of its own holding the hand-made data."""
    from salesflow.source import connect

    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('clock') / 'data.duckdb'}"
    else:
        url = request.getfixturevalue("pg_new_database")()
    con = connect(url)
    load(con, calendar_data)
    yield con
    con.disconnect()


def settings_for(cal: dict, tmp_path: Path):
    return settings_from_mapping(tmp_path, {"calendar": cal}, {})


def per_key(con, settings, metric_id: str, by: str, **extra) -> dict:
    result = metrics.breakdown(con, settings, metric_id, by=by, params={"clock": "business"}, **extra)  # fmt: skip
    return {g.key: g.value for g in result.groups}


@pytest.mark.parametrize("cal", [OFFICE, NIGHT_DESK], ids=["office", "night_desk"])
def test_business_cycle_and_stage_times_equal_the_quarter_hour_walk(
    engine, calendar_data, cal, tmp_path
):
    settings = settings_for(cal, tmp_path)
    off, day = holidays_of(cal), day_seconds(cal)
    want = {
        o["opportunity_id"]: business_seconds(o["created_at"], o["closed_at"], cal, off) / day
        for o in calendar_data.opportunities
    }
    got = per_key(engine, settings, "cycle_time", "opportunity_id")
    assert got == pytest.approx(want, abs=1e-9)
    assert len(set(want.values())) > 30  # durations differ: a real test, not one constant

    proposal = {
        e["opportunity_id"]: e["entered_at"] for e in calendar_data.stage_events
        if e["stage"] == "Proposal"
    }  # fmt: skip
    stage = {
        o["opportunity_id"]: business_seconds(proposal[o["opportunity_id"]], o["closed_at"], cal, off) / day
        for o in calendar_data.opportunities
    }  # fmt: skip
    got_stage = per_key(
        engine, settings, "stage_time", "opportunity_id", filters={"stage": "Proposal"}
    )
    assert got_stage == pytest.approx(stage, abs=1e-9)


@pytest.mark.parametrize("cal", [OFFICE, NIGHT_DESK], ids=["office", "night_desk"])
def test_the_process_map_on_the_business_clock_equals_the_quarter_hour_walk(
    engine, calendar_data, cal, tmp_path
):
    """``process_map(clock="business")``: every transition's, stage's and deal's time, and the
    value-stream map's time in stage, are the walk's business hours (medians and means of them)."""
    from salesflow.metrics.process_map import process_map

    settings = settings_for(cal, tmp_path)
    off = holidays_of(cal)
    as_of = datetime(2026, 11, 30)
    doc = process_map(engine, settings, clock="business", as_of=as_of)
    assert (doc["clock"], doc["day_hours"]) == ("business", day_seconds(cal) / 3600)

    def hours(a: datetime, b: datetime) -> float:
        return business_seconds(a, b, cal, off) / 3600

    visits: dict[str, list[tuple[str, datetime]]] = {}
    for e in calendar_data.stage_events:  # written in order: Lead, Proposal, the end stage
        visits.setdefault(e["opportunity_id"], []).append((e["stage"], e["entered_at"]))
    pairs: dict[tuple[str, str], list[float]] = {}
    left: dict[str, list[float]] = {}  # stays that left in the value-stream map's window
    start, end = (datetime.fromisoformat(doc["window"][k]) for k in ("start", "end"))
    for seq in visits.values():
        for (a, at), (b, bt) in pairwise(seq):
            pairs.setdefault((a, b), []).append(hours(at, bt))
            if start <= bt < end:
                left.setdefault(a, []).append(hours(at, bt))
    edges = {(e["from"], e["to"]): e for e in doc["edges"]}
    assert set(edges) == set(pairs)
    for key, spent in pairs.items():
        assert edges[key]["median_hours"] == pytest.approx(statistics.median(spent), abs=1e-6)
        assert edges[key]["mean_hours"] == pytest.approx(statistics.mean(spent), abs=1e-6)
    stages = {s["stage"]: s for s in doc["stages"]}
    proposal = [h for (a, _b), hs in pairs.items() if a == "Proposal" for h in hs]
    assert stages["Proposal"]["median_hours"] == pytest.approx(statistics.median(proposal))
    deals = [hours(seq[0][1], seq[-1][1]) for seq in visits.values()]
    assert doc["cases"]["median_hours"] == pytest.approx(statistics.median(deals), abs=1e-6)
    assert doc["cases"]["mean_hours"] == pytest.approx(statistics.mean(deals), abs=1e-6)
    assert left  # the window holds stays: the map's times are checked, not skipped
    for stage, spent in left.items():
        assert stages[stage]["time_median"] == pytest.approx(statistics.median(spent), abs=1e-6)
        assert stages[stage]["time_mean"] == pytest.approx(statistics.mean(spent), abs=1e-6)
    calendar = process_map(engine, settings, as_of=as_of)
    assert calendar["clock"] == "calendar" and calendar["day_hours"] == 24
    assert calendar["cases"]["median_hours"] > doc["cases"]["median_hours"]


def test_dst_switch_days_count_their_real_length(engine, tmp_path):
    """On the night desk (1–5 a.m.), the spring switch night has 3 business hours, the autumn
    one 5: a request received before and answered after each switch says so."""
    settings = settings_for(NIGHT_DESK, tmp_path)
    spring = datetime(2026, 3, 29, 0, 30), datetime(2026, 3, 29, 6)
    autumn = datetime(2026, 10, 25, 0, 30), datetime(2026, 10, 25, 6)
    rows = ibis.memtable(
        {"received_at": [spring[0], autumn[0]], "first_response_at": [spring[1], autumn[1]]}
    )
    q = Query(engine, settings)
    hours = elapsed(q, rows, "received_at", "first_response_at", clock="business")
    assert sorted(hours.execute()["_secs"] / 3600) == [3.0, 5.0]
    # the office (9 to 5) never sees a switch: that Sunday is a day off either way
    office = elapsed(Query(engine, settings_for(OFFICE, tmp_path)), rows, "received_at", "first_response_at", clock="business")  # fmt: skip
    assert list(office.execute()["_secs"]) == [0.0, 0.0]


def test_first_response_hours_and_velocity_days_on_the_business_clock(
    engine, calendar_data, tmp_path
):
    settings = settings_for(OFFICE, tmp_path)
    off = holidays_of(OFFICE)
    want = {
        r["request_id"]: business_seconds(r["received_at"], r["first_response_at"], OFFICE, off)
        / 3600
        for r in calendar_data.requests
    }
    got = per_key(engine, settings, "first_response_time", "request_id")
    assert got == pytest.approx(want, abs=1e-9)

    won = [o for o in calendar_data.opportunities if o["outcome"] == "won"]
    days = [business_seconds(o["created_at"], o["closed_at"], OFFICE, off) / 28800 for o in won]
    result = metrics.breakdown(engine, settings, "velocity", by="team", params={"clock": "business"})  # fmt: skip
    (east,) = result.groups
    assert east.extra["cycle_days"] == pytest.approx(statistics.mean(days))
    assert result.unit == "amount/business day"


def test_whole_business_days_equal_numpy_busday_count(engine, tmp_path):
    """Deals exported with dates only (midnight): business days are numpy's busday_count."""
    data = hand_made(midnight=True)
    from salesflow.source import connect

    con = connect(f"duckdb:///{tmp_path / 'days.duckdb'}")
    load(con, data)
    got = per_key(con, settings_for(WHOLE_DAYS, tmp_path), "cycle_time", "opportunity_id")
    holidays = sorted(GERMAN_2026)
    want = {
        o["opportunity_id"]: float(
            np.busday_count(o["created_at"].date(), o["closed_at"].date(), holidays=holidays)
        )
        for o in data.opportunities
    }
    assert got == pytest.approx(want, abs=1e-9)
    con.disconnect()


def test_calendar_clock_is_the_default_and_units_say_which_clock(engine, tmp_path):
    settings = settings_for(OFFICE, tmp_path)
    plain = metrics.series(engine, settings, "cycle_time", period="month")
    same = metrics.series(engine, settings, "cycle_time", period="month", params={"clock": "calendar"})  # fmt: skip
    business = metrics.series(engine, settings, "cycle_time", period="month", params={"clock": "business"})  # fmt: skip
    assert [p.value for p in plain.points] == [p.value for p in same.points]
    assert (plain.unit, business.unit) == ("days", "business days")
    assert plain.params == {"clock": "calendar"}
    assert all(
        b.value is None or b.value != p.value
        for b, p in zip(business.points, plain.points, strict=True)
    )
    with pytest.raises(ConfigError, match=r"clock.*is .wall.*Use one of: calendar, business"):
        metrics.breakdown(engine, settings, "cycle_time", by="team", params={"clock": "wall"})


@pytest.mark.parametrize(
    ("calendar", "message"),
    [
        ({"workdays": ["mon", "funday"]}, r"workdays = \['mon', 'funday'\] is not a list"),
        ({"workdays": ["mon", "monday"]}, r"is not a list of weekdays"),
        ({"workdays": "mon-fri"}, r"is not a list of weekdays"),
        ({"business_hours": "17:00-09:00"}, r"business_hours = '17:00-09:00'.*opening before"),
        ({"business_hours": "9 to 5"}, r"HH:MM-HH:MM"),
        ({"holidays": 49}, r"holidays = 49 is not a country code"),
        ({"extra_holidays": "2026-12-24"}, r"extra_holidays must be a list of dates"),
        ({"extra_holidays": ["Christmas"]}, r"extra_holidays entry 'Christmas' is not a date"),
    ],
)
def test_calendar_settings_are_checked_with_clear_errors(calendar, message, tmp_path):
    with pytest.raises(ConfigError, match=message) as caught:
        settings_for(calendar, tmp_path)
    assert "salesflow.toml" in str(caught.value.where)


def test_settings_read_regions_and_an_unknown_country_fails_clearly(duck_clock, tmp_path):
    bavaria = settings_for({"holidays": {"country": "de", "subdiv": "by"}}, tmp_path).business
    assert (bavaria.country, bavaria.subdiv, bavaria.workdays) == ("DE", "BY", (0, 1, 2, 3, 4))
    assert settings_for({"holidays": "US-CA"}, tmp_path).business.subdiv == "CA"
    settings = settings_for({"holidays": "XX"}, tmp_path)
    with pytest.raises(ConfigError, match="holidays = 'XX' is not a country or region"):
        metrics.breakdown(duck_clock, settings, "cycle_time", by="team", params={"clock": "business"})  # fmt: skip


@pytest.fixture
def duck_clock(calendar_data, tmp_path) -> Iterator:
    from salesflow.source import connect

    con = connect(f"duckdb:///{tmp_path / 'data.duckdb'}")
    load(con, calendar_data)
    yield con
    con.disconnect()


def test_metric_command_prints_business_days_from_the_workspace_calendar(
    cli, calendar_data, tmp_path
):
    from salesflow.workspace import init_workspace

    workspace = init_workspace(tmp_path / "ws", timezone=ZONE)
    load(workspace.data, calendar_data)
    workspace.close()
    config = workspace.path / "salesflow.toml"
    config.write_text(
        config.read_text() + 'business_hours = "09:00-17:00"\nholidays = "DE"\n'
        'extra_holidays = ["2026-04-01"]\n'
    )
    args = ("-w", workspace.path, "metric", "cycle_time", "--by", "opportunity_id")
    doc = cli.json(*args, "--param", "clock=business")
    off = holidays_of(OFFICE)
    want = {
        o["opportunity_id"]: business_seconds(o["created_at"], o["closed_at"], OFFICE, off) / 28800
        for o in calendar_data.opportunities
    }
    assert {g[doc["column"]]: g["value"] for g in doc["groups"]} == pytest.approx(want, abs=1e-9)
    assert (doc["unit"], doc["params"]) == ("business days", {"clock": "business"})

    wrong = cli(*args, "--param", "clock=wall", ok=False)
    assert wrong.exit_code != 0 and "Use one of: calendar, business" in wrong.stderr
    config.write_text(config.read_text().replace('"09:00-17:00"', '"9-5"'))
    broken = cli(*args, ok=False)
    assert broken.exit_code != 0 and "business_hours = '9-5'" in broken.stderr


ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC")
# opening and closing on quarter hours, not strictly inside 01:00–03:00 where the clocks of these
# zones skip or repeat an hour (an opening time that does not exist, or exists twice, is ambiguous)
HOURS = [q for q in range(97) if not 4 < q < 12]
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _unique(at: datetime, zone: ZoneInfo) -> bool:
    """A wall-clock time that exists exactly once in the zone."""
    return (
        at.replace(tzinfo=zone, fold=0).utcoffset() == at.replace(tzinfo=zone, fold=1).utcoffset()
    )


SWITCHES = {  # the 2026 switch days (all Sundays), before and after
    "Europe/Berlin": (date(2026, 3, 29), date(2026, 10, 25)),
    "America/New_York": (date(2026, 3, 8), date(2026, 11, 1)),
    "Australia/Sydney": (date(2026, 4, 5), date(2026, 10, 4)),
    "UTC": (date(2026, 3, 29), date(2026, 10, 25)),
}


@given(
    zone=st.sampled_from(ZONES),
    days=st.one_of(st.sets(st.integers(0, 6), min_size=1), st.just({0, 1, 2, 3, 4, 5, 6})),
    hours=st.one_of(
        st.lists(st.sampled_from(HOURS), min_size=2, max_size=2, unique=True),
        st.tuples(st.sampled_from([0, 4, 12]), st.sampled_from([20, 68, 96])),
    ),
    off=st.sets(st.tuples(st.integers(0, 1), st.integers(-2, 3)), max_size=3),
    spans=st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 4 * 96), st.integers(0, 96 * 96)),
        min_size=1,
        max_size=25,
    ),
)
@hypothesis_settings(max_examples=60, deadline=None)
def test_any_calendar_in_any_zone_equals_the_quarter_hour_walk(
    memory_con, tmp_path_factory, zone, days, hours, off, spans
):
    """Random workdays, opening hours and days off around the 2026 DST switches of three zones
    (both hemispheres): the engine's business seconds equal the walk through real time."""
    opens, closes = sorted(hours)
    cal = {
        "timezone": zone,
        "workdays": [DAY_NAMES[d] for d in sorted(days)],
        "business_hours": f"{opens // 4:02d}:{opens % 4 * 15:02d}-{closes // 4:02d}:{closes % 4 * 15:02d}",
        "extra_holidays": sorted({(SWITCHES[zone][w] + timedelta(days=d)).isoformat() for w, d in off}),
    }  # fmt: skip
    tz = ZoneInfo(zone)
    pairs = []
    for window, offset, length in spans:
        start = datetime.combine(SWITCHES[zone][window], datetime.min.time()) - timedelta(days=2)
        start += QUARTER * offset
        end = start + QUARTER * (length if length < 6 * 96 else length * 4)  # some long spans
        if _unique(start, tz) and _unique(end, tz):
            pairs.append((start, end))
    assume(pairs)
    rows = ibis.memtable({"a": [p[0] for p in pairs], "b": [p[1] for p in pairs]})
    settings = settings_for(cal, tmp_path_factory.getbasetemp())
    got = elapsed(Query(memory_con, settings), rows, "a", "b", clock="business").execute()
    holidays = holidays_of(cal)
    want = {(a, b): business_seconds(a, b, cal, holidays) for a, b in set(pairs)}
    assert {
        (a.to_pydatetime(), b.to_pydatetime()): s for a, b, s in got.itertuples(index=False)
    } == pytest.approx(want, abs=1e-6)


@pytest.fixture(scope="module")
def memory_con():
    con = ibis.duckdb.connect()
    yield con
    con.disconnect()
