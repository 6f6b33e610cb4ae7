"""Stages during an import: adopt a preset's stages in a new workspace, or name unknown ones.

A new workspace starts with example stages. When it holds no deals yet and its stages are still
those defaults, importing with a preset adopts the preset's stages (``[stages]`` in
``salesflow.toml`` is rewritten, the rest of the file kept). Otherwise a stage the workspace does
not know is an error that lists the stages and says where to add them.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from salesflow.errors import RowError
from salesflow.settings import CONFIG_FILE, StageConfig, load_settings

if TYPE_CHECKING:
    import duckdb

    from salesflow.ingest.mapping import Preset
    from salesflow.ingest.workspace_data import WorkspaceData
    from salesflow.settings import Settings
    from salesflow.workspace import Workspace

__all__ = ["adopted_message", "as_dict", "choose", "unknown_stage_summary", "write_settings"]


def choose(
    settings: Settings, preset: Preset | None, ws: WorkspaceData
) -> tuple[StageConfig, bool]:
    """The stages to validate against, and whether they are the preset's, newly adopted."""
    if preset is None or preset.stages is None or preset.stages == settings.stages:
        return settings.stages, False
    fresh = settings.stages == StageConfig()
    empty = ws.rows("opportunities") == 0 and ws.rows("stage_events") == 0
    if fresh and empty:
        return preset.stages, True
    return settings.stages, False


def as_dict(stages: StageConfig) -> dict[str, list[str]]:
    return {"order": list(stages.order), "won": list(stages.won), "lost": list(stages.lost)}


def adopted_message(preset: Preset, dry_run: bool) -> str:
    s = preset.stages
    verb = "would adopt" if dry_run else "adopted"
    return (
        f"The workspace had only the example stages, so it {verb} the {preset.name} stages: "
        f"{', '.join(s.order)} (open), {', '.join(s.won)} (won), {', '.join(s.lost)} (lost) "
        f"— see [stages] in {CONFIG_FILE}"
    )


def _quoted(names: tuple[str, ...]) -> str:
    return ", ".join('"' + n.replace('"', '\\"') + '"' for n in names)


def write_settings(workspace: Workspace, stages: StageConfig) -> None:
    """Rewrite ``[stages]`` in salesflow.toml, keeping every other line, and reload settings."""
    path = workspace.settings.config_path
    text = path.read_text(encoding="utf-8")
    block = (
        f"[stages]\norder = [{_quoted(stages.order)}]   # open stages, in order\n"
        f"won = [{_quoted(stages.won)}]\nlost = [{_quoted(stages.lost)}]\n"
    )
    pattern = re.compile(r"^\[stages\][^\n]*\n(?:(?!\[)[^\n]*\n?)*", re.MULTILINE)
    if pattern.search(text):
        text = pattern.sub(lambda _: block + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    spare = path.with_name(path.name + ".new")  # a crash mid-write never leaves half a file
    spare.write_text(text, encoding="utf-8")
    os.replace(spare, path)
    workspace.settings = load_settings(workspace.path)


def unknown_stage_summary(
    mem: duckdb.DuckDBPyConnection, errors: str, file: str, stages: StageConfig, table: str
) -> list[RowError]:
    """One line naming every unknown stage and how to fix it (before the row errors)."""
    names = [
        r[0]
        for r in mem.execute(
            f"SELECT value, min(_row) FROM {errors} WHERE col = 'stage' "
            f"AND reason LIKE 'stage is not%' GROUP BY value ORDER BY 2"
        ).fetchall()
    ]
    if not names:
        return []
    return [
        RowError(
            file,
            None,
            "stage",
            ", ".join(names),
            f"{len(names)} stage(s) the workspace does not know. Add them to [stages] in "
            f"{CONFIG_FILE} (order = open stages in order, won = [...], lost = [...]; now: "
            f"{', '.join(stages.all)}) or translate them in [{table}.values.stage] of a mapping file",
        )
    ]
