"""Command line: `evalkit synth | validate | run | template`.

Each subcommand lives in the module that does the work; that module provides
`add_arguments(parser)` and `main(args) -> int` (the exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = {
    "synth": ("evalkit.synth.generator", "Write a synthetic data folder with planted effects"),
    "validate": ("evalkit.data.load", "Check a data folder and print its data-quality table"),
    "run": ("evalkit.run.runner", "Run the notebooks and render the HTML reports"),
    "template": ("evalkit.data.template", "Write a blank return for agencies (pa_register)"),
    "ascof": ("evalkit.data.cld.ascof", "ASCOF 3D 1a/2a from raw CLD, as NHS England computes it"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per subcommand (or only for `only`, so that
    `evalkit run` does not import what `synth` or `template` need)."""
    parser = argparse.ArgumentParser(prog="evalkit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.set_defaults(command_module=module)
        if only in (None, name):
            importlib.import_module(module).add_arguments(sp)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run the subcommand; returns its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"] and not {"-h", "--help"} & set(argv):
        from evalkit.run.preload import start_forkserver

        start_forkserver()  # imports what the workers need while this process starts up
    args = build_parser(argv[0] if argv and argv[0] in SUBCOMMANDS else None).parse_args(argv)
    return int(importlib.import_module(args.command_module).main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
