"""Spark as the data source: a local Spark workspace (``pyspark:///spark``) is filled by the same
imports as a DuckDB one and answers status, flow and metrics with DuckDB's figures; a new Spark
session still finds its tables. One Spark session for the module (starting one takes seconds)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.spark, pytest.mark.slow]

SF_OPPS = ["Opportunity ID", "Opportunity Name", "Account Name", "Opportunity Owner", "Stage",
           "Amount", "Probability (%)", "Created Date", "Close Date", "Lead Source", "Type"]  # fmt: skip
SF_HISTORY = ["Opportunity ID", "Opportunity Name", "Stage", "Amount", "Probability (%)",
              "Close Date", "Last Modified", "Forecast Category"]  # fmt: skip
STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote",
          "Negotiation/Review"]  # fmt: skip
METRICS = ("win_rate", "cycle_time", "new_opportunities", "wip", "velocity")


def _csv(path: Path, header: list[str], rows: list) -> Path:
    import csv

    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _company(folder: Path) -> list[tuple[str, Path, str | None]]:
    """A Salesforce export (deals, then stage history) and plain canonical files: deals with
    operating variables (one won deal without an amount: a null, never NaN, on Spark), their
    stage events, and an update of a Salesforce deal."""
    sf = _csv(folder / "sf_opps.csv", SF_OPPS, [
        ("0061", "Big deal", "Acme", "Ann", "Closed Won", "12000", "100", "1/15/2024", "3/20/2024", "Web", "New Business"),
        ("0062", "Small deal", "Beta", "Bob", "Proposal/Price Quote", "900", "75", "2/03/2024", "4/30/2024", "Partner", "Existing Business"),
        ("0063", "Lost deal", "Gamma", "Ann", "Closed Lost", "5000", "0", "2/13/2024", "3/01/2024", "Web", "New Business"),
    ])  # fmt: skip
    history = _csv(folder / "sf_history.csv", SF_HISTORY, [
        ("0062", "Small deal", "Prospecting", "900", "10", "4/30/2024", "2/03/2024 9:00 AM", "Pipeline"),
        ("0062", "Small deal", "Proposal/Price Quote", "900", "75", "4/30/2024", "2/20/2024 2:30 PM", "Best Case"),
        ("0062", "Small deal", "Closed Won", "950", "100", "4/30/2024", "4/28/2024 4:00 PM", "Closed"),
    ])  # fmt: skip
    from datetime import datetime, timedelta

    def at(moment: datetime) -> str:
        return f"{moment:%Y-%m-%d %H:%M:%S}"

    deals, events = [], []
    for i in range(48):
        created = datetime(2024, 1 + i % 9, 1 + (i * 7) % 27, 8 + i % 9, 15)
        outcome = ("won", "lost", "open")[i % 3]
        last = 1 + i % len(STAGES)
        closed = created + timedelta(days=3 * last + 2 + i % 7, hours=i % 5)
        deals.append((f"C{i:03d}", f"Acct {i % 11}", ("Ann", "Bob", "Cy")[i % 3],
                      ("SMB", "Enterprise")[i % 2], ("web", "event", "partner")[i % 3], at(created),
                      at(closed) if outcome != "open" else "", outcome, "" if i == 3 else 1000 + 37.5 * i,
                      ("North", "South")[i % 2]))  # fmt: skip
        for k, stage in enumerate(STAGES[:last]):
            events.append((f"C{i:03d}", stage, at(created + timedelta(days=3 * k, hours=k))))
        if i % 5 == 0 and last > 2:  # rework: back to an earlier stage
            events.append((f"C{i:03d}", STAGES[0], at(created + timedelta(days=3 * last))))
        if outcome != "open":
            end_stage = "Closed Won" if outcome == "won" else "Closed Lost"
            events.append((f"C{i:03d}", end_stage, at(closed)))
    deals.append(
        (
            "0063",
            "Gamma",
            "Ann",
            "SMB",
            "Web",
            "2024-02-13 00:00:00",
            "2024-03-01 00:00:00",
            "lost",
            5200.0,
            "North",
        )
    )  # fmt: skip  (an update of a Salesforce deal)
    header = ["opportunity_id", "account", "owner", "segment", "source", "created_at",
              "closed_at", "outcome", "amount", "region"]  # fmt: skip
    return [
        ("opportunities", sf, "salesforce"),
        ("stage_events", history, "salesforce"),
        ("opportunities", _csv(folder / "opps.csv", header, deals), None),
        ("stage_events", _csv(folder / "events.csv", ["opportunity_id", "stage", "entered_at"], events), None),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def pair(tmp_path_factory, session_cli, spark_local):
    """The same company imported into a DuckDB workspace and into a local Spark one."""
    cli = session_cli
    folder = tmp_path_factory.mktemp("spark")
    files = _company(folder)
    reports = {}
    for kind, url in (("duck", "duckdb:///data.duckdb"), ("spark", "pyspark:///spark")):
        ws = folder / kind
        cli("init", ws, "--data-url", url)
        reports[kind] = []
        for table, path, preset in files:
            args = ["import", table, path, "-w", ws] + (["--preset", preset] if preset else [])
            reports[kind].append(cli.json(*args))
    return cli, folder / "duck", folder / "spark", reports


def same(a, b, path="$"):
    """Equal JSON documents: counts and text exactly, floats to 1e-9 relative."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, int | float) and isinstance(b, int | float), (path, a, b)
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (path, a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (path, a, b)
        for key in a:
            same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (path, a, b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


def test_the_data_url_is_kept_inside_the_workspace(pair):
    _, _, spark, _ = pair
    assert 'url = "pyspark:///spark"' in (spark / "salesflow.toml").read_text(encoding="utf-8")
    stored = {p.name for p in (spark / "spark" / "warehouse").iterdir()}
    assert {"opportunities", "stage_events", "flow_cases"} <= stored
    assert (spark / "spark" / "metastore_db").is_dir()


def test_imports_report_the_same_rows(pair):
    _, _, _, reports = pair
    keys = ("rows_written", "inserted", "updated", "derived_stage_events",
            "refreshed_opportunities", "added_columns", "extra_columns", "warnings")  # fmt: skip
    for duck, spark in zip(reports["duck"], reports["spark"], strict=True):
        assert {k: spark[k] for k in keys} == {k: duck[k] for k in keys}
    # the canonical file updates one Salesforce deal; every other row is new
    assert [r["updated"] for r in reports["spark"]] == [0, 0, 1, 0]


def test_status_flow_and_metrics_equal_duckdb(pair):
    cli, duck, spark, _ = pair
    on_duck, on_spark = cli.json("status", "-w", duck), cli.json("status", "-w", spark)
    same(_placeless(on_spark), _placeless(on_duck))
    assert on_spark["freshness"]["fresh"] is True  # the import built the derived tables
    assert on_spark["tables"]["opportunities"]["rows"] == 51  # 3 Salesforce deals + 48
    flow_duck, flow_spark = cli.json("flow", "-w", duck), cli.json("flow", "-w", spark)
    same(flow_spark, flow_duck)
    assert flow_spark["stages"][0]["entries"] > 0
    for metric, *extra in [*((m,) for m in METRICS), ("win_rate", "--by", "segment")]:
        same(
            cli.json("metric", metric, "-w", spark, *extra),
            cli.json("metric", metric, "-w", duck, *extra),
        )


def test_a_new_process_finds_the_tables(pair):
    """The catalog is on disk: another program sees the data (once this one lets go of it)."""
    cli, duck, spark, _ = pair
    from salesflow import spark as spark_source

    spark_source.stop()  # the embedded catalog serves one program at a time
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-m", "salesflow", "status", "-w", str(spark), "--json"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    same(_placeless(json.loads(out.stdout)), _placeless(cli.json("status", "-w", duck)))


def _placeless(status: dict) -> dict:
    """A status document without what differs by place and time: the folder, the clock."""
    return {**status, "workspace": "", "freshness": {**status["freshness"], "checked_at": ""}}
