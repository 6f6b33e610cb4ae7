"""Repositories on SQLite and PostgreSQL: history, stale edits, soft delete and restore."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from salesflow.appdb import CURRENT, AlreadyExistsError, InvalidRecordError, StaleEditError
from salesflow.errors import NotFoundError

BINDING = {
    "metric": "stage_time",
    "filters": {"stage": "Proposal"},
    "bad_if": "above",
    "threshold": 10,
}


def _graph(store):
    udr = store.udrs.create("38% of proposals wait > 10 days for pricing in Q3", who="ann")
    cause = store.causes.create("Pricing approval needs two signatures", who="ann")
    link = store.links.create(udr.id, cause.id, who="ann", text="approvals queue up")
    return udr, cause, link


def test_udr_round_trip_with_normalised_binding(store):
    udr = store.udrs.create(
        "  31% of lost deals had no activity in their final 30 days ",
        who="ann",
        owner="VP Sales",
        tags=["loss", "activity", "loss"],
        binding=BINDING,
    )
    got = store.udrs.get(udr.id)
    assert got == udr
    assert got.statement == "31% of lost deals had no activity in their final 30 days"
    assert got.tags == ["activity", "loss"]
    assert got.binding == {
        "metric": "stage_time",
        "filters": {"stage": "Proposal"},
        "params": {},
        "period": "month",
        "season": None,
        "bad_if": "above",
        "threshold": 10.0,
        "mode": "threshold",
    }
    assert got.version == 1 and got.deleted_at is None
    assert got.created_at.tzinfo is UTC and got.created_at == got.updated_at
    assert (datetime.now(UTC) - got.created_at).total_seconds() < 60


def test_udrs_and_causes_share_one_node_id_space(store):
    udr, cause, _ = _graph(store)
    second = store.udrs.create("12 deals stalled over 60 days in Negotiation, May", who="bob")
    assert [udr.id, cause.id, second.id] == [1, 2, 3]
    assert [store.node_kind(i) for i in (1, 2, 3)] == ["udr", "cause", "udr"]


def test_every_change_is_in_history_with_before_and_after(store):
    udr = store.udrs.create("Win rate was 18% in Q2 against 25% planned", who="ann")
    v2 = store.udrs.update(udr.id, who="bob", expected_version=1, owner="bob", tags=["win"])
    store.udrs.delete(udr.id, who="carl", expected_version=2)
    store.udrs.restore(udr.id, who="dana")
    history = store.udrs.history(udr.id)
    assert [(h.action, h.who) for h in history] == [
        ("create", "ann"),
        ("update", "bob"),
        ("delete", "carl"),
        ("restore", "dana"),
    ]
    assert history[0].before is None and history[0].after["statement"] == udr.statement
    assert history[1].before["owner"] is None and history[1].after["owner"] == "bob"
    assert (history[1].before["version"], history[1].after["version"]) == (1, 2)
    assert history[1].after == v2.to_dict()
    assert history[2].after["deleted_at"] is not None and history[3].after["deleted_at"] is None
    assert [h.after["version"] for h in history] == [1, 2, 3, 4]


def test_an_update_that_changes_nothing_keeps_the_version_and_writes_no_history(store):
    udr = store.udrs.create("Forecast was 14% above actual in Q4", who="ann", owner="ann")
    same = store.udrs.update(udr.id, who="bob", expected_version=1, owner="ann")
    assert same.version == 1
    assert len(store.udrs.history(udr.id)) == 1


def test_a_stale_edit_is_refused_and_names_who_changed_it(store):
    udr = store.udrs.create("Median Proposal time was 12 days in May", who="ann")
    store.udrs.update(udr.id, who="bob", expected_version=udr.version, owner="bob")
    with pytest.raises(StaleEditError) as caught:
        store.udrs.update(udr.id, who="carl", expected_version=udr.version, owner="carl")
    message = caught.value.message
    assert "changed by bob" in message
    assert "you edited version 1, it is now version 2" in message
    assert "Reload it" in message
    assert store.udrs.get(udr.id).owner == "bob"
    with pytest.raises(StaleEditError):
        store.udrs.delete(udr.id, who="carl", expected_version=1)
    assert store.udrs.get(udr.id).deleted_at is None


def test_soft_delete_hides_and_restore_brings_back(store):
    udr, cause, link = _graph(store)
    store.causes.delete(cause.id, who="bob", expected_version=cause.version)
    assert store.causes.list() == []
    assert [c.id for c in store.causes.list(include_deleted=True)] == [cause.id]
    assert store.links.list() == []  # a link to a deleted node is hidden with it
    assert [x.id for x in store.links.list(include_deleted=True)] == [link.id]
    with pytest.raises(NotFoundError, match="was deleted on"):
        store.causes.get(cause.id)
    with pytest.raises(NotFoundError, match=f"{cause.id} is neither a UDR nor a cause"):
        store.links.create(udr.id, cause.id, who="bob")
    restored = store.causes.restore(cause.id, who="bob")
    assert restored.deleted_at is None and restored.version == 3
    assert [x.id for x in store.links.list()] == [link.id]
    with pytest.raises(InvalidRecordError, match="not deleted"):
        store.causes.restore(cause.id, who="bob")


def test_links_refuse_self_links_duplicates_and_unknown_nodes(store):
    udr, cause, link = _graph(store)
    with pytest.raises(InvalidRecordError, match="its own cause"):
        store.links.create(udr.id, udr.id, who="ann")
    with pytest.raises(InvalidRecordError, match=f"link {link.id}"):
        store.links.create(udr.id, cause.id, who="ann")
    with pytest.raises(NotFoundError, match="99 is neither a UDR nor a cause"):
        store.links.create(udr.id, 99, who="ann")
    loop = store.links.create(cause.id, udr.id, who="ann", is_loop=True, and_group="g1")
    assert (loop.is_loop, loop.and_group, loop.evidence) == (True, "g1", [])
    checked = store.links.update(
        link.id, who="eve", expected_version=1, evidence=[{"kind": "text", "text": "3 of 5 deals"}]
    )
    assert checked.evidence == [{"kind": "text", "text": "3 of 5 deals"}] and checked.version == 2


def test_improvement_attacks_and_measure(store):
    udr, cause, _ = _graph(store)
    imp = store.improvements.create(
        "One signature under 20k",
        objective="Cut Proposal time by a third, so deals close before budgets move",
        why="Proposal wait is the largest share of cycle time",
        theory="Approvals queue at the second signer",
        countermeasure="Single signature for deals under 20k",
        attacks=[cause.id],
        measure={
            "metric": "stage_time",
            "filters": {"stage": "Proposal"},
            "bad_if": "above",
            "baseline_start": "2025-01-01",
            "baseline_end": "2025-06-30",
            "start_date": "2025-07-01",
            "target": "8",
        },
        who="bob",
    )
    assert imp.attacks == (cause.id,) and imp.status == "proposed"
    assert imp.measure["target"] == 8.0 and imp.measure["period"] == "month"
    moved = store.improvements.update(
        imp.id, who="bob", expected_version=1, attacks=[udr.id, cause.id], status="running"
    )
    assert moved.attacks == (udr.id, cause.id) and moved.version == 2
    only_attacks = store.improvements.update(
        imp.id, who="bob", expected_version=2, attacks=[udr.id]
    )
    assert only_attacks.version == 3 and only_attacks.attacks == (udr.id,)
    history = store.improvements.history(imp.id)
    assert history[-1].before["attacks"] == [udr.id, cause.id] and history[-1].after["attacks"] == [
        udr.id
    ]
    with pytest.raises(NotFoundError, match="42 is neither a UDR nor a cause"):
        store.improvements.update(imp.id, who="bob", expected_version=3, attacks=[42])
    assert store.improvements.get(imp.id).attacks == (udr.id,)  # the failed edit rolled back


@pytest.mark.parametrize(
    ("measure", "message"),
    [
        ({"metric": "win_rate", "bad_if": "sideways"}, "bad_if is 'sideways'"),
        ({"bad_if": "below"}, "needs a metric id"),
        ({"metric": "win_rate", "bad_if": "below", "start_date": "1/7/2025"}, "YYYY-MM-DD"),
        (
            {
                "metric": "win_rate",
                "bad_if": "below",
                "baseline_start": "2025-06-01",
                "baseline_end": "2025-01-01",
            },
            "ends (2025-01-01) before it starts",
        ),
        ({"metric": "win_rate", "bad_if": "below", "colour": "red"}, "unknown keys: colour"),
    ],
)
def test_bad_measures_are_refused_with_a_fix(store, measure, message):
    with pytest.raises(InvalidRecordError, match=message.replace("(", r"\(").replace(")", r"\)")):
        store.improvements.create("x", objective="y", who="ann", measure=measure)
    assert store.improvements.list(include_deleted=True) == []


def test_threshold_mode_needs_a_threshold(store):
    with pytest.raises(InvalidRecordError, match="needs a threshold"):
        store.udrs.create(
            "x", who="a", binding={"metric": "win_rate", "bad_if": "below", "mode": "threshold"}
        )
    signal = store.udrs.create("x", who="a", binding={"metric": "win_rate", "bad_if": "below"})
    assert signal.binding["mode"] == "signal" and signal.binding["threshold"] is None


def test_checkins_are_recorded_in_order(store):
    imp = store.improvements.create("Faster replies", objective="Reply within 24 h", who="ann")
    later = store.checkins.create(
        imp.id,
        who="ann",
        answered_by="bob",
        measure_value=31.5,
        asked_at=datetime(2025, 9, 1, tzinfo=UTC),
    )
    earlier = store.checkins.create(
        imp.id, who="ann", objective_answer="Still 24 h", asked_at=datetime(2025, 8, 1, tzinfo=UTC)
    )
    assert [c.id for c in store.checkins.list(imp.id)] == [earlier.id, later.id]
    assert later.measure_value == 31.5 and later.asked_by == "ann"
    assert store.history("checkin", later.id)[0].after["measure_value"] == 31.5
    store.improvements.delete(imp.id, who="ann", expected_version=CURRENT)
    with pytest.raises(NotFoundError, match=f"Improvement {imp.id}"):
        store.checkins.create(imp.id, who="ann")


def test_users_and_tokens(store):
    admin = store.users.create("ann", role="admin", password_hash="argon2$x")
    assert "argon2" not in repr(admin) and "password_hash" not in admin.to_dict()
    with pytest.raises(InvalidRecordError, match="already exists"):
        store.users.create("ann", role="viewer")
    with pytest.raises(InvalidRecordError, match="Role 'boss'"):
        store.users.create("bob", role="boss")
    assert store.users.by_name("ann").password_hash == "argon2$x"
    assert store.users.by_name("nobody") is None
    store.users.create("root", role="admin")  # ann is not the last admin
    off = store.users.update(admin.id, expected_version=1, disabled=True, role="editor")
    assert (off.disabled, off.role, off.version) == (True, "editor", 2)
    with pytest.raises(StaleEditError, match="it is now version 2") as stale:
        store.users.update(admin.id, expected_version=1, role="viewer")
    assert stale.value.current["role"] == "editor" and "password_hash" not in stale.value.current
    with pytest.raises(AlreadyExistsError):
        store.users.create("ann", role="viewer")
    token = store.users.add_token(admin.id, token_hash="sha256:abc", name="crm webhook")
    assert store.users.token_by_hash("sha256:abc").id == token.id
    store.users.touch_token(token.id, at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert store.users.tokens(admin.id)[0].last_used_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    store.users.revoke_token(token.id)
    assert store.users.token_by_hash("sha256:abc") is None


def test_changes_since_and_emptiness(store):
    assert store.is_empty()
    start = datetime.now(UTC)
    _graph(store)
    assert not store.is_empty()
    assert [(h.entity, h.action) for h in store.changes_since(start)] == [
        ("udr", "create"),
        ("cause", "create"),
        ("link", "create"),
    ]


def test_unknown_fields_and_missing_rows(store):
    udr, _, _ = _graph(store)
    with pytest.raises(InvalidRecordError, match="no editable field colour"):
        store.udrs.update(udr.id, who="a", expected_version=1, colour="red")
    with pytest.raises(NotFoundError, match="UDR 404 does not exist"):
        store.udrs.get(404)
    with pytest.raises(InvalidRecordError, match="cannot be empty"):
        store.causes.create("  ", who="a")


def test_a_measured_cause_is_promoted_to_a_udr_and_keeps_its_links(store):
    udr, cause, link = _graph(store)
    deeper = store.causes.create("Finance reviews approvals weekly", who="ann")
    below = store.links.create(cause.id, deeper.id, who="ann")
    promoted = store.causes.promote(
        cause.id,
        who="bob",
        expected_version=1,
        statement="Approvals took a median 6 days in Q3 against 1 day expected",
        binding={"metric": "stage_time", "bad_if": "above", "threshold": 1},
    )
    assert (promoted.id, promoted.kind, promoted.owner) == (cause.id, "udr", None)
    assert store.node_kind(cause.id) == "udr"
    assert [n.id for n in store.nodes()] == [udr.id, cause.id, deeper.id]
    assert [x.id for x in store.links.list()] == [link.id, below.id]
    assert [h.action for h in store.causes.history(cause.id)] == ["create", "delete"]
    assert [(h.action, h.who) for h in store.udrs.history(cause.id)] == [("create", "bob")]
    with pytest.raises(InvalidRecordError, match="promoted to UDR"):
        store.causes.restore(cause.id, who="ann")


def test_nul_characters_are_refused_on_every_backend(store):
    with pytest.raises(InvalidRecordError, match="statement contains a NUL character"):
        store.udrs.create("Win rate\x00 was 18%", who="ann")
    udr, _, link = _graph(store)
    with pytest.raises(InvalidRecordError, match="evidence contains a NUL"):
        store.links.update(link.id, who="ann", expected_version=1, evidence=[{"note": "a\x00b"}])
    assert store.links.get(link.id).version == 1
    assert [u.id for u in store.udrs.list()] == [udr.id]
