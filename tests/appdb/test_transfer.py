"""Export → import into a fresh DB → export gives the identical document, across backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from salesflow.appdb import InvalidRecordError, KnowledgeStore, export_knowledge, import_knowledge


def fill(store: KnowledgeStore) -> None:
    """A small workbench with every kind of row: edits, soft deletes, restores, check-ins."""
    ann = store.users.create("ann", role="admin", password_hash="argon2$ann")
    store.users.create("vic", role="viewer")
    store.users.add_token(ann.id, token_hash="sha256:cafe", name="crm webhook")
    udr = store.udrs.create(
        "38% of proposals wait > 10 days for pricing, Q3",
        who="ann",
        tags=["pricing", "Ünïcode ✓"],
        binding={
            "metric": "stage_time",
            "filters": {"stage": "Proposal"},
            "bad_if": "above",
            "threshold": 10,
        },
    )
    gone = store.udrs.create("Win rate was 18% in Q2", who="ann")
    store.udrs.delete(gone.id, who="bob", expected_version=gone.version)
    cause = store.causes.create("Pricing approval needs two signatures", who="ann")
    deeper = store.causes.create("Finance reviews approvals weekly", who="bob")
    store.causes.update(deeper.id, who="bob", expected_version=1, owner="finance")
    store.links.create(udr.id, cause.id, who="ann", text="approvals queue", evidence=["3 of 5"])
    link = store.links.create(cause.id, deeper.id, who="ann", and_group="g1")
    store.links.delete(link.id, who="ann", expected_version=link.version)
    store.links.restore(link.id, who="bob")
    imp = store.improvements.create(
        "One signature under 20k",
        objective="Cut Proposal time by a third",
        who="ann",
        attacks=[cause.id, deeper.id],
        measure={
            "metric": "stage_time",
            "bad_if": "above",
            "start_date": "2025-07-01",
            "target": 7,
        },
    )
    store.improvements.update(imp.id, who="bob", expected_version=1, status="running")
    store.checkins.create(
        imp.id,
        who="ann",
        answered_by="bob",
        measure_value=8.25,
        asked_at=datetime(2025, 8, 1, tzinfo=UTC),
    )


def test_export_import_export_is_identical(store, target_store):
    fill(store)
    first = export_knowledge(store)
    counts = import_knowledge(target_store, json.loads(json.dumps(first)))
    second = export_knowledge(target_store)
    assert second == first
    assert json.dumps(second, sort_keys=True) == json.dumps(first, sort_keys=True)
    # history: 2 UDR creates + 1 delete, 2 cause creates + 1 update, 2 link creates + delete +
    # restore, improvement create + update, 1 check-in = 13
    assert counts["udrs"] == 2 and counts["history"] == len(first["tables"]["history"]) == 13
    assert counts["users"] == 2 and "api_tokens" not in first["tables"]


def test_imported_knowledge_keeps_working(store, target_store):
    fill(store)
    import_knowledge(target_store, export_knowledge(store))
    assert [u.id for u in target_store.udrs.list()] == [1]
    assert target_store.udrs.get(2, include_deleted=True).deleted_at is not None
    assert target_store.improvements.get(1).attacks == (3, 4)
    # ids continue after the imported ones (PostgreSQL sequences were moved on)
    assert target_store.causes.create("Quotes need legal review", who="ann").id == 5
    assert target_store.links.create(1, 5, who="ann").id == 3
    assert target_store.improvements.create("x", objective="y", who="ann").id == 2
    assert target_store.users.create("zoe", role="editor").id == 3
    history = target_store.history("cause", 4)
    assert [h.action for h in history] == ["create", "update"]


def test_secrets_travel_only_when_asked(store, target_store):
    fill(store)
    plain = export_knowledge(store)
    assert all("password_hash" not in u for u in plain["tables"]["users"])
    assert plain["includes_secrets"] is False
    full = export_knowledge(store, include_secrets=True)
    assert full["tables"]["api_tokens"][0]["token_hash"] == "sha256:cafe"
    import_knowledge(target_store, full)
    assert target_store.users.by_name("ann").password_hash == "argon2$ann"
    assert target_store.users.token_by_hash("sha256:cafe").name == "crm webhook"
    assert export_knowledge(target_store, include_secrets=True) == full


def test_import_refuses_a_non_empty_knowledge_base_unless_replace(store, target_store):
    fill(store)
    doc = export_knowledge(store)
    target_store.users.create("ann", role="editor", password_hash="argon2$kept")
    target_store.udrs.create("Something already here", who="ann")
    with pytest.raises(InvalidRecordError, match="already holds UDRs") as caught:
        import_knowledge(target_store, doc)
    assert "--replace" in caught.value.message
    counts = import_knowledge(target_store, doc, replace=True)
    assert counts["users"] == 1  # vic is new; ann is kept as she is
    assert target_store.users.by_name("ann").password_hash == "argon2$kept"
    assert [u.name for u in target_store.users.list()] == ["ann", "vic"]
    after = export_knowledge(target_store)
    assert {k: v for k, v in after["tables"].items() if k != "users"} == {
        k: v for k, v in doc["tables"].items() if k != "users"
    }


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"tables": {}}, "not a salesflow knowledge file"),
        (
            {"format": "salesflow-knowledge", "format_version": 99, "tables": {}},
            "format version 99",
        ),
        (
            {
                "format": "salesflow-knowledge",
                "format_version": 1,
                "tables": {"udrs": [{"id": 1, "colour": "red"}]},
            },
            r"Unknown field\(s\) colour \(table udrs, row 1\)",
        ),
        (
            {"format": "salesflow-knowledge", "format_version": 1, "tables": {"spells": []}},
            "unknown table",
        ),
        (
            {"format": "salesflow-knowledge", "format_version": 1, "tables": {"udrs": [{"id": 1}]}},
            "inconsistent",
        ),
    ],
)
def test_bad_documents_are_refused_and_change_nothing(store, doc, message):
    with pytest.raises(InvalidRecordError, match=message):
        import_knowledge(store, doc)
    assert store.is_empty()
