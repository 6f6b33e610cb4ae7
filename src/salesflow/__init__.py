"""salesflow: data-driven sales process improvement.

    import salesflow as sf
    ws = sf.open("demo-ws")
    ws.metric("win_rate", period="quarter").chart()

The package root stays light (no Ibis, pandas or SQLAlchemy at import time) so the command line
starts fast; the Python API (:mod:`salesflow.api`) is loaded on first use of ``open`` or
``Workspace``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Workspace", "__version__", "open"]

if TYPE_CHECKING:
    from salesflow.api import Workspace, open

_LAZY = {"open", "Workspace"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from salesflow import api

        return getattr(api, name)
    raise AttributeError(f"module 'salesflow' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
