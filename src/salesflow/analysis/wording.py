"""Driver results in a sales leader's words: effects, a summary, and the experiment to run."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from salesflow.analysis.effects import DriverResult, Effect
    from salesflow.analysis.model import OutcomeSpec
    from salesflow.analysis.variables import Variable

__all__ = [
    "effect_words",
    "experiment",
    "metric_words",
    "outcome_goal",
    "phrase",
    "sides",
    "summary",
]

VERBS = {
    "won": ("win", "points more often", "points less often"),
    "stalled": ("stall", "points more often", "points less often"),
    "cycle_time": ("take", "% longer to close", "% less time to close"),
}

# A binary outcome's two groups of deals, and what "going with" the outcome means.
SIDES = {"won": ("won", "lost"), "stalled": ("stalled", "not stalled")}
GOALS = {"won": "winning", "stalled": "stalling", "cycle_time": "a longer or shorter cycle time"}


def label(name: str) -> str:
    """A variable name read aloud: ``first_response_over_48h`` → ``first response over 48 h``."""
    return name.replace("_", " ").replace("48h", "48 h")


def number(value: float) -> str:
    value = abs(value)
    if value >= 10:
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 1 or value == 0 else f"{value:.2g}"


def interval(effect: Effect) -> str:
    lo, hi = effect.ci_low, effect.ci_high
    if lo * hi > 0:
        a, b = sorted((abs(lo), abs(hi)))
        return f"95 % CI {number(a)}–{number(b)}"
    return f"95 % CI {lo:+.1f} to {hi:+.1f}"


def _subject(effect: Effect, v: Variable | None) -> str:
    name = label(effect.variable)
    if effect.level is not None:
        return f"Deals with {name} {effect.level} (vs {effect.reference})"
    if v is not None and v.kind == "binary":
        return f"Deals with {name}"
    if v is not None and _is_activity_count(v.name) and effect.per.startswith("per "):
        rest = effect.per.removeprefix("per ")
        size, _, what = rest.partition(" ")
        return f"Deals with {size} more {what}" if size.isdigit() else f"Deals with one more {rest}"
    return f"Deals with {name} higher by one unit ({effect.per})"


def _is_activity_count(name: str) -> bool:
    """Activity counts read best as "one more demo" rather than "higher by one unit"."""
    if name.startswith("activities_in_"):  # per stage: the stage matters, keep the name
        return False
    return name.startswith("activities_") or name.endswith("_activities")


def phrase(effect: Effect, v: Variable | None, spec: OutcomeSpec) -> str:
    """ "Deals with first response over 48 h win 11 points less often (95 % CI 8–14)"."""
    if spec.metric is not None:
        return f"{_subject(effect, v)}: {_metric_size(effect, spec)} ({interval(effect)})"
    verb, more, less = VERBS[spec.name]
    size = f"{number(effect.effect)} {more if effect.effect >= 0 else less}"
    size = size.replace(" %", "%") if spec.unit == "percent" else size
    return f"{_subject(effect, v)} {verb} {size} ({interval(effect)})"


def _metric_size(effect: Effect, spec: OutcomeSpec) -> str:
    """ "rework rate 8.0 points higher", "time in stage 35% longer", "… 0.8 requests lower"."""
    up = effect.effect >= 0
    if spec.kind == "duration":
        return f"{metric_words(spec)} {number(effect.effect)}% {'longer' if up else 'shorter'}"
    return f"{metric_words(spec)} {number(effect.effect)} {spec.unit} {'higher' if up else 'lower'}"


def metric_words(spec: OutcomeSpec) -> str:
    return spec.label or label(spec.name)


def sides(spec: OutcomeSpec) -> tuple[str, str]:
    """The deals a binary outcome counts and the others: ("won", "lost")."""
    if spec.metric is None and spec.name in SIDES:
        return SIDES[spec.name]
    words = metric_words(spec)
    return f"counted in the {words}", f"not counted in the {words}"


def outcome_goal(spec: OutcomeSpec) -> str:
    """ "winning", "stalling", "the rework rate"."""
    if spec.metric is None and spec.name in GOALS:
        return GOALS[spec.name]
    return f"the {metric_words(spec)}"


def effect_words(effect: Effect) -> str:
    return effect.phrase or f"{effect.variable}: {effect.effect:+.1f} {effect.unit}"


def summary(result: DriverResult, spec: OutcomeSpec) -> str:
    """Two or three sentences: the strongest associations, the caveats, and what it is not."""
    strong = [e for e in result.effects if e.significant][:3]
    head = f"Across {result.n:,} {spec.population}"
    if strong:
        body = "; ".join(e.phrase for e in strong)
        text = f"{head}: {body}."
    else:
        text = (
            f"{head}, none of the {len(result.variables)} variables shows a clear "
            f"association with the {metric_words(spec)} (all adjusted p ≥ 0.05)."
        )
    serious = [w for w in result.warnings if w["kind"] in ("leakage", "collinear", "confounder")]
    if serious:
        text += f" Read with care: {len(serious)} warning(s) below."
    return (
        text + " These are associations in past deals, not proof of cause: deals that differ "
        "in one way often differ in others the data does not hold."
    )


def experiment(result: DriverResult, spec: OutcomeSpec) -> str:
    """The improvement that would test the strongest association."""
    strong = [e for e in result.effects if e.significant]
    metric = metric_words(spec)
    if not strong:
        return (
            f"Nothing to test yet: collect more deals or other operating variables, and "
            f"keep the {metric} chart running."
        )
    top = strong[0]
    what = label(top.variable) + (f" = {top.level}" if top.level else "")
    return (
        f"To test whether {what} drives the {metric}, start an improvement "
        f"(`salesflow improve add`): record the current {metric} as the baseline, change "
        f"{label(top.variable)} for new deals (for a team or a period first), and watch the "
        f"{metric} chart for a signal beyond its limits."
    )
