"""The demo company's knowledge: UDRs, causes, why-links and improvements that match the effects
built into its data (:mod:`salesflow.demo.effects`), so a newcomer sees the method work on day one.

What the data says about them (checked by tests/workbench/test_service.py):

- slow first response → win rate: the UDR is **confirmed** (≈ 12 points lower win rate);
- EMEA win rate: **contradicted** (``region`` has no effect by design);
- contract-change requests: **confirmed** by a signal (they grow 6 % a month);
- small orders and requests: **confirmed** (3.5 × the requests per order);
- close dates that slip: **confirmed** on the close-date slip rate per month (a fifth to a
  quarter of the deals expected to close in a month are still open at its end, against the 10 %
  planned; the history's pushes, :mod:`salesflow.demo.history`, make it so in every month);
- Q4 commit forecasts: **confirmed** on forecast bias limited to season Q4, per month (the
  median of the last three Q4 months is about 15 % against the 5 % accepted; the other months run
  near 0 %, so the same measure over the whole year would contradict it). Per quarter, two years
  hold only two Q4 points: that binding would honestly say insufficient_data;
- the Proposal fast-track (from 2025-10-01) is **improved** (-30 % time in Proposal);
- the discovery checklist, measured on overall win rate, shows **no_signal**.

Its people are accounts (without passwords: an admin gives them one) so they can own
improvements. Check-ins are asked at each improvement's cadence; on the day the demo is made
(``SALESFLOW_TODAY`` freezes it) the fast-track is 3 days overdue, the checklist is due that day
and the lead routing is on time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from salesflow.errors import SalesflowError, never_a_result

__all__ = ["PEOPLE", "SLOW_RESPONSE_METRIC", "seed_demo_knowledge"]

SLOW_RESPONSE_METRIC = "slow_response_win_rate"
CUSTOM_METRIC = f"""
[metrics.{SLOW_RESPONSE_METRIC}]
title = "Win rate when the first response took over 48 h"
table = "opportunities"
time = "closed_at"
filter = {{ outcome = ["won", "lost"], first_response_hours = {{ ">" = 48 }} }}
measure = "ratio"
numerator = {{ outcome = "won" }}
unit = "%"
"""

PEOPLE = ("Maria Lopez", "Jonas Berg", "Priya Shah", "Ana Costa")  # accounts, no password
BASELINE = "2024-10-01:2025-09-30"
CHANGE = "2025-10-01"

UDRS: dict[str, dict[str, Any]] = {
    "slow": {
        "statement": "Deals we first answered after more than 48 hours were won about a third "
        "of the time in 2026, against the 40% we plan for",
        "owner": "Maria Lopez",
        "tags": ["win rate", "response time"],
        "bind": {"metric": SLOW_RESPONSE_METRIC, "period": "quarter", "bad_if": "below",
                 "threshold": "40%"},
    },
    "emea": {
        "statement": "EMEA deals were won less than 35% of the time in 2026, against over 40% "
        "in the other regions",
        "owner": "Jonas Berg",
        "tags": ["win rate", "region"],
        "bind": {"metric": "win_rate", "filters": {"region": "EMEA"}, "period": "quarter",
                 "bad_if": "below", "threshold": "35%"},
    },
    "contracts": {
        "statement": "Contract-change requests to the sales desk doubled from about 20 a month "
        "in early 2025 to over 40 a month in 2026",
        "owner": "Priya Shah",
        "tags": ["requests"],
        "bind": {"metric": "request_volume", "filters": {"category": "contract changes"},
                 "bad_if": "above"},
    },
    "forecast": {
        "statement": "Q4 2025 commit forecasts overstated won revenue by 15%, against the 5% "
        "we accept",
        "owner": "Maria Lopez",
        "tags": ["forecast"],
        "bind": {"metric": "forecast_bias", "period": "month", "season": "Q4", "bad_if": "above",
                 "threshold": "5%"},
    },
    "small": {
        "statement": "Won orders under 10k raised about 4 requests each in 2026, against under "
        "1.5 for larger orders",
        "owner": "Priya Shah",
        "tags": ["requests", "deal size"],
        "bind": {"metric": "requests_per_order", "filters": {"amount_band": "<10k"},
                 "period": "quarter", "bad_if": "above", "threshold": "2"},
    },
    # added after the causes ("late"), so the first 13 nodes keep the ids the tutorial, the docs
    # and people's bookmarks know (UDRs and causes share one id space)
    "slip": {
        "statement": "In 2026, about a fifth of the deals we expected to close each month were "
        "still open when the month ended, against the 10% we plan for",
        "owner": "Jonas Berg",
        "tags": ["forecast", "close dates"],
        "bind": {"metric": "close_date_slip_rate", "period": "month", "bad_if": "above",
                 "threshold": "10%"},
        "late": True,
    },
}  # fmt: skip

CAUSES = {
    "queue": "New inbound leads wait in a shared queue until a manager assigns them once a day",
    "nobody": "Nobody owns first response time: reps are measured on closed revenue only",
    "template": "Our contract template does not cover the changes customers ask for most "
    "(payment terms, seat changes)",
    "self_service": "Small customers go through the same sales-led buying process as large "
    "ones: there is no self-service ordering",
    "commit": "Reps choose the commit category without stage-based criteria",
    "q4_push": "Managers push for a strong Q4 commit to reach the annual target",
    "standard": "We have no written standard work for the sales stages: every rep runs the "
    "process their own way",
    "emea_price": "EMEA buyers are more price-sensitive than buyers elsewhere",
}

# (effect, cause, why-text, AND group)
LINKS = [
    ("slow", "queue", "a lead created after the morning assignment waits until the next day", None),
    ("slow", "nobody", "no one is asked why a lead waited", None),
    ("queue", "standard", "lead hand-off is nobody's written step", None),
    ("contracts", "template", "every non-standard term becomes a request", None),
    ("contracts", "self_service", "small customers change seats by asking the desk", None),
    ("small", "self_service", "every small change goes through a person", None),
    ("template", "standard", "the contract step was never standardised", None),
    ("self_service", "standard", "one process for every deal size", None),
    ("forecast", "commit", "optimistic reps commit deals that are not ready", "overcommit"),
    ("forecast", "q4_push", "the pressure peaks in Q4", "overcommit"),
    ("commit", "standard", "no stage exit criteria to lean on", None),
    ("emea", "emea_price", "heard in a pipeline review", None),
    ("slip", "standard", "without stage exit criteria a close date is the rep's hope, not the "
     "buyer's plan", None),
]  # fmt: skip

# (link by (effect, cause), variable, level, outcome)
CHECKS = [
    (("slow", "queue"), "first_response_over_48h", None, "won"),
    (("emea", "emea_price"), "region", None, "won"),
]


def _improvements(nodes: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {
            "title": "Proposal fast-track",
            "objective": "Get proposals to customers within a week so deals do not cool off "
            "in the Proposal stage",
            "why": "Deals spent about 8 days in Proposal while customers compared vendors",
            "theory": "Most Proposal time is spent waiting for pricing sign-off and writing "
            "each proposal from scratch",
            "method": "A standard proposal template and same-day pricing approval for "
            "discounts under 10%",
            "attacks": [nodes["standard"]],
            "metric": "stage_time", "filters": {"stage": "Proposal"}, "bad_if": "above",
            "baseline": BASELINE, "start": CHANGE, "target": "6", "status": "running",
            "owner": "Jonas Berg",
        },
        {
            "title": "Discovery call checklist",
            "objective": "Win more of the deals we work, without discounting",
            "why": "Reps propose before they know the buyer's decision process",
            "theory": "A structured discovery call qualifies out weak deals earlier",
            "method": "A 12-question discovery checklist every rep completes before proposing",
            "attacks": [nodes["nobody"]],
            "metric": "win_rate", "bad_if": "below", "baseline": BASELINE, "start": CHANGE,
            "target": "45%", "status": "running", "owner": "Maria Lopez",
            "cadence": "fortnightly",
        },
        {
            "title": "Lead routing within the hour",
            "objective": "Answer every new lead within 4 working hours",
            "why": "Deals answered after 48 hours are won far less often",
            "theory": "Leads wait for the daily assignment, not for a rep",
            "method": "Round-robin assignment the moment a lead is created",
            "attacks": [nodes["queue"]],
            "status": "proposed", "owner": "Priya Shah", "cadence": "monthly",
        },
    ]  # fmt: skip


CHECKINS = [
    (0, "2025-12-15", "Maria Lopez", "Jonas Berg", "Proposals out within a week",
     "Template in use by 2 of 4 teams", "Median days in Proposal, monthly"),
    (0, "2026-04-15", "Maria Lopez", "Jonas Berg", "Proposals out within a week",
     "All teams use the template; pricing approval same day", "Median days in Proposal"),
    (1, "2026-06-15", "Maria Lopez", "Ana Costa", "Win more deals without discounting",
     "Checklist filled in for 70% of deals", "Monthly win rate: no change yet"),
]  # fmt: skip

# (improvement, days before today, asked by, answered by, the three answers: None = as before)
RECENT_CHECKINS = [
    (0, 10, "Maria Lopez", "Jonas Berg", "Proposals out within 5 days",
     None, "Median days in Proposal, monthly, against the target of 6"),
    (1, 14, "Priya Shah", "Maria Lopez", None,
     "Checklist filled in for 85% of deals; reviewed in the weekly pipeline call", None),
]  # fmt: skip


def add_custom_metric(path: Path) -> None:
    """Declare the slow-response win rate in the workspace's ``salesflow.toml`` (once)."""
    config = path / "salesflow.toml"
    text = config.read_text(encoding="utf-8")
    if f"[metrics.{SLOW_RESPONSE_METRIC}]" not in text:
        config.write_text(text.rstrip("\n") + "\n" + CUSTOM_METRIC, encoding="utf-8")


