"""Wins and engagement on a generated company: only the measure that truly shifted is a win,
with numbers recomputed from the metric's own series; check-ins on time and improvements
started/verified against a hand-computed example."""

from __future__ import annotations

import shutil
import statistics
from datetime import date
from pathlib import Path

import pytest

from salesflow.demo import effects

BASELINE = "2024-10-01:2025-09-30"
START = "2025-10-01"


@pytest.fixture(scope="module")
def ws(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated company (no demo knowledge) with improvements whose truth is known."""
    from salesflow.workbench.service import Workbench

    path = tmp_path_factory.mktemp("wins") / "ws"
    shutil.copytree(demo_data, path)
    with Workbench.open(path, who="lead") as bench:
        for name in ("Jonas", "Maria"):
            bench.store.users.create(name, role="editor")
        common = {"baseline": BASELINE, "start": START, "status": "running"}
        shifted = bench.add_improvement(  # the injected effect: Proposal time x 0.70 from START
            title="Proposal template", objective="Faster proposals", metric="stage_time",
            filters={"stage": "Proposal"}, bad_if="above", target="6", owner="Jonas", **common,
        )  # fmt: skip
        flat = bench.add_improvement(  # win rate has no change at START
            title="Discovery checklist", objective="Win more", metric="win_rate",
            bad_if="below", owner="Maria", **common,
        )  # fmt: skip
        bench.add_improvement(  # the same true shift, abandoned: not a win
            title="Abandoned copy", objective="Faster proposals", metric="stage_time",
            filters={"stage": "Proposal"}, bad_if="above", **{**common, "status": "abandoned"},
        )  # fmt: skip
        bench.add_improvement(  # started in the last month of data: too few complete periods
            title="Too recent", objective="Faster proposals", metric="stage_time",
            filters={"stage": "Proposal"}, bad_if="above", baseline=BASELINE,
            start="2026-09-01", status="running",
        )  # fmt: skip
        bench.set_status(flat["id"], "verified", expected_version=flat["version"])
        for answered in ("Ana", "Jonas", "Ana"):
            bench.checkin(shifted["id"], answered_by=answered, held_on="2026-01-15")
    return path


@pytest.fixture(scope="module")
def found(ws: Path) -> dict:
    from salesflow.workbench.service import Workbench
    from salesflow.workbench.wins import wins

    with Workbench.open(ws) as bench:
        return wins(bench)


def test_only_the_measure_that_truly_shifted_is_a_win(found):
    assert [w["title"] for w in found["wins"]] == ["Proposal template"]
    win = found["wins"][0]
    assert win["verdict"]["verdict"] == "improved" and win["desired"] == "down"
    # the verified improvement whose chart shows nothing is named, not hidden, and not a win
    assert [c["title"] for c in found["verified_without_shift"]] == ["Discovery checklist"]
    assert found["verified_without_shift"][0]["verdict"] == "no_signal"


def test_a_shift_only_in_the_running_month_is_never_a_win(ws):
    """Judged on 20 September 2026, "Too recent" (from 1 September) has only the running
    September after its start: left out of the verdict, so not a win, while the true shift of
    October 2025 still is."""
    from datetime import datetime

    from salesflow.workbench.service import Workbench
    from salesflow.workbench.wins import wins

    with Workbench.open(ws, as_of=datetime(2026, 9, 20)) as bench:
        doc = wins(bench)
        recent = next(r for r in bench.store.improvements.list() if r.title == "Too recent")
        verdict = bench.improvement_verdict(recent)
    assert [w["title"] for w in doc["wins"]] == ["Proposal template"]
    assert verdict.verdict == "too_early"
    assert "2026-09-01" in verdict.values["incomplete_periods_left_out"]


def test_win_numbers_equal_an_independent_computation(ws, found):
    """Medians of the metric's own monthly series: the baseline months, and the complete months
    since the start (the month still running, if any, left out)."""
    from salesflow.metrics import series
    from salesflow.settings import load_settings
    from salesflow.workspace import Workspace, resolve_as_of

    with Workspace.open(ws) as core:
        as_of = resolve_as_of(core.settings, core.data)
        s = series(core.data, load_settings(ws), "stage_time", period="month",
                   filters={"stage": "Proposal"}, as_of=as_of)  # fmt: skip
    first, last = (date.fromisoformat(d) for d in BASELINE.split(":"))
    done = [p for p in s.points if p.status == "complete" and p.value is not None]
    before = statistics.median(p.value for p in done if first <= p.period <= last)
    after = [p.value for p in done if p.period >= date.fromisoformat(START)]
    win = found["wins"][0]
    assert win["before"] == pytest.approx(before)
    assert win["after"] == pytest.approx(statistics.median(after))
    assert win["periods_after"] == len(after) == 12
    assert win["after"] / win["before"] == pytest.approx(effects.PROPOSAL_TIME_FACTOR, abs=0.1)
    assert win["sentence"] == (
        f"Time in stage (stage = Proposal) fell from {before:.3g} days to "
        f"{statistics.median(after):.3g} days since 1 October 2025 — sustained over 12 months; "
        "the target of 6 days is met."
    )


def test_who_did_it_is_the_owner_then_the_answerers(found):
    win = found["wins"][0]
    assert win["owner"] == "Jonas" and win["people"] == ["Jonas", "Ana"]
    assert win["answered_by"] == ["Ana", "Jonas"] and win["checkins"] == 3


def test_the_cli_prints_the_same_wins(ws, cli):
    doc = cli.json("improve", "wins", "-w", ws)
    assert [w["id"] for w in doc["wins"]] == [1]
    text = cli("improve", "wins", "-w", ws).stdout
    assert "Proposal template" in text and "fell from" in text and "Jonas, Ana" in text


# -- engagement --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def habits(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three improvements with check-ins on known days (see the hand computation below)."""
    from salesflow.workbench.service import Workbench

    path = tmp_path_factory.mktemp("engagement") / "ws"
    shutil.copytree(demo_data, path)
    with Workbench.open(path, who="lead") as bench:
        measure = {"metric": "win_rate", "bad_if": "below"}
        x = bench.add_improvement(objective="X", cadence="weekly", status="running",
                                  start="2026-01-05", **measure)  # fmt: skip
        y = bench.add_improvement(objective="Y", cadence="monthly", status="proposed",
                                  start="2026-01-31", **measure)  # fmt: skip
        z = bench.add_improvement(objective="Z", status="running", start="2026-01-05", **measure)
        for day in ("2026-01-09", "2026-01-20", "2026-01-27", "2026-02-10"):
            bench.checkin(x["id"], held_on=day)
        bench.checkin(y["id"], held_on="2026-02-27")
        bench.set_status(y["id"], "running", expected_version=y["version"])
        bench.set_status(z["id"], "verified", expected_version=z["version"])
    return path


def test_checkins_on_time_per_month_by_hand(habits):
    """X weekly from 5 Jan: held 9 Jan (due 12 Jan: on time), 20 Jan (due 16 Jan: late),
    27 Jan (due 27 Jan: on time), 10 Feb (due 3 Feb: late), then due 17 Feb and never held
    (late). Y monthly from 31 Jan: held 27 Feb (due 28 Feb: on time), then due 27 Mar and never
    held (late). Z is verified: no longer asked."""
    from salesflow.workbench.engagement import engagement
    from salesflow.workbench.service import Workbench

    with Workbench.open(habits) as bench:
        doc = engagement(bench)
    points = {p["period"]: p for p in doc["checkins_on_time"]["points"]}
    got = {m: (p["numerator"], p["denominator"]) for m, p in points.items() if p["denominator"]}
    assert got == {"2026-01-01": (2, 3), "2026-02-01": (1, 3), "2026-03-01": (0, 1)}
    assert points["2026-01-01"]["value"] == pytest.approx(2 / 3)
    assert points["2026-04-01"]["value"] is None  # no check-in fell due: no share, not 0 %
    assert doc["checkins_on_time"]["unit"] == "%"
    assert next(iter(points)) == "2026-01-01"


def test_improvements_started_and_verified_per_month(habits):
    """X and Z were recorded as running from 5 Jan 2026; Y became running, and Z verified, when
    their status changed (today, by the history)."""
    from salesflow.settings import load_settings
    from salesflow.workbench.engagement import engagement
    from salesflow.workbench.service import Workbench

    this_month = load_settings(habits).today().replace(day=1).isoformat()
    with Workbench.open(habits) as bench:
        doc = engagement(bench)
    started = {p["period"]: p["value"] for p in doc["improvements_started"]["points"]}
    verified = {p["period"]: p["value"] for p in doc["improvements_verified"]["points"]}
    assert started["2026-01-01"] == 2 and started[this_month] == 1
    assert sum(started.values()) == 3
    assert verified[this_month] == 1 and sum(verified.values()) == 1
    assert doc["improvements_started"]["points"][-1]["status"] == "running"  # drawn, not judged
    assert doc["improvements_started"]["chart"]["type"] == "xmr"


def test_days_from_a_confirmed_udr_to_its_first_improvement(seeded_copy):
    """The demo knowledge: every confirmed UDR is reached by an improvement through its causes;
    a new confirmed UDR without one waits, and one linked later is served on that day."""
    from salesflow.workbench.engagement import udr_to_first_improvement
    from salesflow.workbench.service import Workbench

    with Workbench.open(seeded_copy, who="lead") as bench:
        settings = bench.workspace.settings
        today = settings.today()
        doc = udr_to_first_improvement(bench, today, settings.zone)
        confirmed = {u["id"] for u in bench.list_udrs() if u["verdict"]["verdict"] == "confirmed"}
        assert {r["udr_id"] for r in doc["udrs"]} == confirmed and confirmed
        assert all(r["days"] == 0 and r["improvement_id"] for r in doc["udrs"])
        new = bench.add_udr("Contract-change requests grew to over 40 a month in 2026")["udr"]
        bench.bind_udr(new["id"], metric="request_volume", filters={"category": "contract changes"},
                       bad_if="above", expected_version=new["version"])  # fmt: skip
        doc = udr_to_first_improvement(bench, today, settings.zone)
    row = next(r for r in doc["udrs"] if r["udr_id"] == new["id"])
    assert row["improvement_id"] is None and row["waiting_days"] == 0
    assert doc["waiting"] == 1 and f"UDR #{new['id']} has waited 0 days" in doc["sentence"]


def test_readme_lists_the_wins_and_engagement_keys(found, seeded, cli):
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section: workbench-json -->")[1].split("<!-- /section")[0]
    engagement = cli.json("improve", "engagement", "-w", seeded)  # the demo has confirmed UDRs
    documents = {
        "wins": found,
        "a win": found["wins"][0],
        "verified without shift": found["verified_without_shift"][0],
        "engagement": engagement,
        "days to a first improvement": engagement["udr_to_first_improvement"],
        "a confirmed UDR": engagement["udr_to_first_improvement"]["udrs"][0],
    }
    for name, doc in documents.items():
        missing = [k for k in doc if f'"{k}"' not in section]
        assert not missing, f"README does not document {name} keys {missing}"
