"""Which activities add value: the class mix against pandas on a log with a known mix and effect."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from salesflow.analysis.activity_classes import activity_classes
from salesflow.analysis.activity_value import activity_value
from salesflow.cli import app
from salesflow.errors import ConfigError
from salesflow.settings import settings_from_mapping
from salesflow.workspace import Workspace

from .activity_mix import STAGES, build_activity_mix

CLASS_OF = {
    "demo": "value",
    "meeting": "value",
    "call": "necessary",
    "email": "necessary",
    "webinar": "necessary",  # unclassified: counted as necessary
    "internal_review": "waste",
}


@pytest.fixture(scope="module")
def mix(tmp_path_factory):
    path = tmp_path_factory.mktemp("activity") / "ws"
    frames = build_activity_mix(path)
    with Workspace.open(path, read_only=True) as ws:
        doc = activity_value(ws.data, ws.settings, by="stage")
    return path, frames, doc


def _truth(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each activity up to its deal's close, with its class, outcome and stage (pandas only)."""
    opps = frames["opportunities"].set_index("opportunity_id")
    a = frames["activities"].assign(type=lambda f: f["type"].str.lower())
    a["cls"] = a["type"].map(CLASS_OF)
    a["outcome"] = opps.loc[a["opportunity_id"], "outcome"].to_numpy()
    a = a[~(a["occurred_at"] > opps.loc[a["opportunity_id"], "closed_at"].to_numpy())]
    events = frames["stage_events"].sort_values("entered_at")
    a = pd.merge_asof(
        a.sort_values("occurred_at"),
        events,
        left_on="occurred_at",
        right_on="entered_at",
        by="opportunity_id",
    )
    return a


def _shares(a: pd.DataFrame) -> dict[str, tuple[float, float]]:
    count = a.groupby("cls").size() / len(a)
    time = a.groupby("cls")["duration_minutes"].sum() / a["duration_minutes"].sum()
    return {c: (float(count.get(c, 0.0)), float(time.get(c, 0.0))) for c in CLASS_OF.values()}


def _check(mix_doc: dict, a: pd.DataFrame) -> None:
    assert mix_doc["activities"] == len(a)
    assert mix_doc["minutes"] == pytest.approx(a["duration_minutes"].sum())
    for c, (share, time_share) in _shares(a).items():
        assert mix_doc[c]["share"] == pytest.approx(share), c
        assert mix_doc[c]["time_share"] == pytest.approx(time_share), c