def seed_demo_knowledge(path: Path | str, *, who: str = "demo") -> dict[str, Any]:
    """Fill an empty demo workspace's knowledge base; returns the ids given to each entry."""
    from salesflow.workbench.service import Workbench

    folder = Path(path).expanduser().resolve()
    add_custom_metric(folder)
    with Workbench.open(folder, who=who) as bench:
        if bench.store.udrs.list(include_deleted=True) or bench.store.causes.list():
            raise SalesflowError(
                f"The knowledge base of {folder} is not empty; demo knowledge was not added",
                hint="Use a fresh demo workspace (salesflow demo PATH --force)",
            )
        nodes = _nodes(bench)
        links = _links(bench, nodes)
        for key, variable, level, outcome in CHECKS:
            try:
                bench.check_link(links[key], variable=variable, level=level, outcome=outcome)
            except SalesflowError as exc:  # a tiny demo may hold too few deals for a data check
                never_a_result(exc)
                continue
        _people(bench)
        plans = [bench.add_improvement(**spec)["id"] for spec in _improvements(nodes)]
        _checkins(bench, plans)
    return {"nodes": nodes, "links": {f"{e}<-{c}": i for (e, c), i in links.items()},
            "improvements": plans}  # fmt: skip


def _people(bench: Any) -> None:
    known = {u.name for u in bench.store.users.list()}
    for name in PEOPLE:
        if name not in known:
            bench.store.users.create(name, role="editor", who=bench.who)


