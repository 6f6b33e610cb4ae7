"""Errors of the app database layer, part of the :class:`salesflow.errors.SalesflowError` family."""

from __future__ import annotations

from salesflow.errors import ConflictError, SalesflowError

__all__ = [
    "AlreadyExistsError",
    "AppDbUnavailableError",
    "AppDbVersionError",
    "ConflictError",
    "InvalidRecordError",
    "StaleEditError",
    "VersionRequiredError",
]


class AppDbUnavailableError(SalesflowError):
    """The app database cannot be reached or created."""


class AppDbVersionError(SalesflowError):
    """The app database's schema is not the one this salesflow release expects."""


class InvalidRecordError(SalesflowError):
    """A value cannot be stored in the knowledge base as given."""


class VersionRequiredError(InvalidRecordError):
    """A change did not say which version it was based on, so it could overwrite someone's work."""


class StaleEditError(ConflictError):
    """Someone else saved a newer version since the caller read it; nothing was overwritten."""


class AlreadyExistsError(ConflictError, InvalidRecordError):
    """Something with this id or name is already stored; creating it again would replace it."""
