"""Generated docs never drift: docs/cli.md from the commands' help, docs/metrics.md from the registry."""

from __future__ import annotations

from pathlib import Path

from salesflow.cli.reference import cli_markdown, commands, main

DOCS = Path(__file__).parents[2] / "docs"
REGENERATE = "regenerate with `python -m salesflow.cli.reference` (make docs)"


def test_cli_reference_is_up_to_date():
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == cli_markdown(), REGENERATE


def test_every_generated_page_is_up_to_date(capsys):
    assert main(["--check", str(DOCS)]) == 0, capsys.readouterr().out + REGENERATE


def test_every_command_has_a_section_with_its_example_and_options():
    text = cli_markdown()
    for name, cmd in commands():
        start = text.index(f"\n## salesflow {name}\n")
        end = text.find("\n## salesflow ", start + 1)
        section = text[start : end if end > 0 else None]
        assert "Example:" in section, name
        assert f"(#salesflow-{name.replace(' ', '-')})" in text, name
        for param in cmd.params:
            opts = getattr(param, "opts", [])
            if param.param_type_name == "option":
                assert f"{opts[-1]}" in section, (name, opts)


def test_check_finds_a_stale_page_and_writing_fixes_it(tmp_path, capsys):
    assert main([str(tmp_path)]) == 0
    assert (tmp_path / "cli.md").read_text(encoding="utf-8") == cli_markdown()
    (tmp_path / "metrics.md").write_text("# edited by hand\n", encoding="utf-8")
    assert main(["--check", str(tmp_path)]) == 1
    assert f"stale: {tmp_path / 'metrics.md'}" in capsys.readouterr().out
    assert main([str(tmp_path)]) == 0 and main(["--check", str(tmp_path)]) == 0
