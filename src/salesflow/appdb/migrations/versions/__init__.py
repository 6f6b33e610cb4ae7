"""Migration scripts, one per schema revision (see docs/appdb.md)."""
