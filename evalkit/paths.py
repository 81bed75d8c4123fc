"""Where things are: the repository root and the demo data folder."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
NOTEBOOK_DIR = REPO_DIR / "notebooks"


def demo_dir() -> Path:
    """The demo data folder that `make report` fills (`data/demo` in the repository)."""
    return REPO_DIR / "data" / "demo"


def reference_dir() -> Path:
    """The shared published-reference folder (`../shared/reference` beside the repository)."""
    return REPO_DIR.parent / "shared" / "reference"
