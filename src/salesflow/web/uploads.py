"""Uploaded exports: size limit, type check, a holding folder until the user confirms the import.

A file is kept under ``WORKSPACE/uploads/TOKEN/`` between the dry run and the confirmation, so
any worker can finish the import. The importer does the rest (its dry run writes nothing).
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesflow.errors import NotFoundError, SalesflowError
from salesflow.filemodes import private_dir, touch_private

if TYPE_CHECKING:
    from starlette.datastructures import UploadFile

__all__ = ["KINDS", "UploadError", "folder_of", "held", "hold", "imported", "release", "sniff"]

KINDS = {".csv": "csv", ".txt": "csv", ".xlsx": "excel", ".parquet": "parquet"}
MAX_AGE_SECONDS = 24 * 3600  # a held upload, or what is left of it after the import, then goes


class UploadError(SalesflowError):
    """The uploaded file is too large or not a CSV, Excel or Parquet file."""


def sniff(head: bytes, suffix: str, name: str) -> str:
    """The file's kind by extension, confirmed by its first bytes."""
    kind = KINDS.get(suffix.lower())
    if kind is None:
        raise UploadError(
            f"{name} is not a CSV, Excel (.xlsx) or Parquet file",
            where=name,
            hint="Export the data from your CRM as CSV, .xlsx or .parquet",
        )
    ok = {
        "parquet": head.startswith(b"PAR1"),
        "excel": head.startswith(b"PK\x03\x04"),
        "csv": b"\x00" not in head and _text(head),
    }[kind]
    if not ok:
        raise UploadError(
            f"{name} does not look like a {kind} file inside",
            where=name,
            hint="Check you picked the right file, and that its extension matches its content",
        )
    return kind


def _text(head: bytes) -> bool:
    for encoding in ("utf-8", "cp1252"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            if exc.start > len(head) - 4:  # a character cut at the end of the sample
                return True
    return False


def safe_name(filename: str | None) -> str:
    """The upload's own name without folders, control characters (NUL…) or excess length: it
    becomes a file name on the server (most file systems stop at 255 bytes)."""
    name = "".join(c for c in Path(filename or "").name if c.isprintable()).strip(" .")
    stem, dot, suffix = name.rpartition(".") if "." in name else (name, "", "")
    stem = stem.encode()[:100].decode(errors="ignore")
    name = f"{stem}{dot}{suffix[:10]}"
    return name if stem else "upload.csv"


def _root(workspace: Path) -> Path:
    return workspace / "uploads"


def _cleanup(root: Path) -> None:
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if folder.is_dir() and time.time() - folder.stat().st_mtime > MAX_AGE_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)


async def hold(
    workspace: Path, upload: UploadFile, *, limit: int, meta: dict[str, Any]
) -> tuple[str, Path]:
    """Copy the upload to its holding folder, checking size and type; return (token, path)."""
    name = safe_name(upload.filename)
    head = await upload.read(8192)
    sniff(head, Path(name).suffix, name)
    root = _root(workspace)
    _cleanup(root)
    token = secrets.token_urlsafe(16)
    folder = root / token
    private_dir(root)
    private_dir(folder)
    path = touch_private(folder / name)
    size = len(head)
    with path.open("wb") as fh:
        fh.write(head)
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > limit:
                fh.close()
                shutil.rmtree(folder, ignore_errors=True)
                raise too_large(name, limit)
            fh.write(chunk)
    meta_file = touch_private(folder / "meta.json")
    meta_file.write_text(json.dumps({**meta, "file": name}), encoding="utf-8")
    return token, path


def too_large(name: str, limit: int) -> UploadError:
    return UploadError(
        f"{name} is larger than the upload limit of {limit / 1024 / 1024:.0f} MB",
        where=name,
        hint="Split the file into smaller ones, or ask your salesflow admin to import it on the "
        "server or to raise the upload limit",
    )


def folder_of(workspace: Path, token: str) -> Path:
    """The upload's holding folder (it may have expired); NotFoundError for a malformed token."""
    if not token or not token.replace("-", "").replace("_", "").isalnum():
        raise NotFoundError("This upload does not exist", hint="Upload the file again")
    return _root(workspace) / token


def held(workspace: Path, token: str) -> tuple[Path, dict[str, Any]]:
    """The held file and its metadata, or NotFoundError when it expired or never existed."""
    folder = folder_of(workspace, token)
    meta_file = folder / "meta.json"
    if not meta_file.is_file():
        raise NotFoundError(
            "This upload has expired or was imported already", hint="Upload the file again"
        )
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    return folder / meta["file"], meta


def imported(workspace: Path, token: str, keep: str) -> None:
    """The import is done: the upload goes (it cannot be imported twice), the file named ``keep``
    (the rows set aside) stays downloadable until the folder expires, 24 hours after the upload."""
    path, _meta = held(workspace, token)
    path.unlink(missing_ok=True)
    (path.parent / "meta.json").unlink(missing_ok=True)
    if not (path.parent / keep).is_file():
        release(workspace, token)


def release(workspace: Path, token: str) -> None:
    shutil.rmtree(_root(workspace) / token, ignore_errors=True)
