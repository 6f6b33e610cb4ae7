"""What a driver model cannot estimate, refused before fitting with the count that makes it so.

Three cases give effects that are guesses or infinite, never an answer:

- **no variation**: every deal won (or lost, or took the same time) — nothing to compare;
- **too few events per model term**: fewer than 10 deals in the smaller outcome group (for a
  binary outcome) or 10 deals in all (otherwise) per coefficient (Peduzzi et al. 1996);
- **separation** (binary outcomes): a level, or a combination of variables, tells won from lost
  exactly, so the logistic coefficient runs off to infinity (Albert & Anderson 1984). A single
  0/1 column with an empty cell is named with its count; otherwise a linear programme finds a
  direction ``b`` with ``(2y − 1)·Xb ≥ 0`` for every deal and ``> 0`` for some, which exists
  exactly when the data are (quasi-)completely separated (Konis 2007).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from salesflow.analysis import wording
from salesflow.errors import DataError

if TYPE_CHECKING:
    import numpy as np

    from salesflow.analysis.model import Design, OutcomeSpec

__all__ = ["MIN_EVENTS_PER_TERM", "check"]

MIN_EVENTS_PER_TERM = 10
SEPARATION_TOL = 1e-7  # LP optimum above this (on columns scaled to ±1) means separation


def check(d: Design, spec: OutcomeSpec) -> None:
    """Raise :class:`DataError` when the model for ``d`` cannot be estimated; else return."""
    _variation(d, spec)
    _events_per_term(d, spec)
    if spec.kind == "binary":
        _separation(d, spec)


def _refuse(what: str, spec: OutcomeSpec, hint: str, *, reliably: bool = False) -> None:
    how = " reliably" if reliably else ""
    raise DataError(
        f"{what}: whether a variable goes with {wording.outcome_goal(spec)} cannot be "
        f"estimated{how}",
        hint=hint,
    )


def _variation(d: Design, spec: OutcomeSpec) -> None:
    n = len(d.y)
    if n == 0:
        return
    if spec.kind == "binary":
        yes, no = wording.sides(spec)
        hits = int(d.y.sum())
        if hits in (0, n):
            missing = no if hits == n else yes
            _refuse(
                f"0 deals {missing} among {n:,} {spec.population}",
                spec,
                hint="Widen the filters or import deals with both outcomes",
            )
    elif float(d.y.max()) == float(d.y.min()):
        _refuse(
            f"All {n:,} {spec.population} have the same {wording.metric_words(spec)}",
            spec,
            hint="Widen the filters or choose another outcome",
        )


def _events_per_term(d: Design, spec: OutcomeSpec) -> None:
    terms = d.X.shape[1]
    if not terms:
        return
    n = len(d.y)
    if spec.kind == "binary":
        yes, no = wording.sides(spec)
        hits = int(d.y.sum())
        events, side = (hits, yes) if hits <= n - hits else (n - hits, no)
        what = f"{events:,} deals {side}"
    else:
        events, what = n, f"{n:,} {spec.population}"
    per = events / terms
    if per < MIN_EVENTS_PER_TERM:
        _refuse(
            f"Only {what} for {terms} model terms ({per:.1f} per term; want "
            f"{MIN_EVENTS_PER_TERM}+)",
            spec,
            hint=f"Analyse fewer variables or levels (--variables a,b), at most "
            f"{max(1, events // MIN_EVENTS_PER_TERM)} terms, or wait for more deals",
            reliably=True,
        )


def _separation(d: Design, spec: OutcomeSpec) -> None:
    yes, no = wording.sides(spec)
    y = d.y.to_numpy() > 0.5
    for column, (variable, level) in d.columns.items():
        x = d.X[column].to_numpy()
        if not ((x == 0) | (x == 1)).all():
            continue
        inside = x == 1
        for group, side in ((inside, "with"), (~inside, "without")):
            size, hits = int(group.sum()), int(y[group].sum())
            if size and hits in (0, size):
                who = f"{variable} = {level}" if level is not None else f"{side} {variable}"
                _refuse(
                    f"All {size:,} deals {who} {yes if hits else no} (separation)",
                    spec,
                    hint=f"Leave {variable} out (--variables), or pool its small levels",
                )
    found = _separating_direction(d.X.to_numpy(dtype=float), y)
    if found:
        names = list(dict.fromkeys(d.columns[d.X.columns[i]][0] for i in found))
        _refuse(
            f"{' and '.join(names)} tell deals {yes} from deals {no} exactly (separation)",
            spec,
            hint=f"Leave {names[0]} out (--variables), or analyse more deals",
        )


def _separating_direction(X: np.ndarray, y: np.ndarray) -> list[int]:
    """Columns of a direction that separates ``y`` (constant included), or [] when none does."""
    import numpy as np
    from scipy.optimize import linprog

    scale = np.abs(X).max(axis=0)
    scale[scale == 0] = 1.0
    design = np.column_stack([np.ones(len(X)), X / scale])
    signed = np.where(y, 1.0, -1.0)[:, None] * design
    # maximise Σ signed·b subject to signed·b ≥ 0 and −1 ≤ b ≤ 1
    result = linprog(
        -signed.sum(axis=0),
        A_ub=-signed,
        b_ub=np.zeros(len(X)),
        bounds=[(-1, 1)] * design.shape[1],
        method="highs",
    )
    if result.status != 0 or -result.fun <= SEPARATION_TOL * len(X):
        return []
    return [i - 1 for i in np.flatnonzero(np.abs(result.x) > 1e-6) if i > 0]
