"""Read in place on Spark: a local Spark workspace whose ``[data]`` maps to tables of the Spark
catalog (database crm, other names, CamelCase columns) and to a folder of Parquet files gives the
same answers as the same data imported into DuckDB, never writes into them (checksums of their
files), names a missing column with its table, and notices new files. One Spark session for the
module: every workspace here shares the catalog folder (starting Spark takes seconds)."""

from __future__ import annotations

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

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# canonical table -> the customer's table in the Spark database crm
SOURCE = {
    "opportunities": "deals",
    "activities": "touches",
    "requests": "service_requests",
    "forecasts": "forecast_calls",
    "opportunity_history": "deal_history",
}
EVENTS = "stage_changes"  # stage_events: a folder of Parquet files under lake/


def config(url: str, columns: dict[str, list[str]], rest: str, schema: str, **data: str) -> str:
    lines = ["[data]", f'url = "{url}"', "read_only = true", f'derived_schema = "{schema}"']
    lines += [f'{k} = "{v}"' for k, v in data.items()]
    for name in [*SOURCE, "stage_events"]:
        where = (
            f'table = "crm.{SOURCE[name]}"' if name in SOURCE else f'files = "../lake/{EVENTS}/"'
        )
        lines += ["", f"[data.tables.{name}]", where, "", f"[data.tables.{name}.columns]"]
        lines += [f'{c} = "{camel(c)}"' for c in columns[name]]
    return "\n".join(lines) + "\n\n" + rest


@pytest.fixture(scope="module")
def company(tmp_path_factory, spark_local):
    """The demo company imported into DuckDB, and as the customer's own data for Spark: tables
    in the catalog's database crm (written from Parquet, so nulls stay nulls) and the stage
    events as three Parquet files in lake/."""
    import pyarrow.parquet as pq

    from salesflow import spark
    from salesflow.demo import build_demo
    from salesflow.workspace import Workspace

    root = tmp_path_factory.mktemp("inplace_spark")
    build_demo(root / "duck", opportunities=120, seed=4)
    url = f"pyspark:///{root / 'spark'}"  # every workspace here shares one catalog
    session = spark.connect(url)._session
    session.sql("CREATE DATABASE crm")
    (root / "lake" / EVENTS).mkdir(parents=True)
    (root / "staging").mkdir()
    columns: dict[str, list[str]] = {}
    with Workspace.open(root / "duck") as ws:
        for name in [*SOURCE, "stage_events"]:
            data = ws.data.table(name).to_pyarrow()
            columns[name] = list(data.column_names)
            data = data.rename_columns([camel(c) for c in columns[name]])
            if name in SOURCE:
                pq.write_table(data, root / "staging" / f"{name}.parquet")
                frame = session.read.parquet(str(root / "staging" / f"{name}.parquet"))
                frame.write.saveAsTable(f"crm.{SOURCE[name]}")
                continue
            third = -(-data.num_rows // 3)
            for part in range(3):
                pq.write_table(data.slice(part * third, third), root / "lake" / EVENTS / f"p{part}.parquet")  # fmt: skip
    rest = other_settings(root / "duck")
    ws = root / "ws"
    ws.mkdir()
    (ws / "salesflow.toml").write_text(config(url, columns, rest, "salesflow"), encoding="utf-8")
    source = root / "spark" / "warehouse" / "crm.db"
    assert source.is_dir()
    yield {"root": root, "url": url, "columns": columns, "rest": rest, "source": source,
           "sums": (checksums(source), checksums(root / "lake"))}  # fmt: skip


def sums_now(company) -> tuple[dict, dict]:
    return checksums(company["source"]), checksums(company["root"] / "lake")


def test_same_answers_as_the_imported_copy(company, cli):
    root = company["root"]
    duck, ws = root / "duck", root / "ws"
    on_ws, on_duck = same_status(cli, ws, duck)
    fresh = on_ws["freshness"]
    assert fresh["fresh"] is True and fresh["derived_schema"] == "salesflow"
    assert fresh["source"]["opportunities"]["rows"] == sum(on_duck["outcomes"].values()) > 80
    # the stored tables in database salesflow serve the map; one metric (each Spark command
    # takes seconds): the DuckDB and PostgreSQL tests compare three, the parity suite all
    same_flow_and_verdicts(cli, ws, duck, metrics=("win_rate",))
    warehouse = root / "spark" / "warehouse"
    assert {p.name for p in warehouse.iterdir()} == {"crm.db", "salesflow.db"}
    assert {p.name for p in (warehouse / "salesflow.db").iterdir()} >= {
        "flow_cases", "flow_meta", "salesflow_watermark"}  # fmt: skip
    assert sums_now(company) == company["sums"]


def test_import_is_refused_and_nothing_is_written(company, cli, deals_csv, tmp_path):
    ws = company["root"] / "ws"
    import_is_refused(cli, ws, deals_csv(tmp_path, "NEW", 5))
    assert sums_now(company) == company["sums"]


def workspace(company, tmp_path: Path, schema: str, *changes: tuple[str, str], **data) -> Path:
    text = config(company["url"], company["columns"], company["rest"], schema, **data)
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    ws = tmp_path / schema
    ws.mkdir()
    (ws / "salesflow.toml").write_text(text.replace("../lake", str(company["root"] / "lake")))
    return ws


def test_status_names_a_missing_column_and_table(company, cli, tmp_path):
    ws = workspace(
        company,
        tmp_path,
        "salesflow_bad",
        ('closed_at = "ClosedAt"', 'closed_at = "ClosedOn"'),
        ("crm.touches", "crm.touchpoints"),
        ('entered_at = "EnteredAt"', 'entered_at = "EnteredOn"'),
    )
    message = status_names_what_is_missing(cli, ws)
    assert f"{EVENTS}/ have no column 'EnteredOn'" in message
    assert not (company["root"] / "spark" / "warehouse" / "salesflow_bad.db").exists()


def test_freshness_sees_new_files(company, cli, tmp_path):
    import pyarrow.parquet as pq

    ws = workspace(company, tmp_path, "salesflow_manual", refresh="manual")
    first = cli.json("-w", ws, "status", "--refresh")["freshness"]
    assert first["refreshed"] is True and first["fresh"] is True
    n = first["source"]["stage_events"]["rows"]
    lake = company["root"] / "lake" / EVENTS
    pq.write_table(pq.read_table(lake / "p0.parquet").slice(0, 40), lake / "p3.parquet")
    try:
        stale = cli.json("-w", ws, "status")
        fresh = stale["freshness"]
        assert fresh["fresh"] is False and fresh["refreshed"] is False
        assert [(c["table"], c["new_rows"]) for c in fresh["changes"]] == [("stage_events", 40)]
        assert "40 new rows in" in fresh["message"]
        assert stale["tables"]["stage_events"]["rows"] == n + 40  # the data itself is read live
    finally:
        (lake / "p3.parquet").unlink()
    back = cli.json("-w", ws, "status")["freshness"]  # the file withdrawn: as built again
    assert back["fresh"] is True and back["refreshed"] is False and back["changes"] == []
