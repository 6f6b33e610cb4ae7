"""`salesflow udr lint`: one statement or a file, JSON contract, plain-words output, exit 0."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from salesflow.cli import lint_cmd
from salesflow.cli.common import new_app
from salesflow.workbench.lint import lint


@pytest.fixture
def run():
    """The `udr` group mounted on a root app, as cli/__init__.py mounts it."""
    app = new_app("salesflow (test root)\n\nExample: `salesflow udr lint TEXT`")
    lint_cmd.register(app)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input)

    return invoke


def test_one_statement_as_json(run):
    result = run("udr", "lint", "We need a CRM because deals are slow", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert isinstance(doc, list) and len(doc) == 1
    item = doc[0]
    assert set(item) == {"statement", "measurable", "findings"}
    assert item["statement"] == "We need a CRM because deals are slow"
    assert item["measurable"] is False
    assert [f["code"] for f in item["findings"]] == ["SOLUTION", "CAUSE", "VAGUE", "UNMEASURED"]
    for f in item["findings"]:
        assert set(f) == {"code", "message", "suggestion"}


def test_file_skips_blank_lines_and_comments_and_keeps_order(run, tmp_path):
    path = tmp_path / "complaints.txt"
    path.write_text(
        "# complaints from the Q3 review\n"
        "Reps are lazy\n"
        "\n"
        "38% of proposals wait more than 10 days for pricing approval in Q3\n"
        "   # indented comment\n"
        "Win rate fell and cycle time grew\n",
        encoding="utf-8",
    )
    result = run("udr", "lint", "--file", str(path), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [d["statement"] for d in doc] == [
        "Reps are lazy",
        "38% of proposals wait more than 10 days for pricing approval in Q3",
        "Win rate fell and cycle time grew",
    ]
    for item in doc:  # the CLI adds nothing to the library's verdict
        expected = lint(item["statement"])
        assert item["measurable"] == expected.measurable
        assert [f["code"] for f in item["findings"]] == expected.codes
    assert doc[1] == {"statement": doc[1]["statement"], "measurable": True, "findings": []}


def test_stdin_with_dash(run):
    result = run("udr", "lint", "--file", "-", "--json", input="No pricing tool\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["findings"][0]["code"] == "SOLUTION"


def test_human_output_is_plain_words_and_exits_zero(run):
    good = run("udr", "lint", "Win rate was 18% in Q3, against 25% planned")
    assert good.exit_code == 0
    assert good.stdout.startswith("✓ Win rate was 18% in Q3, against 25% planned")
    bad = run("udr", "lint", "Marketing doesn't care [again]")
    assert bad.exit_code == 0
    assert "✗ Marketing doesn't care [again]" in bad.stdout  # brackets are not Rich markup
    assert "BLAME:" in bad.stdout and "UNMEASURED:" in bad.stdout
    assert "Try:" in bad.stdout


def test_missing_file_is_one_clear_error(run, tmp_path):
    result = run("udr", "lint", "--file", str(tmp_path / "nope.txt"))
    assert result.exit_code == 1
    assert "File not found" in result.stderr and "nope.txt" in result.stderr
    assert result.stdout == ""


def test_statement_or_file_is_required(run):
    result = run("udr", "lint")
    assert result.exit_code == 1
    assert "Give one statement in quotes, or --file FILE" in result.stderr


def test_help_ends_with_an_example(run):
    result = run("udr", "lint", "--help")
    assert result.exit_code == 0
    assert "Example:" in result.stdout
