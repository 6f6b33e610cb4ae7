"""The team web app: FastAPI + Jinja2 + HTMX over the same core functions as the CLI.

``create_app(settings)`` builds it; ``salesflow serve`` runs it. Importing this package builds
nothing. See docs/web.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from salesflow.settings import Settings
    from salesflow.web.config import WebSettings

__all__ = ["create_app"]


def create_app(settings: Settings | WebSettings) -> FastAPI:
    """The web app for one workspace (see :func:`salesflow.web.app.create_app`)."""
    from salesflow.web.app import create_app as build

    return build(settings)
