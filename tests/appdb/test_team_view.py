"""Invitations, statements and merges on the real app DB (SQLite and PostgreSQL)."""

from __future__ import annotations

import string
from datetime import timedelta

import pytest

from salesflow.appdb import StaleEditError
from salesflow.appdb.errors import AlreadyExistsError, InvalidRecordError
from salesflow.appdb.records import now
from salesflow.errors import NotFoundError, SalesflowError
from salesflow.workbench import team_view as tv

SECRET = "k" * 20 + "0123456789abcdefghij"


def _invited(store, name="Ann", **options):
    return tv.invite(store, name, secret=SECRET, who="lead", **options)


def test_a_link_opens_its_invitation_and_nothing_else(store) -> None:
    ann = _invited(store, email="ann@example.com")
    bob = _invited(store, "Bob")
    record, key = tv.open_invitation(store, ann.token, secret=SECRET)
    assert (record.id, record.name, record.email) == (ann.invitation.id, "Ann", "ann@example.com")
    assert tv.open_invitation(store, bob.token, secret=SECRET)[0].name == "Bob"
    assert ann.token != bob.token and key not in (ann.invitation.to_dict().values())
    assert "key_hash" not in ann.invitation.to_dict()
    assert (
        ann.to_dict("https://sf.example.com/")["link"]
        == f"https://sf.example.com/invite/{ann.token}"
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t[:10],
        lambda t: "",
        lambda t: "x.y",
    ],
    ids=["tampered", "cut", "empty", "forged"],
)
def test_a_changed_link_is_refused_with_a_sentence(store, change) -> None:
    ann = _invited(store)
    with pytest.raises(tv.InvitationError, match="This invitation link is not valid"):
        tv.open_invitation(store, change(ann.token), secret=SECRET)
    with pytest.raises(tv.InvitationError, match="not valid"):  # another server's secret
        tv.open_invitation(store, ann.token, secret=SECRET[::-1])


def test_every_other_last_letter_is_refused(store) -> None:
    """base64 leaves spare bits in a signature's last letter: a link differing only there
    decodes to the same signature, and used to open the invitation now and then."""
    token = _invited(store).token
    letters = string.ascii_letters + string.digits + "-_"
    for letter in letters.replace(token[-1], ""):
        with pytest.raises(tv.InvitationError, match="not valid"):
            tv.open_invitation(store, token[:-1] + letter, secret=SECRET)
    assert tv.open_invitation(store, token, secret=SECRET)[0].name == "Ann"


def test_an_expired_or_withdrawn_link_is_refused(store) -> None:
    ann = _invited(store, expires=timedelta(hours=1))
    later = now() + timedelta(hours=2)
    with pytest.raises(tv.InvitationError, match=r"This invitation expired on .* UTC") as caught:
        tv.open_invitation(store, ann.token, secret=SECRET, at=later)
    assert "lead" in caught.value.hint
    tv.open_invitation(store, ann.token, secret=SECRET)  # still open now
    store.invitations.revoke(ann.invitation.id)
    with pytest.raises(tv.InvitationError, match="withdrawn"):
        tv.open_invitation(store, ann.token, secret=SECRET)


@pytest.mark.parametrize(
    ("text", "error"),
    [("2w", None), ("48h", None), ("14d", None), ("0d", "cannot stay open"),
     ("91d", "cannot stay open"), ("soon", "not a duration")],
)  # fmt: skip
def test_expiry(text, error) -> None:
    if error:
        with pytest.raises(SalesflowError, match=error):
            tv.parse_expiry(text)
    else:
        assert tv.parse_expiry(text) in (timedelta(days=14), timedelta(hours=48))


def test_statements_are_checked_capped_and_kept_in_the_authors_words(store) -> None:
    ann = _invited(store).invitation
    with pytest.raises(InvalidRecordError, match="needs an answer"):
        tv.send_statement(store, ann, {"difficulty": "  ", "goal": "more wins"})
    with pytest.raises(InvalidRecordError, match="2,001 characters"):
        tv.send_statement(store, ann, {"difficulty": "x" * 2001})
    doc = tv.send_statement(
        store, ann, {"difficulty": " Quotes wait 10 days for pricing ", "evidence": "", "goal": "x"}
    )
    assert (doc["author"], doc["difficulty"], doc["evidence"], doc["udr_id"]) == (
        "Ann", "Quotes wait 10 days for pricing", None, None,
    )  # fmt: skip
    for i in range(tv.MAX_STATEMENTS - 1):
        tv.send_statement(store, ann, {"difficulty": f"statement {i}"})
    with pytest.raises(SalesflowError, match=f"already been used for {tv.MAX_STATEMENTS}"):
        tv.send_statement(store, ann, {"difficulty": "one more"})
    assert store.statements.count_for(ann.id) == tv.MAX_STATEMENTS


def _three(store):
    people = {n: _invited(store, n).invitation for n in ("Ann", "Bob", "Cem")}
    texts = {
        "Ann": "Proposals wait more than ten days for pricing approval",
        "Bob": "Our quotes sit for two weeks waiting on a pricing approval",
        "Cem": "The office coffee machine is broken",
    }
    return [tv.send_statement(store, people[n], {"difficulty": t}) for n, t in texts.items()]


