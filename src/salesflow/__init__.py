"""salesflow: data-driven sales process improvement.

The package root stays light (no Ibis, pandas or SQLAlchemy at import time) so the command line
starts fast; the Python API is loaded on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
