"""The command line's own help: version, examples (which must parse), notebook parameters and
exit codes."""

from __future__ import annotations

import shlex

import pytest

from evalkit import __version__
from evalkit.cli import EXAMPLES, SUBCOMMANDS, build_parser, main


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 0
    return capsys.readouterr().out


def test_version_is_the_installed_one(capsys):
    assert _help(["--version"], capsys).strip() == f"evalkit {__version__}"


def _examples(text: str) -> list[str]:
    """The command lines of a help's `examples:` section (it ends at `exit codes:`)."""
    section = text.split("\nexamples:\n")[1].split("\nexit codes:")[0]
    return [line.strip() for line in section.splitlines() if line.startswith("  evalkit ")]


def _parses(line: str) -> str:
    """Parse an example with the real parser (argparse exits 2 on a wrong option); its command."""
    argv = shlex.split(line)
    assert argv[0] == "evalkit", line
    return build_parser(argv[1]).parse_args(argv[1:]).command


def test_top_level_help_gives_an_example_of_every_command_and_the_exit_codes(capsys):
    text = _help(["--help"], capsys)
    examples = _examples(text)
    assert [_parses(line) for line in examples] == list(SUBCOMMANDS)
    assert examples == [pairs[0][0] for pairs in EXAMPLES.values()]  # the commands' own
    codes = text.split("\nexit codes:")[1]
    for code in ("0 ", "1 ", "2 ", "130 "):
        assert f"\n  {code}" in codes, code


def test_run_help_lists_each_notebooks_parameters_and_the_exit_codes(capsys):
    text = _help(["run", "--help"], capsys)
    params = text.split("notebook parameters (--param")[1].split("exit codes:")[0]
    for notebook, key in [("01_uptake", "group_level"), ("02_pa_market", "target_days"),
                          ("03_outcomes", "recalculate_limits")]:
        assert notebook in params and f"    {key} (default " in params, key
    assert "    min_cell (default" not in params  # set by the run itself, not by --param
    codes = text.split("exit codes:")[1]
    for code in ("0 ", "1 ", "2 ", "130 ", "143 "):
        assert f"\n  {code}" in codes or f"; {code}" in codes, code


@pytest.mark.parametrize("name", list(SUBCOMMANDS))
def test_every_command_help_ends_with_examples_that_parse_then_its_exit_codes(capsys, name):
    text = _help([name, "--help"], capsys)
    examples = _examples(text)
    assert 1 <= len(examples) <= 3 and examples == [line for line, _ in EXAMPLES[name]]
    assert all(_parses(line) == name for line in examples)
    codes = text.split("\nexit codes:")[1]
    assert "\n  0 " in codes and "\n  2 " in codes
    if name != "run":
        assert "\n  2    a wrong option" in codes
