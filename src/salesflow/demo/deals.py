"""Opportunities and their stage history, one chunk at a time, with vectorised NumPy.

Time is kept as float days since ``DATA_START`` until the chunk becomes Arrow tables. A deal's
path through the stages is one of a few realistic variants (straight through, skipped
qualification, rework loops back to Discovery or Proposal, losses at every stage); its time in
each stage is log-normal, scaled by segment, with the Proposal process change applied by the
date the deal enters Proposal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salesflow.demo import effects as fx
from salesflow.demo.company import (
    COMPETITOR_WEIGHTS,
    COMPETITORS,
    PRODUCTS,
    SEGMENT_AMOUNT_MEDIAN,
    SEGMENT_DURATION,
    SEGMENT_WEIGHTS,
    SEGMENTS,
    SOURCE_WEIGHTS,
    SOURCES,
    Company,
)

__all__ = ["END_DAY", "STAGES", "Deals", "generate_deals"]

STAGES = ("Lead", "Qualified", "Discovery", "Proposal", "Negotiation", "Won", "Lost")
WON, LOST, PROPOSAL = 5, 6, 3
END_DAY = float((fx.DATA_END - fx.DATA_START).days)
CHANGE_DAY = float((fx.CHANGE_DATE - fx.DATA_START).days)
STAGE_MEDIAN_DAYS = np.array([3.0, 6.0, 12.0, 10.0, 8.0, 0.0, 0.0])
STAGE_SIGMA = 0.6

WON_PATHS = (
    ((0, 1, 2, 3, 4, 5), 0.74),
    ((0, 2, 3, 4, 5), 0.08),  # qualification skipped
    ((0, 1, 2, 3, 2, 3, 4, 5), 0.10),  # back to Discovery after the first proposal
    ((0, 1, 2, 3, 4, 3, 4, 5), 0.06),  # proposal reworked during negotiation
    ((0, 1, 2, 3, 2, 3, 4, 3, 4, 5), 0.02),
)
LOST_PATHS = (
    ((0, 6), 0.28),
    ((0, 1, 6), 0.24),
    ((0, 1, 2, 6), 0.20),
    ((0, 1, 2, 3, 6), 0.13),
    ((0, 1, 2, 3, 4, 6), 0.08),
    ((0, 1, 2, 3, 2, 6), 0.04),
    ((0, 1, 2, 3, 4, 3, 6), 0.03),
)
MAX_PATH = max(len(p) for p, _ in WON_PATHS + LOST_PATHS)


@dataclass
class Deals:
    """One chunk of deals (one row per deal) and their stage events (flattened, in time order)."""

    kept: (
        np.ndarray
    )  # False for warm-up deals closed before DATA_START (only their requests remain)
    created: np.ndarray
    closed: np.ndarray  # NaN while open at DATA_END
    outcome: np.ndarray  # 0 open, 1 won, 2 lost
    stage: np.ndarray  # current stage code
    amount: np.ndarray
    owner: np.ndarray
    segment: np.ndarray
    product: np.ndarray
    source: np.ndarray
    account: np.ndarray
    region: np.ndarray
    competitor: np.ndarray
    discount: np.ndarray
    first_response_hours: np.ndarray
    ev_deal: np.ndarray
    ev_stage: np.ndarray
    ev_time: np.ndarray

    def __len__(self) -> int:
        return len(self.created)

    @property
    def life_end(self) -> np.ndarray:
        """When work on the deal stops: its close, or the end of the data for open deals."""
        return np.where(np.isnan(self.closed), END_DAY, self.closed)


def _creation_days(rng: np.random.Generator, n: int) -> np.ndarray:
    """Creation times: weekdays busier than weekends, quiet August and December, office hours."""
    days = np.arange(-fx.WARMUP_DAYS, int(END_DAY))
    dates = np.datetime64(fx.DATA_START) + days
    weekday = (dates.astype("datetime64[D]").view("int64") + 3) % 7  # 0 = Monday
    month = dates.astype("datetime64[M]").view("int64") % 12 + 1
    weight = np.where(weekday < 5, 1.0, 0.12)
    weight = weight * np.select(
        [month == 8, month == 12, np.isin(month, (3, 9, 10))], [0.7, 0.8, 1.15], 1.0
    )
    day = rng.choice(days, n, p=weight / weight.sum())
    return day + (8.0 + 10.0 * rng.beta(2.0, 2.0, n)) / 24.0


def _choose(rng: np.random.Generator, weights: tuple[float, ...], n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), n, p=p / p.sum())


def _attributes(rng: np.random.Generator, company: Company, n: int) -> dict[str, np.ndarray]:
    segment = _choose(rng, SEGMENT_WEIGHTS, n)
    account = np.empty(n, dtype=np.int64)
    for s, pool in enumerate(company.segment_accounts):
        rows = np.flatnonzero(segment == s)
        account[rows] = pool[(rng.random(len(rows)) * len(pool)).astype(np.int64)]
    product = _choose(rng, tuple(w for _, _, w in PRODUCTS), n)
    multiplier = np.array([m for _, m, _ in PRODUCTS])[product]
    amount = np.asarray(SEGMENT_AMOUNT_MEDIAN)[segment] * multiplier * rng.lognormal(0, 0.7, n)
    discount = np.where(rng.random(n) < 0.4, 0.0, np.round(rng.uniform(2, 25, n) * 2) / 2)
    return {
        "segment": segment,
        "account": account,
        "region": company.account_region[account],
        "owner": rng.choice(len(company.rep_weight), n, p=company.rep_weight),
        "product": product,
        "source": _choose(rng, SOURCE_WEIGHTS, n),
        "competitor": _choose(rng, COMPETITOR_WEIGHTS, n),
        "discount": discount,
        "amount": np.maximum(200.0, np.round(amount, -1)),
        "first_response_hours": np.clip(rng.lognormal(np.log(22.0), 1.3, n), 0.25, 500.0),
    }


def win_probability(a: dict[str, np.ndarray], company: Company) -> np.ndarray:
    """The documented win model: background effects plus the slow-response penalty."""
    bg = fx.BACKGROUND_EFFECTS
    p = np.array([bg["segment"][s] for s in SEGMENTS])[a["segment"]]
    p = p + np.array([bg["source"][s] for s in SOURCES])[a["source"]]
    p = p + np.array([bg["competitor"][c] for c in COMPETITORS])[a["competitor"]]
    p = p + bg["discount_pct"]["per_point"] * a["discount"] + company.rep_skill[a["owner"]]
    p = p + np.where(a["first_response_hours"] > fx.SLOW_RESPONSE_HOURS, fx.SLOW_RESPONSE_WIN_PP, 0)
    return np.clip(p, 0.02, 0.95)


def _paths(rng: np.random.Generator, won: np.ndarray) -> np.ndarray:
    """A stage path per deal (rows padded with -1), drawn from the won or lost variants."""
    paths = np.full((len(won), MAX_PATH), -1, dtype=np.int64)
    for is_won, variants in ((True, WON_PATHS), (False, LOST_PATHS)):
        rows = np.flatnonzero(won == is_won)
        table = np.full((len(variants), MAX_PATH), -1, dtype=np.int64)
        for i, (path, _) in enumerate(variants):
            table[i, : len(path)] = path
        paths[rows] = table[_choose(rng, tuple(w for _, w in variants), len(rows))]
    return paths


def _entry_times(rng: np.random.Generator, paths: np.ndarray, a: dict, created: np.ndarray):
    """When each stage on the path is entered; Proposal is shorter after the change date."""
    n = len(created)
    times = np.full(paths.shape, np.nan)
    times[:, 0] = created + a["first_response_hours"] / 24.0  # work starts at first response
    scale = np.asarray(SEGMENT_DURATION)[a["segment"]]
    for j in range(MAX_PATH - 1):
        stage = np.maximum(paths[:, j], 0)
        days = STAGE_MEDIAN_DAYS[stage] * scale * rng.lognormal(0.0, STAGE_SIGMA, n)
        after = (stage == PROPOSAL) & (times[:, j] >= CHANGE_DAY)
        days = np.where(after, days * fx.PROPOSAL_TIME_FACTOR, days)
        times[:, j + 1] = times[:, j] + days
    times[:, 0] = created
    times[paths < 0] = np.nan
    return times


def generate_deals(rng: np.random.Generator, company: Company, n: int) -> Deals:
    """``n`` candidate deals; those closed before DATA_START are marked not ``kept``.

    They are not exported, but their after-sale requests still arrive in the data window,
    so the request log starts at full volume instead of ramping up.
    """
    created = np.sort(_creation_days(rng, n))
    a = _attributes(rng, company, n)
    won = rng.random(n) < win_probability(a, company)
    paths = _paths(rng, won)
    times = _entry_times(rng, paths, a, created)
    last = (paths >= 0).sum(axis=1) - 1
    end_time = times[np.arange(n), last]
    kept = end_time >= 0.0
    happened = (paths >= 0) & (times < END_DAY) & kept[:, None]
    is_closed = end_time < END_DAY
    ev_deal, ev_pos = np.nonzero(happened)
    current = paths[np.arange(n), np.maximum(happened.sum(axis=1) - 1, 0)]
    return Deals(
        kept=kept,
        created=created,
        closed=np.where(is_closed, end_time, np.nan),
        outcome=np.where(is_closed, np.where(won, 1, 2), 0),
        stage=current,
        ev_deal=ev_deal,
        ev_stage=paths[ev_deal, ev_pos],
        ev_time=times[ev_deal, ev_pos],
        first_response_hours=a.pop("first_response_hours"),
        **a,
    )
