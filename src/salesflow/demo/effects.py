"""The demo company's ground truth: the calendar and every effect injected into its data.

These constants are what the generator uses *and* what tests and later analysis check against,
so a change here changes the data and its documentation (docs/demo.md) together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

__all__ = [
    "BACKGROUND_EFFECTS",
    "CHANGE_DATE",
    "DATA_END",
    "DATA_START",
    "EFFECTS",
    "GROWING_CATEGORY",
    "GROWTH_PER_MONTH",
    "MONTHS",
    "NO_EFFECT_ATTRIBUTES",
    "PROPOSAL_TIME_FACTOR",
    "Q4_COMMIT_BIAS",
    "SLOW_RESPONSE_HOURS",
    "SLOW_RESPONSE_WIN_PP",
    "SMALL_ORDER_AMOUNT",
    "SMALL_ORDER_REQUEST_MULTIPLIER",
    "WARMUP_DAYS",
    "Effect",
    "effect_summary",
]

# The two calendar years the demo company's data covers: [DATA_START, DATA_END).
DATA_START = date(2024, 10, 1)
DATA_END = date(2026, 10, 1)
MONTHS = 24
# Deals created up to this many days before DATA_START that were still open on it are kept
# (the pipeline carried into the CRM at go-live), so the first months show no ramp-up.
WARMUP_DAYS = 120

# 1. Slow first response lowers the win probability (additive, in probability points).
SLOW_RESPONSE_HOURS = 48.0
SLOW_RESPONSE_WIN_PP = -0.12

# 2. From CHANGE_DATE on, deals entering Proposal spend this fraction of the usual time there.
CHANGE_DATE = date(2025, 10, 1)
PROPOSAL_TIME_FACTOR = 0.70

# 3. One request category grows month by month (compounded), the others stay flat.
GROWING_CATEGORY = "contract changes"
GROWTH_PER_MONTH = 0.06

# 4. Commit forecasts for October-December overstate the won amount by this share.
Q4_COMMIT_BIAS = 0.15
Q4_MONTHS = (10, 11, 12)

# 5. Deals below this amount raise this many times the requests of larger deals.
SMALL_ORDER_AMOUNT = 5_000.0
SMALL_ORDER_REQUEST_MULTIPLIER = 3.5

# Attributes drawn independently of everything: no effect on win, time, amount or requests.
NO_EFFECT_ATTRIBUTES = ("region",)


@dataclass(frozen=True)
class Effect:
    """One injected effect: what changes, by how much, and how to see it in the tables."""

    id: str
    title: str
    cause: str
    outcome: str
    size: float
    unit: str
    check: str


EFFECTS: tuple[Effect, ...] = (
    Effect(
        "slow_first_response",
        "First response slower than 48 h lowers the win rate",
        "opportunities.first_response_hours > 48",
        "win rate (won / closed)",
        SLOW_RESPONSE_WIN_PP,
        "probability points",
        "win rate of closed deals with first_response_hours > 48 minus the rest ≈ -12 points",
    ),
    Effect(
        "proposal_process_change",
        f"Proposal stage is about 30 % shorter for deals entering it from {CHANGE_DATE}",
        f"stage_events: Proposal entered on or after {CHANGE_DATE}",
        "hours in Proposal",
        PROPOSAL_TIME_FACTOR,
        "ratio of medians (after / before)",
        "median hours from entering Proposal to the next stage event, after / before ≈ 0.70",
    ),
    Effect(
        "growing_request_category",
        f"Requests about {GROWING_CATEGORY} grow by {GROWTH_PER_MONTH:.0%} a month",
        "requests.topic = 'contract changes'",
        "requests per month",
        GROWTH_PER_MONTH,
        "growth per month (compounded)",
        "slope of log(monthly count) for the topic minus that of the other topics ≈ log(1.06)",
    ),
    Effect(
        "q4_forecast_bias",
        "Q4 commit forecasts are biased high",
        "forecasts.period_start in October-December",
        "commit / won amount",
        Q4_COMMIT_BIAS,
        "share above actual",
        "sum of commit / sum of won amount ≈ 1.15 in Oct-Dec and ≈ 1.00 in other months",
    ),
    Effect(
        "small_orders_cause_requests",
        "Small orders cause a disproportionate share of requests",
        f"opportunities.amount < {SMALL_ORDER_AMOUNT:,.0f}",
        "requests per deal",
        SMALL_ORDER_REQUEST_MULTIPLIER,
        "requests per deal, small / other",
        "small deals are ~40 % of won deals but raise ~70 % of the requests about won deals",
    ),
)

# Smaller, realistic influences on the win probability (probability points), documented so a
# driver analysis can be checked against them too. Everything here is drawn independently.
BACKGROUND_EFFECTS: dict[str, dict[str, float]] = {
    "segment": {"SMB": 0.47, "Mid-market": 0.42, "Enterprise": 0.37},  # base win probability
    "source": {"inbound": 0.05, "outbound": -0.06, "partner": 0.07, "event": 0.0},
    "competitor": {"none": 0.0, "Axelio": -0.06, "Brightdesk": -0.06, "Cormorant": -0.06},
    "discount_pct": {"per_point": 0.004},  # +0.4 points of win probability per discount point
    "owner": {"sd": 0.04},  # rep skill, fixed per rep, clipped to ±0.08
}


def effect_summary() -> list[dict[str, object]]:
    """The injected effects as plain dictionaries (for reports and ``--json``)."""
    return [asdict(e) for e in EFFECTS]
