"""Cause graph: link rules, root-cause ranking and the tree, checked against a plain DFS."""

from __future__ import annotations

import copy
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesflow.errors import NotFoundError, SalesflowError
from salesflow.workbench.causes import (
    CauseCycleError,
    CauseGraph,
    CauseGraphError,
    Link,
    Node,
    add_link,
    rank,
    tree_lines,
)

# --- an independent oracle: plain depth-first search over "because of" links ------------------


def leads_to(links: list[Link], start) -> set:
    """Every node that `start` explains, directly or through other causes (with loops)."""
    effects_of: dict = {}
    for link in links:
        effects_of.setdefault(link.cause, []).append(link.effect)
    seen, stack = set(), [start]
    while stack:
        for effect in effects_of.get(stack.pop(), []):
            if effect not in seen:
                seen.add(effect)
                stack.append(effect)
    return seen


def longest_chain(links: list[Link], node, udrs: set) -> int | None:
    """Longest cause → … → UDR path from `node` (a DAG only), by trying every path."""
    best = 0 if node in udrs else None
    for link in links:
        if link.cause == node:
            below = longest_chain(links, link.effect, udrs)
            if below is not None and (best is None or below + 1 > best):
                best = below + 1
    return best


# --- a worked example ---------------------------------------------------------------------------
#   U1 win rate 18%          U2 cycle 94 days        U3 discount 14%
#     └ because of A (quotes wait for VP approval)    (also cause of U2)
#          └ all of: B (no discount authority) + C (VP travels)
#   U3 because of B;  D (unused cause) explains nothing
NODES = [
    Node(1, "udr", "Win rate was 18% in Q3"),
    Node(2, "udr", "Cycle time was 94 days in Q3"),
    Node(3, "udr", "Average discount was 14% in Q3"),
    Node("A", "cause", "Quotes wait for VP approval"),
    Node("B", "cause", "Reps have no discount authority"),
    Node("C", "cause", "The VP travels two weeks a month"),
    Node("D", "cause", "CRM fields are optional"),
]


@pytest.fixture
def graph() -> CauseGraph:
    g = CauseGraph({n.id: n for n in NODES})
    add_link(g, 1, "A", text="buyers go cold while waiting")
    add_link(g, 2, "A")
    add_link(g, "A", "B", group="approval")
    add_link(g, "A", "C", group="approval")
    add_link(g, 3, "B")
    return g


def test_rank_of_the_worked_example(graph):
    ranks = {r.id: r for r in rank(graph.nodes.values(), graph.links)}
    assert ranks["B"].reaches == [1, 2, 3] and ranks["B"].share == 1.0
    assert ranks["A"].reaches == [1, 2] and ranks["A"].share == pytest.approx(2 / 3)
    assert ranks["C"].reaches == [1, 2]
    assert ranks[1].reaches == [1] and ranks[1].share == pytest.approx(1 / 3)
    assert ranks["D"].reaches == [] and ranks["D"].share == 0.0
    assert {i for i, r in ranks.items() if r.root} == {"B", "C"}  # D explains nothing
    assert {i for i, r in ranks.items() if r.core} == {"B"}  # 3/3 ≥ 0.7 > 2/3
    assert (ranks["B"].depth, ranks["A"].depth, ranks[3].depth, ranks["D"].depth) == (2, 1, 0, None)
    order = [r.id for r in rank(graph.nodes.values(), graph.links)]
    assert order[0] == "B" and order[1:3] == ["C", "A"]  # equal share: deeper first, then id
    assert order[-1] == "D"


def test_core_threshold_is_a_setting(graph):
    ranks = {r.id: r for r in rank(graph.nodes.values(), graph.links, core_threshold=0.6)}
    assert {i for i, r in ranks.items() if r.core} == {"A", "B", "C"}


