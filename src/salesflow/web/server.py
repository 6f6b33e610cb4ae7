"""The entry point uvicorn imports in each worker: ``salesflow.web.server:make_app`` (factory).

The workspace comes from ``SALESFLOW_WORKSPACE``, which ``salesflow serve`` sets.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["make_app"]


def make_app() -> FastAPI:
    from salesflow.settings import load_settings
    from salesflow.web.app import create_app

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    return create_app(load_settings(os.environ.get("SALESFLOW_WORKSPACE", ".")))
