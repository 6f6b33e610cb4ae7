"""Alembic migrations for the app database (a package so that wheels ship them)."""
