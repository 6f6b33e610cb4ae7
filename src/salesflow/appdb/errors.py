"""Errors of the app database layer, part of the :class:`salesflow.errors.SalesflowError` family."""

from __future__ import annotations

from salesflow.errors import SalesflowError

__all__ = ["AppDbUnavailableError", "AppDbVersionError", "InvalidRecordError", "StaleEditError"]


class AppDbUnavailableError(SalesflowError):
    """The app database cannot be reached or created."""


class AppDbVersionError(SalesflowError):
    """The app database's schema is not the one this salesflow release expects."""


class InvalidRecordError(SalesflowError):
    """A value cannot be stored in the knowledge base as given."""


class StaleEditError(SalesflowError):
    """Someone else saved a newer version since the caller read it; nothing was overwritten."""

    exit_code = 2
