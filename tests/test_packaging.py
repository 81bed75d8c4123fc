"""An installed evalkit (a wheel, not an editable install) carries its notebooks and finds them.

The project is built as `python -m build` does, through setuptools' PEP 517 hooks: an sdist from
a copy of the source tree, then a wheel from the unpacked sdist, so a file the sdist forgets is
missing from the wheel too. The wheel is unpacked and imported in a fresh interpreter from a
folder outside the repository, as an installed package would be.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import evalkit.paths

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("pyproject.toml", "setup.py", "README.md", "LICENSE")
CACHES = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def _hook(name: str, cwd: Path, out: Path) -> Path:
    """Run one setuptools PEP 517 build hook in `cwd`; the path of what it wrote to `out`."""
    code = f"import sys; from setuptools import build_meta; print(build_meta.{name}(sys.argv[1]))"
    done = subprocess.run([sys.executable, "-c", code, str(out)], cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return out / done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from an sdist of a copy of the source tree (the working tree stays clean)."""
    tmp = tmp_path_factory.mktemp("build")
    src = tmp / "src"
    for folder in ("evalkit", "notebooks"):
        shutil.copytree(ROOT / folder, src / folder, ignore=CACHES)
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, src / name)
    sdist = _hook("build_sdist", src, tmp / "sdist")
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp / "unpacked", filter="data")
    (unpacked,) = (tmp / "unpacked").iterdir()
    return _hook("build_wheel", unpacked, tmp / "wheel")


def _package_files(root: Path) -> set[str]:
    """Files of the evalkit package in the source tree, as paths inside a wheel."""
    return {p.relative_to(root).as_posix() for p in (root / "evalkit").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def test_wheel_holds_every_package_file_and_the_notebooks(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
        assert notebooks, "the repository has no notebooks to ship"
        for nb in notebooks:
            assert whl.read(f"evalkit/notebooks/{nb.name}") == nb.read_bytes(), nb.name
    assert _package_files(ROOT) <= names, sorted(_package_files(ROOT) - names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_installed_package_finds_its_notebooks_and_a_local_data_folder(wheel: Path,
                                                                       tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as whl:
        whl.extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("import json, evalkit, evalkit.paths as p; print(json.dumps({'file': evalkit.__file__, "
            "'repo': p.REPO_DIR and str(p.REPO_DIR), 'notebooks': str(p.NOTEBOOK_DIR), "
            "'demo': str(p.demo_dir())}))")
    env = {k: v for k, v in os.environ.items() if k != "EVALKIT_DATA_DIR"}
    done = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, capture_output=True,
                          text=True, timeout=60, env={**env, "PYTHONPATH": str(site)})
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout)
    assert Path(got["file"]).resolve().is_relative_to(site.resolve())  # the wheel, not the repo
    assert got["repo"] is None
    notebooks = Path(got["notebooks"])
    assert notebooks.resolve() == (site / "evalkit" / "notebooks").resolve()
    assert sorted(p.name for p in notebooks.glob("*.ipynb")) == sorted(
        p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert Path(got["demo"]).resolve() == (elsewhere / "data" / "demo").resolve()


def test_source_tree_uses_the_repository_notebooks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert evalkit.paths.REPO_DIR == ROOT
    assert evalkit.paths.NOTEBOOK_DIR == ROOT / "notebooks"
    monkeypatch.delenv("EVALKIT_DATA_DIR", raising=False)
    assert evalkit.paths.demo_dir() == ROOT / "data" / "demo"
    monkeypatch.setenv("EVALKIT_DATA_DIR", "/somewhere/else")
    assert evalkit.paths.demo_dir() == Path("/somewhere/else")
