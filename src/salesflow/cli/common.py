"""What every command shares: the workspace and --json options, JSON output, error handling."""

from __future__ import annotations

import json
import math
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from salesflow.errors import SalesflowError

if TYPE_CHECKING:
    from salesflow.workspace import Workspace

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

WORKSPACE_KEY = "salesflow.workspace"
NO_WORKSPACE = re.compile(r"`salesflow (?!-w |--workspace |init\b|demo\b|udr lint\b|--version\b)")


def _remember_workspace(ctx: typer.Context, value: Path) -> Path:
    """Keep the workspace where error handling finds it (``ctx.meta`` is shared by subcommands)."""
    ctx.meta[WORKSPACE_KEY] = value
    return value


def with_workspace(text: str, workspace: Path | None) -> str:
    """Every `` `salesflow …` `` hint in ``text`` names the workspace the user is working in,
    so it runs as written from the same folder (nothing added for the current folder)."""
    if workspace is None or Path(workspace).resolve() == Path.cwd().resolve():
        return text
    return NO_WORKSPACE.sub(f"`salesflow -w {shlex.quote(str(workspace))} ", text)


WorkspaceOption = Annotated[
    Path,
    typer.Option(
        "--workspace",
        "-w",
        envvar="SALESFLOW_WORKSPACE",
        help="Workspace folder (default: the current folder).",
        show_default=False,
        callback=_remember_workspace,
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="DATE",
        help="The moment the data describes (YYYY-MM-DD); default: its latest timestamp.",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else.")
]


class SalesflowGroup(TyperGroup):
    """Turns a SalesflowError into one line on stderr and a non-zero exit, never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SalesflowError as exc:
            _fail(exc, ctx.meta.get(WORKSPACE_KEY))
        except Exception as exc:  # DuckDB failing to read or write its file mid-command
            if type(exc).__name__ != "IOException" or "duckdb" not in type(exc).__module__:
                raise
            from salesflow.errors import StorageError

            _fail(StorageError(f"The data could not be read or written: {exc}"))


def _fail(exc: SalesflowError, workspace: Path | None = None) -> None:
    from rich.markup import escape

    message = with_workspace(exc.message, workspace)
    err.print(f"[bold red]Error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(exc.exit_code) from None


@contextmanager
def steps(title: str, *, quiet: bool = False) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on stderr for a long job, fed ``(step, done, total)`` by the core's
    ``progress=`` callback; one line per step when stderr is not a terminal (logs, CI)."""
    if quiet:
        yield lambda step, done, total: None
        return
    if not err.is_terminal:
        yield lambda step, done, total: err.print(f"{title}: {step} ({done + 1}/{total})…")
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(title, total=None)

        def tell(step: str, done: int, total: int) -> None:
            bar.update(task, description=f"{title}: {step}", completed=done, total=total)

        yield tell


@contextmanager
def working(what: str, *, quiet: bool = False) -> Iterator[None]:
    """A spinner on stderr while a command computes (gone before it prints its answer)."""
    if quiet or not err.is_terminal:
        yield
        return
    with err.status(f"{what}…", spinner="dots"):
        yield


def next_step(workspace: Path | None, text: str) -> None:
    """Print the command to run next, naming the workspace the user is in."""
    out.print(f"Next: {with_workspace(text, workspace)}", markup=False, soft_wrap=True)


def new_app(help_text: str) -> typer.Typer:
    """A Typer app (root or command group) with salesflow's conventions."""
    return typer.Typer(
        cls=SalesflowGroup,
        help=help_text,
        no_args_is_help=True,
        rich_markup_mode="markdown",
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )


def open_workspace(path: Path, *, refresh: bool | None = None) -> Workspace:
    """The workspace for reading; changes go through ``Workspace.writing`` (see storage).

    A workspace that reads its tables in place first checks its derived tables against the
    source (rebuilding them when ``[data] refresh = "auto"`` or ``refresh``), says on stderr
    when they were rebuilt or are stale, and keeps the answer in ``freshness``."""
    from salesflow.workspace import Workspace

    ws = Workspace.open(path)
    if ws.settings.data_map.active:
        from salesflow.derived.freshness import keep_fresh

        try:
            ws.freshness = keep_fresh(ws, refresh=refresh)
        except BaseException:
            ws.close()
            raise
        if ws.freshness is not None and (ws.freshness["refreshed"] or not ws.freshness["fresh"]):
            err.print(ws.freshness["message"], markup=False, soft_wrap=True)
    return ws


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # NumPy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _finite(value: Any) -> Any:
    """Replace NaN and infinities (not valid JSON) by null, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def print_json(document: Any) -> None:
    """Write exactly one JSON document to stdout (NaN becomes null)."""
    text = json.dumps(
        _finite(json.loads(json.dumps(document, default=_jsonable))), indent=2, ensure_ascii=False
    )
    sys.stdout.write(text)
    sys.stdout.write("\n")
    sys.stdout.flush()


VersionOption = Annotated[
    int | None,
    typer.Option(
        "--version",
        min=1,
        help="The version you read (in the `--json` output): refused if someone changed it "
        "since. Without it: the version stored when the command runs.",
        show_default=False,
    ),
]


def expected(version: int | None) -> Any:
    """``--version N``, else ``CURRENT``: read and checked in the one transaction that writes."""
    from salesflow.appdb import CURRENT

    return CURRENT if version is None else version
