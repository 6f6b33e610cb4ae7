"""Sales activities for a chunk of deals: the first response, proposals, and the work between.

The first activity of every deal happens exactly ``first_response_hours`` after creation (so the
attribute and the activity log agree); every Proposal stage entry brings a ``proposal``
activity; calls, emails, meetings and demos fill the deal's life in proportion to its length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salesflow.demo.deals import END_DAY, PROPOSAL, Deals

__all__ = ["ACTIVITY_TYPES", "Activities", "generate_activities"]

ACTIVITY_TYPES = ("call", "email", "meeting", "demo", "proposal")
_FOLLOW_UP_WEIGHTS = np.array([0.35, 0.35, 0.18, 0.12])
ACTIVITIES_PER_DAY = 0.10
HELPER_SHARE = 0.08  # activities done by a colleague (presales, a manager) instead of the owner


@dataclass
class Activities:
    deal: np.ndarray  # index into the chunk's deals
    type: np.ndarray
    time: np.ndarray
    owner: np.ndarray


def generate_activities(rng: np.random.Generator, deals: Deals, n_reps: int) -> Activities:
    """All activities of a chunk, sorted by deal and time."""
    n = len(deals)
    first = deals.created + deals.first_response_hours / 24.0
    end = deals.life_end
    responded = (first < END_DAY) & deals.kept
    first_deal = np.flatnonzero(responded)
    first_type = np.where(rng.random(len(first_deal)) < 0.45, 0, 1)  # call or email

    proposal = deals.ev_stage == PROPOSAL
    prop_deal, prop_time = deals.ev_deal[proposal], deals.ev_time[proposal]

    span = np.where(responded, np.maximum(end - first, 0.0), 0.0)
    count = rng.poisson(np.where(responded, 1.0 + ACTIVITIES_PER_DAY * span, 0.0))
    more_deal = np.repeat(np.arange(n), count)
    more_time = first[more_deal] + rng.random(len(more_deal)) * span[more_deal]
    p = _FOLLOW_UP_WEIGHTS / _FOLLOW_UP_WEIGHTS.sum()
    more_type = rng.choice(len(p), len(more_deal), p=p)

    deal = np.concatenate([first_deal, prop_deal, more_deal])
    time = np.concatenate([first[first_deal], prop_time, more_time])
    kind = np.concatenate([first_type, np.full(len(prop_deal), 4), more_type])
    # The first response is always the deal owner's; later work is sometimes a colleague's.
    owner = deals.owner[deal].copy()
    helper = rng.random(len(deal)) < HELPER_SHARE
    helper[: len(first_deal)] = False
    owner[helper] = rng.integers(0, n_reps, int(helper.sum()))
    order = np.lexsort((time, deal))
    return Activities(deal[order], kind[order], time[order], owner[order])
