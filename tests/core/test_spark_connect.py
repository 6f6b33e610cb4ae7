"""Spark Connect (``[data] url = "sc://host:15002"``) against a real server (tests/conftest.py
``spark_connect``): the demo company's canonical tables, written into the server's catalog, give
DuckDB's status, process map and metrics once salesflow has built its flow tables there; a
server that is down is said in one sentence, at once (the client alone retries for 10 minutes)."""

from __future__ import annotations

import shutil
import socket
import time

import pytest
from test_spark_backend import _placeless, same

pytestmark = [pytest.mark.spark, pytest.mark.slow]

CANONICAL = ("opportunities", "stage_events", "activities", "requests", "forecasts",
             "opportunity_history")  # fmt: skip
METRICS = ("win_rate", "cycle_time")  # each costs seconds; the parity suite checks them all


@pytest.fixture(scope="module")
def pair(tmp_path_factory, demo_copy, spark_connect):
    """A small demo company on DuckDB, and a workspace reading the same rows over Spark Connect
    (its tables written into the server's catalog by Spark, not yet by salesflow: no flow
    tables there yet)."""
    from salesflow import spark
    from salesflow.workspace import Workspace

    root = tmp_path_factory.mktemp("connect")
    duck = demo_copy(root / "duck", opportunities=60, seed=3)
    session = spark.connect(spark_connect)._session
    with Workspace.open(duck) as ws:
        for name in CANONICAL:
            session.createDataFrame(ws.data.table(name).to_pyarrow()).write.saveAsTable(name)
    remote = root / "connect"
    shutil.copytree(duck, remote, ignore=shutil.ignore_patterns("data.duckdb*"))
    config = remote / "salesflow.toml"
    text = config.read_text(encoding="utf-8")
    assert 'url = "duckdb:///data.duckdb"' in text
    config.write_text(text.replace("duckdb:///data.duckdb", spark_connect), encoding="utf-8")
    return duck, remote, session


def test_status_flow_and_metrics_equal_duckdb(pair, cli):
    from salesflow import derived
    from salesflow.workspace import Workspace

    duck, remote, session = pair
    with Workspace.open(remote) as ws:
        derived.refresh(ws.data, ws.settings)  # what an import does after writing
    on_duck, on_remote = cli.json("status", "-w", duck), cli.json("status", "-w", remote)
    same(_placeless(on_remote), _placeless(on_duck))
    assert on_remote["freshness"]["fresh"] is True  # the flow tables stored on the server
    assert on_remote["tables"]["opportunities"]["rows"] > 50
    stored = {t.name for t in session.catalog.listTables()}
    assert {*CANONICAL, "flow_cases", "flow_meta"} <= stored
    flow = cli.json("flow", "-w", remote)
    same(flow, cli.json("flow", "-w", duck))
    assert flow["stages"][0]["entries"] > 0
    for metric in METRICS:
        same(cli.json("metric", metric, "-w", remote), cli.json("metric", metric, "-w", duck))


def test_a_temporary_flow_table_with_in_memory_rows(pair, spark_connect):
    """How a stale workspace's process map is built for one command on Spark (a view of rows
    kept by the session): Ibis's in-memory tables in it, the stage codes, are sent first."""
    import ibis

    from salesflow import spark
    from salesflow.derived.portable import _spark_temp

    _, _, session = pair
    con = spark.connect(spark_connect)
    codes = ibis.memtable({"stage": ["Lead", "Won"], "code": [0, 1]})
    _spark_temp(con, "_salesflow_test_codes", codes.filter(codes.code > 0))
    try:
        assert session.table("_salesflow_test_codes").collect()[0].asDict() == {
            "stage": "Won", "code": 1}  # fmt: skip
    finally:
        session.catalog.dropTempView("_salesflow_test_codes")


def test_the_session_uses_salesflows_sql_settings(pair):
    """Settings of this client's session on the server: "name" is a column, times are UTC."""
    _, _, session = pair
    assert session.conf.get("spark.sql.ansi.doubleQuotedIdentifiers") == "true"
    assert session.conf.get("spark.sql.session.timeZone") == "UTC"
    assert session.sql('SELECT "name" FROM VALUES (1) AS t("name")').collect()[0][0] == 1


def test_a_server_that_is_down_is_said_at_once(pair, cli):
    """No traceback and no ten minutes of retries: one sentence naming the server, and a hint."""
    _, remote, _ = pair
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = remote / "salesflow.toml"
    text = config.read_text(encoding="utf-8")
    down = remote.parent / "down"
    down.mkdir()
    shutil.copy(remote / "salesflow.toml", down / "salesflow.toml")
    url = text.split('url = "sc://', 1)[1].split('"', 1)[0]
    (down / "salesflow.toml").write_text(
        text.replace(f"sc://{url}", f"sc://127.0.0.1:{port}"), encoding="utf-8"
    )
    started = time.monotonic()
    result = cli("status", "-w", down, ok=False)
    assert time.monotonic() - started < 30
    assert result.exit_code != 0
    said = result.stderr
    assert f"Cannot reach the Spark Connect server at 127.0.0.1:{port}" in said, said
    assert "start-connect-server.sh" in said and "Traceback" not in said, said
