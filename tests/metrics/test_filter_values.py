"""Filter values are checked against the data: any case matches, a typo is refused with the nearest
spellings (exit 1 on the command line), never read as "no deals"."""

from __future__ import annotations

from collections import Counter

import pytest
from metrics_data import load

from salesflow import metrics
from salesflow.errors import FilterValueError


def test_a_value_in_another_case_matches_the_data(backend, data):
    con, settings = backend
    shouted = metrics.series(con, settings, "new_opportunities", filters={"source": "INBOUND"})
    expected = Counter(
        o["created_at"].date().replace(day=1)
        for o in data.opportunities
        if o["source"] == "inbound"
    )
    assert {p.period: p.value for p in shouted.points if p.value} == expected
    assert sum(expected.values()) > 10


def test_a_value_no_row_holds_is_refused_with_the_nearest_spelling(backend):
    con, settings = backend
    with pytest.raises(FilterValueError) as caught:
        metrics.series(con, settings, "win_rate", filters={"source": "inbond"})
    message = str(caught.value)
    assert "source='inbond' matches nothing" in message
    assert "Did you mean 'inbound'?" in message
    assert "inbound, outbound" in message  # every value the data holds, to choose from


def test_one_missing_value_among_several_is_refused(backend):
    con, settings = backend
    with pytest.raises(FilterValueError, match="'Nobody' matches nothing"):
        metrics.series(con, settings, "win_rate", filters={"source": ["inbound", "Nobody"]})


@pytest.fixture(scope="module")
def ws(tmp_path_factory, data):
    from salesflow.workspace import init_workspace

    workspace = init_workspace(tmp_path_factory.mktemp("filters") / "ws")
    load(workspace.data, data)
    workspace.close()
    return workspace.path


def test_the_cli_exits_1_with_a_sentence_for_a_typo(cli, ws):
    result = cli("-w", ws, "metric", "win_rate", "--filter", "source=Outbund", ok=False)
    assert result.exit_code == 1
    assert "source='Outbund' matches nothing in the data" in result.stderr
    assert "Did you mean 'outbound'?" in result.stderr
    assert "insufficient" not in result.stderr + result.stdout
    upper = cli.json("-w", ws, "metric", "win_rate", "--filter", "source=Outbound")
    lower = cli.json("-w", ws, "metric", "win_rate", "--filter", "source=outbound")
    assert upper["points"] == lower["points"] and any(p["n"] for p in lower["points"])


@pytest.mark.parametrize(
    "command",
    [("flow",), ("drivers", "--outcome", "won")],
    ids=["flow", "drivers"],
)
def test_flow_and_drivers_check_their_filters_the_same_way(cli, ws, command):
    typo = cli("-w", ws, *command, "--filter", "source=inbond", ok=False)
    assert typo.exit_code == 1
    assert "source='inbond' matches nothing in the data. Did you mean 'inbound'?" in typo.stderr


def test_the_value_stream_matches_any_case(cli, ws, data):
    shouted = cli.json("-w", ws, "flow", "--filter", "source=INBOUND")
    plain = cli.json("-w", ws, "flow", "--filter", "source=inbound")
    assert shouted["stages"] == plain["stages"]
    assert (
        shouted["cases"]["count"]
        == sum(1 for o in data.opportunities if o["source"] == "inbound")
        > 0
    )
