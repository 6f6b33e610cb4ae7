"""Read in place: a workspace whose ``[data]`` maps to the customer's own PostgreSQL tables
(other names, CamelCase columns) gives the same answers as the same data imported into DuckDB,
never writes into them, names a missing column, and notices new rows."""

from __future__ import annotations

import json

import pytest
from inplace_helpers import (
    camel,
    import_is_refused,
    other_settings,
    same_flow_and_verdicts,
    same_status,
    status_names_what_is_missing,
)

from salesflow.schema import TABLES

# canonical table -> the customer's table in schema crm
SOURCE = {
    "opportunities": "deals",
    "stage_events": "deal_stage_changes",
    "activities": "touches",
    "requests": "service_requests",
    "forecasts": "forecast_calls",
    "opportunity_history": "deal_history",
}


def config(url: str, schema: str, columns: dict[str, list[str]], rest: str, **data: object) -> str:
    """A salesflow.toml reading every canonical table in place from schema crm, with the
    other settings (``rest``: stages, calendar, targets) of the imported copy."""
    lines = ["[data]", f'url = "{url}"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in data.items()]
    lines.append(f'derived_schema = "{schema}"')
    for name, table in SOURCE.items():
        lines += ["", f"[data.tables.{name}]", f'table = "crm.{table}"', ""]
        lines.append(f"[data.tables.{name}.columns]")
        lines += [f'{c} = "{camel(c)}"' for c in columns[name]]
    return "\n".join(lines) + "\n\n" + rest


@pytest.fixture(scope="module")
def company(tmp_path_factory, pg_new_database):
    """The same small company twice: imported into a DuckDB workspace, and in PostgreSQL
    tables of its own (schema crm, other names, CamelCase columns)."""
    import ibis
    import psycopg

    from salesflow.demo import build_demo
    from salesflow.workspace import Workspace

    root = tmp_path_factory.mktemp("inplace")
    build_demo(root / "duck", opportunities=200, seed=4)
    url = pg_new_database().replace("postgresql://", "postgres://")
    pg = ibis.connect(url)
    pg.raw_sql("CREATE SCHEMA crm").close()
    columns: dict[str, list[str]] = {}
    with Workspace.open(root / "duck") as ws:
        for name, table in SOURCE.items():
            data = ws.data.table(name).to_pyarrow()
            columns[name] = list(data.column_names)
            pg.create_table(table, data.rename_columns([camel(c) for c in columns[name]]),
                            database="crm")  # fmt: skip
    pg.disconnect()
    psql = psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True)
    inplace = root / "pg"
    inplace.mkdir()
    (inplace / "salesflow.toml").write_text(
        config(url, "salesflow", columns, other_settings(root / "duck"), read_only=True),
        encoding="utf-8",
    )
    rest = other_settings(root / "duck")
    yield {"root": root, "url": url, "psql": psql, "columns": columns, "rest": rest}
    psql.close()


def rows_in(psql, table: str) -> int:
    return psql.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def tables_in(psql, schema: str) -> set[str]:
    query = "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
    return {r[0] for r in psql.execute(query, (schema,)).fetchall()}


@pytest.mark.postgres
def test_same_answers_as_the_imported_copy(company, cli):
    duck, pg = company["root"] / "duck", company["root"] / "pg"
    on_pg, on_duck = same_status(cli, pg, duck)
    deals = rows_in(company["psql"], "crm.deals")
    assert sum(on_pg["outcomes"].values()) == deals > 150
    fresh = on_pg["freshness"]  # the first command built the derived tables
    assert fresh["derived_schema"] == "salesflow" and fresh["fresh"] is True
    assert fresh["source"]["opportunities"] == {
        "table": "crm.deals",
        "rows": deals,
        "latest": company["psql"]
        .execute('SELECT greatest(max("CreatedAt"), max("ClosedAt")) FROM crm.deals')
        .fetchone()[0]
        .isoformat(),
    }
    assert on_duck["freshness"]["fresh"] is True and on_duck["freshness"]["changes"] == []

    same_flow_and_verdicts(cli, pg, duck)  # the stored tables in the derived schema serve it

    # salesflow's own tables went to the derived schema; crm holds only the customer's tables
    assert tables_in(company["psql"], "crm") == set(SOURCE.values())
    assert {"flow_cases", "salesflow_watermark", *TABLES} <= tables_in(company["psql"], "salesflow")
    assert tables_in(company["psql"], "public") == set()


@pytest.mark.postgres
def test_import_is_refused_and_nothing_is_written(company, cli, deals_csv, tmp_path):
    pg, psql = company["root"] / "pg", company["psql"]
    before = {t: rows_in(psql, f"crm.{t}") for t in SOURCE.values()}
    import_is_refused(cli, pg, deals_csv(tmp_path, "NEW", 5))
    assert {t: rows_in(psql, f"crm.{t}") for t in SOURCE.values()} == before
    assert tables_in(psql, "crm") == set(SOURCE.values())
    assert rows_in(psql, "crm.deals WHERE \"OpportunityId\" LIKE 'NEW-%'") == 0


