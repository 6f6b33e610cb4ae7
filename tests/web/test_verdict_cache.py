"""The web app's verdict cache (salesflow.web.verdicts): served from cache, never stale.

The reference for every cached verdict is the plain :class:`Workbench` (no cache) computing
the same verdict on the same workspace.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from salesflow.web.data import DataAccess
from salesflow.web.verdicts import CachedWorkbench, knowledge_version, measure_key
from salesflow.workbench.service import Workbench


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from salesflow.demo import build_demo
    from salesflow.workbench.demo_knowledge import seed_demo_knowledge

    path = tmp_path_factory.mktemp("verdict-cache") / "demo"
    build_demo(path, opportunities=600, seed=3)
    seed_demo_knowledge(path)
    return path


@pytest.fixture
def data(ws: Path):
    from salesflow.settings import load_settings

    access = DataAccess(load_settings(ws), cache_seconds=300)
    yield access
    access.close()


def _bound(wb: Workbench):
    return next(r for r in wb.store.udrs.list() if r.binding is not None)


def test_key_ignores_key_order_and_tells_measures_apart() -> None:
    a = measure_key("udr", {"metric": "win_rate", "period": "month"})
    assert a == measure_key("udr", {"period": "month", "metric": "win_rate"})
    assert a != measure_key("udr", {"metric": "win_rate", "period": "week"})
    assert a != measure_key("improvement", {"metric": "win_rate", "period": "month"})


def test_cached_verdicts_match_the_plain_workbench_and_are_reused(data: DataAccess) -> None:
    with data.reading(), store_of(data) as store:
        plain = Workbench(data.workspace, store, who="t")
        expected_udrs = plain.list_udrs()
        expected_imps = plain.list_improvements()
        assert {u["verdict"]["verdict"] for u in expected_udrs} >= {"confirmed", "contradicted"}
        wb = CachedWorkbench(data, store, who="t")
        assert wb.list_udrs() == expected_udrs
        assert wb.list_improvements() == expected_imps
        record = _bound(wb)
        assert wb.udr_verdict(record) is wb.udr_verdict(record)  # the second one is a cache hit


def test_a_new_binding_shows_at_once_and_an_import_recomputes(data: DataAccess) -> None:
    with data.reading(), store_of(data) as store:
        wb = CachedWorkbench(data, store, who="t")
        record = _bound(wb)
        before = wb.udr_verdict(record)
        binding = dict(record.binding)
        binding["threshold"] = 0.0 if binding["bad_if"] == "below" else 1e12
        changed = record.__class__(**{**record.__dict__, "binding": binding})
        fresh = Workbench(data.workspace, store, who="t").judge_binding(binding)
        assert wb.udr_verdict(changed).to_dict() == fresh.to_dict()
        assert fresh.to_dict() != before.to_dict()  # the new threshold is in the evidence
        with data.writing():
            pass  # an import through the app
        again = wb.udr_verdict(record)
        assert again is not before and again.to_dict() == before.to_dict()


def test_no_cache_when_cache_seconds_is_zero(data: DataAccess) -> None:
    data.cache_seconds = 0
    with data.reading(), store_of(data) as store:
        wb = CachedWorkbench(data, store, who="t")
        record = _bound(wb)
        assert wb.udr_verdict(record) is not wb.udr_verdict(record)


def store_of(data: DataAccess):
    from salesflow.appdb import KnowledgeStore

    return KnowledgeStore.open(data.settings.resolved_app_url())


def test_documents_are_reused_until_anyone_writes_to_the_knowledge_base(data: DataAccess) -> None:
    with store_of(data) as store, store_of(data) as other:
        wb = CachedWorkbench(data, store, who="t")
        udrs = wb.list_udrs()
        assert wb.list_udrs() is udrs and wb.causes() is wb.causes()
        version = knowledge_version(store)
        first = udrs[0]
        # another process (the CLI) edits the statement: the next read shows it
        other.udrs.update(
            first["id"],
            who="cli",
            expected_version=first["version"],
            statement=first["statement"] + " (edited)",
        )
        assert knowledge_version(store) == version + 1
        again = wb.list_udrs()
        assert again is not udrs
        assert again[0]["statement"] == first["statement"] + " (edited)"
        assert wb.show_udr(first["id"])["statement"].endswith("(edited)")
        assert [h["who"] for h in wb.history("udr", first["id"])][-1] == "cli"
