"""Keep the workspace current without typing ``salesflow import``: a watched folder of exports.

``sync_folder`` imports every new or changed file of ``[sync.folder] path`` through the importer
(all or nothing per file) and records each attempt in the workspace's sync log. See docs/sync.md.
"""

from salesflow.sync.config import FolderSettings, folder_settings
from salesflow.sync.folder import FileResult, sync_folder
from salesflow.sync.log import read_log

__all__ = ["FileResult", "FolderSettings", "folder_settings", "read_log", "sync_folder"]
