"""Everyone's own view first: invite team members to state the results they dislike, see what
they have in common, and merge alike statements into one UDR that keeps every contributor.

An invitation link carries a random key signed with the web secret (itsdangerous), so a changed
or cut link is refused before the database is asked; the app DB keeps only the key's SHA-256 and
the expiry, so a copy of the database opens nothing and a withdrawn link stops at once. The
signing secret is the caller's (the web app's), never read here.

The starter questions (:data:`QUESTIONS`) are answered in the person's words; the first answer
is the statement the lint advises on and the grouping compares.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from salesflow.errors import SalesflowError

if TYPE_CHECKING:
    from salesflow.appdb import InvitationRecord, KnowledgeStore

__all__ = [
    "MAX_STATEMENTS",
    "QUESTIONS",
    "InvitationError",
    "Invited",
    "grouped_statements",
    "invite",
    "merge_statements",
    "open_invitation",
    "parse_expiry",
    "send_statement",
]

#: field → the starter question, in the order people answer them.
QUESTIONS = {
    "difficulty": "What is making it difficult to reach your goals?",
    "evidence": "What evidence do you have?",
    "goal": "What do you want to accomplish, and why?",
}
MAX_STATEMENTS = 20  # per invitation: a person's own view, not a flood
MAX_DAYS = 90
SALT = "salesflow-invitation"
EXPIRY = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)


class InvitationError(SalesflowError):
    """An invitation link that cannot be used: changed, unknown, expired or withdrawn."""


@dataclass(frozen=True)
class Invited:
    """A new invitation and its link's token (shown once; only its key's hash is stored)."""

    invitation: InvitationRecord
    token: str

    def to_dict(self, base_url: str | None = None) -> dict[str, Any]:
        path = f"/invite/{self.token}"
        return {
            **self.invitation.to_dict(),
            "token": self.token,
            "path": path,
            "link": f"{base_url.rstrip('/')}{path}" if base_url else None,
        }


def parse_expiry(text: str) -> timedelta:
    """``14d``, ``2w`` or ``48h`` → how long a link stays open (at most 90 days)."""
    match = EXPIRY.match(text or "")
    if not match:
        raise SalesflowError(
            f"{text!r} is not a duration", hint="Write it like 14d (days), 2w (weeks) or 48h"
        )
    amount, unit = int(match[1]), match[2].lower()
    span = {"h": timedelta(hours=amount), "d": timedelta(days=amount)}.get(
        unit, timedelta(weeks=amount)
    )
    if not timedelta(hours=1) <= span <= timedelta(days=MAX_DAYS):
        raise SalesflowError(
            f"An invitation cannot stay open for {text.strip()}",
            hint=f"Choose between 1h and {MAX_DAYS}d",
        )
    return span


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _serializer(secret: str):  # type: ignore[no-untyped-def]
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(secret, salt=SALT)


def invite(
    store: KnowledgeStore,
    name: str,
    *,
    secret: str,
    who: str,
    email: str | None = None,
    expires: timedelta = timedelta(days=14),
) -> Invited:
    """Invite one person; the token goes into their link (``/invite/TOKEN``)."""
    from salesflow.appdb.records import now

    key = secrets.token_urlsafe(32)
    record = store.invitations.create(
        name, key_hash=_hash(key), expires_at=now() + expires, who=who, email=email
    )
    return Invited(record, _serializer(secret).dumps(key))


def open_invitation(
    store: KnowledgeStore, token: str, *, secret: str, at: datetime | None = None
) -> tuple[InvitationRecord, str]:
    """The open invitation behind a link and its key, else :class:`InvitationError` saying why."""
    from itsdangerous import BadData

    from salesflow.appdb.records import now

    ask = "ask the person who invited you for a new link"
    serializer = _serializer(secret)
    try:
        key = serializer.loads(token or "")
    except BadData:
        key = None
    if isinstance(key, str) and not hmac.compare_digest(serializer.dumps(key), token):
        key = None  # base64's spare bits: a changed last letter can still decode alike
    record = store.invitations.by_key(_hash(key)) if isinstance(key, str) else None
    if record is None:
        raise InvitationError(
            "This invitation link is not valid: it was changed, cut short or never issued",
            hint=f"Open the link exactly as you received it, or {ask}",
        )
    state = record.state(at or now())
    if state == "revoked":
        raise InvitationError(
            "This invitation was withdrawn", hint=f"If you still want to take part, {ask}"
        )
    if state == "expired":
        raise InvitationError(
            f"This invitation expired on {record.expires_at:%d %B %Y at %H:%M} UTC",
            hint=f"To take part, {ask} ({record.created_by})",
        )
    return record, key


def send_statement(
    store: KnowledgeStore, invitation: InvitationRecord, answers: dict[str, str | None]
) -> dict[str, Any]:
    """Store an invited person's answers (at most :data:`MAX_STATEMENTS` per invitation)."""
    if store.statements.count_for(invitation.id) >= MAX_STATEMENTS:
        raise SalesflowError(
            f"This invitation has already been used for {MAX_STATEMENTS} statements",
            hint="Thank you; ask the person who invited you if you have more to say",
        )
    record = store.statements.add(
        invitation.name,
        answers.get("difficulty") or "",
        evidence=answers.get("evidence"),
        goal=answers.get("goal"),
        invitation_id=invitation.id,
    )
    return record.to_dict()


def grouped_statements(store: KnowledgeStore) -> dict[str, Any]:
    """Statements not merged yet, grouped by similar wording (what people have in common),
    the largest group first; each statement with the lint's advice on its first answer."""
    from salesflow.analysis.similar_texts import group_texts
    from salesflow.workbench.lint import lint

    open_ones = store.statements.list(merged=False)
    groups = group_texts([s.difficulty for s in open_ones])
    out = []
    for number, group in enumerate(groups, start=1):
        members = [open_ones[i] for i in group.members]
        out.append(
            {
                "group": number,
                "size": len(members),
                "people": sorted({s.author for s in members}),
                "shared_words": list(group.terms),
                "statements": [
                    {**s.to_dict(), "lint": lint(s.difficulty).to_dict()} for s in members
                ],
            }
        )
    return {"groups": out, "statements": len(open_ones), "questions": QUESTIONS}


def merge_statements(
    store: KnowledgeStore,
    ids: Sequence[int],
    *,
    who: str,
    into: int | None = None,
    statement: str | None = None,
) -> dict[str, Any]:
    """One UDR from alike statements, keeping every contributor and their words."""
    udr, merged = store.statements.merge(ids, who=who, into=into, statement=statement)
    return {
        "udr": udr.to_dict(),
        "merged": [s.to_dict() for s in merged],
        "contributors": contributors(store, udr.id),
    }


def contributors(store: KnowledgeStore, udr_id: int) -> list[dict[str, Any]]:
    """The statements a UDR was made from, oldest first (for the UDR's page and ``--json``)."""
    return [s.to_dict() for s in store.statements.for_udr(udr_id)]