def test_a_link_that_closes_a_loop_is_refused_with_its_path(graph):
    before = list(graph.links)
    with pytest.raises(CauseCycleError) as info:
        add_link(graph, "B", 1)  # B because of U1, while U1 ← A ← B already
    message = info.value.message
    assert message.startswith(
        "Adding 'Reps have no discount authority' because of 'Win rate was 18% in Q3' closes "
        "the loop 'Win rate was 18% in Q3' → 'Quotes wait for VP approval' → "
        "'Reps have no discount authority'"
    )
    assert message.endswith(
        "(read each arrow as 'because of'). If it really is a reinforcing loop (each keeps the "
        "other going), mark it as one: tick 'reinforcing loop' in the browser, or add --loop to "
        "`salesflow why`"
    )
    assert info.value.cycle == [1, "A", "B"]
    assert isinstance(info.value, SalesflowError)
    assert graph.links == before


def test_a_declared_reinforcing_loop_is_kept_and_ranked(graph):
    add_link(graph, "B", 1, loop=True, text="lost deals make managers guard discounts")
    ranks = {r.id: r for r in rank(graph.nodes.values(), graph.links)}
    for node in ("A", "B", 1):  # all in one loop: each leads to the UDRs of the others
        assert set(ranks[node].reaches) == {1, 2, 3} & ({node} | leads_to(graph.links, node))
    assert set(ranks[1].reaches) == {1, 2, 3}
    assert not ranks["B"].root  # it now has a cause inside its loop, and C feeds the loop
    assert ranks["C"].root


def test_a_loop_with_nothing_beneath_it_is_a_root():
    g = CauseGraph({n.id: n for n in NODES[:1] + NODES[3:5]})
    add_link(g, 1, "A")
    add_link(g, "A", "B")
    add_link(g, "B", "A", loop=True)
    ranks = {r.id: r for r in rank(g.nodes.values(), g.links)}
    assert ranks["A"].root and ranks["B"].root and not ranks[1].root


@pytest.mark.parametrize(
    ("effect", "cause", "error"),
    [
        ("A", "A", CauseGraphError),  # self-link
        (1, "A", CauseGraphError),  # already recorded
        (1, "Z", NotFoundError),  # unknown node
    ],
)
def test_bad_links_are_refused_and_change_nothing(graph, effect, cause, error):
    before = list(graph.links)
    with pytest.raises(error):
        add_link(graph, effect, cause)
    assert graph.links == before


def test_build_checks_stored_links():
    with pytest.raises(CauseCycleError):
        CauseGraph.build(NODES, [Link("A", "B"), Link("B", "A")])
    graph = CauseGraph.build(NODES, [Link("A", "B"), Link("B", "A", loop=True)])
    assert len(graph.links) == 2


def test_tree_shows_udrs_on_top_and_groups_as_all_of(graph):
    add_link(graph, "B", 1, loop=True)
    lines = tree_lines(list(graph.nodes.values()), graph.links)
    assert lines == [
        "UDR 1: Win rate was 18% in Q3",
        "└── cause A: Quotes wait for VP approval  [3 UDRs, 100%; CORE PROBLEM]"
        " — buyers go cold while waiting",
        "    └── all of (approval):",
        "        ├── cause B: Reps have no discount authority  [3 UDRs, 100%; CORE PROBLEM]",
        "        │   └── ↺ UDR 1: Win rate was 18% in Q3 (reinforcing loop, drawn above)",
        "        └── cause C: The VP travels two weeks a month  [3 UDRs, 100%; root cause; "
        "CORE PROBLEM]",
        "UDR 2: Cycle time was 94 days in Q3",
        "└── cause A: Quotes wait for VP approval  [3 UDRs, 100%; CORE PROBLEM] (see above)",
        "UDR 3: Average discount was 14% in Q3",
        "└── cause B: Reps have no discount authority  [3 UDRs, 100%; CORE PROBLEM] (see above)",
    ]


# --- properties on random graphs ----------------------------------------------------------------


