"""What a driver analysis returns: effects in plain units, the whole result, a link's evidence.

Plain dataclasses with their JSON shapes, kept apart from the fitting (:mod:`.drivers`) and the
words (:mod:`.wording`), which both read them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["ALPHA", "DriverResult", "Effect", "LinkEvidence"]

ALPHA = 0.05


@dataclass(frozen=True)
class Effect:
    """One variable's (or one level's) association with the outcome, in plain units."""

    variable: str
    level: str | None
    reference: str | None
    effect: float
    ci_low: float
    ci_high: float
    p: float
    p_adj: float
    n: int
    unit: str  # "points" or "percent"
    per: str  # what the effect compares: "over 48 h vs within 48 h", "per week", "vs inbound"
    outcome: str = ""
    phrase: str = ""
    worse: str = field(default="", compare=False)  # the bad direction of the outcome

    @property
    def direction(self) -> Literal["increases", "decreases"]:
        return "increases" if self.effect >= 0 else "decreases"

    @property
    def significant(self) -> bool:
        return self.p_adj < ALPHA

    def as_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc.pop("worse")
        doc.update(direction=self.direction, significant=self.significant)
        if self.level is None:
            doc.pop("level")
            doc.pop("reference")
        return doc


@dataclass
class DriverResult:
    """The ``salesflow drivers --json`` document."""

    outcome: str
    n: int
    model: str
    variables: list[str]
    effects: list[Effect]
    warnings: list[dict] = field(default_factory=list)
    summary: str = ""
    experiment: str = ""
    params: dict[str, Any] | None = None  # a metric outcome's parameters

    def as_dict(self) -> dict[str, Any]:
        extra = {} if self.params is None else {"params": self.params}
        return {
            "outcome": self.outcome,
            **extra,
            "n": self.n,
            "model": self.model,
            "variables": self.variables,
            "effects": [e.as_dict() for e in self.effects],
            "warnings": self.warnings,
            "summary": self.summary,
            "experiment": self.experiment,
        }


@dataclass(frozen=True)
class LinkEvidence:
    """What the data says about a claimed cause → effect link."""

    verdict: Literal["supports", "contradicts", "inconclusive"]
    reason: str
    effect: Effect | None
    warnings: list[dict]

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "effect": self.effect.as_dict() if self.effect else None,
            "warnings": self.warnings,
        }
