"""The metric catalog: built-in metrics by family plus the workspace's custom ones."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from salesflow.errors import ConfigError, NotFoundError, did_you_mean

if TYPE_CHECKING:
    from salesflow.metrics.base import Metric
    from salesflow.settings import Settings

__all__ = ["FAMILIES", "builtins", "catalog", "get"]

FAMILIES = ("flow", "quality", "forecasting", "requests", "waste", "custom")


@cache
def builtins() -> dict[str, Metric]:
    """Every built-in metric by id, in family order."""
    from salesflow.metrics import flow, forecasting, promises, quality, requests, slippage, waste

    out: dict[str, Metric] = {}
    for module in (flow, quality, forecasting, slippage, promises, requests, waste):
        for metric in module.METRICS:
            out[metric.id] = metric
    return out


def catalog(settings: Settings | None = None) -> list[Metric]:
    """Built-in metrics, then the custom ones declared in ``salesflow.toml``."""
    from salesflow.metrics.custom import custom_metrics

    metrics = dict(builtins())
    if settings is not None:
        for metric_id, metric in custom_metrics(settings).items():
            if metric_id in metrics:
                raise ConfigError(
                    f"Custom metric {metric_id!r} has the name of a built-in metric",
                    where=f"{settings.config_path}, setting metrics.{metric_id}",
                    hint="Give it another name",
                )
            metrics[metric_id] = metric
    return list(metrics.values())


def get(metric_id: str, settings: Settings | None = None) -> Metric:
    """The metric called ``metric_id``; a clear error lists the ones that exist."""
    metric = builtins().get(metric_id)
    if metric is not None:
        return metric
    for metric in catalog(settings):
        if metric.id == metric_id:
            return metric
    ids = [m.id for m in catalog(settings)]
    raise NotFoundError(
        f"No metric called {metric_id!r}",
        hint=f"{did_you_mean(metric_id, ids)}See `salesflow metrics` for the catalog: {', '.join(ids)}",
    )
