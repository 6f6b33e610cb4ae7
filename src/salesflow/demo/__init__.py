"""The demo company: a seeded, streaming generator of realistic fictional B2B sales data.

``build_demo(path)`` creates a workspace holding two years of opportunities, stage history,
activities, forecasts and a request log, with the documented effects of
:mod:`salesflow.demo.effects` injected for later analysis to find.
"""

from __future__ import annotations

from salesflow.demo import effects
from salesflow.demo.build import DemoReport, build_demo

__all__ = ["DemoReport", "build_demo", "effects"]
