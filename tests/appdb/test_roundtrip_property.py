"""Hypothesis: whatever text, tags, numbers and evidence people type survive export → import intact."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesflow.appdb import KnowledgeStore, export_knowledge, import_knowledge

from .conftest import _fresh_url

# Any Unicode a form or a CSV can carry, except NUL (PostgreSQL text cannot hold it) and lone
# surrogates (not encodable as UTF-8 at all).
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
WORDS = TEXT.filter(lambda s: s.strip() != "")
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest, tmp_path: Path):
    """Source and target stores on one backend, shared by all examples (knowledge accumulates)."""
    urls = (  # emptied first: the session's PostgreSQL schemas keep what earlier tests left
        _fresh_url(request, tmp_path / "source.db", "_pg_migrated"),
        _fresh_url(request, tmp_path / "target.db", "_pg_migrated_target"),
    )
    with KnowledgeStore.open(urls[0]) as source, KnowledgeStore.open(urls[1]) as target:
        yield source, target


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    statement=WORDS,
    owner=st.none() | TEXT,
    tags=st.lists(WORDS, max_size=4),
    cause_text=WORDS,
    evidence=st.lists(JSONISH, max_size=3),
    value=st.none() | st.floats(allow_nan=False, allow_infinity=False, width=64),
    threshold=st.floats(-1e12, 1e12, allow_nan=False),
)
def test_anything_typed_round_trips(
    stores: tuple[KnowledgeStore, KnowledgeStore],
    statement,
    owner,
    tags,
    cause_text,
    evidence,
    value,
    threshold,
):
    source, target = stores
    binding = {"metric": "win_rate", "bad_if": "below", "threshold": threshold}
    udr = source.udrs.create(statement, who=owner or "ann", owner=owner, tags=tags, binding=binding)
    cause = source.causes.create(cause_text, who="ann")
    source.links.create(udr.id, cause.id, who="ann", text=cause_text, evidence=evidence)
    imp = source.improvements.create(statement, objective=cause_text, who="ann", attacks=[cause.id])
    source.checkins.create(imp.id, who="ann", note=statement, measure_value=value)
    doc = export_knowledge(source)
    import_knowledge(target, doc, replace=True)
    assert export_knowledge(target) == doc
    got = target.udrs.get(udr.id)
    assert (got.statement, got.owner, got.binding["threshold"]) == (
        statement.strip(),
        owner,
        threshold,
    )
    assert target.links.list()[-1].evidence == evidence
    assert target.checkins.list(imp.id)[-1].measure_value == value
