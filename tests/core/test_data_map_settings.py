"""``[data]`` read-in-place settings: what is accepted, and the error a wrong one gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesflow.errors import ConfigError
from salesflow.settings import load_settings
from salesflow.workspace import Workspace

URL = "postgres://someone@db.example/sales"


def write(tmp_path: Path, data: str) -> Path:
    (tmp_path / "salesflow.toml").write_text(data, encoding="utf-8")
    return tmp_path


GOOD = f"""
[data]
url = "{URL}"
derived_schema = "salesflow"
refresh = "manual"

[data.tables.opportunities]
table = "crm.deals"

[data.tables.opportunities.columns]
opportunity_id = "Id"
created_at = "CreatedDate"
region = "Region__c"

[data.tables.stage_events]
table = "deal_stages"
"""


def test_a_mapping_is_read_and_read_only(tmp_path):
    dm = load_settings(write(tmp_path, GOOD)).data_map
    assert dm.active and dm.read_only and dm.refresh == "manual"
    assert dm.derived_schema == "salesflow"
    deals = dm.tables["opportunities"]
    assert (deals.schema, deals.name) == ("crm", "deals")
    assert deals.columns == {
        "opportunity_id": "Id",
        "created_at": "CreatedDate",
        "region": "Region__c",
    }
    stages = dm.tables["stage_events"]
    assert (stages.schema, stages.name, dict(stages.columns)) == (None, "deal_stages", {})


def test_a_plain_workspace_maps_nothing(tmp_path):
    dm = load_settings(write(tmp_path, '[data]\nurl = "duckdb:///data.duckdb"\n')).data_map
    assert not dm.active and not dm.read_only and dm.tables == {}


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (('refresh = "manual"', 'refresh = "hourly"'), "[data] refresh = 'hourly'"),
        (('refresh = "manual"', "read_only = 1"), "[data] read_only = 1 is not true or false"),
        (('refresh = "manual"', "read_only = false"), "never writes into the tables"),
        (('refresh = "manual"', 'refrsh = "auto"'), "unknown setting 'refrsh'"),
        (('derived_schema = "salesflow"', 'derived_schema = "my schema"'), "is not a schema name"),
        (('derived_schema = "salesflow"', ""), "Reading tables in place needs [data] derived_schema"),
        ((URL, "duckdb:///data.duckdb"), "[data] derived_schema is for a database server"),
        (('table = "deal_stages"', 'files = "lake/stages/*.parquet"'), "a database server does not read files"),
        (('table = "deal_stages"', 'files = "lake/stages/*.json"'), "names no Parquet or CSV files"),
        (('table = "deal_stages"', 'table = "deal_stages"\nfiles = "lake/x/"'), 'needs table = "SCHEMA.TABLE" or files ='),
        (('refresh = "manual"', '[data.attach]\ncrm = "crm.duckdb"'), "[data.attach] attaches DuckDB files to a DuckDB workspace only"),
        (('table = "crm.deals"', 'table = "crm.deals; drop"'), "is not a table name"),
        (('table = "crm.deals"', 'name = "crm.deals"'), '[data.tables.opportunities] needs table = "SCHEMA.TABLE" or files'),
        (('created_at = "CreatedDate"', "created_at = 3"), "must map canonical names to column names"),
        (('derived_schema = "salesflow"', 'derived_schema = "crm"'), "inside derived_schema 'crm'"),
    ],
)  # fmt: skip
def test_a_wrong_setting_is_named(tmp_path, change, said):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, GOOD.replace(*change)))
    assert said in caught.value.message
    assert "salesflow.toml" in caught.value.message


DUCK = """
[data]
url = "duckdb:///data.duckdb"

[data.attach]
crm = "../warehouse/crm.duckdb"

[data.tables.opportunities]
table = "crm.deals"

[data.tables.stage_events]
files = "lake/stage_events/"
"""


def test_a_duckdb_workspace_maps_attached_files_and_parquet_files(tmp_path):
    dm = load_settings(write(tmp_path, DUCK)).data_map
    assert dm.active and dm.read_only and dm.derived_schema is None
    assert dm.attach == {"crm": "../warehouse/crm.duckdb"}
    assert dm.tables["opportunities"].source == "crm.deals"
    events = dm.tables["stage_events"]
    assert (events.files, events.source) == ("lake/stage_events/", "lake/stage_events/")


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (('table = "crm.deals"', 'table = "deals"'), "table = 'deals' names no attached database"),
        (('table = "crm.deals"', 'table = "sales.deals"'), "names no attached database"),
        (('crm = "', 'CRM = "'), "[data.attach] CRM = '../warehouse/crm.duckdb' is not NAME"),
    ],
)  # fmt: skip
def test_a_wrong_duckdb_mapping_is_named(tmp_path, change, said):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, DUCK.replace(*change)))
    assert said in caught.value.message


def test_an_unknown_canonical_table_is_named_when_the_workspace_opens(tmp_path):
    path = write(tmp_path, GOOD.replace("[data.tables.stage_events]", "[data.tables.stages]"))
    with pytest.raises(ConfigError) as caught:
        Workspace.open(path)
    assert "[data.tables.stages] names no canonical table" in caught.value.message
    assert 'Did you mean "stage_events"' in caught.value.message
