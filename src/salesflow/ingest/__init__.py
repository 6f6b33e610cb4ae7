"""Import CRM exports (CSV, Excel, Parquet) into the canonical tables, all or nothing.

``import_file`` reads the file as text into an in-memory DuckDB, maps its columns (mapping file,
preset, or same-name matching), checks every row with SQL, and only then writes to the workspace in
one transaction. See docs/import.md.
"""

from salesflow.ingest.importer import Progress, import_file
from salesflow.ingest.mapping import load_preset, preset_names, preset_stages
from salesflow.ingest.read import check_file
from salesflow.ingest.report import REPORT_KEYS, ImportReport

__all__ = [
    "REPORT_KEYS",
    "ImportReport",
    "Progress",
    "check_file",
    "import_file",
    "load_preset",
    "preset_names",
    "preset_stages",
]
