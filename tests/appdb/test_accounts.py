"""Sessions in the app DB and the accounts' audit trail, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from salesflow.appdb import CURRENT, InvalidRecordError
from salesflow.appdb.models import LoginSession
from salesflow.errors import NotFoundError

HOUR = timedelta(hours=1)


def _start(store, user_id: int, key: str, lifetime: timedelta = HOUR):
    return store.sessions.start(user_id, key_hash=key, lifetime=lifetime, client="10.0.0.7")


def test_a_session_resolves_until_it_ends(store):
    ann = store.users.create("ann", role="admin")
    started = _start(store, ann.id, "k1")
    session, user = store.sessions.resolve("k1", idle=HOUR)
    assert (session.id, session.user, user.name, session.client) == (
        started.id,
        "ann",
        "ann",
        "10.0.0.7",
    )
    assert store.sessions.resolve("other", idle=HOUR) is None
    store.sessions.end_key("k1")
    assert store.sessions.resolve("k1", idle=HOUR) is None
    assert store.sessions.list() == []


def test_expired_and_idle_sessions_end(store):
    ann = store.users.create("ann", role="admin")
    _start(store, ann.id, "short", lifetime=timedelta(seconds=-1))
    assert store.sessions.resolve("short", idle=HOUR) is None
    _start(store, ann.id, "idle")
    long_ago = datetime.now(UTC) - 2 * HOUR
    with store.transaction() as session:
        session.execute(update(LoginSession).values(last_seen_at=long_ago))
    assert store.sessions.resolve("idle", idle=HOUR) is None
    assert store.sessions.list() == []  # the idle one was deleted on the way


@pytest.mark.parametrize(
    "change", [{"role": "viewer"}, {"disabled": True}, {"password_hash": "argon2$new"}]
)
def test_a_change_of_rights_ends_the_accounts_sessions(store, change):
    store.users.create("root", role="admin")
    ann = store.users.create("ann", role="admin")
    bob = store.users.create("bob", role="editor")
    _start(store, ann.id, "a1")
    _start(store, ann.id, "a2")
    _start(store, bob.id, "b1")
    store.users.update(ann.id, expected_version=CURRENT, who="root", **change)
    assert store.sessions.resolve("a1", idle=HOUR) is None
    assert store.sessions.resolve("a2", idle=HOUR) is None
    assert store.sessions.resolve("b1", idle=HOUR) is not None  # others keep theirs
    event = store.users.events("ann")[-1]
    assert event.who == "root" and event.detail["sessions_ended"] == 2


def test_admins_end_sessions_and_every_change_is_audited(store):
    root = store.users.create("root", role="admin", who="cli")
    ann = store.users.create("ann", role="editor", who="root")
    one = _start(store, ann.id, "a1")
    _start(store, ann.id, "a2")
    assert [s.user for s in store.sessions.list()] == ["ann", "ann"]
    store.sessions.end(one.id, who="root")
    assert store.sessions.end_all(ann.id, who="root") == 1
    with pytest.raises(NotFoundError, match="has ended already"):
        store.sessions.end(one.id, who="root")
    store.users.update(ann.id, expected_version=CURRENT, role="viewer", who="root")
    store.users.update(ann.id, expected_version=CURRENT, disabled=True, who="root")
    store.users.update(ann.id, expected_version=CURRENT, disabled=False, who="root")
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    token = store.users.add_token(
        ann.id, token_hash="h", name="crm", expires_at=expires, who="root"
    )
    assert store.users.tokens()[0].expires_at == expires
    assert token.expired(expires) and not token.expired(expires - HOUR)
    store.users.revoke_token(token.id, who="root")
    events = [(e.who, e.action, e.account) for e in store.users.events()]
    assert events == [
        ("cli", "create", "root"),
        ("root", "create", "ann"),
        ("root", "session-end", "ann"),
        ("root", "sessions-end", "ann"),
        ("root", "role", "ann"),
        ("root", "disable", "ann"),
        ("root", "enable", "ann"),
        ("root", "token-create", "ann"),
        ("root", "token-revoke", "ann"),
    ]
    assert store.users.events("ann")[3].detail["role"] == ["editor", "viewer"]
    assert all(e.at.tzinfo is not None for e in store.users.events(root.name))


def test_the_last_enabled_admin_cannot_be_removed(store):
    ann = store.users.create("ann", role="admin")
    with pytest.raises(InvalidRecordError, match="no enabled admin"):
        store.users.update(ann.id, expected_version=CURRENT, role="editor")
    with pytest.raises(InvalidRecordError, match="no enabled admin"):
        store.users.update(ann.id, expected_version=CURRENT, disabled=True)
    assert store.users.get(ann.id).role == "admin"  # nothing was changed
    store.users.create("bob", role="admin")
    assert store.users.update(ann.id, expected_version=CURRENT, disabled=True).disabled
