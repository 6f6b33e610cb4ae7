"""Extra deal fields: ``[sync.salesforce.fields]`` and ``[sync.hubspot.properties]`` bring the
org's custom fields (``Region__c``, ``deal_region``) as extra columns of opportunities — operating
variables — under the names the admin chose; a later incremental sync updates them; a field the
CRM does not know stops the sync with a sentence naming it and changes nothing."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from crm_servers import TOKEN as SF_TOKEN
from crm_servers import FakeSalesforce, TLSServer, stamp
from hubspot_server import TOKEN as HS_TOKEN
from hubspot_server import HubSpotServer
from test_hubspot_pull import STAGE_IDS

from salesflow.errors import ConfigError
from salesflow.settings import load_settings
from salesflow.sync.hubspot import hubspot_settings
from salesflow.sync.salesforce import salesforce_settings
from salesflow.workspace import Workspace, init_workspace

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REGIONS = ["EMEA", "AMER", "APAC"]


def region(i: int, moved: bool = False) -> str:
    """Deal i's region (deal 2 moves to LATAM later)."""
    return "LATAM" if moved else REGIONS[i % 3]


def configure(path: Path, text: str) -> Path:
    init_workspace(path).close()
    config = path / "salesflow.toml"
    config.write_text(config.read_text(encoding="utf-8") + text, encoding="utf-8")
    return path


def add_section(path: Path, text: str) -> None:
    config = path / "salesflow.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")


def column(path: Path, name: str) -> dict[str, str | None]:
    with Workspace.open(path) as ws:
        rows = ws.raw.sql(f"SELECT opportunity_id, {name} FROM opportunities").fetchall()
    return dict(rows)


def variable(cli, path: Path, name: str) -> dict | None:
    """The operating variable ``name`` as ``salesflow variables --json`` lists it."""
    doc = json.loads(cli("variables", "--json", "--workspace", path).stdout)
    return next((v for v in doc["variables"] if v["name"] == name), None)


# --- Salesforce --------------------------------------------------------------------------------


def sf_deal(api: FakeSalesforce, i: int, at: datetime, reg: str, stage: str = "Prospecting"):
    api.put(
        "Opportunity",
        {
            "Id": f"0065g00000Abc{i:05d}",
            "Name": f"Deal {i}",
            "Account": {"type": "Account", "Name": f"Account {i}"},
            "Owner": {"type": "User", "Name": "Ann Lee"},
            "StageName": stage,
            "Amount": 1000.0 * i,
            "CloseDate": "2026-06-30",
            "CreatedDate": stamp(T0),
            "LeadSource": "Web",
            "Type": "New Business",
            "Region__c": reg,
        },
        at,
    )


@pytest.fixture
def sf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fake = FakeSalesforce(page_size=50, now=T0 + timedelta(days=1))
    fake.custom_fields = {"Region__c"}
    for i in range(1, 6):
        sf_deal(fake, i, T0, region(i))
    with TLSServer(fake, tmp_path) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", SF_TOKEN)
        monkeypatch.delenv("SALESFORCE_REFRESH_TOKEN", raising=False)
        yield fake


def sf_workspace(path: Path, api: FakeSalesforce, field: str | None = "Region__c") -> Path:
    return configure(
        path,
        f'\n[sync.salesforce]\ninstance_url = "{api.url}"\nretries = 2\nbackoff_seconds = 0.01\n'
        + (f'[sync.salesforce.fields]\nsales_region = "{field}"\n' if field else ""),
    )


def test_salesforce_custom_field_becomes_a_column_and_follows_changes(cli, sf, tmp_path):
    ws = sf_workspace(tmp_path / "ws", sf, field=None)
    cli("sync", "salesforce", "--once", "--json", "--workspace", ws)
    # the admin adds the field; nothing changed in Salesforce since, yet every deal gets it
    add_section(ws, '[sync.salesforce.fields]\nsales_region = "Region__c"\n')
    out = json.loads(cli("sync", "salesforce", "--once", "--json", "--workspace", ws).stdout)
    assert out["tables"]["opportunities"]["updated"] == 5
    expected = {f"0065g00000Abc{i:05d}": region(i) for i in range(1, 6)}
    assert column(ws, "sales_region") == expected
    # the query asked for the field, once
    opp = [s for s in sf.queries() if s.object == "Opportunity"]
    assert "Region__c" not in opp[0].soql and opp[1].soql.count("Region__c") == 1
    found = variable(cli, ws, "sales_region")
    assert found is not None and found["type"] == "categorical" and found["coverage"] == 1.0
    # deal 2 moves region in Salesforce; the next sync fetches only it and updates the column
    sf.now = T0 + timedelta(days=3)
    sf_deal(sf, 2, T0 + timedelta(days=2), region(2, moved=True))
    out = json.loads(cli("sync", "salesforce", "--once", "--json", "--workspace", ws).stdout)
    # only the changed deal came back, and it counts as changed
    assert out["tables"]["opportunities"] == {
        "added": 0,
        "updated": 1,
        "deleted": 0,
        "unchanged": 0,
    }
    expected["0065g00000Abc00002"] = "LATAM"
    assert column(ws, "sales_region") == expected