def test_grouped_by_what_people_have_in_common(store) -> None:
    ann, bob, cem = _three(store)
    doc = tv.grouped_statements(store)
    assert doc["statements"] == 3
    assert [[s["id"] for s in g["statements"]] for g in doc["groups"]] == [
        [ann["id"], bob["id"]], [cem["id"]],
    ]  # fmt: skip
    first = doc["groups"][0]
    assert first["people"] == ["Ann", "Bob"] and "pricing" in first["shared_words"]
    assert {f["code"] for f in first["statements"][1]["lint"]["findings"]} <= {
        "VAGUE", "UNMEASURED", "CAUSE", "SOLUTION", "BLAME", "COMPOUND",
    }  # fmt: skip


def test_merge_makes_one_udr_that_keeps_every_contributor(store) -> None:
    ann, bob, cem = _three(store)
    doc = tv.merge_statements(
        store, [bob["id"], ann["id"]], who="lead", statement="Proposals wait 10+ days for pricing"
    )
    udr = store.udrs.get(doc["udr"]["id"])
    assert udr.statement == "Proposals wait 10+ days for pricing" and udr.created_by == "lead"
    contributors = tv.contributors(store, udr.id)
    assert [(c["author"], c["difficulty"]) for c in contributors] == [
        ("Ann", ann["difficulty"]), ("Bob", bob["difficulty"]),
    ]  # fmt: skip
    assert all(c["merged_by"] == "lead" for c in contributors)
    assert [h.action for h in store.history("statement", ann["id"])] == ["update"]
    # merged statements leave the list; merging one again is refused, and nothing changes
    assert [g["statements"][0]["id"] for g in tv.grouped_statements(store)["groups"]] == [cem["id"]]
    udrs_before = len(store.udrs.list())
    with pytest.raises(AlreadyExistsError, match=f"already part of UDR {udr.id}"):
        tv.merge_statements(store, [ann["id"], cem["id"]], who="lead")
    assert (
        len(store.udrs.list()) == udrs_before
        and store.statements.list(merged=False)[0].id == cem["id"]
    )
    # into an existing UDR; without wording a new UDR takes the first statement's words
    tv.merge_statements(store, [cem["id"]], who="lead", into=udr.id)
    assert [c["author"] for c in tv.contributors(store, udr.id)] == ["Ann", "Bob", "Cem"]


def test_merge_refusals(store) -> None:
    ann, bob, _ = _three(store)
    with pytest.raises(NotFoundError, match="Statement 999 does not exist"):
        tv.merge_statements(store, [ann["id"], 999], who="lead")
    with pytest.raises(InvalidRecordError, match="not both"):
        tv.merge_statements(store, [ann["id"]], who="lead", into=1, statement="x")
    with pytest.raises(InvalidRecordError, match="at least one"):
        tv.merge_statements(store, [], who="lead")
    with pytest.raises(NotFoundError, match="UDR 12345"):
        tv.merge_statements(store, [ann["id"]], who="lead", into=12345)
    assert store.statements.list(merged=True) == [] and store.udrs.list() == []
    doc = tv.merge_statements(store, [ann["id"], bob["id"]], who="lead")
    assert doc["udr"]["statement"] == ann["difficulty"]


def test_a_merge_racing_another_changes_nothing(store) -> None:
    """The claim is conditional: statements merged between the check and the write stop it."""
    from sqlalchemy import update

    from salesflow.appdb.models import Statement

    ann, bob, _ = _three(store)
    original = store.udrs.create_in

    def sneak_in(session, *args, **kwargs):
        record = original(session, *args, **kwargs)  # another merge claims Bob's meanwhile
        session.execute(update(Statement).where(Statement.id == bob["id"]).values(udr_id=record.id))
        return record

    store.udrs.create_in = sneak_in
    with pytest.raises(StaleEditError, match="while you did; nothing was changed"):
        tv.merge_statements(store, [ann["id"], bob["id"]], who="lead")
    store.udrs.create_in = original
    assert store.udrs.list() == [] and store.statements.list(merged=True) == []


def test_statements_travel_in_the_knowledge_file_but_links_do_not(store, target_store) -> None:
    from salesflow.appdb import export_knowledge, import_knowledge

    ann, bob, _ = _three(store)
    udr_id = tv.merge_statements(store, [ann["id"], bob["id"]], who="lead")["udr"]["id"]
    first = export_knowledge(store)
    assert len(first["tables"]["statements"]) == 3 and len(first["tables"]["invitations"]) == 3
    assert all(r["key_hash"].startswith("not-exported-") for r in first["tables"]["invitations"])
    counts = import_knowledge(target_store, first)
    assert counts["statements"] == 3 and counts["invitations"] == 3
    assert [c["author"] for c in tv.contributors(target_store, udr_id)] == ["Ann", "Bob"]
    assert export_knowledge(target_store) == {**first, "tables": first["tables"]}
    with pytest.raises(InvalidRecordError, match="already holds"):  # statements are knowledge
        import_knowledge(target_store, first)
    secret = export_knowledge(store, include_secrets=True)
    assert all(len(r["key_hash"]) == 64 for r in secret["tables"]["invitations"])
