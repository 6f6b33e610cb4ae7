"""A UDR the data contradicts is not happening: the cause picture draws it apart (grey, dashed),
no cause counts it toward its share, ``causes --json`` says which, and no page paints it green."""

from __future__ import annotations

import re


def reaches(links: list[dict], start: int) -> set[int]:
    """Every node `start` explains, by a plain walk over the "because of" links."""
    seen, stack = set(), [start]
    while stack:
        node = stack.pop()
        for link in links:
            if link["cause"] == node and link["effect"] not in seen:
                seen.add(link["effect"])
                stack.append(link["effect"])
    return seen


def test_causes_json_names_the_contradicted_and_counts_only_the_others(demo_ws, cli):
    udrs = cli.json("udr", "list", "-w", demo_ws)["udrs"]
    against = {u["id"] for u in udrs if (u.get("verdict") or {}).get("verdict") == "contradicted"}
    assert against, "the demo knowledge holds one contradicted UDR (EMEA win rate)"
    doc = cli.json("causes", "-w", demo_ws)
    assert set(doc["contradicted"]) == against
    counted = {u["id"] for u in udrs} - against
    assert doc["udrs"] == len(counted)
    for node in doc["nodes"]:
        assert node["contradicted"] == (node["id"] in against)
        expected = (reaches(doc["links"], node["id"]) | {node["id"]}) & counted
        assert set(node["reaches"]) == expected, node["text"]
        assert node["share"] == len(expected) / len(counted)
        behind = (reaches(doc["links"], node["id"]) | {node["id"]}) & against
        assert set(node["contradicted_reached"]) == behind, node["text"]
        if behind and not expected:  # never "leads to 0 UDRs"
            assert node["leads_to"].startswith("only explains"), node["leads_to"]
    human = " ".join(cli("causes", "-w", demo_ws).stdout.split())
    assert "only explains a result the data contradicts" in human and "leads to 0" not in human


def test_the_picture_draws_it_apart_and_the_report_does_not_paint_it_green(demo_ws, report_file):
    from bs4 import BeautifulSoup

    import salesflow as sf

    with sf.open(demo_ws) as ws:
        result = ws.causes()
    svg = result.svg()
    against = result.to_dict()["contradicted"]
    drawn = re.findall(r'<g class="node udr contradicted"><title>', svg)
    assert len(drawn) == len(against) >= 1
    assert "Contradicted by the data: counted in no share" in svg  # in the key
    soup = BeautifulSoup(report_file[0].read_text(encoding="utf-8"), "html.parser")
    css = soup.find("style").get_text()
    rule = re.search(r"\.chip\.contradicted\{([^}]*)\}", css).group(1)
    assert "good" not in rule and "dashed" in rule
