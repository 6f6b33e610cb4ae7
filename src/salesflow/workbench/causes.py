"""The cause-and-effect graph: UDRs, the causes found by asking "why?", and root-cause ranking.

A link reads "*effect* happens because of *cause*". Internally the NetworkX graph points the other
way, cause → effect ("leads to"), so the UDRs a node explains are simply its descendants.

- Cycles are refused unless the link is declared a reinforcing loop (``loop=True``), so a graph
  without loops stays a DAG and "why?" always ends somewhere.
- Several causes sharing an AND-group name are *jointly* sufficient ("all of:"); causes without a
  group each explain the effect on their own.
- :func:`rank` gives, for every node, the UDRs it leads to (a UDR counts itself), their share of
  all UDRs, whether it is a candidate root cause and whether it is a core problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import networkx as nx

from salesflow.errors import ConflictError, NotFoundError, SalesflowError

__all__ = [
    "CauseCycleError",
    "CauseGraph",
    "CauseGraphError",
    "DuplicateLinkError",
    "Link",
    "Node",
    "NodeRank",
    "add_link",
    "rank",
    "tree_lines",
]

NodeId = int | str
Kind = Literal["udr", "cause"]


class CauseGraphError(SalesflowError):
    """A cause link that the method does not allow (self-link, duplicate)."""


#: one sentence for the CLI and the web form alike (the form's checkbox is "reinforcing loop")
LOOP_HINT = (
    "If it really is a reinforcing loop (each keeps the other going), mark it as one: "
    "tick 'reinforcing loop' in the browser, or add --loop to `salesflow why`"
)


class DuplicateLinkError(CauseGraphError, ConflictError):
    """The link is recorded already: adding it again would duplicate it (the API's 409)."""


class CauseCycleError(CauseGraphError):
    """The link would close a loop that was not declared as a reinforcing loop."""

    def __init__(self, what: str, *, cycle: list[NodeId]) -> None:
        self.cycle = cycle
        super().__init__(what, hint=LOOP_HINT)


@dataclass(frozen=True)
class Node:
    """A UDR or a cause; a cause may become a UDR once it is measured."""

    id: NodeId
    kind: Kind
    text: str


@dataclass(frozen=True)
class Link:
    """``effect`` happens because of ``cause``; ``group`` names an AND-group of joint causes."""

    effect: NodeId
    cause: NodeId
    text: str = ""
    group: str | None = None
    loop: bool = False
    evidence: tuple[str, ...] = ()


@dataclass
class CauseGraph:
    """The nodes and links of one knowledge base: plain data, easy to load from and save to a DB."""

    nodes: dict[NodeId, Node] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)

    @classmethod
    def build(cls, nodes: Iterable[Node], links: Iterable[Link] = ()) -> CauseGraph:
        """Load stored nodes and links, checking each link as :func:`add_link` does."""
        graph = cls({n.id: n for n in nodes})
        for link in links:
            add_link(
                graph,
                link.effect,
                link.cause,
                text=link.text,
                group=link.group,
                loop=link.loop,
                evidence=link.evidence,
            )
        return graph


def _digraph(nodes: Iterable[Node], links: Iterable[Link]) -> nx.DiGraph:
    """Cause → effect ("leads to"): descendants are the effects a node explains."""
    g = nx.DiGraph()
    g.add_nodes_from(n.id for n in nodes)
    g.add_edges_from((link.cause, link.effect) for link in links)
    return g


def _label(graph: CauseGraph, node: NodeId) -> str:
    return f"'{graph.nodes[node].text}'"


def add_link(
    graph: CauseGraph,
    effect: NodeId,
    cause: NodeId,
    *,
    text: str = "",
    group: str | None = None,
    loop: bool = False,
    evidence: Iterable[str] = (),
) -> Link:
    """Record "effect happens because of cause"; refuse self-links, duplicates and silent loops.

    The graph is changed only when the link is accepted.
    """
    for node in (effect, cause):
        if node not in graph.nodes:
            raise NotFoundError(
                f"{node} is neither a UDR nor a cause",
                hint="`salesflow udr list` and `salesflow causes` show the ids; add a new one "
                'with `salesflow udr add "…"` or `salesflow cause add "…"` first',
            )
    if effect == cause:
        raise CauseGraphError(
            f"{_label(graph, effect)} cannot be its own cause", hint="Link two different nodes"
        )
    if any(x.effect == effect and x.cause == cause for x in graph.links):
        raise DuplicateLinkError(
            f"{_label(graph, cause)} is already a cause of {_label(graph, effect)}",
            hint="Edit the existing link instead",
        )
    if not loop:
        _refuse_cycle(graph, effect, cause)
    link = Link(effect, cause, text, group or None, loop, tuple(evidence))
    graph.links.append(link)
    return link


