"""The cause picture: the why-graph drawn as one SVG, UDRs on top and root causes at the bottom.

Arrows run from a cause up to its effect, the way a current reality tree reads ("this happens
because of that"). Causes that act only together (an AND group) meet in a small junction marked
"and" before the arrow reaches the effect. Core problems (causes behind most UDRs) are
highlighted. Layers are longest-path generations of the graph (NetworkX, loops condensed); the
order inside a layer follows the parents' positions so lines cross less. All text is escaped.

>>> svg = cause_svg({"nodes": [{"id": 1, "kind": "udr", "text": "Win rate < 30%"},
...     {"id": 2, "kind": "cause", "text": "No <owner>", "root": True}],
...     "links": [{"effect": 1, "cause": 2}]})
>>> svg.startswith("<svg") and "No &lt;owner&gt;" in svg
True
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

__all__ = ["cause_layers", "cause_svg"]

BOX_W, GAP_X, GAP_Y, LINE_H, PAD = 210, 26, 70, 15, 10
WRAP, MAX_LINES = 31, 5


@dataclass(frozen=True)
class _Box:
    id: Any
    x: float
    y: float
    h: float
    lines: list[str]


def cause_layers(doc: Mapping[str, Any]) -> list[list[Any]]:
    """Node ids per layer, top first: effects above their causes, root causes in the last layer."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(n["id"] for n in doc["nodes"])
    g.add_edges_from((link["effect"], link["cause"]) for link in doc["links"])
    dag = nx.condensation(g)
    level: dict[int, int] = {}
    for scc in nx.topological_sort(dag):
        level[scc] = max((level[p] + 1 for p in dag.predecessors(scc)), default=0)
    mapping = dag.graph["mapping"]
    layer = {n: level[mapping[n]] for n in g.nodes}
    bottom = max(layer.values(), default=0)
    for n in doc["nodes"]:
        if n.get("root") and g.in_degree(n["id"]) > 0:
            layer[n["id"]] = bottom
    layers: list[list[Any]] = [[] for _ in range(bottom + 1)]
    for n in doc["nodes"]:
        layers[layer[n["id"]]].append(n["id"])
    return _order(layers, g)


def _order(layers: list[list[Any]], g: Any) -> list[list[Any]]:
    """Barycentre ordering: each node goes under the mean position of its effects."""
    placed: dict[Any, float] = {}
    out = []
    for row in layers:

        def key(n: Any) -> tuple[float, str]:
            parents = [placed[p] for p in g.predecessors(n) if p in placed]
            return (sum(parents) / len(parents) if parents else float("inf"), str(n))

        ordered = sorted(row, key=key) if placed else row
        for i, n in enumerate(ordered):
            placed[n] = i - (len(ordered) - 1) / 2
        out.append(ordered)
    return out


def _lines(text: str) -> list[str]:
    lines = textwrap.wrap(text, WRAP) or [""]
    if len(lines) > MAX_LINES:
        lines = [*lines[: MAX_LINES - 1], lines[MAX_LINES - 1][: WRAP - 1] + "…"]
    return lines


def _boxes(
    doc: Mapping[str, Any], layers: list[list[Any]], *, min_width: float = 900
) -> tuple[dict[Any, _Box], float, float]:
    texts = {n["id"]: _lines(n.get("text", "")) for n in doc["nodes"]}
    widest = max((len(r) for r in layers), default=1)
    width = max(widest * (BOX_W + GAP_X) + GAP_X, min_width)
    boxes: dict[Any, _Box] = {}
    y = 40.0
    for row in layers:
        height = max((len(texts[n]) * LINE_H + 2 * PAD + 12 for n in row), default=0)
        left = (width - len(row) * (BOX_W + GAP_X) + GAP_X) / 2
        for i, n in enumerate(row):
            h = len(texts[n]) * LINE_H + 2 * PAD + 12
            boxes[n] = _Box(n, left + i * (BOX_W + GAP_X), y + (height - h) / 2, h, texts[n])
        y += height + GAP_Y
    return boxes, width, y - GAP_Y + 60


def _style(node: Mapping[str, Any]) -> tuple[str, str, str]:
    """(css class, badge, id label) for a node."""
    if node.get("kind") == "udr" and node.get("contradicted"):
        return "udr contradicted", "UDR · CONTRADICTED", f"#{node['id']}"
    if node.get("kind") == "udr":
        return "udr", "UDR", f"#{node['id']}"
    if node.get("core"):
        return "core", "CORE PROBLEM", f"#{node['id']}"
    if node.get("root"):
        return "root", "ROOT CAUSE", f"#{node['id']}"
    return "cause", "cause", f"#{node['id']}"


def _node_svg(node: Mapping[str, Any], box: _Box) -> str:
    css, badge, ident = _style(node)
    text = "".join(
        f'<tspan x="{box.x + PAD:.0f}" dy="{LINE_H}">{escape(line)}</tspan>' for line in box.lines
    )
    return (
        f'<g class="node {css}"><title>{escape(node.get("text", ""))}</title>'
        f'<rect x="{box.x:.0f}" y="{box.y:.0f}" width="{BOX_W}" height="{box.h:.0f}" rx="7"/>'
        f'<text class="badge" x="{box.x + PAD:.0f}" y="{box.y + PAD + 8:.0f}">'
        f"{escape(badge)} {escape(ident)}</text>"
        f'<text x="{box.x + PAD:.0f}" y="{box.y + PAD + 10:.0f}">{text}</text></g>'
    )


