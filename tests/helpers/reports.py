"""Small notebooks and data for the `evalkit run` tests (test_run, test_privacy), and
`evalkit_run`, which runs the command in this process (also for conftest's shared run).

The fixture notebooks follow the notebook conventions in docs/interfaces.md: a `parameters` cell,
`evalkit.load`, a chart through `evalkit.report.style.show`, a table whose count cells carry
`class="count"` (the privacy-gate convention), `key_findings.md` and `results.json` beside
`results_path`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from evalkit.run import runner as run
from evalkit.synth.generator import synthesise

SMALL_SCALE, SMALL_SEED = 0.05, 3  # `make_data`: ~570 episodes, quick to load
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

PARAMETERS = """data_dir = None
la_code = None
min_cell = 5
results_path = "results.json"
"""

LOAD = """import html
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from IPython.display import HTML, display

import evalkit
from evalkit.paths import resolve_data_dir
from evalkit.report.record import record
from evalkit.report.style import show

data = evalkit.load(resolve_data_dir(data_dir))
eps = data.support_episodes
if la_code not in (None, "all"):
    eps = eps[eps["la_code"] == la_code]
counts = eps.groupby("ethnic_group_broad").size().sort_index()
"""

SHOW = """fig, ax = plt.subplots(figsize=(4, 2))
ax.barh(counts.index, counts.values)
show(fig, alt=f"Bar chart of support episodes by broad ethnic group; {counts.idxmax()} is largest")
cells = "".join(
    f"<tr><th>{html.escape(g)}</th><td class='count'>{n if n >= min_cell else '[c]'}</td></tr>"
    for g, n in counts.items())
display(HTML("<table><thead><tr><th>Group</th><th class='count'>People</th></tr></thead>"
             f"<tbody>{cells}</tbody></table>"))
"""

RECORD = """total = int(counts.sum())
estimates = [{"name": "episode_share", "group": g, "reference": None, "value": n / total,
              "lower": None, "upper": None, "conf": None, "n": total} for g, n in counts.items()]
Path(results_path).with_name("key_findings.md").write_text(
    f"- {counts.idxmax()} people hold the most support episodes.\\n")
_ = record(estimates, notebook=NAME, parameters={"la_code": la_code, "min_cell": min_cell},
           path=results_path)
"""


def write_notebook(folder: Path, name: str, *extra: str) -> Path:
    """A fixture notebook `folder/name.ipynb`; `extra` code cells run before the record cell."""
    nb = new_notebook(metadata={"kernelspec": KERNELSPEC})
    nb.cells = [
        new_markdown_cell(f"# Fixture report {name}"),
        new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
        new_code_cell(LOAD + f"NAME = {name!r}\n"),
        new_markdown_cell("## Key findings\n\nPeople by broad ethnic group."),
        new_code_cell(SHOW),
        *[new_code_cell(code) for code in extra],
        new_markdown_cell("## Methods and caveats\n\nCounts below the threshold are suppressed."),
        new_code_cell(RECORD),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def make_data(folder: Path) -> Path:
    """A small synthetic Leicester data folder (`evalkit synth --scale 0.05`, ~570 episodes)."""
    synthesise(folder, profile="leicester", scale=SMALL_SCALE, seed=SMALL_SEED)
    return folder


def evalkit_run(*argv: str) -> int:
    """`evalkit run ARGV` in this process (only the run subcommand's parser is built)."""
    parser = argparse.ArgumentParser(prog="evalkit run")
    run.add_arguments(parser)
    return run.main(parser.parse_args(list(argv)))
