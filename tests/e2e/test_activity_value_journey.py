"""A sales manager opens the Value stream page and sees which activities add value, in a browser."""

from __future__ import annotations

from e2e_helpers import sign_in


def test_value_stream_shows_which_activities_add_value(page, shots):
    sign_in(page, "ann")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/value-stream")
    page.wait_for_selector('[data-testid="activity-chart"] .main-svg', state="attached")
    section = page.locator('[data-testid="activity-value"]')
    assert (
        "Value-adding work is" in section.locator('[data-testid="activity-summary"]').inner_text()
    )
    assert section.locator(".problem").count() == 0
    box = section.locator('[data-testid="activity-chart"]').bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1280
    everyone = _first_row(section)
    section.screenshot(path=shots / "value-stream-activities.png")
    page.goto("/value-stream?fcol=segment&fval=SMB")  # the map's filter narrows the mix too
    page.wait_for_selector('[data-testid="activity-chart"] .main-svg', state="attached")
    assert _first_row(section) != everyone


def _first_row(section) -> str:
    return section.locator('[data-testid="activity-mix"] tbody tr').first.inner_text()