def _checkins(bench: Any, plans: list[int]) -> None:
    """The recorded history, then the latest check-ins, dated back from today."""
    for index, day, asked, answered, objective, method, measure in CHECKINS:
        bench.checkin(
            plans[index], asked_by=asked, answered_by=answered, objective=objective,
            method=method, measure=measure,
            asked_at=datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC),
        )  # fmt: skip
    today = bench.workspace.settings.today()
    for index, days, asked, answered, objective, method, measure in RECENT_CHECKINS:
        bench.checkin(
            plans[index], asked_by=asked, answered_by=answered, objective=objective,
            method=method, measure=measure, held_on=today - timedelta(days=days),
        )  # fmt: skip


def _nodes(bench: Any) -> dict[str, int]:
    nodes = _udrs(bench, late=False)
    for key, text in CAUSES.items():
        nodes[key] = bench.add_cause(text)["id"]
    return {**nodes, **_udrs(bench, late=True)}


def _udrs(bench: Any, *, late: bool) -> dict[str, int]:
    """Add the UDRs added before the causes, or those added after them, each with its binding."""
    nodes: dict[str, int] = {}
    for key, spec in UDRS.items():
        if spec.get("late", False) != late:
            continue
        made = bench.add_udr(spec["statement"], owner=spec["owner"], tags=spec["tags"])
        nodes[key] = made["udr"]["id"]
        bench.bind_udr(nodes[key], expected_version=made["udr"]["version"], **spec["bind"])
    return nodes


def _links(bench: Any, nodes: dict[str, int]) -> dict[tuple[str, str], int]:
    made = {}
    for effect, cause, why, group in LINKS:
        made[(effect, cause)] = bench.link(nodes[effect], nodes[cause], text=why, group=group)["id"]
    return made
