"""The request log for a chunk of deals: questions before the sale, follow-ups after it.

Every deal raises a Poisson number of requests while it is open (pricing, product information,
technical questions, contract changes) and, once won, after-sale ones (delivery, invoices,
support, contract changes). Small orders raise more of both; contract changes grow each month
by thinning: candidates are drawn at the final month's rate and kept with probability
``(1 + g) ** (month - last_month)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salesflow.demo import effects as fx
from salesflow.demo.deals import END_DAY, Deals
from salesflow.demo.texts import TOPICS

__all__ = ["Requests", "generate_requests", "month_index"]

PRE_SALE_RATE = 0.5  # requests per deal before it closes (at the first month's mix)
POST_SALE_RATE = 1.0  # requests per won deal in the 120 days after the win
POST_SALE_DAYS = 120.0
_T = {t: i for i, t in enumerate(TOPICS)}
CONTRACT = _T["contract"]
PRE_MIX = {"pricing": 0.35, "product": 0.30, "support": 0.20, "contract": 0.15}
POST_MIX = {"delivery": 0.35, "billing": 0.35, "support": 0.20, "contract": 0.10}
_MONTH_STARTS = (
    np.arange(np.datetime64(fx.DATA_START, "M"), np.datetime64(fx.DATA_END, "M") + 1)
    .astype("datetime64[D]")
    .astype(np.int64)
    - np.datetime64(fx.DATA_START, "D").astype(np.int64)
).astype(float)


@dataclass
class Requests:
    deal: np.ndarray
    topic: np.ndarray
    time: np.ndarray
    post_sale: np.ndarray


def month_index(days: np.ndarray) -> np.ndarray:
    """Month number since DATA_START (0 … MONTHS-1) for times in days since DATA_START."""
    return np.searchsorted(_MONTH_STARTS, days, side="right") - 1


def _mix(mix: dict[str, float]) -> tuple[np.ndarray, np.ndarray, float]:
    """Topic codes and probabilities with contract changes at the final month's weight."""
    top = (1.0 + fx.GROWTH_PER_MONTH) ** (fx.MONTHS - 1)
    weights = np.array([w * (top if t == "contract" else 1.0) for t, w in mix.items()])
    codes = np.array([_T[t] for t in mix])
    return codes, weights / weights.sum(), float(weights.sum())


def _draw(rng, deal_rate, start, stop, mix):
    codes, p, boost = _mix(mix)
    count = rng.poisson(deal_rate * boost)
    deal = np.repeat(np.arange(len(deal_rate)), count)
    time = start[deal] + rng.random(len(deal)) * (stop - start)[deal]
    topic = codes[rng.choice(len(p), len(deal), p=p)]
    return deal, topic, time


def generate_requests(rng: np.random.Generator, deals: Deals) -> Requests:
    """All requests of a chunk received within the data window, sorted by time."""
    small = deals.amount < fx.SMALL_ORDER_AMOUNT
    rate = np.where(small, fx.SMALL_ORDER_REQUEST_MULTIPLIER, 1.0)
    won = deals.outcome == 1
    pre = _draw(rng, rate * PRE_SALE_RATE, deals.created, deals.life_end, PRE_MIX)
    closed = np.where(won, deals.closed, 0.0)
    post = _draw(rng, rate * POST_SALE_RATE * won, closed, closed + POST_SALE_DAYS, POST_MIX)
    deal = np.concatenate([pre[0], post[0]])
    topic = np.concatenate([pre[1], post[1]])
    time = np.concatenate([pre[2], post[2]])
    post_sale = np.concatenate([np.zeros(len(pre[0]), bool), np.ones(len(post[0]), bool)])
    inside = (time >= 0.0) & (time < END_DAY)
    month = np.clip(month_index(time), 0, fx.MONTHS - 1)
    keep_p = (1.0 + fx.GROWTH_PER_MONTH) ** (month - (fx.MONTHS - 1))
    keep = inside & ((topic != CONTRACT) | (rng.random(len(topic)) < keep_p))
    order = np.argsort(time[keep], kind="stable")
    return Requests(*(x[keep][order] for x in (deal, topic, time, post_sale)))
