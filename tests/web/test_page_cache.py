"""Rendered pages from the server's cache (salesflow.web.render.render_cached): never stale,
never shared between people.

Home and the UDR list/board are rendered once per person, session, knowledge version and data
generation. The references are independent: a write made straight to the app database (as the
CLI does, from another process), each person's own CSRF token, and the store's own
``changes_since`` query.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

PAGES = ("/", "/udrs", "/udrs?view=board")


def _cli_store(demo_path: Path):
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings

    return KnowledgeStore.open(load_settings(demo_path).resolved_app_url())


@pytest.mark.parametrize("page", PAGES)
def test_a_write_from_outside_the_app_shows_at_once(page, as_user, demo_path: Path) -> None:
    client = as_user("vic")
    first = client.get(page)
    assert first.status_code == 200
    assert client.get(page).text == first.text  # served again, unchanged
    statement = f"Deals stall in <b>legal</b> review ({page})"
    shown = f"Deals stall in &lt;b&gt;legal&lt;/b&gt; review ({page})"
    assert shown not in first.text
    with _cli_store(demo_path) as store:
        store.udrs.create(statement, who="cli")
    after = client.get(page).text
    assert shown in after  # new, and still escaped
    assert "<b>legal</b>" not in after


@pytest.mark.parametrize("page", PAGES)
def test_each_person_gets_their_own_form_token(page, as_user) -> None:
    ann, ed = as_user("ann"), as_user("ed")
    ann_page, ed_page = ann.get(page).text, ed.get(page).text
    assert ann.csrf != ed.csrf
    assert ann.csrf in ann_page and ed.csrf not in ann_page
    assert ed.csrf in ed_page and ann.csrf not in ed_page
    assert ann.get(page).text == ann_page  # the cached copy is ann's own


def test_changes_since_matches_the_store_for_any_moment(demo_path: Path) -> None:
    """The cached list is read from the start of the day and filtered: same rows as the query."""
    from salesflow.settings import load_settings
    from salesflow.web.data import DataAccess
    from salesflow.web.verdicts import CachedWorkbench

    with _cli_store(demo_path) as store:
        for i in range(3):
            store.causes.create(f"Cause number {i} for the cache test", who="cli")
        stamps = [h.at for h in store.changes_since(datetime.now(UTC) - timedelta(days=1))]
        assert len(stamps) >= 3
        data = DataAccess(load_settings(demo_path))
        try:
            wb = CachedWorkbench(data, store, who="t", snapshot=True)
            moments = [datetime.now(UTC) - timedelta(days=7), datetime.now(UTC)]
            moments += [s.replace(tzinfo=UTC) if s.tzinfo is None else s for s in stamps[-3:]]
            for since in moments:
                expected = [h.id for h in store.changes_since(since)]
                assert [h.id for h in wb.changes_since(since)] == expected
        finally:
            data.close()


def test_causes_and_improvements_pages_show_outside_writes_at_once(as_user, demo_path) -> None:
    client = as_user("vic")
    causes, improvements = client.get("/causes").text, client.get("/improvements").text
    with _cli_store(demo_path) as store:
        store.udrs.create("Renewals slip past their end date for the cache test", who="cli")
        store.improvements.create("Renewal desk for the cache test", objective="fewer", who="cli")
    assert "Renewals slip past" not in causes and "Renewal desk for" not in improvements
    assert "Renewals slip past their end date for the cache test" in client.get("/causes").text
    assert "Renewal desk for the cache test" in client.get("/improvements").text
