"""Turn one generated chunk (NumPy arrays) into Arrow tables in the canonical shape.

Times become timestamps rounded to the minute (rounding is monotone, so the order of events is
kept); ids, names and categories become strings with Arrow compute, never a Python loop.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salesflow.demo import effects as fx
from salesflow.demo.activity import ACTIVITY_TYPES, Activities
from salesflow.demo.company import COMPETITORS, PRODUCTS, REGIONS, SEGMENTS, SOURCES, STAFF, Company
from salesflow.demo.deals import END_DAY, STAGES, Deals
from salesflow.demo.requests import Requests
from salesflow.demo.texts import CATEGORY, TOPICS, describe
from salesflow.schema import Column

__all__ = ["EXTRA_COLUMNS", "activity_table", "deal_tables", "ids", "request_table"]

# Columns beyond the canonical schema, added to the workspace's tables as real columns.
EXTRA_COLUMNS: dict[str, tuple[Column, ...]] = {
    "opportunities": (
        Column("first_response_hours", "float64", doc="Hours from creation to the first activity"),
        Column("region", "string", doc="Customer region; by design it has no effect on anything"),
        Column("discount_pct", "float64", doc="Discount offered, in percent"),
        Column("competitor", "string", doc="Main competitor in the deal, or 'none'"),
    ),
    "requests": (Column("topic", "string", doc="Ground truth topic of the description"),),
}
_START_US = np.datetime64(fx.DATA_START, "us")
_FORECAST_CATEGORY = ("pipeline", "pipeline", "best_case", "best_case", "commit", None, None)
_OUTCOMES = ("open", "won", "lost")


def minutes(days: np.ndarray) -> np.ndarray:
    """Whole minutes since DATA_START (the one rounding every table uses)."""
    return np.round(days * 1440.0).astype(np.int64)


def timestamps(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Arrow timestamps for times in days since DATA_START; ``mask`` marks nulls."""
    finite = np.nan_to_num(days, nan=0.0)
    values = _START_US + (minutes(finite) * 60_000_000).astype("timedelta64[us]")
    return pa.array(values, mask=mask)


def names(vocabulary: tuple, codes: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Strings from a small vocabulary by code, with optional nulls."""
    return pa.array(vocabulary, pa.string()).take(pa.array(codes, mask=mask))


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``PREFIX-000123`` style ids."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def deal_tables(
    deals: Deals, company: Company, first_id: int, width: int, rng: np.random.Generator
):
    """The chunk's ``opportunities`` and ``stage_events`` tables, and the deal id array.

    The id array has one entry per candidate deal, null for those not kept.
    """
    numbers = first_id + np.cumsum(deals.kept) - 1
    deal_ids = pc.if_else(pa.array(deals.kept), ids("OPP-", numbers, width), None)
    is_open = np.isnan(deals.closed)
    first = deals.created + deals.first_response_hours / 24.0
    responded = first < END_DAY
    response_hours = (minutes(first) - minutes(deals.created)) / 60.0
    opportunities = pa.table(
        {
            "opportunity_id": deal_ids,
            "account": company.account_names.take(pa.array(deals.account)),
            "owner": names(company.reps, deals.owner),
            "team": names(company.teams, company.rep_team[deals.owner]),
            "product": names(tuple(p for p, _, _ in PRODUCTS), deals.product),
            "segment": names(SEGMENTS, deals.segment),
            "source": names(SOURCES, deals.source),
            "stage": names(STAGES, deals.stage),
            "created_at": timestamps(deals.created),
            "closed_at": timestamps(deals.closed, is_open),
            "outcome": names(_OUTCOMES, deals.outcome),
            "amount": deals.amount,
            "first_response_hours": pa.array(response_hours, mask=~responded),
            "region": names(REGIONS, deals.region),
            "discount_pct": deals.discount,
            "competitor": names(COMPETITORS, deals.competitor),
        }
    ).filter(pa.array(deals.kept))
    # Early stages carry the rep's first estimate of the amount; from Discovery on, the real one.
    amount = deals.amount[deals.ev_deal]
    early = deals.ev_stage < 2
    estimate = np.round(amount * rng.lognormal(0.0, 0.2, len(amount)), -1)
    events = pa.table(
        {
            "opportunity_id": deal_ids.take(pa.array(deals.ev_deal)),
            "stage": names(STAGES, deals.ev_stage),
            "entered_at": timestamps(deals.ev_time),
            "owner": names(company.reps, deals.owner[deals.ev_deal]),
            "amount": np.where(early, estimate, amount),
            "forecast_category": names(_FORECAST_CATEGORY, deals.ev_stage),
        }
    )
    return opportunities, events, deal_ids


def activity_table(
    acts: Activities, deals: Deals, company: Company, deal_ids: pa.Array, first_id: int
) -> pa.Table:
    return pa.table(
        {
            "activity_id": ids("ACT-", np.arange(first_id, first_id + len(acts.deal)), 9),
            "opportunity_id": deal_ids.take(pa.array(acts.deal)),
            "account": company.account_names.take(pa.array(deals.account[acts.deal])),
            "owner": names(company.reps, acts.owner),
            "type": names(ACTIVITY_TYPES, acts.type),
            "occurred_at": timestamps(acts.time),
        }
    )


def request_table(
    reqs: Requests,
    deals: Deals,
    company: Company,
    deal_ids: pa.Array,
    first_id: int,
    rng: np.random.Generator,
) -> pa.Table:
    """The request log rows: half of them filed under a category, the rest left for clustering."""
    n = len(reqs.deal)
    respond = reqs.time + rng.lognormal(np.log(3.0), 1.0, n) / 24.0
    resolve = respond + rng.lognormal(np.log(20.0), 1.2, n) / 24.0
    partner = deals.source[reqs.deal] == SOURCES.index("partner")
    requester = np.where(
        reqs.post_sale,
        np.where(partner & (rng.random(n) < 0.3), 3, 0),
        rng.choice(3, n, p=(0.6, 0.3, 0.1)) + 1,  # prospect, sales rep, partner
    )
    unlinked = rng.random(n) < 0.08
    topics = tuple(CATEGORY[t] for t in TOPICS)
    return pa.table(
        {
            "request_id": ids("REQ-", np.arange(first_id, first_id + n), 8),
            "received_at": timestamps(reqs.time),
            "channel": names(
                ("email", "phone", "portal", "chat"), rng.choice(4, n, p=(0.45, 0.25, 0.2, 0.1))
            ),
            "requester_type": names(("customer", "prospect", "sales rep", "partner"), requester),
            "account": company.account_names.take(pa.array(deals.account[reqs.deal])),
            "opportunity_id": deal_ids.take(pa.array(reqs.deal, mask=unlinked)),
            "category": names(topics, reqs.topic, rng.random(n) >= 0.5),
            "description": describe(rng, reqs.topic, tuple(p for p, _, _ in PRODUCTS)),
            "handled_by": names(STAFF, rng.integers(0, len(STAFF), n), respond >= END_DAY),
            "first_response_at": timestamps(respond, respond >= END_DAY),
            "resolved_at": timestamps(resolve, resolve >= END_DAY),
            "outcome": names(("resolved", "open"), (resolve >= END_DAY).astype(np.int64)),
            "topic": names(topics, reqs.topic),
        }
    )
