"""The fictional company behind the demo: its reps, teams, products and customer accounts.

Everything is drawn once per seed, before any deal, so chunks of deals can be generated
independently and still share one consistent cast of people and accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salesflow.demo.effects import BACKGROUND_EFFECTS

__all__ = ["COMPETITORS", "PRODUCTS", "REGIONS", "SEGMENTS", "SOURCES", "Company", "make_company"]

MANAGERS = ("Maria Keller", "David Okafor", "Sofia Lindqvist", "James Whitfield")
REPS = (
    "Anna Berger", "Ben Carter", "Chloe Dubois", "Daniel Novak", "Elena Rossi",
    "Felix Wagner", "Grace Liu", "Hugo Martin", "Isla Murphy", "Jonas Schmidt",
    "Karin Holm", "Liam O'Brien", "Mona Haddad", "Nils Eriksen", "Olivia Grant",
    "Pavel Horak", "Quinn Adams", "Rosa Jimenez", "Samir Patel", "Tara Nolan",
    "Umar Farouk", "Vera Kuznets", "Will Turner", "Xenia Brandt", "Yusuf Demir",
)  # fmt: skip
SEGMENTS = ("SMB", "Mid-market", "Enterprise")
SEGMENT_WEIGHTS = (0.50, 0.32, 0.18)
SEGMENT_AMOUNT_MEDIAN = (4_000.0, 16_000.0, 60_000.0)
SEGMENT_DURATION = (0.6, 1.0, 1.7)  # multiplies every stage duration
SOURCES = ("inbound", "outbound", "partner", "event")
SOURCE_WEIGHTS = (0.35, 0.30, 0.20, 0.15)
# (name, amount multiplier, share of deals)
PRODUCTS = (
    ("Flowline Core", 1.0, 0.35),
    ("Flowline Analytics", 0.8, 0.20),
    ("Flowline Connect", 0.6, 0.15),
    ("Onboarding Services", 0.5, 0.15),
    ("Flowline Enterprise Suite", 2.0, 0.15),
)
REGIONS = ("EMEA", "North America", "APAC", "LATAM")
REGION_WEIGHTS = (0.40, 0.35, 0.15, 0.10)
COMPETITORS = ("none", "Axelio", "Brightdesk", "Cormorant")
COMPETITOR_WEIGHTS = (0.45, 0.25, 0.20, 0.10)
STAFF = ("Hannah Vogel", "Marco Bianchi", "Priya Raman", "Tom Hughes", "Lea Fischer", "Ivan Petrov")

_PREFIX = (
    "Al", "Bel", "Cor", "Dun", "El", "Fal", "Gar", "Hal", "Ir", "Jun", "Kel", "Lum", "Mar",
    "Nor", "Ost", "Pel", "Quar", "Ros", "Sil", "Tor", "Ul", "Ver", "Wes", "Xan", "Yar", "Zen",
    "Ash", "Brin", "Cal", "Dor", "Em", "Fen", "Glen", "Hart", "Isen", "Kor", "Lin", "Mer",
    "Nex", "Pra",
)  # fmt: skip
_STEM = (
    "vex", "dale", "brook", "core", "field", "gate", "haven", "line", "mark", "ridge",
    "stone", "tek", "ware", "wick", "ton", "mont", "by", "crest", "ford", "well",
    "ar", "ion", "ora", "ix", "us", "ena", "ova", "ic", "an", "eon",
)  # fmt: skip
_INDUSTRY = (
    "Logistics", "Foods", "Health", "Energy", "Systems", "Manufacturing", "Retail",
    "Pharma", "Media", "Finance", "Engineering", "Textiles", "Chemicals", "Labs", "Motors",
    "Packaging", "Travel", "Insurance", "Robotics", "Water",
)  # fmt: skip
_LEGAL = ("GmbH", "Ltd", "Inc", "AG", "BV", "SA", "AB", "LLC")


@dataclass(frozen=True)
class Company:
    """The cast: reps with their team and skill, and accounts with segment and region."""

    rep_team: np.ndarray  # team index per rep
    rep_weight: np.ndarray  # share of deals per rep
    rep_skill: np.ndarray  # additive win probability per rep
    account_names: pa.Array
    account_segment: np.ndarray
    account_region: np.ndarray
    segment_accounts: tuple[np.ndarray, ...]  # account indices per segment

    @property
    def reps(self) -> tuple[str, ...]:
        return REPS

    @property
    def teams(self) -> tuple[str, ...]:
        return MANAGERS


def make_company(seed: int, opportunities: int) -> Company:
    """Draw the reps' skills and the customer accounts for a demo of ``opportunities`` deals."""
    rng = np.random.default_rng([seed, 0xC0])
    n_reps = len(REPS)
    skill_sd = BACKGROUND_EFFECTS["owner"]["sd"]
    skill = np.clip(rng.normal(0.0, skill_sd, n_reps), -2 * skill_sd, 2 * skill_sd)
    weight = rng.gamma(8.0, 1.0, n_reps)
    n_accounts = min(max(400, opportunities // 4), len(_PREFIX) * len(_STEM) * len(_INDUSTRY))
    segment = rng.choice(len(SEGMENTS), n_accounts, p=(0.55, 0.30, 0.15))
    region = rng.choice(len(REGIONS), n_accounts, p=REGION_WEIGHTS)
    return Company(
        rep_team=np.arange(n_reps) % len(MANAGERS),
        rep_weight=weight / weight.sum(),
        rep_skill=skill,
        account_names=_account_names(rng, n_accounts),
        account_segment=segment,
        account_region=region,
        segment_accounts=tuple(np.flatnonzero(segment == s) for s in range(len(SEGMENTS))),
    )


def _account_names(rng: np.random.Generator, n: int) -> pa.Array:
    """Unique, pronounceable company names such as "Norvex Logistics GmbH"."""
    combos = rng.permutation(len(_PREFIX) * len(_STEM) * len(_INDUSTRY))[:n]
    p, rest = np.divmod(combos, len(_STEM) * len(_INDUSTRY))
    s, i = np.divmod(rest, len(_INDUSTRY))
    legal = rng.integers(0, len(_LEGAL), n)
    parts = [
        pa.array(_PREFIX).take(pa.array(p)),
        pa.array(_STEM).take(pa.array(s)),
        pc.binary_join_element_wise(" ", pa.array(_INDUSTRY).take(pa.array(i)), ""),
        pc.binary_join_element_wise(" ", pa.array(_LEGAL).take(pa.array(legal)), ""),
    ]
    return pc.binary_join_element_wise(*parts, "")
