"""Why-links in the knowledge base: add them through :class:`CauseGraph`'s rules, rank root
causes, and check a link against the sales data.

The graph is rebuilt from the store on each call (a team's graph has tens of nodes, not
thousands), so the cycle check always sees what others saved a moment ago.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from salesflow.workbench.causes import CauseGraph, Link, Node, add_link, rank, tree_lines

if TYPE_CHECKING:
    from salesflow.appdb import LinkRecord
    from salesflow.appdb.versions import Expected
    from salesflow.workbench.service import Workbench

__all__ = [
    "causes",
    "check_link",
    "edit_link",
    "latest_check",
    "link",
    "links_of",
    "load_graph",
    "plain",
]


def load_graph(bench: Workbench) -> tuple[list[Node], list[LinkRecord]]:
    """The active nodes (UDRs and causes) and the links between them."""
    nodes = [
        Node(r.id, r.kind, r.statement if r.kind == "udr" else r.text)  # type: ignore[union-attr]
        for r in bench.store.nodes()
    ]
    return nodes, bench.store.links.list()


def _as_links(records: list[LinkRecord], *, with_checks: bool = False) -> list[Link]:
    out = []
    for r in records:
        text = r.text or ""
        check = latest_check(r.evidence) if with_checks else None
        if check is not None:
            text = f"{text} [data check: {check['verdict']}]".strip()
        out.append(Link(r.effect_id, r.cause_id, text, r.and_group, r.is_loop))
    return out


def link(
    bench: Workbench,
    effect: int,
    cause: int,
    *,
    text: str | None = None,
    group: str | None = None,
    loop: bool = False,
    evidence: str | None = None,
) -> dict[str, Any]:
    """Record "effect happens because of cause"; a loop not declared with ``loop`` is refused
    with the path it would close (:class:`salesflow.workbench.causes.CauseCycleError`)."""
    nodes, records = load_graph(bench)
    graph = CauseGraph({n.id: n for n in nodes}, _as_links(records))
    add_link(graph, effect, cause, text=text or "", group=group, loop=loop)
    notes = [{"kind": "note", "text": evidence, "by": bench.who, "at": _now()}] if evidence else []
    record = bench.store.links.create(
        effect,
        cause,
        who=bench.who,
        text=text,
        and_group=group,
        is_loop=loop,
        evidence=notes,
    )
    return link_doc(record)


def edit_link(
    bench: Workbench,
    id: int,
    *,
    expected_version: Expected,
    text: str | None = None,
    group: str | None = None,
) -> dict[str, Any]:
    """Reword a link's "because…" or change its AND group ("" clears either); kept in its history.

    Neither changes which nodes it joins, so no loop can appear (re-link to change those).
    """
    fields = {
        key: value.strip() or None
        for key, value in (("text", text), ("and_group", group))
        if value is not None
    }
    record = bench.store.links.update(
        id, who=bench.who, expected_version=expected_version, **fields
    )
    return link_doc(record)


def link_doc(record: LinkRecord) -> dict[str, Any]:
    """A link as JSON: the stored record plus the short keys of the ``causes`` contract."""
    doc = record.to_dict()
    doc.update(
        effect=record.effect_id,
        cause=record.cause_id,
        group=record.and_group,
        loop=record.is_loop,
        check=latest_check(record.evidence),
    )
    return doc


def latest_check(evidence: list[Any]) -> dict[str, Any] | None:
    """The most recent data check stored on a link, if any."""
    checks = [e for e in evidence if isinstance(e, dict) and e.get("kind") == "data_check"]
    return checks[-1] if checks else None


def links_of(bench: Workbench, effect: int) -> list[dict[str, Any]]:
    """The recorded causes of one node, with the text of each cause and its latest data check."""
    texts = {n.id: n.text for n in load_graph(bench)[0]}
    return [
        {**link_doc(r), "cause_text": texts.get(r.cause_id)}
        for r in bench.store.links.list()
        if r.effect_id == effect
    ]


def causes(bench: Workbench) -> dict[str, Any]:
    """The ``salesflow causes --json`` document: every node ranked, every link, the tree."""
    nodes, records = load_graph(bench)
    versions = {n.id: n.version for n in bench.store.nodes()}  # what a delete must name
    links = _as_links(records)
    against = contradicted_udrs(bench)
    threshold = bench.workspace.settings.core_threshold
    ranks = rank(nodes, links, core_threshold=threshold, contradicted=against)
    udrs = sum(1 for n in nodes if n.kind == "udr" and n.id not in against)
    return {
        "nodes": [
            {
                "id": r.id,
                "kind": r.kind,
                "text": r.text,
                "contradicted": r.id in against,
                "version": versions.get(r.id),
                "reaches": r.reaches,
                "count": r.count,
                "contradicted_reached": r.contradicted,
                "leads_to": r.leads_to(udrs),
                "share": r.share,
                "root": r.root,
                "core": r.core,
                "depth": r.depth,
            }
            for r in ranks
        ],
        "links": [link_doc(r) for r in records],
        "core_threshold": bench.workspace.settings.core_threshold,
        "udrs": udrs,
        "contradicted": sorted(against),
        "tree": tree_lines(nodes, _as_links(records, with_checks=True), ranks),
    }


def contradicted_udrs(bench: Workbench) -> set[int]:
    """UDRs whose data says the result is not happening: drawn apart, counted toward no share."""
    return {r.id for r in bench.store.udrs.list() if bench.udr_verdict(r).verdict == "contradicted"}


def check_link(
    bench: Workbench,
    link_id: int,
    *,
    variable: str,
    outcome: str,
    level: str | None = None,
    claims: str = "worsens",
    params: dict[str, Any] | None = None,
    filters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Test a link against past deals: does ``variable`` go with a worse ``outcome``?

    The outcome is won, cycle_time, stalled or a per-deal metric (with its ``params`` and
    ``filters``); when the link's effect is a UDR bound to that metric, its ``bad_if`` says which
    way is worse. The answer (supports, contradicts or inconclusive, with the effect, its 95 %
    interval and adjusted p-value) is appended to the link's evidence, so ``causes`` and
    ``udr show`` carry it.
    """
    from salesflow.analysis import link_verdict, prepare_outcome, variable_effect

    record = bench.store.links.get(link_id)
    frame, cat = bench.feature_frame()
    bound = next((u.binding for u in bench.store.udrs.list() if u.id == record.effect_id), None)
    bad_if = (bound or {}).get("bad_if") if (bound or {}).get("metric") == outcome else None
    frame, spec = prepare_outcome(
        bench.workspace, frame, outcome, params=params, filters=filters, bad_if=bad_if
    )
    effect, warnings = variable_effect(frame, cat, outcome=spec, variable=variable, level=level)
    found = link_verdict(effect, claims=claims, warnings=warnings)  # type: ignore[arg-type]
    entry = plain(
        {
            "kind": "data_check",
            "variable": variable,
            "level": level,
            "outcome": outcome,
            "claims": claims,
            **({"params": params} if params else {}),
            **({"filters": filters} if filters else {}),
            "by": bench.who,
            "at": _now(),
            **found.as_dict(),
        }
    )
    updated = bench.store.links.update(
        link_id,
        who=bench.who,
        expected_version=record.version,
        evidence=[*record.evidence, entry],
    )
    return {"link": link_doc(updated), "check": entry}


def plain(value: Any) -> Any:
    """JSON both databases accept: NumPy scalars as Python numbers, NaN and infinities as null."""
    import math

    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
