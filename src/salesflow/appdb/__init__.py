"""The app database: the team's knowledge (UDRs, causes, links, improvements, check-ins, history)
and the web app's accounts, in SQLite or PostgreSQL through SQLAlchemy 2, migrated by Alembic.

Importing this package opens nothing; ``KnowledgeStore.open(url)`` or
``KnowledgeStore.for_workspace(ws)`` does. See docs/appdb.md.
"""

from __future__ import annotations

from salesflow.appdb.engine import make_engine, make_session_factory
from salesflow.appdb.errors import (
    AlreadyExistsError,
    AppDbUnavailableError,
    AppDbVersionError,
    ConflictError,
    InvalidRecordError,
    StaleEditError,
    VersionRequiredError,
)
from salesflow.appdb.migrate import current_revision, downgrade, head_revision, open_engine, upgrade
from salesflow.appdb.records import (
    AccountEventRecord,
    CauseRecord,
    CheckinRecord,
    DigestRecord,
    HistoryRecord,
    ImprovementRecord,
    InvitationRecord,
    LinkRecord,
    SessionRecord,
    StatementRecord,
    TokenRecord,
    UdrRecord,
    UserRecord,
)
from salesflow.appdb.store import KnowledgeStore
from salesflow.appdb.transfer import export_knowledge, import_knowledge
from salesflow.appdb.versions import CURRENT

__all__ = [
    "CURRENT",
    "AccountEventRecord",
    "AlreadyExistsError",
    "AppDbUnavailableError",
    "AppDbVersionError",
    "CauseRecord",
    "CheckinRecord",
    "ConflictError",
    "DigestRecord",
    "HistoryRecord",
    "ImprovementRecord",
    "InvalidRecordError",
    "InvitationRecord",
    "KnowledgeStore",
    "LinkRecord",
    "SessionRecord",
    "StaleEditError",
    "StatementRecord",
    "TokenRecord",
    "UdrRecord",
    "UserRecord",
    "VersionRequiredError",
    "current_revision",
    "downgrade",
    "export_knowledge",
    "head_revision",
    "import_knowledge",
    "make_engine",
    "make_session_factory",
    "open_engine",
    "upgrade",
]
