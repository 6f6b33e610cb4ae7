"""The report opened in a real Chromium with the network blocked: no console errors, every chart
drawn, and a screenshot of its first page kept in the test output."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_report_opens_offline_with_every_chart_drawn(browser, report_file, tmp_path):
    html, doc = report_file
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def block(route):
        requests.append(route.request.url)
        route.abort()

    page.route("http://**/*", block)
    page.route("https://**/*", block)
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    charts = page.locator(".js-plotly-plot")
    assert charts.count() == doc["charts"] > 10
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot')]"
        ".every(d => d.querySelector('.main-svg'))",
        timeout=20_000,
    )
    undrawn = page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot')]"
        ".filter(d => !d.querySelector('.main-svg g.trace')).map(d => d.id)"
    )
    assert undrawn == [], f"charts not drawn: {undrawn}"
    assert page.locator("#causes svg .node").count() >= 13
    assert errors == [] and requests == [], (errors, requests)

    shot = tmp_path / "report-first-page.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000  # a real page, not a blank one
    keep = os.environ.get("SALESFLOW_SCREENSHOTS")
    if keep:
        shutil.copy(shot, Path(keep) / shot.name)
    page.close()
