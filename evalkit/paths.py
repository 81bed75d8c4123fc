"""Where things are: the repository root and the demo data folder."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
NOTEBOOK_DIR = REPO_DIR / "notebooks"


def demo_dir() -> Path:
    """The default data folder: $EVALKIT_DATA_DIR if set, else `data/demo` (see `make report`)."""
    return Path(os.environ.get("EVALKIT_DATA_DIR") or REPO_DIR / "data" / "demo")


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    """A notebook's `data_dir` parameter as a Path; None means the default data folder."""
    return Path(data_dir) if data_dir else demo_dir()


def reference_dir() -> Path:
    """The shared published-reference folder (`../shared/reference` beside the repository)."""
    return REPO_DIR.parent / "shared" / "reference"
