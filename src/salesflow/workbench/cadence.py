"""Asking the three questions again and again: owners, cadences and which check-ins are due.

An improvement that is proposed or running is due for a check-in one cadence after its last
check-in, or after it started when it has none (it started on the earlier of the day it was
recorded and its measure's start date, so a backfilled improvement is due from its real start).
Nothing here is stored: the next-due date follows from the check-ins, so a check-in held
earlier (``held_on``) moves it the same way a check-in held today does.

    due_improvements(store, today)  # what is due or overdue, most overdue first

The digest, the CLI (``improve due``) and the web home page all read this one list.
"""

from __future__ import annotations

import calendar
import difflib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from salesflow.appdb.models import CADENCES
from salesflow.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from salesflow.appdb import CheckinRecord, ImprovementRecord, KnowledgeStore

__all__ = [
    "ASKED",
    "CADENCES",
    "DueImprovement",
    "check_cadence",
    "check_held_on",
    "check_owner",
    "checkin_day",
    "due_improvements",
    "held_at",
    "next_due",
    "schedule",
    "schedules",
    "started_on",
]

ASKED = ("proposed", "running")  # verified and abandoned improvements are not asked any more
_DAYS = {"weekly": 7, "fortnightly": 14}


@dataclass(frozen=True)
class DueImprovement:
    """Where one improvement stands in its check-in cadence on ``today``.

    ``overdue_days`` is 0 on the due date, positive after it and negative before it (days left);
    ``due_improvements`` only returns entries with ``overdue_days >= 0``. The answers are the
    three questions' answers at the last check-in (None without one).
    """

    id: int
    title: str
    owner: str | None
    cadence: str
    status: str
    started: date
    last_checkin: date | None
    due: date
    overdue_days: int
    days: int  # the cadence in days from the last check-in (or start) to ``due``
    objective_answer: str | None = None
    method_answer: str | None = None
    measure_answer: str | None = None

    @property
    def is_due(self) -> bool:
        return self.overdue_days >= 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (dates as YYYY-MM-DD), the keys of ``salesflow improve due --json``."""
        out = asdict(self)
        for key in ("started", "last_checkin", "due"):
            out[key] = None if out[key] is None else out[key].isoformat()
        return out


def check_cadence(cadence: str | None) -> str:
    """``None`` → weekly; an unknown cadence is refused with the ones there are."""
    if cadence is None:
        return "weekly"
    value = cadence.strip().lower()
    if value not in CADENCES:
        raise ConfigError(
            f"Cadence {cadence!r} is unknown",
            hint=f"Ask again {', '.join(CADENCES[:-1])} or {CADENCES[-1]}",
        )
    return value


def next_due(since: date, cadence: str) -> date:
    """The day the questions are asked again: a week or two later, or the same day next month
    (31 January → 28 or 29 February: the last day when the next month is shorter)."""
    cadence = check_cadence(cadence)
    if cadence in _DAYS:
        return since + timedelta(days=_DAYS[cadence])
    year, month = (since.year + 1, 1) if since.month == 12 else (since.year, since.month + 1)
    return date(year, month, min(since.day, calendar.monthrange(year, month)[1]))


def checkin_day(checkin: CheckinRecord, zone: tzinfo = UTC) -> date:
    """The day a check-in was held, in the workspace's time zone."""
    return checkin.asked_at.astimezone(zone).date()


def held_at(day: date, zone: tzinfo = UTC) -> datetime:
    """The moment stored for a check-in held on ``day``: noon there, so the day survives any
    time-zone conversion."""
    return datetime.combine(day, time(12), tzinfo=zone).astimezone(UTC)


def started_on(record: ImprovementRecord, zone: tzinfo = UTC) -> date:
    """The day an improvement started: the earlier of the day it was recorded and its measure's
    start date (an improvement recorded after the change began started with the change)."""
    recorded = record.created_at.astimezone(zone).date()
    start = (record.measure or {}).get("start_date")
    return min(recorded, date.fromisoformat(start)) if start else recorded


def check_held_on(record: ImprovementRecord, day: date, today: date, zone: tzinfo = UTC) -> date:
    """A check-in's date must be between the improvement's start and today."""
    if day > today:
        raise ConfigError(
            f"The check-in date {day} is in the future (today is {today})",
            hint="Record a check-in on the day it was held, or leave the date out for today",
        )
    begun = started_on(record, zone)
    if day < begun:
        raise ConfigError(
            f"The check-in date {day} is before improvement {record.id} started ({begun})",
            hint="Give the date the questions were asked, on or after the start",
        )
    return day


def check_owner(store: KnowledgeStore, name: str | None) -> str | None:
    """The account name an owner refers to (matched regardless of case), or a NotFoundError
    that suggests the nearest names; ``None`` or blank means no owner."""
    if name is None or not name.strip():
        return None
    wanted = name.strip()
    names = [u.name for u in store.users.list()]
    for known in names:
        if known.casefold() == wanted.casefold():
            return known
    close = difflib.get_close_matches(wanted.casefold(), [n.casefold() for n in names], n=1)
    if close:
        hint = f"Did you mean {next(n for n in names if n.casefold() == close[0])!r}?"
    elif names:
        hint = f"The owner must be a user: {', '.join(names[:8])}{'…' if len(names) > 8 else ''}"
    else:
        hint = "Add the owner as a user first: `salesflow user add NAME --role editor`"
    raise NotFoundError(f"There is no user named {wanted!r} to own the improvement", hint=hint)


def schedule(
    record: ImprovementRecord,
    checkins: Iterable[CheckinRecord],
    today: date,
    zone: tzinfo = UTC,
) -> DueImprovement:
    """When ``record`` is next due, given its check-ins (any order)."""
    last = max(checkins, key=lambda c: (c.asked_at, c.id), default=None)
    begun = started_on(record, zone)
    held = checkin_day(last, zone) if last is not None else None
    due = next_due(held or begun, record.cadence)
    return DueImprovement(
        id=record.id,
        title=record.title,
        owner=record.owner,
        cadence=record.cadence,
        status=record.status,
        started=begun,
        last_checkin=held,
        due=due,
        overdue_days=(today - due).days,
        days=(due - (held or begun)).days,
        objective_answer=last.objective_answer if last else None,
        method_answer=last.method_answer if last else None,
        measure_answer=last.measure_answer if last else None,
    )


def schedules(store: KnowledgeStore, today: date, *, zone: tzinfo = UTC) -> list[DueImprovement]:
    """Every improvement still asked (proposed or running), earliest due first."""
    by_improvement: dict[int, list[CheckinRecord]] = {}
    for c in store.checkins.list():
        by_improvement.setdefault(c.improvement_id, []).append(c)
    found = [
        schedule(r, by_improvement.get(r.id, ()), today, zone)
        for r in store.improvements.list()
        if r.status in ASKED
    ]
    return sorted(found, key=lambda d: (d.due, d.id))


def due_improvements(
    store: KnowledgeStore, today: date, *, zone: tzinfo = UTC
) -> list[DueImprovement]:
    """Improvements due or overdue for a check-in on ``today``, most overdue first.

    ``zone`` is the workspace's time zone (``settings.zone``): the day a check-in was held is
    the day there.
    """
    return [d for d in schedules(store, today, zone=zone) if d.is_due]
