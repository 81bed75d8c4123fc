"""Shared fixtures: the published reference folder and small synthetic data folders."""

from __future__ import annotations

from pathlib import Path

import pytest

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """tests/reference: the published cases (README.md there gives source, licence, tolerance).

    They are part of the repository, so a missing folder fails the test rather than skipping it.
    """
    if not REFERENCE_DIR.is_dir():
        pytest.fail(f"published reference cases not found at {REFERENCE_DIR}")
    return REFERENCE_DIR
