"""Shared fixtures: the published reference folder and small synthetic data folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.paths import reference_dir as _reference_dir


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """../shared/reference; skips, saying where it looked, when the folder is absent."""
    path = _reference_dir()
    if not path.is_dir():
        pytest.skip(f"published reference folder not found at {path} (it sits beside the repo)")
    return path