def test_salesforce_unknown_field_names_it_and_changes_nothing(cli, sf, tmp_path):
    ws = sf_workspace(tmp_path / "ws", sf)
    cli("sync", "salesforce", "--once", "--json", "--workspace", ws)
    before = column(ws, "sales_region")
    data = (ws / "data.duckdb").read_bytes() if (ws / "data.duckdb").exists() else None
    config = ws / "salesflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('"Region__c"', '"Regoin__c"'), encoding="utf-8"
    )
    sf_deal(sf, 1, T0 + timedelta(hours=2), "AMER")  # a change the failed sync must not apply
    result = cli("sync", "salesforce", "--once", "--json", "--workspace", ws, ok=False)
    said = result.stdout + result.stderr
    assert "Regoin__c" in said and "[sync.salesforce.fields]" in said
    assert column(ws, "sales_region") == before
    if data is not None:
        assert (ws / "data.duckdb").read_bytes() == data


# --- HubSpot -----------------------------------------------------------------------------------


def hs_seed(crm) -> None:
    crm.custom_properties = {"deal_region"}
    for i in range(1, 6):
        crm.add_deal(
            str(1000 + i),
            T0 + timedelta(minutes=i),
            dealname=f"Deal {i}",
            dealstage=STAGE_IDS[0],
            amount=str(100 * i),
            hubspot_owner_id="101",
            closedate="2026-06-30T00:00:00.000Z",
            deal_region=region(i),
        )


def hs_workspace(path: Path, base_url: str, prop: str | None = "deal_region") -> Path:
    return configure(
        path,
        f'\n[sync.hubspot]\nbase_url = "{base_url}"\nretries = 2\nbackoff_seconds = 0.01\n'
        + (f'[sync.hubspot.properties]\nsales_region = "{prop}"\n' if prop else ""),
    )


@pytest.fixture
def hs(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", HS_TOKEN)
    with HubSpotServer() as server:
        hs_seed(server.crm)
        yield server


def test_hubspot_custom_property_becomes_a_column_and_follows_changes(cli, hs, tmp_path):
    ws = hs_workspace(tmp_path / "ws", hs.base_url, prop=None)
    cli("sync", "hubspot", "--once", "--json", "--workspace", ws)
    # the admin adds the property; nothing changed in HubSpot since, yet every deal gets it
    add_section(ws, '[sync.hubspot.properties]\nsales_region = "deal_region"\n')
    out = json.loads(cli("sync", "hubspot", "--once", "--json", "--workspace", ws).stdout)
    assert out["tables"]["opportunities"]["updated"] == 5
    expected = {str(1000 + i): region(i) for i in range(1, 6)}
    assert column(ws, "sales_region") == expected
    reads = len(hs.crm.searched_ids())
    hs.crm.change_deal("1002", T0 + timedelta(days=1), deal_region=region(2, moved=True))
    out = json.loads(cli("sync", "hubspot", "--once", "--json", "--workspace", ws).stdout)
    assert out["tables"]["opportunities"] == {
        "added": 0,
        "updated": 1,
        "deleted": 0,
        "unchanged": 0,
    }
    assert hs.crm.searched_ids()[reads:] == ["1002"]  # the last sync read only that deal
    expected["1002"] = "LATAM"
    assert column(ws, "sales_region") == expected


def test_hubspot_unknown_property_names_it_and_changes_nothing(cli, hs, tmp_path):
    ws = hs_workspace(tmp_path / "ws", hs.base_url, prop="deal_regoin")
    result = cli("sync", "hubspot", "--once", "--json", "--workspace", ws, ok=False)
    said = result.stdout + result.stderr
    assert "deal_regoin" in said and "[sync.hubspot.properties]" in said
    with Workspace.open(ws) as w:
        assert w.raw.sql("SELECT count(*) FROM opportunities").fetchone() == (0,)


# --- the settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "line", "words"),
    [
        ("salesforce.fields", 'segment = "Segment__c"', "salesflow's own deal columns"),
        ("salesforce.fields", 'Region = "Region__c"', "not a plain column name"),
        ("salesforce.fields", 'region = "Region__c FROM User"', "not a Salesforce Opportunity"),
        ("salesforce.fields", "region = 3", "not a Salesforce Opportunity"),
        ("salesforce.fields", 'lead_source = "Lead_Source__c"', "mistaken for 'LeadSource'"),
        ("hubspot.properties", 'owner = "deal_owner2"', "salesflow's own deal columns"),
        ("hubspot.properties", 'deal_name = "x_name"', "mistaken for 'Deal Name'"),
        ("hubspot.properties", 'region = "deal\'region"', "not a HubSpot deal property"),
    ],
)
def test_bad_extra_field_settings_are_refused_with_a_sentence(tmp_path, section, line, words):
    crm = section.split(".")[0]
    head = (
        '[sync.salesforce]\ninstance_url = "https://example.my.salesforce.com"\n'
        if crm == "salesforce"
        else "[sync.hubspot]\n"
    )
    ws = configure(tmp_path / "ws", f"\n{head}[sync.{section}]\n{line}\n")
    env = {"SALESFORCE_ACCESS_TOKEN": "x", "HUBSPOT_ACCESS_TOKEN": "x"}
    read = salesforce_settings if crm == "salesforce" else hubspot_settings
    with pytest.raises(ConfigError) as caught:
        read(load_settings(ws), env)
    assert words in caught.value.message
    assert f"[sync.{section}]" in caught.value.message


def test_good_extra_field_settings_are_kept_in_order(tmp_path):
    ws = configure(
        tmp_path / "ws",
        '\n[sync.salesforce]\ninstance_url = "https://example.my.salesforce.com"\n'
        '[sync.salesforce.fields]\nregion = "Region__c"\ntier = "Account_Tier__c"\n',
    )
    config = salesforce_settings(load_settings(ws), {"SALESFORCE_ACCESS_TOKEN": "x"})
    assert config.fields == (("region", "Region__c"), ("tier", "Account_Tier__c"))