def _edge(x1: float, y1: float, x2: float, y2: float, css: str = "edge") -> str:
    mid = (y1 + y2) / 2
    return (
        f'<path class="{css}" d="M{x1:.0f},{y1:.0f} C{x1:.0f},{mid:.0f} {x2:.0f},{mid:.0f} '
        f'{x2:.0f},{y2:.0f}" marker-end="url(#arrow)"/>'
    )


def _edges_svg(doc: Mapping[str, Any], boxes: dict[Any, _Box]) -> list[str]:
    parts: list[str] = []
    groups: dict[tuple[Any, str], list[Any]] = {}
    apart = set(doc.get("contradicted") or ())  # arrows into a result the data contradicts
    for link in doc["links"]:
        effect, cause = link["effect"], link["cause"]
        if effect not in boxes or cause not in boxes:
            continue
        if link.get("group"):
            groups.setdefault((effect, link["group"]), []).append(cause)
            continue
        e, c = boxes[effect], boxes[cause]
        css = "edge loop" if link.get("loop") else "edge"
        if effect in apart:
            css += " apart"
        parts.append(_edge(c.x + BOX_W / 2, c.y, e.x + BOX_W / 2, e.y + e.h + 2, css))
    for (effect, _name), causes in groups.items():
        e = boxes[effect]
        cs = [boxes[c] for c in causes]
        jx = sum(c.x + BOX_W / 2 for c in cs) / len(cs)
        jy = (e.y + e.h + min(c.y for c in cs)) / 2
        for c in cs:
            parts.append(
                f'<path class="edge" d="M{c.x + BOX_W / 2:.0f},{c.y:.0f} L{jx:.0f},{jy + 11:.0f}"/>'
            )
        parts.append(_edge(jx, jy - 11, e.x + BOX_W / 2, e.y + e.h + 2))
        parts.append(
            f'<g class="and"><circle cx="{jx:.0f}" cy="{jy:.0f}" r="11"/>'
            f'<text x="{jx:.0f}" y="{jy + 4:.0f}" text-anchor="middle">and</text></g>'
        )
    return parts


STYLE = """
.node rect{fill:#fff;stroke:#9aa5b1;stroke-width:1.2}
.node text{font:12px system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;fill:#1f2933}
.node text.badge{font-size:9px;font-weight:700;letter-spacing:.06em;fill:#7b8794}
.udr rect{fill:#fdecec;stroke:#d64545}
.udr text.badge{fill:#b42318}
.udr.contradicted rect{fill:#f5f7fa;stroke:#9aa5b1;stroke-dasharray:5 4}
.udr.contradicted text{fill:#616e7c}
.udr.contradicted text.badge{fill:#7b8794}
.root rect{stroke:#1f2933;stroke-width:2}
.root text.badge{fill:#1f2933}
.core rect{fill:#fff4d6;stroke:#b7791f;stroke-width:2.5}
.core text.badge{fill:#975a16}
.edge{fill:none;stroke:#7b8794;stroke-width:1.3}
.edge.loop{stroke-dasharray:5 4}
.edge.apart{stroke:#c3c9d0;stroke-dasharray:3 4}
.and circle{fill:#fff;stroke:#52606d;stroke-width:1.3}
.and text{font:9px system-ui,sans-serif;fill:#52606d;font-weight:700}
.legend text{font:11px system-ui,sans-serif;fill:#52606d}
"""


def _legend(width: float, top: float, *, contradicted: bool) -> tuple[str, float]:
    """The key, flowed into as many rows as the picture's width needs (never cut at its edge);
    returns the SVG and the height it takes."""
    items = [("udr", "Undesirable result"), ("cause", "Cause"), ("root", "Root cause"),
             ("core", "Core problem: behind most UDRs")]  # fmt: skip
    if contradicted:
        items.insert(1, ("udr contradicted", "Contradicted by the data: counted in no share"))
    out, x, y = ['<g class="legend">'], 20.0, top
    for css, label in items:
        needed = 30 + LEGEND_CHAR * len(label)
        if x > 20 and x + needed > width:
            x, y = 20.0, y + 22
        out.append(
            f'<g class="node {css}"><rect x="{x:.0f}" y="{y:.0f}" width="14" '
            f'height="14" rx="3"/></g><text x="{x + 20:.0f}" y="{y + 12:.0f}">{label}</text>'
        )
        x += needed
    for line in textwrap.wrap(ARROWS, max(20, int((width - 40) / LEGEND_CHAR))):
        y += 22
        out.append(f'<text x="20" y="{y + 12:.0f}">{escape(line)}</text>')
    out.append("</g>")
    return "".join(out), y + 22 - top


ARROWS = "Arrows point from a cause to its effect; “and” joins causes that act only together."
LEGEND_CHAR = 6.6  # width of one 11px legend character, generously


def cause_svg(doc: Mapping[str, Any]) -> str:
    """The ``salesflow causes --json`` document as a self-contained SVG (no scripts, no fonts)."""
    if not doc.get("nodes"):
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 40" role="img">'
            '<text x="10" y="24">No UDRs or causes recorded yet.</text></svg>'
        )
    layers = cause_layers(doc)
    boxes, width, height = _boxes(doc, layers)
    legend, used = _legend(width, height - 40, contradicted=bool(doc.get("contradicted")))
    height += used - 40
    nodes = {n["id"]: n for n in doc["nodes"]}
    body = [*_edges_svg(doc, boxes), *(_node_svg(nodes[i], b) for i, b in boxes.items())]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="100%" role="img" aria-label="Cause and effect picture">'
        f'<style>{STYLE}</style><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" '
        'refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#7b8794"/></marker></defs>'
        + "".join(body)
        + legend
        + "</svg>"
    )
