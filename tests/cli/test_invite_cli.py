"""`salesflow invite` and `salesflow statements` on a fresh workspace, the way a leader types them."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def ws(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ws"
    cli("init", path)
    monkeypatch.setenv("SALESFLOW_WORKSPACE", str(path))
    monkeypatch.setenv("SALESFLOW_USER", "lead")
    return path


def _send(ws: Path, token: str, text: str) -> None:
    """What the invitation page does with a person's answers (same core calls)."""
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings
    from salesflow.web.config import web_settings
    from salesflow.workbench.team_view import open_invitation, send_statement

    settings = load_settings(ws)
    with KnowledgeStore.open(settings.resolved_app_url()) as store:
        invitation, _ = open_invitation(store, token, secret=web_settings(settings).secret_key)
        send_statement(store, invitation, {"difficulty": text})


def test_invite_prints_a_link_that_opens_for_that_person(cli, ws) -> None:
    doc = cli.json("invite", "add", "Ann", "--email", "ann@example.com", "--expires", "2w")
    assert (doc["name"], doc["email"], doc["state"], doc["created_by"]) == (
        "Ann", "ann@example.com", "open", "lead",
    )  # fmt: skip
    assert doc["path"] == f"/invite/{doc['token']}" and doc["link"] is None
    human = cli("invite", "add", "Bob").stdout
    assert "Invitation 2 for Bob, open until" in human and "/invite/" in human
    (ws / "salesflow.toml").write_text(
        (ws / "salesflow.toml").read_text() + '\n[web]\npublic_url = "https://sf.example.com"\n'
    )
    linked = cli.json("invite", "add", "Cem")
    assert linked["link"] == f"https://sf.example.com/invite/{linked['token']}"
    _send(ws, doc["token"], "Quotes wait 12 days for pricing approval")
    listed = cli.json("invite", "list")["invitations"]
    assert [(i["name"], i["statements"]) for i in listed] == [("Ann", 1), ("Bob", 0), ("Cem", 0)]
    assert "token" not in listed[0] and "key_hash" not in listed[0]
    assert cli.json("invite", "revoke", "2")["state"] == "revoked"
    bad = cli("invite", "add", "Dee", "--expires", "1y", ok=False)
    assert bad.exit_code == 1 and "'1y' is not a duration" in bad.stderr


def test_statements_grouped_then_merged_into_one_udr(cli, ws) -> None:
    texts = {
        "Ann": "Proposals wait more than ten days for pricing approval",
        "Bob": "Our quotes sit for two weeks waiting on a pricing approval",
        "Cem": "The office coffee machine is broken",
    }
    for name, text in texts.items():
        _send(ws, cli.json("invite", "add", name)["token"], text)
    grouped = cli.json("statements")
    assert [g["people"] for g in grouped["groups"]] == [["Ann", "Bob"], ["Cem"]]
    assert grouped["statements"] == 3 and "pricing" in grouped["groups"][0]["shared_words"]
    assert "Group 1 (Ann, Bob)" in cli("statements").stdout
    ids = [str(s["id"]) for s in grouped["groups"][0]["statements"]]
    merged = cli.json(
        "statements", "merge", *ids, "--statement", "Quotes wait 10+ days for pricing"
    )
    udr_id = merged["udr"]["id"]
    assert [c["author"] for c in merged["contributors"]] == ["Ann", "Bob"]
    shown = cli.json("udr", "show", udr_id)
    assert shown["statement"] == "Quotes wait 10+ days for pricing"
    assert [(c["author"], c["difficulty"]) for c in shown["contributors"]] == [
        ("Ann", texts["Ann"]), ("Bob", texts["Bob"]),
    ]  # fmt: skip
    again = cli("statements", "merge", ids[0], ok=False)
    assert again.exit_code == 2 and f"already part of UDR {udr_id}" in again.stderr  # a conflict
    cem = str(grouped["groups"][1]["statements"][0]["id"])
    human = cli("statements", "merge", cem, "--into", str(udr_id)).stdout
    assert "Contributors: Ann, Bob, Cem." in human
    assert cli.json("statements")["groups"] == []
