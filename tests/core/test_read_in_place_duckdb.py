"""Read in place on DuckDB: a workspace whose ``[data]`` maps to another DuckDB file (attached
read-only, other names, CamelCase columns), a folder of Parquet files a pipeline drops and a CSV
file gives the same answers as the same data imported, never writes into them (checksums), names
a missing column with its table, and notices new files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from inplace_helpers import (
    camel,
    checksums,
    import_is_refused,
    other_settings,
    same_flow_and_verdicts,
    same_status,
    status_names_what_is_missing,
)

# canonical table -> the customer's table in the attached DuckDB file crm.duckdb
SOURCE = {
    "opportunities": "deals",
    "activities": "touches",
    "forecasts": "forecast_calls",
    "opportunity_history": "deal_history",
}
EVENTS = "stage_changes"  # stage_events: a folder of Parquet files under lake/
FILES = {"stage_events": f"{EVENTS}/", "requests": "service_requests.csv"}  # under lake/


def config(lake: str, columns: dict[str, list[str]], rest: str, **data: str) -> str:
    """A DuckDB workspace reading its tables from ``lake``: crm.duckdb attached, stage events
    from Parquet files; the other settings (``rest``) are the imported copy's."""
    lines = ["[data]", 'url = "duckdb:///data.duckdb"', "read_only = true"]
    lines += [f'{k} = "{v}"' for k, v in data.items()]
    lines += ["", "[data.attach]", f'crm = "{lake}/crm.duckdb"']
    for name in [*SOURCE, *FILES]:
        where = (
            f'table = "crm.{SOURCE[name]}"' if name in SOURCE else f'files = "{lake}/{FILES[name]}"'
        )
        lines += ["", f"[data.tables.{name}]", where, "", f"[data.tables.{name}.columns]"]
        lines += [f'{c} = "{camel(c)}"' for c in columns[name]]
    return "\n".join(lines) + "\n\n" + rest