@st.composite
def dags(draw):
    """Random DAGs: node i may only be a cause of nodes with a smaller index."""
    n = draw(st.integers(2, 12))
    kinds = draw(st.lists(st.sampled_from(["udr", "cause"]), min_size=n, max_size=n))
    nodes = [Node(i, kinds[i], f"node {i}") for i in range(n)]
    pairs = [(e, c) for c in range(n) for e in range(c)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=3 * n))
    links = [Link(e, c, group=draw(st.sampled_from([None, "g"]))) for e, c in chosen]
    return nodes, links


@settings(max_examples=150, deadline=None)
@given(dags(), st.floats(0.05, 1.0))
def test_rank_matches_brute_force_on_random_dags(dag, threshold):
    nodes, links = dag
    graph = CauseGraph.build(nodes, links)
    udrs = {n.id for n in nodes if n.kind == "udr"}
    for r in rank(nodes, graph.links, core_threshold=threshold):
        expected = ({r.id} | leads_to(links, r.id)) & udrs
        assert set(r.reaches) == expected
        assert 0.0 <= r.share <= 1.0
        assert r.share == (len(expected) / len(udrs) if udrs else 0.0)
        assert r.core == (bool(udrs) and r.share >= threshold)
        has_cause = any(link.effect == r.id for link in links)
        explains = any(link.cause == r.id for link in links)
        assert r.root == (not has_cause and explains)
        assert r.depth == longest_chain(links, r.id, udrs)


@settings(max_examples=150, deadline=None)
@given(dags(), st.data())
def test_any_back_edge_is_refused_unless_marked_as_a_loop(dag, data):
    nodes, links = dag
    graph = CauseGraph.build(nodes, links)
    backs = [(e, c) for e in graph.nodes for c in leads_to(links, e)]  # e already leads to c
    if not backs:
        return
    effect, cause = data.draw(st.sampled_from(backs))
    before = copy.deepcopy(graph)
    with pytest.raises(CauseCycleError) as info:
        add_link(graph, effect, cause)
    assert graph == before
    cycle = info.value.cycle
    assert cycle[0] == cause and cycle[-1] == effect
    for a, b in pairwise(cycle):  # each step is a recorded "because of"
        assert Link(a, b) in [Link(x.effect, x.cause) for x in links]
    if effect != cause:
        add_link(graph, effect, cause, loop=True)
        udrs = {n.id for n in nodes if n.kind == "udr"}
        for r in rank(nodes, graph.links):
            assert set(r.reaches) == ({r.id} | leads_to(graph.links, r.id)) & udrs


def test_a_contradicted_udr_counts_toward_no_share(graph):
    """U2 is not happening (the data contradicts it): A then explains only U1 of U1 and U3."""
    ranks = {r.id: r for r in rank(graph.nodes.values(), graph.links, contradicted={2})}
    assert ranks["A"].reaches == [1] and ranks["A"].share == pytest.approx(1 / 2)
    assert ranks["B"].reaches == [1, 3] and ranks["B"].share == 1.0
    assert ranks[2].reaches == [] and ranks[2].share == 0.0
    # with U1 contradicted too, only U3 counts: C leads to no counted result and is no core
    ranks = {r.id: r for r in rank(graph.nodes.values(), graph.links, contradicted={1, 2})}
    assert ranks["C"].share == 0.0 and not ranks["C"].core and ranks["B"].core


def test_a_cause_behind_contradicted_results_alone_says_so_not_zero_udrs(graph):
    ranks = {r.id: r for r in rank(graph.nodes.values(), graph.links, contradicted={1, 2})}
    assert ranks["C"].reaches == [] and ranks["C"].contradicted == [1, 2]
    assert ranks["C"].leads_to(1) == "only explains results the data contradicts (#1, #2)"
    assert ranks["B"].leads_to(1) == "leads to 1 of 1 UDR, and to #1, #2 that the data contradicts"
    ranks = {r.id: r for r in rank(graph.nodes.values(), graph.links, contradicted={2})}
    assert ranks["A"].leads_to(2) == "leads to 1 of 2 UDRs, and to #2 that the data contradicts"
    assert ranks["D"].leads_to(2) == "leads to 0 of 2 UDRs"  # explains nothing at all