def _same(a, b) -> None:
    """Equal documents; sums of minutes may differ in the last bits (the engine adds in parallel)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-9)
    else:
        assert a == b


def test_shares_on_won_and_lost_deals_equal_pandas(mix):
    _, frames, doc = mix
    a = _truth(frames)
    assert doc["durations"] is True
    for group in ("all", "won", "lost"):
        _check(doc["outcomes"][group], a if group == "all" else a[a["outcome"] == group])
    assert doc["outcomes"]["won"]["value"]["share"] > doc["outcomes"]["lost"]["value"]["share"]


def test_shares_per_stage_equal_pandas(mix):
    _, frames, doc = mix
    a = _truth(frames)
    assert [s["stage"] for s in doc["stages"]] == list(STAGES)
    for s in doc["stages"]:
        here = a[a["stage"] == s["stage"]]
        for group in ("all", "won", "lost"):
            _check(s[group], here if group == "all" else here[here["outcome"] == group])


def test_types_say_their_class_and_where_it_came_from(mix):
    _, _, doc = mix
    types = {t["type"]: t for t in doc["types"]}
    assert types["internal_review"]["class"] == "waste"
    assert types["internal_review"]["origin"] == "settings"
    assert types["meeting"]["origin"] == "settings" and types["demo"]["origin"] == "default"
    assert types["webinar"]["origin"] == "unclassified"
    assert doc["unclassified"] == ["webinar"] and "webinar" in doc["summary"]
    assert types["proposal"]["activities"] == 0  # a default class with no activity yet


def test_drivers_find_the_demo_effect_and_ignore_emails_after_the_close(mix):
    _, _, doc = mix
    won = doc["drivers"]["won"]
    assert "activities_internal_review" in won["variables"]
    effects = {e["variable"]: e for e in won["effects"]}
    demo = effects["activities_demo"]
    assert demo["direction"] == "increases" and demo["significant"]
    assert demo["phrase"].startswith("Deals with one more demo win")
    for quiet in ("activities_email", "activities_internal_review", "activities_call"):
        assert not effects[quiet]["significant"], quiet
    assert doc["drivers"]["cycle_time"]["outcome"] == "cycle_time"
    assert "deals with one more demo win" in doc["summary"]
    assert "waste is" in doc["summary"]


def test_cli_prints_the_same_document(mix):
    path, _, doc = mix
    runner = CliRunner()
    result = runner.invoke(app, ["activities", "-w", str(path), "--by", "stage", "--json"])
    assert result.exit_code == 0, result.output
    _same(json.loads(result.stdout), json.loads(json.dumps(doc)))
    human = runner.invoke(app, ["activities", "-w", str(path)])
    assert human.exit_code == 0 and "value-adding" in human.output.lower()


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ({"activities": {"value": {"demo": "great"}}}, "is not a class"),
        ({"activities": {"value": {"Demo": "value", "demo": "waste"}}}, "twice"),
        ({"activities": {"values": {}}}, "unknown key"),
        ({"activities": {"value": ["demo"]}}, "must be a table"),
        ({"activities": "demo"}, "must be a table"),
        ({"activities": {"duration_column": 5}}, "duration_column"),
    ],
)
def test_wrong_settings_are_clear_errors(tmp_path, toml, words):
    settings = settings_from_mapping(tmp_path, toml, {})
    with pytest.raises(ConfigError, match=words) as caught:
        activity_classes(settings)
    assert str(tmp_path / "salesflow.toml") in str(caught.value.where)


def test_settings_classes_win_over_defaults_in_any_case(tmp_path):
    toml = {"activities": {"value": {"Email": "waste", "site_visit": "value-adding"}}}
    classes = activity_classes(settings_from_mapping(tmp_path, toml, {}))
    assert classes.of("EMAIL") == "waste" and classes.of("site_visit") == "value"
    assert classes.of("demo") == "value" and classes.of("fax") == "necessary"
    assert classes.origin("fax") == "unclassified"


def test_a_duration_column_that_is_not_there_is_a_clear_error(mix, tmp_path):
    path, _, _ = mix
    with Workspace.open(path, read_only=True) as ws:
        raw = {**ws.settings.raw, "activities": {"duration_column": "minutes_spent"}}
        settings = settings_from_mapping(path, raw, {})
        with pytest.raises(ConfigError, match="minutes_spent"):
            activity_value(ws.data, settings, drivers=False)


def test_notebook_api_gives_the_same_numbers_and_a_chart(mix):
    import salesflow

    path, _, doc = mix
    with salesflow.open(path) as ws:
        result = ws.activities(by="stage")
        with pytest.raises(ConfigError, match="by 'owner'"):
            ws.activities(by="owner")
    _same(json.loads(json.dumps(result.to_dict())), json.loads(json.dumps(doc)))
    frame = result.to_pandas().set_index(["stage", "deals"])
    lead_won = doc["stages"][0]["won"]
    assert frame.loc[("Lead", "won"), "waste_share"] == pytest.approx(lead_won["waste"]["share"])
    assert [t.name for t in result.chart().data] == ["value-adding", "necessary", "waste"]
    bars = result.chart(time=True).data[0]
    assert list(bars.x)[:2] == [
        lead_won["value"]["time_share"],
        doc["stages"][0]["lost"]["value"]["time_share"],
    ]


def test_salesflow_drivers_takes_activity_counts_as_variables(mix):
    from salesflow.analysis import drivers

    path, _, _ = mix
    names = ["activities_demo", "waste_activities", "activities_email"]
    with Workspace.open(path, read_only=True) as ws:
        result = drivers(ws, outcome="won", variables=names)
    effects = {e.variable: e for e in result.effects}
    assert effects["activities_demo"].direction == "increases"
    assert effects["activities_demo"].significant
    assert not effects["waste_activities"].significant
    assert not effects["activities_email"].significant  # the e-mails after a loss do not count
