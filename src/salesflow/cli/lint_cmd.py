"""``salesflow udr lint``: turn a complaint into a precise, measurable Undesirable Result.

Lint is advice: it always exits 0. Other ``udr`` commands are added to :data:`udr_app`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from salesflow.cli.common import JsonOption, new_app, out, print_json
from salesflow.errors import NotFoundError, SalesflowError

if TYPE_CHECKING:
    from salesflow.workbench.lint import LintResult

udr_app = new_app(
    "Undesirable Results: the measurable effects you do not like, in your own words.\n\n"
    'Example: `salesflow udr lint "Win rate is low because reps are lazy"`'
)


def lint(
    statement: Annotated[
        str | None, typer.Argument(help="The statement to check, in quotes.", show_default=False)
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            help="Check every line of FILE ('-' reads stdin); blank lines and # comments skipped.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check that a statement is a precise UDR: an observable effect, measured, with a time frame.

    Flags solutions in disguise (SOLUTION), explanations of cause (CAUSE), judgements without a
    figure (VAGUE), no number or time frame (UNMEASURED), attitudes and blame (BLAME) and several
    effects in one (COMPOUND), each with a suggested rewrite. Lint is advice: it exits 0.

    Example: `salesflow udr lint "We need a CRM because deals are slow"` or
    `salesflow udr lint --file complaints.txt --json`
    """
    from salesflow.workbench.lint import lint as lint_statement

    statements = _statements(statement, file)
    results = [lint_statement(s) for s in statements]
    if as_json:
        print_json([r.to_dict() for r in results])
        return
    for result in results:
        _render(result)


def _statements(statement: str | None, file: Path | None) -> list[str]:
    if (statement is None) == (file is None):
        raise SalesflowError(
            "Give one statement in quotes, or --file FILE",
            hint='Example: salesflow udr lint "Win rate was 18% in Q3, against 25% planned"',
        )
    if file is None:
        return [statement or ""]
    if str(file) == "-":
        text = sys.stdin.read()
    else:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise NotFoundError(
                "File not found",
                where=str(file),
                hint="Check the path, or pass the statement in quotes",
            ) from None
        except (UnicodeDecodeError, IsADirectoryError) as exc:
            raise SalesflowError(
                f"Cannot read the file as text: {exc}",
                where=str(file),
                hint="Save it as UTF-8 text, one statement per line",
            ) from None
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _render(result: LintResult) -> None:
    from rich.markup import escape

    if not result.findings:
        out.print(f"[green]✓[/] {escape(result.statement)} [dim]— a measurable UDR[/]")
        return
    mark = "[yellow]~[/]" if result.measurable else "[red]✗[/]"
    verdict = "measurable, could be sharper" if result.measurable else "not yet a measurable UDR"
    out.print(f"{mark} {escape(result.statement)} [dim]— {verdict}[/]")
    for f in result.findings:
        out.print(f"    [bold]{f.code}[/]: {escape(f.message)}")
        out.print(f"      [dim]Try:[/] {escape(f.suggestion)}")


udr_app.command("lint")(lint)


def register(app: typer.Typer) -> None:
    app.add_typer(udr_app, name="udr")
