"""The cause picture's layout on hand-made graphs with known answers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from salesflow.api.cause_picture import cause_layers, cause_svg


def node(id, kind="cause", **flags):
    return {"id": id, "kind": kind, "text": f"node {id}", **flags}


# U1 ← A ← R (root); U2 ← A; U2 ← {B and C} (an AND group); C is a root too
DOC = {
    "nodes": [node(1, "udr"), node(2, "udr"), node("A"), node("B", root=True),
              node("C", root=True), node("R", root=True, core=True)],
    "links": [{"effect": 1, "cause": "A"}, {"effect": 2, "cause": "A"},
              {"effect": "A", "cause": "R"}, {"effect": 2, "cause": "B", "group": "g"},
              {"effect": 2, "cause": "C", "group": "g"}],
}  # fmt: skip


def test_udrs_on_top_and_root_causes_at_the_bottom():
    layers = cause_layers(DOC)
    assert sorted(layers[0]) == [1, 2]
    assert sorted(layers[-1], key=str) == ["B", "C", "R"]  # B and C pushed down beside R
    assert layers[1] == ["A"]


def test_and_group_meets_in_one_junction_and_svg_parses():
    svg = cause_svg(DOC)
    ET.fromstring(svg)  # well-formed XML
    assert svg.count('class="and"') == 1
    # two lines into the junction, one arrow out of it, three ordinary arrows
    assert svg.count('marker-end="url(#arrow)"') == 3 + 1
    assert 'class="node core"' in svg and "CORE PROBLEM #R" in svg


def test_a_declared_loop_is_drawn_without_hanging():
    doc = {"nodes": [node(1, "udr"), node("A"), node("B")],
           "links": [{"effect": 1, "cause": "A"}, {"effect": "A", "cause": "B"},
                     {"effect": "B", "cause": "A", "loop": True}]}  # fmt: skip
    layers = cause_layers(doc)
    assert layers[0] == [1] and {"A", "B"} <= set(layers[1])
    assert "edge loop" in cause_svg(doc)


def test_empty_graph_says_so():
    assert "No UDRs or causes" in cause_svg({"nodes": [], "links": []})


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_every_arrow_points_up_from_cause_to_effect(data):
    """On any DAG, an effect sits in a higher layer (smaller index) than each of its causes."""
    n = data.draw(st.integers(2, 9))
    pairs = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=15)
    )
    links = [
        {"effect": a, "cause": b} for a, b in {(min(p), max(p)) for p in pairs if p[0] != p[1]}
    ]
    doc = {"nodes": [node(i, "udr" if i == 0 else "cause") for i in range(n)], "links": links}
    where = {n: i for i, row in enumerate(cause_layers(doc)) for n in row}
    assert sorted(where) == list(range(n))
    for link in links:
        assert where[link["effect"]] < where[link["cause"]]
    assert len(re.findall(r"<g class=\"node", cause_svg(doc))) == n + 4  # boxes + legend swatches
