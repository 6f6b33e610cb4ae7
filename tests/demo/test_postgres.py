"""The demo fills any Ibis data source: on PostgreSQL it writes the same rows as on DuckDB."""

from __future__ import annotations

import pytest

from salesflow.demo import build_demo
from salesflow.workspace import Workspace, workspace_status


def deals(path) -> list[tuple]:
    with Workspace.open(path) as ws:
        t = ws.data.table("opportunities")
        cols = [
            "opportunity_id",
            "outcome",
            "amount",
            "closed_at",
            "region",
            "first_response_hours",
        ]
        frame = t.select(*cols).order_by("opportunity_id").execute()
    return [tuple(None if v != v else v for v in row) for row in frame.itertuples(index=False)]


@pytest.mark.postgres
def test_postgres_demo_equals_duckdb_demo(tmp_path, demo_pg_url):
    url = demo_pg_url.replace("postgresql://", "postgres://")
    on_pg = build_demo(tmp_path / "pg", opportunities=400, seed=4, data_url=url)
    on_duck = build_demo(tmp_path / "duck", opportunities=400, seed=4)
    assert on_pg.rows == on_duck.rows
    assert deals(tmp_path / "pg") == deals(tmp_path / "duck")
    with Workspace.open(tmp_path / "pg") as ws:
        status = workspace_status(ws)
    assert {k: v["rows"] for k, v in status["tables"].items()} == on_pg.rows
    with Workspace.open(tmp_path / "duck") as ws:  # plain DuckDB SQL; PostgreSQL goes via Ibis
        on_duckdb = workspace_status(ws)
    assert {**status, "workspace": ""} == {**on_duckdb, "workspace": ""}
    # --force empties a server data source instead of appending to it.
    again = build_demo(tmp_path / "pg", opportunities=200, seed=4, data_url=url, force=True)
    with Workspace.open(tmp_path / "pg") as ws:
        assert ws.data.table("opportunities").count().execute() == again.rows["opportunities"]
