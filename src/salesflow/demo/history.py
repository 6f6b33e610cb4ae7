"""The demo company's deal history: expected close dates that slip, and reps who sandbag.

Every stage event becomes a history row. On top of it, each deal gets an expected close date when
it is created (a month end, often a quarter end). When that date nears and the deal is still open,
the rep pushes it a month out, a few days before the month ends, so pushes cluster just before
quarter end. A few reps sandbag: they put their deals a quarter later than they believe, then
pull them in shortly before they close. The pipeline waterfall of the demo therefore shows
pushes, pull-ins, amounts that change and deals that close, as a VP would recognise them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["SANDBAGGERS", "history_frame"]

SANDBAGGERS = 2  # reps who put deals a quarter later than they expect
ENDS = ("Won", "Lost")


def _month_end(days: pd.Series, months: np.ndarray | int = 0) -> pd.Series:
    """The last day of the month ``months`` after the month of each timestamp."""
    month = days.to_numpy().astype("datetime64[M]") + np.asarray(months, dtype="int64")
    last = (month + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    return pd.Series(last.astype("datetime64[ns]"), index=days.index)


def history_frame(con: BaseBackend, seed: int, end: pd.Timestamp) -> pd.DataFrame:
    """The ``opportunity_history`` rows of the demo in ``con`` (after its deals and events)."""
    rng = np.random.default_rng(seed + 18)
    ev = con.table("stage_events").to_pandas()
    ev["entered_at"] = ev["entered_at"].astype("datetime64[ns]")
    ev = ev.sort_values(["opportunity_id", "entered_at"], kind="stable").reset_index(drop=True)
    deals = ev.groupby("opportunity_id", sort=True).agg(
        created=("entered_at", "min"), owner=("owner", "first")
    )
    owners = np.sort(deals["owner"].dropna().unique())
    baggers = set(rng.choice(owners, min(SANDBAGGERS, len(owners)), replace=False))
    bags = deals["owner"].isin(baggers).to_numpy()
    planned = rng.lognormal(np.log(55), 0.5, len(deals))
    # a month end, half the time the quarter's end; a sandbagger's a quarter later
    months = (rng.random(len(deals)) < 0.5) * ((3 - deals["created"].dt.month.to_numpy() % 3) % 3)
    first = deals["created"] + pd.to_timedelta(planned, unit="D")
    deals["expected"] = _month_end(first, months + 3 * bags)
    deals["lead"] = rng.integers(2, 12, len(deals))  # days before the month end a push comes
    deals["step"] = rng.choice([1, 2, 3], len(deals), p=[0.5, 0.2, 0.3])  # months per push
    closed = ev[ev["stage"].isin(ENDS)].groupby("opportunity_id")["entered_at"].min()
    deals["life_end"] = closed.reindex(deals.index).fillna(end)
    pulls = _pull_ins(ev, deals, bags)
    rows = _keep_pulled(pd.concat([_event_rows(ev, deals), _pushes(ev, deals)]), pulls)
    out = pd.concat([rows, pulls], ignore_index=True).sort_values(["opportunity_id", "changed_at"])
    out = out.drop_duplicates(["opportunity_id", "changed_at"], keep="last")
    return out.reset_index(drop=True)


def _push_at(d: pd.DataFrame, j: np.ndarray) -> pd.Series:
    """When push ``j`` (1, 2, …) of each deal comes: ``lead`` days before the month end its
    date then names (pushes cluster at month and quarter ends)."""
    due = _month_end(d["expected"].reset_index(drop=True), (j - 1) * d["step"].to_numpy())
    lead = pd.to_timedelta(d["lead"].to_numpy(), unit="D")
    return due - lead + pd.Timedelta(hours=10)


def _push_count(deals: pd.DataFrame, moment: pd.Series, ids: pd.Series) -> np.ndarray:
    """How many pushes a deal had before ``moment``: those due in earlier months, and this
    month's when it came before ``moment``."""
    d = deals.loc[ids]
    step = d["step"].to_numpy()
    months = moment.to_numpy().astype("datetime64[M]") - d["expected"].to_numpy().astype(
        "datetime64[M]"
    )
    gap = months.astype("int64")
    done = np.where(gap > 0, -(-gap // step), 0)
    due_now = (gap >= 0) & (gap % step == 0)
    came = _push_at(d, gap // step + 1).to_numpy() < moment.to_numpy()
    return done + (due_now & came)


def _event_rows(ev: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """One row per stage event; the expected close date as pushed by then (the close day itself
    once a deal is won or lost)."""
    d = deals.loc[ev["opportunity_id"]]
    pushes = _push_count(deals, ev["entered_at"], ev["opportunity_id"])
    expected = _month_end(d["expected"].reset_index(drop=True), pushes * d["step"].to_numpy())
    close = np.where(ev["stage"].isin(ENDS), ev["entered_at"].dt.normalize(), expected)
    return _rows(ev, ev["entered_at"], close)


def _pushes(ev: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """A row for each push of a still-open deal: its state then, with the date moved out."""
    life = (deals["life_end"] - deals["expected"]) / pd.Timedelta(days=30) / deals["step"]
    n = np.clip(np.ceil(life.to_numpy()) + 1, 0, 24).astype("int64")  # the last ones may not come
    ids = deals.index.repeat(n)
    if not len(ids):
        return _rows(ev.iloc[:0], ev["entered_at"].iloc[:0], [])
    step = np.concatenate([np.arange(1, k + 1) for k in n if k])
    d = deals.loc[ids]
    months = step * d["step"].to_numpy()
    at = _push_at(d, step)
    keep = (at < d["life_end"].to_numpy()) & (at > d["created"].to_numpy())
    state = _state_at(ev, pd.Series(ids)[keep], at[keep])
    expected = _month_end(d["expected"].reset_index(drop=True)[keep], months[keep])
    return _rows(state, at[keep], expected)


def _pull_ins(ev: pd.DataFrame, deals: pd.DataFrame, bags: np.ndarray) -> pd.DataFrame:
    """A sandbagger's deal closing before its date: pulled in to its real month two weeks
    before it closes."""
    d = deals[bags & (deals["life_end"] < deals["expected"]).to_numpy()]
    at = (d["life_end"] - pd.Timedelta(days=14)).reset_index(drop=True)
    keep = (at > d["created"].reset_index(drop=True)).to_numpy()
    ids = pd.Series(d.index)[keep]
    state = _state_at(ev, ids, at[keep])
    return _rows(state, at[keep], _month_end(d["life_end"].reset_index(drop=True)[keep]))


def _keep_pulled(rows: pd.DataFrame, pulls: pd.DataFrame) -> pd.DataFrame:
    """After a pull-in, the deal keeps its pulled-in date until it closes (no more pushes)."""
    pulled = pulls[["opportunity_id", "changed_at", "close_date"]].rename(
        columns={"changed_at": "pulled_at", "close_date": "pulled_to"}
    )
    rows = rows.merge(pulled, on="opportunity_id", how="left")
    after = (rows["changed_at"] > rows["pulled_at"]) & ~rows["stage"].isin(ENDS)
    rows.loc[after, "close_date"] = rows.loc[after, "pulled_to"]
    return rows.drop(columns=["pulled_at", "pulled_to"])


def _state_at(ev: pd.DataFrame, ids: pd.Series, at: pd.Series) -> pd.DataFrame:
    """Each deal's last stage event before ``at`` (stage, amount, owner, forecast category)."""
    moments = at.to_numpy().astype("datetime64[ns]")
    probe = pd.DataFrame({"opportunity_id": ids.to_numpy(), "entered_at": moments})
    probe = probe.sort_values("entered_at", kind="stable")
    found = pd.merge_asof(
        probe, ev.sort_values("entered_at", kind="stable"), on="entered_at", by="opportunity_id"
    )
    return found.set_index(probe.index).sort_index().reset_index(drop=True)


def _rows(state: pd.DataFrame, at: pd.Series, close) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": state["opportunity_id"].to_numpy(),
            "changed_at": pd.Series(at).to_numpy(),
            "stage": state["stage"].to_numpy(),
            "amount": state["amount"].to_numpy(),
            "close_date": pd.Series(np.asarray(close, dtype="datetime64[ns]")).dt.date.to_numpy(),
            "forecast_category": np.where(
                state["stage"].isin(ENDS), "closed", state["forecast_category"].to_numpy()
            ),
            "owner": state["owner"].to_numpy(),
        }
    )