def make_lake(duck: Path, lake: Path) -> dict[str, list[str]]:
    """The imported workspace's tables, renamed, in ``lake``: crm.duckdb, Parquet files (the
    stage events split in three files, as a pipeline writes them) and a CSV file (requests)."""
    import duckdb
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    from salesflow.workspace import Workspace

    lake.mkdir()
    (lake / EVENTS).mkdir()
    columns: dict[str, list[str]] = {}
    crm = duckdb.connect(str(lake / "crm.duckdb"))
    with Workspace.open(duck) as ws:
        for name in [*SOURCE, *FILES]:
            data = ws.data.table(name).to_pyarrow()
            columns[name] = list(data.column_names)
            data = data.rename_columns([camel(c) for c in columns[name]])
            if name in SOURCE:
                crm.register("batch", data)
                crm.execute(f"CREATE TABLE {SOURCE[name]} AS SELECT * FROM batch")
                crm.unregister("batch")
                continue
            if name == "requests":
                pcsv.write_csv(data, lake / FILES[name])
                continue
            third = -(-data.num_rows // 3)
            for part in range(3):
                chunk = data.slice(part * third, third)
                pq.write_table(chunk, lake / EVENTS / f"part-{part}.parquet")
    crm.close()
    return columns


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    from salesflow.demo import build_demo

    root = tmp_path_factory.mktemp("inplace_duckdb")
    build_demo(root / "duck", opportunities=200, seed=4)
    columns = make_lake(root / "duck", root / "lake")
    rest = other_settings(root / "duck")
    (root / "ws").mkdir()
    (root / "ws" / "salesflow.toml").write_text(config("../lake", columns, rest), encoding="utf-8")
    return {"root": root, "columns": columns, "rest": rest, "sums": checksums(root / "lake")}


def test_same_answers_as_the_imported_copy(company, cli):
    import duckdb

    root = company["root"]
    duck, ws = root / "duck", root / "ws"
    on_ws, on_duck = same_status(cli, ws, duck)
    assert sum(on_ws["outcomes"].values()) > 150
    assert on_ws["tables"]["requests"]["rows"] > 0  # read from the CSV file, dates and all
    fresh = on_ws["freshness"]  # the first command built the derived tables
    assert fresh["fresh"] is True and fresh["derived_schema"] is None
    events = fresh["source"]["stage_events"]
    assert events["table"] == f"../lake/{EVENTS}/"
    assert events["rows"] == on_duck["tables"]["stage_events"]["rows"] > 0

    same_flow_and_verdicts(cli, ws, duck)  # the stored tables in the workspace file serve it

    # salesflow's own file holds only its own tables; the lake is byte for byte as it was
    own = duckdb.connect(str(ws / "data.duckdb"), read_only=True)
    names = {r[0] for r in own.execute("SHOW TABLES").fetchall()}
    own.close()
    assert names == {"flow_stages", "flow_transitions", "flow_cases", "flow_variants",
                     "flow_meta", "salesflow_watermark"}  # fmt: skip
    assert checksums(root / "lake") == company["sums"]


def test_import_is_refused_and_nothing_is_written(company, cli, deals_csv, tmp_path):
    ws = company["root"] / "ws"
    import_is_refused(cli, ws, deals_csv(tmp_path, "NEW", 5))
    assert checksums(company["root"] / "lake") == company["sums"]


def bad_workspace(company, tmp_path: Path, *changes: tuple[str, str]) -> Path:
    text = config(str(company["root"] / "lake"), company["columns"], company["rest"])
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    ws = tmp_path / "bad"
    ws.mkdir()
    (ws / "salesflow.toml").write_text(text, encoding="utf-8")
    return ws


def test_status_names_a_missing_column_and_table(company, cli, tmp_path):
    ws = bad_workspace(
        company,
        tmp_path,
        ('closed_at = "ClosedAt"', 'closed_at = "ClosedOn"'),
        ("crm.touches", "crm.touchpoints"),
        ('entered_at = "EnteredAt"', 'entered_at = "EnteredOn"'),
    )
    message = status_names_what_is_missing(cli, ws)
    assert f"{EVENTS}/ have no column 'EnteredOn'" in message
    assert not (ws / "data.duckdb").exists()  # checked before anything was written


def test_missing_files_are_named(company, cli, tmp_path):
    ws = bad_workspace(company, tmp_path, (f"{EVENTS}/", "stage_moves/"))
    result = cli("-w", ws, "status", ok=False)
    message = " ".join(result.stderr.split())
    assert result.exit_code != 0
    assert (
        f"No files match {company['root'] / 'lake'}/stage_moves/ that [data.tables.stage_events]"
        in message
    )


def test_freshness_sees_new_files_and_rows(company, cli, tmp_path):
    """On a copy of the lake: a pipeline drops one more Parquet file, then adds deals."""
    import duckdb
    import pyarrow.parquet as pq

    lake = tmp_path / "lake"
    shutil.copytree(company["root"] / "lake", lake)
    ws = tmp_path / "ws"
    ws.mkdir()
    text = config("../lake", company["columns"], company["rest"], refresh="manual")
    (ws / "salesflow.toml").write_text(text, encoding="utf-8")
    first = cli.json("-w", ws, "status", "--refresh")["freshness"]
    assert first["refreshed"] is True and first["fresh"] is True
    n = first["source"]["stage_events"]["rows"]

    extra = pq.read_table(lake / EVENTS / "part-0.parquet").slice(0, 40)
    pq.write_table(extra, lake / EVENTS / "part-3.parquet")  # 40 events seen twice
    stale = cli.json("-w", ws, "status")
    fresh = stale["freshness"]
    assert fresh["fresh"] is False and fresh["refreshed"] is False
    assert [c["table"] for c in fresh["changes"]] == ["stage_events"]
    assert fresh["changes"][0]["new_rows"] == 40 and fresh["changes"][0]["rows_now"] == n + 40
    assert f"40 new rows in ../lake/{EVENTS}/" in fresh["message"]
    assert stale["tables"]["stage_events"]["rows"] == n + 40  # the data itself is read live
    assert cli.json("-w", ws, "flow")["derived_fresh"] is False  # computed afresh meanwhile

    crm = duckdb.connect(str(lake / "crm.duckdb"))
    crm.execute(
        "INSERT INTO deals SELECT * REPLACE ('X-' || OpportunityId AS OpportunityId) "
        "FROM deals ORDER BY OpportunityId LIMIT 120"
    )
    crm.close()
    again = cli.json("-w", ws, "status", "--refresh")["freshness"]
    assert again["refreshed"] is True and again["fresh"] is True
    assert {c["table"]: c["new_rows"] for c in again["changes"]} == {
        "opportunities": 120,
        "stage_events": 40,
    }
    assert "120 new rows in crm.deals" in again["message"]
    assert cli.json("-w", ws, "status")["freshness"]["changes"] == []
    assert cli.json("-w", ws, "flow")["derived_fresh"] is True
