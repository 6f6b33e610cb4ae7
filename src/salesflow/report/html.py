"""Render the report as one self-contained HTML file, and print it to PDF with headless Chromium.

Self-contained means it opens with no network: plotly.js is inlined once from the installed
package, the CSS is inline, fonts are the reader's system fonts, the cause picture is inline SVG.
Every piece of user text goes through Jinja2's autoescaping.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError
from salesflow.report import words

if TYPE_CHECKING:
    from jinja2 import Environment

    from salesflow.report.build import Report

__all__ = [
    "CHROMIUM_NAMES",
    "check_target",
    "find_chromium",
    "print_pdf",
    "render_html",
    "write_html",
]

TEMPLATES = Path(__file__).parent / "templates"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TOP_THEMES = 3  # themes listed by name; the rest are counted ("and N more")
A4_PX = (794, 1123)  # A4 at 96 CSS pixels per inch: the screen layout then equals the print one
PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}


@cache
def _environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(fmt=words.fmt, glossary=words.GLOSSARY)
    return env


def _figure_divs(report: Report) -> dict[str, Any]:
    from markupsafe import Markup

    return {
        key: Markup(
            '<div class="chart">'
            + fig.to_html(full_html=False, include_plotlyjs=False, div_id=key, config=PLOT_CONFIG)
            + "</div>"
        )
        for key, fig in report.figures.items()
    }


def render_html(report: Report) -> str:
    """The whole report as one HTML document."""
    from markupsafe import Markup
    from plotly.offline import get_plotlyjs

    import salesflow

    if report.causes:
        report.causes["svg"] = Markup(report.causes["svg"])  # built from escaped text
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return (
        _environment()
        .get_template("report.html")
        .render(
            r=report,
            figs=_figure_divs(report),
            css=Markup(css),
            plotlyjs=Markup(get_plotlyjs()),
            version=salesflow.__version__,
            top=TOP_THEMES,
        )
    )


def check_target(path: Path) -> Path:
    """The folder must exist (a typo should not create directories): checked before any work."""
    path = Path(path)
    if not path.parent.exists():
        raise ConfigError(
            f"Cannot write the report to {path}: the folder {path.parent} does not exist",
            hint="Create it first or choose another --out",
        )
    return path


def write_html(report: Report, path: Path) -> Path:
    """Write the report as one HTML file."""
    path = check_target(path)
    path.write_text(render_html(report), encoding="utf-8")
    return path


def find_chromium() -> str | None:
    """The first Chromium or Chrome on PATH (Debian's is /usr/bin/chromium)."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html: Path, pdf: Path, *, chromium: str | None = None, timeout: float = 120) -> Path:
    """Print the HTML report to PDF with headless Chromium (A4, backgrounds kept)."""
    browser = chromium or find_chromium()
    if browser is None:
        raise ConfigError(
            "No Chromium found to print the PDF",
            hint="Install it (`sudo apt-get install chromium`, or `make browser`), "
            "or open the HTML report and print it from your browser",
        )
    pdf = Path(pdf).resolve()
    with tempfile.TemporaryDirectory(prefix="salesflow-chromium-") as profile:
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", f"--window-size={A4_PX[0]},{A4_PX[1]}", "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw", "--virtual-time-budget=10000",
            f"--print-to-pdf={pdf}", Path(html).resolve().as_uri(),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        raise ConfigError(
            f"Chromium could not print {html} to {pdf} (exit {done.returncode})",
            hint=(done.stderr.strip().splitlines() or ["see Chromium's output"])[-1],
        )
    return pdf