def _refuse_cycle(graph: CauseGraph, effect: NodeId, cause: NodeId) -> None:
    """A new cause → effect edge closes a loop when the effect already leads to the cause."""
    g = _digraph(graph.nodes.values(), graph.links)
    if not nx.has_path(g, effect, cause):
        return
    path = nx.shortest_path(g, effect, cause)  # effect leads to … leads to cause
    because = list(reversed(path))  # cause because of … because of effect
    chain = " → ".join(_label(graph, n) for n in because)
    raise CauseCycleError(
        f"Adding {_label(graph, effect)} because of {_label(graph, cause)} closes the loop "
        f"{chain} (read each arrow as 'because of')",
        cycle=because,
    )


@dataclass(frozen=True)
class NodeRank:
    """How much one node explains: the UDRs it leads to, their share, root and core flags.

    ``depth`` is the longest chain of "why?" steps from a UDR down to this node (0 for a UDR
    that explains no other UDR; a reinforcing loop counts as one step), or None when the node
    leads to no UDR.
    """

    id: NodeId
    kind: Kind
    text: str
    reaches: list[NodeId]
    share: float
    root: bool
    core: bool
    depth: int | None
    contradicted: list[NodeId] = field(default_factory=list)  # reached UDRs the data contradicts

    @property
    def count(self) -> int:
        return len(self.reaches)

    def leads_to(self, total: int) -> str:
        """What it explains, in words: ``leads to 2 of 5 UDRs``; a cause behind contradicted
        UDRs alone ``only explains a result the data contradicts (#3)``, never "0 UDRs"."""
        against = ", ".join(f"#{i}" for i in self.contradicted)
        if not self.reaches and self.contradicted:
            what = "a result" if len(self.contradicted) == 1 else "results"
            return f"only explains {what} the data contradicts ({against})"
        text = f"leads to {self.count} of {total} UDR{'s' if total != 1 else ''}"
        return f"{text}, and to {against} that the data contradicts" if against else text


def _depths(g: nx.DiGraph, udrs: set[NodeId]) -> dict[NodeId, int | None]:
    """Longest cause → … → UDR chain per node, on the condensation so loops cannot recurse."""
    dag = nx.condensation(g)
    members = nx.get_node_attributes(dag, "members")
    best: dict[int, int | None] = {}
    for scc in reversed(list(nx.topological_sort(dag))):
        options = [0] if members[scc] & udrs else []
        options += [best[s] + 1 for s in dag.successors(scc) if best[s] is not None]
        best[scc] = max(options) if options else None
    return {n: best[dag.graph["mapping"][n]] for n in g.nodes}


def _roots(g: nx.DiGraph) -> set[NodeId]:
    """Nodes with no deeper cause (outside their own loop) that explain at least one node."""
    dag = nx.condensation(g)
    members = nx.get_node_attributes(dag, "members")
    roots: set[NodeId] = set()
    for scc in dag.nodes:
        if dag.in_degree(scc) == 0 and (dag.out_degree(scc) > 0 or len(members[scc]) > 1):
            roots |= members[scc]
    return roots


def rank(
    nodes: Iterable[Node],
    links: Iterable[Link],
    *,
    core_threshold: float = 0.7,
    contradicted: Iterable[NodeId] = (),
) -> list[NodeRank]:
    """Rank every node by the share of UDRs it leads to: candidate root causes and core problems.

    UDRs the data ``contradicted`` stay in the picture but count toward no share: a cause is not
    a core problem because of results that are not happening.
    Sorted by share (largest first), then depth (deepest first: closer to the root), then id.
    """
    nodes = list(nodes)
    g = _digraph(nodes, links)
    against = set(contradicted)
    udrs = {n.id for n in nodes if n.kind == "udr"} - against
    depths = _depths(g, udrs)
    roots = _roots(g)
    ranks = []
    for n in nodes:
        below = nx.descendants(g, n.id) | {n.id}
        reaches = sorted(below & udrs, key=_sort_key)
        share = len(reaches) / len(udrs) if udrs else 0.0
        core = bool(udrs) and share >= core_threshold
        ranks.append(
            NodeRank(
                n.id,
                n.kind,
                n.text,
                reaches,
                share,
                n.id in roots,
                core,
                depths[n.id],
                sorted(below & against, key=_sort_key),
            )
        )
    return sorted(
        ranks, key=lambda r: (-r.share, -(r.depth if r.depth is not None else -1), _sort_key(r.id))
    )


