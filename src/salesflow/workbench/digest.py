"""The weekly digest: what needs a leader's attention, per person and for the team.

Five kinds of item, each with a link into the web app:

- ``overdue``: check-ins due or overdue today (:mod:`salesflow.workbench.cadence`);
- ``verdict_changed``: improvements whose verdict changed since the last digest sent (before
  the first one: those already judged improved or worse);
- ``udr_unaddressed``: confirmed UDRs with no cause found yet, or no improvement attacking them
  or one of their causes;
- ``new_signal``: signals on a bound measure (a UDR's or an improvement's) that the last digest
  did not report, one item per measure;
- ``new_pattern``: growing request-log themes the last digest did not report.

It is cheap by construction: one verdict pass over UDRs and improvements feeds the verdict,
UDR and signal items; the request themes (the costly part) are computed once for the team, and
not at all when the request log is the one the last digest saw; each person's digest is the
team's items they own. What "since the last digest" means is the ``state`` a sent
digest records (``store.digests``).

    doc = build_digest(bench, base_url="https://salesflow.example.com")
    doc["users"][0]["items"]  # one person's items
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from salesflow.errors import NotFoundError, SalesflowError, never_a_result
from salesflow.workbench.cadence import due_improvements
from salesflow.workbench.wins import date_words

if TYPE_CHECKING:
    from salesflow.appdb import DigestRecord, ImprovementRecord, UdrRecord
    from salesflow.workbench.service import Workbench
    from salesflow.workbench.verdict import Verdict

__all__ = ["KINDS", "build_digest", "for_user"]

KINDS = ("overdue", "verdict_changed", "udr_unaddressed", "new_signal", "new_pattern")
DECIDED = ("improved", "worse")  # verdicts worth telling before any digest was sent


def build_digest(
    bench: Workbench,
    *,
    base_url: str,
    today: date | None = None,
    previous: DigestRecord | None = None,
    patterns: bool = True,
) -> dict[str, Any]:
    """The team's digest with each enabled user's share; ``previous`` is the last digest sent
    (``store.digests.last()``), the reference for "new" and "changed"."""
    settings = bench.workspace.settings
    today = today or settings.today()
    base = base_url.rstrip("/")
    before = previous.state if previous is not None else {}
    improvements = [r for r in bench.store.improvements.list() if r.status != "abandoned"]
    udrs = [u for u in bench.store.udrs.list() if u.binding is not None]
    plan_verdicts = {r.id: bench.improvement_verdict(r) for r in improvements}  # the one pass
    udr_verdicts = {u.id: bench.udr_verdict(u) for u in udrs}
    log = _request_log(bench)
    same_log = log == before.get("request_log") and "themes" in before
    themes, notes = _themes(bench) if patterns and not same_log else ([], [])
    items = [
        *_overdue(bench, today, base),
        *_changed(improvements, plan_verdicts, before.get("verdicts", {}), base),
        *_unaddressed(bench, udrs, udr_verdicts, base),
        *_signals(improvements, plan_verdicts, udrs, udr_verdicts, before, base),
        *_patterns(themes, before.get("themes"), base),
    ]
    state = {
        "verdicts": {str(i): v.verdict for i, v in plan_verdicts.items()},
        "signals": sorted(_signal_keys(improvements, plan_verdicts, udrs, udr_verdicts)),
        "themes": sorted(t["label"] for t in themes) if not same_log else before["themes"],
        "request_log": log,
    }
    users = [u for u in bench.store.users.list() if not u.disabled]
    return {
        "today": today.isoformat(),
        "as_of": bench.moment().isoformat(),
        "since": None if previous is None else previous.sent_at.isoformat(),
        "base_url": base,
        "counts": {kind: sum(1 for i in items if i["kind"] == kind) for kind in KINDS},
        "items": items,
        "notes": notes,
        "users": [
            {"name": u.name, "email": u.email, "items": _share(items, u, users)} for u in users
        ],
        "state": state,
    }


def for_user(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """One person's digest out of the team's (``salesflow digest --user NAME``)."""
    wanted = name.strip().casefold()
    person = next((u for u in doc["users"] if u["name"].casefold() == wanted), None)
    if person is None:
        raise NotFoundError(
            f"There is no account named {name!r} to write a digest for",
            hint="List the accounts with `salesflow user list`",
        )
    keep = ("today", "as_of", "since", "base_url")
    return {**{k: doc[k] for k in keep}, **person}


def _share(items: list[dict[str, Any]], user: Any, users: list[Any]) -> list[dict[str, Any]]:
    """A user's own items; an admin also gets those no enabled account owns (request patterns,
    UDRs without an owner, owners who left), so nothing reaches only the webhook."""
    names = {u.name.casefold() for u in users}
    mine = user.name.casefold()

    def owner(item: dict[str, Any]) -> str:
        return (item.get("owner") or "").casefold()

    if user.role != "admin":
        return [i for i in items if owner(i) == mine]
    return [i for i in items if owner(i) == mine or owner(i) not in names]


def _item(kind: str, text: str, link: str, *, owner: str | None, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "owner": owner, "text": text, "link": link, **extra}


def _overdue(bench: Workbench, today: date, base: str) -> list[dict[str, Any]]:
    found = due_improvements(bench.store, today, zone=bench.workspace.settings.zone)
    return [
        _item(
            "overdue",
            f"{d.title}: the check-in is "
            + (f"{_days(d.overdue_days)} overdue" if d.overdue_days else "due today")
            + f" (due {date_words(d.due)}"
            + (f", last asked {date_words(d.last_checkin)})" if d.last_checkin else ")"),
            f"{base}/improvements/{d.id}",
            owner=d.owner,
            id=d.id,
            title=d.title,
            due=d.due.isoformat(),
            overdue_days=d.overdue_days,
        )
        for d in found
    ]


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _changed(
    records: list[ImprovementRecord],
    verdicts: dict[int, Verdict],
    before: dict[str, str],
    base: str,
) -> list[dict[str, Any]]:
    found = []
    for record in records:
        now, was = verdicts[record.id].verdict, before.get(str(record.id))
        if now == was or (was is None and now not in DECIDED):
            continue
        since = f" (it was {_words(was)})" if was else ""
        found.append(
            _item(
                "verdict_changed",
                f"{record.title}: the measure now says {_words(now)}{since}. "
                f"{verdicts[record.id].sentence}",
                f"{base}/improvements/{record.id}",
                owner=record.owner,
                id=record.id,
                title=record.title,
                verdict=now,
                previous=was,
            )
        )
    return found


def _words(verdict: str) -> str:
    """The verdict as the web, the report and the CLI word it: "it worked", "no real change yet"."""
    from salesflow.workbench.verdict import IMPROVEMENT_LABELS

    return IMPROVEMENT_LABELS.get(verdict, verdict.replace("_", " ")).lower()


def _unaddressed(
    bench: Workbench, udrs: list[UdrRecord], verdicts: dict[int, Verdict], base: str
) -> list[dict[str, Any]]:
    """Confirmed UDRs nobody has asked "why?" about, or that no improvement attacks (directly
    or through one of their causes)."""
    edges: dict[int, set[int]] = {}
    for link in bench.store.links.list():
        edges.setdefault(link.effect_id, set()).add(link.cause_id)
    attacked = {n for r in bench.store.improvements.list() if r.status != "abandoned"
                for n in r.attacks}  # fmt: skip
    found = []
    for udr in udrs:
        if verdicts[udr.id].verdict != "confirmed":
            continue
        causes = _below(udr.id, edges)
        missing = [
            *(["cause"] if not causes else []),
            *(["improvement"] if not attacked & (causes | {udr.id}) else []),
        ]
        if missing:
            lacks = " and no ".join(f"{m}" for m in missing)
            found.append(
                _item(
                    "udr_unaddressed",
                    f"UDR {udr.id} is confirmed by the data but has no {lacks} yet: "
                    f"{udr.statement}",
                    f"{base}/udrs/{udr.id}",
                    owner=udr.owner,
                    id=udr.id,
                    missing=missing,
                )
            )
    return found


def _below(node: int, edges: dict[int, set[int]]) -> set[int]:
    """Every cause reachable from ``node`` by asking "why?" again."""
    seen: set[int] = set()
    todo = list(edges.get(node, ()))
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(edges.get(current, ()))
    return seen


def _measured(
    improvements: list[ImprovementRecord],
    plan_verdicts: dict[int, Verdict],
    udrs: list[UdrRecord],
    udr_verdicts: dict[int, Verdict],
) -> Iterable[tuple[str, Any, Verdict]]:
    yield from (("udr", u, udr_verdicts[u.id]) for u in udrs)
    yield from (("improvement", r, plan_verdicts[r.id]) for r in improvements if r.measure)


def _key(kind: str, id: int, signal: dict[str, Any]) -> str:
    return f"{kind}:{id}:{signal['rule']}:{signal['period']}"


def _signal_keys(*measured: Any) -> set[str]:
    return {_key(k, r.id, s) for k, r, v in _measured(*measured) for s in v.signals}


def _signals(
    improvements: list[ImprovementRecord],
    plan_verdicts: dict[int, Verdict],
    udrs: list[UdrRecord],
    udr_verdicts: dict[int, Verdict],
    before: dict[str, Any],
    base: str,
) -> list[dict[str, Any]]:
    """One item per measure with signals the last digest did not report (the latest first)."""
    seen = set(before.get("signals", ()))
    found = []
    for kind, record, verdict in _measured(improvements, plan_verdicts, udrs, udr_verdicts):
        new = [s for s in verdict.signals if _key(kind, record.id, s) not in seen]
        if not new:
            continue
        latest = max(new, key=lambda s: s["index"])
        name = f"UDR {record.id}" if kind == "udr" else record.title
        more = f" ({len(new) - 1} more on the chart)" if len(new) > 1 else ""
        found.append(
            _item(
                "new_signal",
                f"New signal on {name}: {latest['explanation'].rstrip('.')}{more}.",
                f"{base}/{kind}s/{record.id}",
                owner=record.owner,
                id=record.id,
                on=kind,
                periods=sorted({s["period"] for s in new}),
            )
        )
    return found


def _request_log(bench: Workbench) -> list[Any] | None:
    """What the request themes depend on: the log's size, its latest request, how many are
    uncategorised, and the as-of month. Themes are deterministic, so when this is what the last
    digest saw, no theme can be new and they are not computed again (the costly part)."""
    from salesflow.source import table_exists

    con = bench.workspace.data
    if not table_exists(con, "requests"):
        return None
    log = con.table("requests")
    row = log.aggregate(
        n=log.count(),
        latest=log.received_at.max(),
        open=(log.category.isnull() | (log.category.strip() == "")).sum(),
    ).execute()
    latest = row["latest"].iloc[0]
    return [int(row["n"].iloc[0]), str(latest), int(row["open"].iloc[0] or 0),
            bench.moment().strftime("%Y-%m")]  # fmt: skip


def _themes(bench: Workbench) -> tuple[list[dict[str, Any]], list[str]]:
    """The request log's themes, computed once; a log too small for themes is a note."""
    from salesflow.analysis import request_patterns

    try:
        result = request_patterns(bench.workspace.data, as_of=bench.moment())
    except SalesflowError as exc:
        never_a_result(exc)
        return [], [f"Request patterns were not looked for: {exc.what}"]
    return [t.as_dict() for t in result.themes], []


def _patterns(
    themes: list[dict[str, Any]], before: list[str] | None, base: str
) -> list[dict[str, Any]]:
    known = set(before or ())
    return [
        _item(
            "new_pattern",
            f"Requests about “{t['label']}” are growing: {t['count']} so far, about "
            f"{t['trend']['growth_per_month']:.0f} % more each month",
            f"{base}/requests",
            owner=None,
            label=t["label"],
            count=t["count"],
        )
        for t in themes
        if t["trend"].get("growing") and t["label"] not in known
    ]
