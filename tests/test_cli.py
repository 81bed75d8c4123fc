"""The command line's own help: version, examples, notebook parameters and exit codes."""

from __future__ import annotations

import pytest

from evalkit import __version__
from evalkit.cli import SUBCOMMANDS, main


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 0
    return capsys.readouterr().out


def test_version_is_the_installed_one(capsys):
    assert _help(["--version"], capsys).strip() == f"evalkit {__version__}"


def test_top_level_help_gives_an_example_of_every_command(capsys):
    text = _help(["--help"], capsys)
    examples = text.split("examples:")[1]
    for name in SUBCOMMANDS:
        assert f"evalkit {name} " in examples, name


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


@pytest.mark.parametrize("name", [n for n in SUBCOMMANDS if n != "run"])
def test_every_command_help_ends_with_its_exit_codes(capsys, name):
    codes = _help([name, "--help"], capsys).split("exit codes:")[1]
    assert "\n  0 " in codes and "\n  2    a wrong option" in codes
