"""Fixtures shared by the test modules.

- `reference_dir`: tests/reference, the published reference cases.
- `demo_like_data`: a synthetic Leicester folder made as `make report` makes the demo (same
  profile and seed, raw CLD), at a fifth of its size.
- `published`: the three notebooks executed once per test run, by `evalkit run` on that folder
  (the path every published number takes); every test that reads a notebook's outputs reads
  this run's.
- `committed_notebook`: checks a notebook as committed (clean, conventions) and gives its
  section headings.

Under pytest-xdist a session fixture runs once per worker. `shared_folder` makes the expensive
ones run once per test run, as the pytest-xdist docs describe ("Making session-scoped fixtures
execute only once"): the first worker to ask builds the folder under the run's shared temporary
root while holding a file lock; the others wait for the lock and reuse the folder.

Plain helpers that test modules import live in the `helpers` package (tests/helpers/); no test
module imports another.
"""

from __future__ import annotations

import ast
import fcntl
import functools
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from helpers.reports import evalkit_run
from hypothesis import Phase, settings
from nbformat import NotebookNode

from evalkit.paths import NOTEBOOK_DIR
from evalkit.synth.generator import synthesise

# Property tests (Hypothesis). "ci", loaded here for `make test` and CI: the same examples on
# every run (derandomize, no example database), a bounded number and no shrinking, so a run
# passes or fails the same way every time and a failure is reported at once, with the blob that
# reproduces it. "fuzz" (`make fuzz`, pytest --hypothesis-profile=fuzz): new random examples on
# every run, many more, and a failure shrunk to a minimal example. Tests leave these to the
# profile; a test's own settings only suppress health checks.
settings.register_profile("ci", derandomize=True, database=None, max_examples=25, deadline=None,
                          phases=[Phase.explicit, Phase.generate], print_blob=True)
settings.register_profile("fuzz", max_examples=1500, deadline=None, print_blob=True)
settings.load_profile("ci")

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
DEMO_PROFILE, DEMO_SEED = "leicester", 1  # as `make report` makes data/demo
DEMO_FORMAT = "cld"  # raw CLD, as `make report` makes data/demo
DEMO_SCALE = 0.2  # a fifth of the demo: every notebook section has data, each runs in seconds
COUNCIL = "E06000016"  # Leicester, the one council of the leicester profile
SUCCEEDED = "succeeded"  # a manifest entry's status when the notebook ran and passed the gate
#: The defaults every notebook's parameters cell gives (docs/interfaces.md, notebook conventions):
#: with them, a researcher's copy reads the folder named by $EVALKIT_DATA_DIR, else data/demo.
NOTEBOOK_DEFAULTS = {"data_dir": None, "la_code": None, "min_cell": 5,
                     "results_path": "outputs/results.json"}
