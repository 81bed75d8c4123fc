"""Build step that ships the notebooks inside the package; everything else is in pyproject.toml.

The notebooks stay in the repository's top-level notebooks/ (where researchers open them); a wheel
also carries a copy as evalkit/notebooks/, so an installed `evalkit run` finds them
(evalkit.paths.NOTEBOOK_DIR). It uses setuptools' documented way to extend a build step: a
`build_py` subclass that implements the build sub-command protocol (setuptools.command.build).
"""

from __future__ import annotations

import os
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

NOTEBOOKS = "notebooks"
TARGET = os.path.join("evalkit", "notebooks")


def _notebooks() -> list[str]:
    """The repository's notebooks, relative to the project root (as setuptools wants them)."""
    return sorted(str(p) for p in Path(NOTEBOOKS).glob("*.ipynb"))


class BuildPyWithNotebooks(build_py):
    """build_py that also copies notebooks/*.ipynb into the built package.

    An editable install skips the copy: there the package runs from the source tree and
    evalkit.paths finds the repository's notebooks/ directly.
    """

    def _notebook_outputs(self) -> dict[str, str]:
        """Built file -> source file for each notebook (none in editable mode)."""
        if self.editable_mode:
            return {}
        return {os.path.join(self.build_lib, TARGET, os.path.basename(src)): src
                for src in _notebooks()}

    def run(self) -> None:
        super().run()
        for built, src in self._notebook_outputs().items():
            self.mkpath(os.path.dirname(built))
            self.copy_file(src, built, preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), *self._notebook_outputs()]

    def get_output_mapping(self) -> dict[str, str]:
        return {**super().get_output_mapping(), **self._notebook_outputs()}

    def get_source_files(self) -> list[str]:
        """Source files for the sdist: the package's, plus the notebooks."""
        return [*super().get_source_files(), *_notebooks()]


setup(cmdclass={"build_py": BuildPyWithNotebooks})