@pytest.mark.postgres
def test_status_names_a_missing_column_and_table(company, cli, tmp_path):
    columns = {k: list(v) for k, v in company["columns"].items()}
    text = config(company["url"], "salesflow_bad", columns, company["rest"], read_only=True)
    ws = tmp_path / "bad"
    ws.mkdir()
    (ws / "salesflow.toml").write_text(
        text.replace('closed_at = "ClosedAt"', 'closed_at = "ClosedOn"').replace(
            "crm.touches", "crm.touchpoints"
        ),
        encoding="utf-8",
    )
    status_names_what_is_missing(cli, ws)
    assert tables_in(company["psql"], "salesflow_bad") == set()  # checked before any write


@pytest.mark.postgres
def test_freshness_sees_new_rows(company, cli, tmp_path, monkeypatch):
    from salesflow.derived import portable

    psql = company["psql"]
    assert cli.json("-w", company["root"] / "pg", "status")["freshness"]["fresh"] is True
    manual = tmp_path / "manual"
    manual.mkdir()
    text = config(
        company["url"], "salesflow_manual", company["columns"], company["rest"], refresh="manual"
    )
    (manual / "salesflow.toml").write_text(text, encoding="utf-8")
    first = cli.json("-w", manual, "status", "--refresh")["freshness"]
    assert first["refreshed"] is True and first["fresh"] is True
    n = rows_in(psql, "crm.deals")
    psql.execute(
        'CREATE TEMP TABLE more AS SELECT * FROM crm.deals ORDER BY "OpportunityId" LIMIT 120'
    )
    psql.execute('UPDATE more SET "OpportunityId" = \'X-\' || "OpportunityId"')
    psql.execute("INSERT INTO crm.deals SELECT * FROM more")
    assert rows_in(psql, "crm.deals") == n + 120
    stale = cli.json("-w", manual, "status")
    fresh = stale["freshness"]
    assert fresh["fresh"] is False and fresh["refreshed"] is False
    assert [c["table"] for c in fresh["changes"]] == ["opportunities"]
    assert fresh["changes"][0]["new_rows"] == 120
    assert fresh["changes"][0]["rows_now"] == n + 120
    assert "the source changed since" in fresh["message"]
    assert "120 new rows in crm.deals" in fresh["message"]
    assert sum(stale["outcomes"].values()) == n + 120  # the data itself is read live
    assert cli.json("-w", manual, "flow")["derived_fresh"] is True  # stage events unchanged
    # a rebuild that fails half-way leaves the old tables and watermark, and says so
    mark = "SELECT built_at FROM salesflow_manual.salesflow_watermark"
    built = psql.execute(mark).fetchone()

    def fail(events):
        raise OSError("the disk is full")

    monkeypatch.setattr(portable, "_transitions", fail)
    broken = cli("-w", manual, "status", "--refresh", ok=False)
    assert broken.exit_code != 0 and "the disk is full" in str(broken.exception)
    assert psql.execute(mark).fetchone() == built
    assert psql.execute("SELECT count(*) FROM salesflow_manual.flow_stages").fetchone()[0] > 0
    monkeypatch.undo()
    # the auto workspace rebuilds on its next command and says why
    auto = cli.json("-w", company["root"] / "pg", "status")["freshness"]
    assert auto["refreshed"] is True and auto["fresh"] is True
    assert auto["changes"][0]["words"] == "120 new rows in crm.deals"
    again = cli.json("-w", company["root"] / "pg", "status")["freshness"]
    assert again["refreshed"] is False and again["fresh"] is True and again["changes"] == []
    psql.execute("DELETE FROM crm.deals WHERE \"OpportunityId\" LIKE 'X-%'")


def test_a_schema_salesflow_may_not_create_is_a_request_to_the_admin(pg_url, tmp_path):
    """A role without CREATE on the database is refused by PostgreSQL itself: the error asks
    the admin for the schema. A connection that is gone is not a refusal, and says so."""
    import uuid

    import ibis
    import psycopg

    from salesflow import inplace
    from salesflow.errors import StorageError
    from salesflow.settings import load_settings

    role = f"salesflow_reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"REVOKE CREATE ON DATABASE {pg_url.rsplit('/', 1)[1]} FROM PUBLIC")
    (tmp_path / "salesflow.toml").write_text(
        f'[data]\nurl = "{pg_url}"\nderived_schema = "salesflow_own"\n', encoding="utf-8"
    )
    settings = load_settings(tmp_path)
    server, database = pg_url.split("@", 1)[1].rsplit("/", 1)
    as_role = ibis.connect(f"postgres://{role}@{server}/{database}")
    try:
        with pytest.raises(StorageError) as refusal:
            inplace.create_own_schema(as_role, settings, "SCHEMA")
    finally:
        as_role.disconnect()
    said = f"{refusal.value} {refusal.value.hint}"
    assert "not allowed" in said and "Ask the admin to create schema salesflow_own" in said
    gone = ibis.connect(pg_url.replace("postgresql://", "postgres://"))
    gone.disconnect()
    with pytest.raises(StorageError) as lost:
        inplace.create_own_schema(gone, settings, "SCHEMA")
    said = f"{lost.value} {lost.value.hint}"
    assert "could not create" in said and "reachable" in said and "admin" not in said
    with psycopg.connect(pg_url, autocommit=True) as admin:  # and nothing was created
        found = admin.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'salesflow_own'"
        ).fetchone()[0]
        admin.execute(f"DROP ROLE {role}")
    assert found == 0