def _sort_key(node: NodeId) -> tuple[int, str]:
    """Ids may be ints (database) or strings (hand-built): order ints numerically, first."""
    return (0, f"{node:020d}") if isinstance(node, int) else (1, str(node))


def tree_lines(
    nodes: Sequence[Node], links: Sequence[Link], ranks: Sequence[NodeRank] | None = None
) -> list[str]:
    """The graph as a text tree: each UDR on top, its causes beneath, "all of:" for AND groups.

    ``↺`` marks a declared reinforcing loop; a node already on the branch is not drawn again, and
    a cause already drawn in full elsewhere is shown once more with "(see above)".
    """
    drawer = _TreeDrawer(nodes, links, ranks if ranks is not None else rank(nodes, links))
    for udr in sorted((n for n in nodes if n.kind == "udr"), key=lambda n: _sort_key(n.id)):
        drawer.lines.append(drawer.label(udr))
        drawer.causes(udr.id, "", (udr.id,))
    return drawer.lines


class _TreeDrawer:
    def __init__(self, nodes: Sequence[Node], links: Sequence[Link], ranks: Sequence[NodeRank]):
        self.by_id = {n.id: n for n in nodes}
        self.info = {r.id: r for r in ranks}
        self.causes_of: dict[NodeId, list[Link]] = {}
        for link in links:
            self.causes_of.setdefault(link.effect, []).append(link)
        self.drawn: set[NodeId] = set()
        self.lines: list[str] = []

    def label(self, node: Node) -> str:
        r = self.info.get(node.id)
        tags = []
        if r is not None and node.kind == "cause" and r.reaches:
            tags.append(f"{r.count} UDR{'s' if r.count != 1 else ''}, {r.share:.0%}")
        if r is not None and r.root:
            tags.append("root cause")
        if r is not None and r.core and node.kind == "cause":
            tags.append("CORE PROBLEM")
        prefix = "UDR" if node.kind == "udr" else "cause"
        suffix = f"  [{'; '.join(tags)}]" if tags else ""
        return f"{prefix} {node.id}: {node.text}{suffix}"

    def causes(self, effect: NodeId, indent: str, path: tuple[NodeId, ...]) -> None:
        """Draw the causes of one effect: each lone cause, then one "all of:" per AND group."""
        links = sorted(self.causes_of.get(effect, []), key=lambda x: _sort_key(x.cause))
        entries: list[tuple[str | None, list[Link]]] = [(None, [x]) for x in links if not x.group]
        for group in sorted({x.group for x in links if x.group}):
            entries.append((group, [x for x in links if x.group == group]))
        for i, (group, members) in enumerate(entries):
            head, below = _branch(indent, last=i == len(entries) - 1)
            if group is None:
                self.one(members[0], head, below, path)
                continue
            self.lines.append(f"{head}all of ({group}):")
            for j, link in enumerate(members):
                self.one(link, *_branch(below, last=j == len(members) - 1), path)

    def one(self, link: Link, head: str, below: str, path: tuple[NodeId, ...]) -> None:
        node = self.by_id[link.cause]
        why = f" — {link.text}" if link.text else ""
        mark = "↺ " if link.loop else ""
        if link.cause in path:
            self.lines.append(f"{head}↺ {self.label(node)} (reinforcing loop, drawn above){why}")
            return
        if link.cause in self.drawn and self.causes_of.get(link.cause):
            self.lines.append(f"{head}{mark}{self.label(node)} (see above){why}")
            return
        self.lines.append(
            f"{head}{mark}{self.label(node)}{' (reinforcing loop)' if mark else ''}{why}"
        )
        self.drawn.add(link.cause)
        self.causes(link.cause, below, (*path, link.cause))


def _branch(indent: str, *, last: bool) -> tuple[str, str]:
    """The prefix of this line and of the lines beneath it."""
    return (indent + "└── ", indent + "    ") if last else (indent + "├── ", indent + "│   ")
