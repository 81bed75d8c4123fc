"""Command line: `evalkit synth | validate | run | ascof | template`.

Each subcommand lives in the module that does the work; that module provides
`add_arguments(parser)` and `main(args) -> int` (the exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from evalkit import __version__
from evalkit.paths import NOTEBOOK_DIR

SUBCOMMANDS = {
    "synth": ("evalkit.synth.generator", "Write a synthetic data folder with planted effects"),
    "validate": ("evalkit.data.load", "Check a data folder and print its data-quality table"),
    "run": ("evalkit.run.runner", "Run the notebooks and render the HTML reports"),
    "template": ("evalkit.data.template", "Write a blank return for agencies (pa_register)"),
    "ascof": ("evalkit.data.cld.ascof", "ASCOF 3D 1a/2a from raw CLD, as NHS England computes it"),
}


#: Each subcommand's examples, (command line, what it does), the commands a council analyst
#: types: the subcommand's help ends with them, the top-level help shows the first of each, and
#: tests/test_cli.py parses every one with the real parser, so they stay true.
EXAMPLES: dict[str, list[tuple[str, str]]] = {
    "synth": [
        ("evalkit synth --out data/demo --profile leicester --seed 1",
         "demonstration data for one council (Leicester)"),
        ("evalkit synth --out data/national --profile england --format cld",
         "raw CLD for every council in England"),
        ("evalkit synth --out data/dirty --dirty", "with known defects, listed in defects.json"),
    ],
    "validate": [
        ("evalkit validate data/mycouncil", "is the folder usable? what is set aside, and why"),
        ("evalkit validate data/mycouncil --extract-date 2026-03-31",
         "as at the extract date: later dates are set aside"),
    ],
    "run": [
        ("evalkit run data/mycouncil --out reports",
         "the three reports for the council in the data"),
        ("evalkit run data/national --out reports --la all-councils --jobs 2",
         "every council's own reports and the England page, two notebooks at a time"),
        ("evalkit run data/national --out reports --la E06000016 E08000025 --engine spark",
         "two councils, the raw CLD reduced on Spark"),
    ],
    "template": [
        ("evalkit template pa_register --out pa_return.xlsx",
         "the PA return to send to each agency"),
    ],
    "ascof": [
        ("evalkit ascof data/national --period-end 2025-03-31",
         "ASCOF 3D as NHS England computes it, to compare with theirs"),
        ("evalkit ascof data/national --period-end 2025-03-31 --csv",
         "the table alone, as CSV"),
    ],
}

#: What `evalkit` exits with, whichever the command (each command's help gives its own).
TOP_EXIT_CODES = """exit codes:
  0    success
  1    the command ran but could not do all it was asked: data that cannot be used, a
       notebook that failed or was blocked by the privacy gate (the message says which),
       or an unexpected error (a traceback)
  2    wrong usage: an unknown command or a wrong option (the usage line says which);
       for `evalkit run`, also a run that could not start
  130  stopped by Ctrl-C (SIGINT); 143 stopped by SIGTERM"""


def format_examples(pairs: list[tuple[str, str]]) -> str:
    """An `examples:` section: each command under a comment saying what it does."""
    return "examples:\n" + "\n".join(f"  # {what}\n  {command}" for command, what in pairs)


def top_epilog() -> str:
    """Help after the top-level options: the first example of each command, the exit codes."""
    first = format_examples([examples[0] for examples in EXAMPLES.values()])
    return (f"{first}\n\n{TOP_EXIT_CODES}\n\n"
            "`evalkit COMMAND --help` says more about each command: more examples and its own "
            "exit codes.")


#: Each subcommand's exit codes, shown at the end of its help. A wrong option is 2 for every one
#: of them (argparse's usage error).
EXIT_CODES = {
    "synth": """exit codes:
  0    the folder was written
  2    a wrong option (the usage line says which)""",
    "validate": """exit codes:
  0    the folder can be used (the verdict line says how many rows were set aside)
  1    the folder cannot be used: the error names the file, rows and column
  2    a wrong option (the usage line says which)""",
    "run": """exit codes:
  0    every notebook succeeded and passed the privacy gate; the reports are published
  1    a notebook failed or was blocked by the privacy gate (the others are published;
       the index and manifest.json say which and why)
  2    the run could not start: unusable data or options, or another run holds REPORT_DIR
  130  stopped by Ctrl-C (SIGINT); 143 stopped by SIGTERM: nothing new is published""",
    "template": """exit codes:
  0    the template was written
  2    a wrong option (the usage line says which)""",
    "ascof": """exit codes:
  0    the table was printed
  1    the folder holds no raw CLD that can be used: the error says why
  2    a wrong option (the usage line says which)""",
}


def notebook_parameters(notebook_dir: Path = NOTEBOOK_DIR) -> str:
    """The notebooks' parameters with their defaults and help, read from each notebook's
    `parameters` cell (papermill.inspect_notebook), for `evalkit run --help`."""
    import papermill  # only when the help is shown

    lines = ["notebook parameters (--param KEY=VALUE; data_dir, la_code, min_cell and "
             "results_path are set by the run):"]
    for nb in sorted(notebook_dir.glob("[0-9][0-9]_*.ipynb")):
        lines.append(f"  {nb.stem}:")
        for key, info in papermill.inspect_notebook(str(nb)).items():
            if key not in ("data_dir", "la_code", "min_cell", "results_path"):
                note = f": {info['help']}" if info["help"] else ""
                lines.append(f"    {key} (default {info['default']}){note}")
    return "\n".join(lines)


def _epilog(name: str, *, with_parameters: bool) -> str:
    """Help after a subcommand's options: its examples then its exit codes, after the notebook
    parameters for `run` when `with_parameters` (reading them imports papermill and opens every
    notebook: seconds a run would spend on help it does not show)."""
    parts = [notebook_parameters()] if name == "run" and with_parameters else []
    return "\n\n".join([*parts, format_examples(EXAMPLES[name]), EXIT_CODES[name]])


def build_parser(only: str | None = None, *, helping: bool = True) -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per subcommand (or only for `only`, so that
    `evalkit run` does not import what `synth` or `template` need); `helping=False` when no help
    will be shown (the run's help then leaves out the notebook parameters)."""
    parser = argparse.ArgumentParser(prog="evalkit", description=__doc__.splitlines()[0],
                                     epilog=top_epilog(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"evalkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text,
                            epilog=(_epilog(name, with_parameters=helping)
                                    if only == name else None),
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        sp.set_defaults(command_module=module)
        if only in (None, name):
            importlib.import_module(module).add_arguments(sp)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run the subcommand; returns its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    helping = bool({"-h", "--help"} & set(argv))
    if argv[:1] == ["run"] and not helping:
        from evalkit.run.preload import national_run, start_forkserver

        # imports what the workers need while this process starts up
        start_forkserver(national=national_run(argv))
    only = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    args = build_parser(only, helping=helping).parse_args(argv)
    return int(importlib.import_module(args.command_module).main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