LOAD_CALL = "evalkit.load(evalkit.paths.resolve_data_dir(data_dir))"
IMAGE_DATA = re.compile(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+")


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """tests/reference: the published cases (README.md there gives source, licence, tolerance).

    They are part of the repository, so a missing folder fails the test rather than skipping it.
    """
    if not REFERENCE_DIR.is_dir():
        pytest.fail(f"published reference cases not found at {REFERENCE_DIR}")
    return REFERENCE_DIR


def shared_folder(factory: pytest.TempPathFactory, name: str,
                  build: Callable[[Path], Any]) -> Path:
    """The folder `name` under this test run's temporary root, written by `build(folder)` in
    the first worker that asks (the others wait on a file lock, then reuse it)."""
    root = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # each worker's basetemp is a folder in the run's own basetemp
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # what a failed attempt left
            build(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def demo_like_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic data folder like data/demo (profile, seed and raw CLD format of `make
    report`), smaller."""
    return shared_folder(tmp_path_factory, "demo_like_data", lambda out: synthesise(
        out, profile=DEMO_PROFILE, scale=DEMO_SCALE, seed=DEMO_SEED, fmt=DEMO_FORMAT))


@pytest.fixture(scope="session")
def published_dir(tmp_path_factory: pytest.TempPathFactory, demo_like_data: Path) -> Path:
    """REPORT_DIR of the test run's one `evalkit run` of the three notebooks (all defaults)."""
    return shared_folder(tmp_path_factory, "published", lambda out: evalkit_run(
        str(demo_like_data), "--out", str(out)))


@dataclass(frozen=True)
class Report:
    """One notebook's published outputs, REPORT_DIR/<council>/<NN_name>/: the executed
    notebook, results.json, key_findings.md and the HTML page."""

    folder: Path
    notebook: NotebookNode
    results: dict[str, Any]
    key_findings: str

    @classmethod
    def read(cls, folder: Path) -> Report:
        return cls(folder, nbformat.read(folder / f"{folder.name}.ipynb", as_version=4),
                   json.loads((folder / "results.json").read_text()),
                   (folder / "key_findings.md").read_text())

    @property
    def page(self) -> Path:
        return self.folder / f"{self.folder.name}.html"

    @property
    def council(self) -> str:
        """The la_code the runner ran the notebook for (the name of the folder above)."""
        return self.folder.parent.name

    def code_cells(self) -> list[NotebookNode]:
        return [c for c in self.notebook.cells if c.cell_type == "code"]

    def html_outputs(self) -> list[str]:
        """The text/html of every output, in order."""
        return [o.get("data", {}).get("text/html", "") for c in self.code_cells()
                for o in c.outputs]

    def readable_text(self) -> str:
        """The cells (sources and outputs) as JSON text without image data: base64 is random
        letters, and a word such as "BAME" turns up in a PNG now and then."""
        cells = [{**c, "outputs": [{**o, "data": {k: v for k, v in o.get("data", {}).items()
                                                 if not k.startswith("image/")}}
                                   for o in c.get("outputs", [])]} for c in self.notebook.cells]
        return IMAGE_DATA.sub("data:image", json.dumps(cells))

    def stray_outputs(self) -> list[str]:
        """Sources of cells that print their last expression's value (an `execute_result`,
        e.g. a path or a list) or write to stderr (a library's warning): a report shows only
        what evalkit displays on purpose."""
        def stray(o: NotebookNode) -> bool:
            return o.get("output_type") == "execute_result" or o.get("name") == "stderr"

        return [c.source for c in self.code_cells() if any(stray(o) for o in c.outputs)]


@pytest.fixture(scope="session")
def published(published_dir: Path) -> Callable[[str], Report]:
    """A notebook's outputs from the shared run, by name ("01_uptake"); fails the test, with
    the notebook's error, when it did not succeed or the privacy gate blocked it."""
    council = published_dir / COUNCIL
    manifest = council / "manifest.json"
    if not manifest.is_file():
        pytest.fail(f"evalkit run wrote no {manifest}: it could not use the data")
    entries = {e["notebook"]: e for e in json.loads(manifest.read_text())["notebooks"]}

    @functools.cache
    def report(name: str) -> Report:
        entry = entries[name]
        if entry["status"] != SUCCEEDED:
            pytest.fail(f"{name}: {entry['status']}: {entry['error']}")
        return Report.read(council / name)

    return report


def parameter_defaults(source: str) -> dict[str, Any]:
    """Names and literal values assigned in a parameters cell."""
    return {node.targets[0].id: ast.literal_eval(node.value)
            for node in ast.parse(source).body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}


def check_committed(name: str) -> list[str]:
    """The `## ` section headings of notebooks/`name`.ipynb, after checking it is committed
    clean (python3 kernel, no outputs or execution counts), has exactly one `parameters` cell
    with the conventional defaults, loads its data through `resolve_data_dir` (so a copy opened
    with $EVALKIT_DATA_DIR set reads that folder), and has the frame of DESIGN.md (Key findings,
    Data, ..., Methods and caveats)."""
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    (parameters,) = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    defaults = parameter_defaults(parameters.source)
    assert NOTEBOOK_DEFAULTS.items() <= defaults.items(), defaults
    assert any(LOAD_CALL in c.source for c in code)
    headings = [c.source[3:].strip() for c in nb.cells
                if c.cell_type == "markdown" and c.source.startswith("## ")]
    assert headings[:2] == ["Key findings", "Data"] and headings[-1] == "Methods and caveats"
    return headings


@pytest.fixture(scope="session")
def committed_notebook() -> Callable[[str], list[str]]:
    """`check_committed`: a committed notebook's checks, by name; gives its section headings."""
    return check_committed
