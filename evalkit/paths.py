"""Where things are: the notebooks and the default data folder, in a source tree or installed.

evalkit runs either from a source tree (a clone, `pip install -e .`, `make`) or from an installed
wheel. The notebooks live in the repository's `notebooks/`; the wheel carries a copy of them
inside the package (`evalkit/notebooks/`, copied by setup.py at build time).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _source_tree(root: Path) -> Path | None:
    """`root` if it is evalkit's repository (pyproject.toml and notebooks/ beside the package)."""
    return root if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir() else None


#: The repository root when evalkit runs from a source tree; None when it is installed.
REPO_DIR: Path | None = _source_tree(PACKAGE_DIR.parent)
#: The three notebooks: the repository's `notebooks/`, else the copy shipped in the package.
NOTEBOOK_DIR: Path = (REPO_DIR or PACKAGE_DIR) / "notebooks"


def demo_dir() -> Path:
    """The default data folder of a notebook opened by hand.

    $EVALKIT_DATA_DIR if set; else `data/demo` of the repository in a source tree (where
    `make report` writes it); else `data/demo` of the current folder (where
    `evalkit synth --out data/demo` writes it).
    """
    env = os.environ.get("EVALKIT_DATA_DIR")
    if env:
        return Path(env)
    return (REPO_DIR if REPO_DIR is not None else Path.cwd()) / "data" / "demo"


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    """A notebook's `data_dir` parameter as a Path; None means the default data folder, which
    must exist (a notebook opened before `make report` is told how to make it)."""
    if data_dir:
        return Path(data_dir)
    folder = demo_dir()
    if not folder.is_dir():
        where = ("$EVALKIT_DATA_DIR" if os.environ.get("EVALKIT_DATA_DIR")
                 else "the demo data folder")
        raise FileNotFoundError(
            f"data_dir is None, so the notebook reads {where}, {folder}, which does not exist. "
            "Make the demo data with `make report` (in the repository) or "
            "`evalkit synth --out data/demo --profile leicester --seed 1 --format cld`, or set "
            "data_dir to your council's data folder.")
    return folder
