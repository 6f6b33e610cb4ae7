"""The accounts' audit trail: every change to an account, token or session, with who and when.

Written inside the transaction that makes the change, so a change and its entry stand or fall
together. Separate from the knowledge ``history`` because a knowledge file travels, accounts don't.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesflow.appdb.models import AccountEvent
from salesflow.appdb.records import AccountEventRecord, now

__all__ = ["account_events", "log_account"]


def log_account(session: Session, who: str, action: str, account: str, **detail: Any) -> None:
    """One entry (``action`` such as ``disable``, ``role``, ``token-revoke``) for ``account``."""
    session.add(AccountEvent(at=now(), who=who, action=action, account=account, detail=detail))


def account_events(session: Session, account: str | None = None) -> list[AccountEventRecord]:
    """Entries oldest first, for one account or all."""
    query = select(AccountEvent).order_by(AccountEvent.id)
    if account is not None:
        query = query.where(AccountEvent.account == account)
    return [AccountEventRecord.from_row(row) for row in session.scalars(query)]
