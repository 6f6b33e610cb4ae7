"""Optimistic concurrency in the database itself: the version check and the write are one step.

Real threads against a real SQLite file and a real PostgreSQL schema (see conftest.py).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from salesflow.appdb import (
    CURRENT,
    KnowledgeStore,
    StaleEditError,
    VersionRequiredError,
)
from salesflow.errors import NotFoundError

N = 20


def _race(store: KnowledgeStore, change) -> tuple[list, list]:
    """Run ``change(i)`` in N threads released at once; return the results and the errors."""
    start = threading.Barrier(N)

    def one(i: int):
        start.wait()
        try:
            return change(i), None
        except Exception as exc:
            return None, exc

    with ThreadPoolExecutor(N) as pool:
        outcomes = list(pool.map(one, range(N)))
    return [r for r, _ in outcomes if r is not None], [e for _, e in outcomes if e is not None]


def test_twenty_parallel_edits_of_one_version_one_wins(store):
    udr = store.udrs.create("Win rate was 24% in Q3, against 30% planned", who="ann")
    saved, errors = _race(
        store,
        lambda i: store.udrs.update(
            udr.id, who=f"user{i}", expected_version=udr.version, owner=f"owner{i}"
        ),
    )
    assert len(saved) == 1 and len(errors) == N - 1
    assert all(isinstance(e, StaleEditError) for e in errors), errors
    final = store.udrs.get(udr.id)
    assert (final.owner, final.version) == (saved[0].owner, 2)
    assert all(e.current["owner"] == final.owner and e.current["version"] == 2 for e in errors)
    assert [h.action for h in store.udrs.history(udr.id)] == ["create", "update"]


def test_twenty_parallel_deletes_one_wins(store):
    cause = store.causes.create("Leads wait a day for an owner", who="ann")
    deleted, errors = _race(
        store, lambda i: store.causes.delete(cause.id, who=f"u{i}", expected_version=1)
    )
    assert len(deleted) == 1 and len(errors) == N - 1
    assert all(isinstance(e, NotFoundError | StaleEditError) for e in errors), errors
    assert [h.action for h in store.causes.history(cause.id)] == ["create", "delete"]


def test_current_applies_every_change_without_losing_one(store):
    """``CURRENT`` (the CLI without --version) still reads and writes in one locked step."""
    link_udr = store.udrs.create("Win rate was 18% in Q2", who="ann")
    cause = store.causes.create("Leads wait a day for an owner", who="ann")
    link = store.links.create(link_udr.id, cause.id, who="ann")

    def append(i: int):
        return store.links.update(link.id, who=f"u{i}", expected_version=CURRENT, text=f"t{i}")

    saved, errors = _race(store, append)
    assert errors == [] and len(saved) == N
    assert store.links.get(link.id).version == 1 + N
    assert len(store.links.history(link.id)) == 1 + N


def test_a_writer_arriving_between_our_check_and_our_save_waits_then_is_refused(store):
    udr = store.udrs.create("Median Proposal time was 12 days in May", who="ann")
    other: dict[str, object] = {}

    def the_other_worker() -> None:
        try:
            store.udrs.update(udr.id, who="bob", expected_version=1, owner="bob")
        except StaleEditError as exc:
            other["error"] = exc

    from sqlalchemy import event

    def start_the_other_mid_save(*_args: object) -> None:
        if "thread" not in other:
            other["thread"] = thread = threading.Thread(target=the_other_worker)
            thread.start()
            thread.join(0.5)
            other["waited"] = thread.is_alive()  # it cannot pass our claimed row

    event.listen(store._sessions, "before_flush", start_the_other_mid_save)
    store.udrs.update(udr.id, who="carl", expected_version=1, owner="carl")
    event.remove(store._sessions, "before_flush", start_the_other_mid_save)
    other["thread"].join(10)  # type: ignore[attr-defined]
    assert other["waited"] is True
    assert "it is now version 2" in str(other["error"])
    final = store.udrs.get(udr.id)
    assert (final.owner, final.version) == ("carl", 2)


def test_a_change_without_a_version_is_refused(store):
    udr = store.udrs.create("Win rate was 24% in Q3", who="ann")
    for call in (
        lambda: store.udrs.update(udr.id, who="a", expected_version=None, owner="x"),
        lambda: store.udrs.delete(udr.id, who="a", expected_version=None),
        lambda: store.users.update(1, expected_version=0, role="viewer"),
    ):
        with pytest.raises(VersionRequiredError, match="Say which version"):
            call()
    assert store.udrs.get(udr.id).version == 1
