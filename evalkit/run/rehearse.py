"""A national run's workers start as a worker's second council would: the first one is rehearsed.

Each council's worker is a new fork of the forkserver (`evalkit.run.pool`), and its notebooks
paid again for what a process does the first time only: the words of chart titles measured,
Arrow's and pandas' first calls, the modules the notebooks import then. That was about 0.3 s of
a council's 7.5 s of CPU (docs/national.md). Imported last of `evalkit.run.preload.NATIONAL` by
a national run's forkserver, this module runs a tiny made-up council (`evalkit synth`, a
fiftieth of the Leicester profile) through the notebooks the way a worker runs them, in a
temporary folder removed at once; `evalkit.run.warm` then freezes what it left, and every worker
starts with it.

Nothing of it reaches a report: each notebook of a worker starts with the shell cleared
(`evalkit.run.execute.CLEAR`, as between a council's notebooks), the process's environment and
thread limits are put back as they were, no thread is left running (tqdm's monitor is not
started), and the data were made up. A failed rehearsal costs time, never the run; Ctrl-C
during it leaves the run to stop.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import warnings
from pathlib import Path

import pyarrow
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from evalkit.analyses import comparators
from evalkit.data import load as loader
from evalkit.paths import NOTEBOOK_DIR
from evalkit.run import england, execute, inprocess, national
from evalkit.run.plan import councils, discover, thread_limits
from evalkit.synth.generator import synthesise

#: The made-up council's size (of the Leicester profile: about 230 people) and seed.
SCALE = 0.02
SEED = 1


def rehearse(folder: Path, notebook_dir: Path = NOTEBOOK_DIR) -> None:
    """Run the notebooks of `notebook_dir` for a made-up council in `folder` as a national
    run's worker runs them (its Dataset cached, comparators included, in this process);
    RuntimeError naming a notebook that did not succeed. The environment is put back after,
    and the process's `__main__` module, which IPython's shell replaced with its own (a fork's
    multiprocessing start reads it; `evalkit.run.inprocess.prepare` makes the shell's
    `__main__` again before each notebook)."""
    saved, main, monitor = dict(os.environ), sys.modules["__main__"], tqdm.monitor_interval
    tqdm.monitor_interval = 0  # a thread of its own otherwise, alive when workers are forked
    try:
        data = synthesise(folder / "data", profile="leicester", scale=SCALE, seed=SEED)
        dataset = loader.load(data)
        cache = folder / "cache"
        loader.save_cache(dataset, data, cache, loader.checksums(dataset.files))
        table = cache / england.TABLE
        national.reduce(dataset).to_parquet(table, index=False)
        la = councils(dataset, None)[0]
        cpus = os.cpu_count() or 1
        environ = {loader.CACHE_ENV: str(cache), comparators.ENV: str(table),
                   **thread_limits(cpus, cpus, os.environ)}
        shell = execute.InProcess()
        for notebook in discover(notebook_dir, None):
            entry = execute.execute(execute.Task(
                la, notebook, folder / "reports" / notebook.stem, notebook.stem, [],
                {"data_dir": str(data), "la_code": la, "results_path": "results.json",
                 "min_cell": 5}, environ), shell)
            if entry["status"] != execute.SUCCEEDED:
                raise RuntimeError(f"{notebook.stem} {entry['status']}")
    finally:
        tqdm.monitor_interval = monitor
        os.environ.clear()
        os.environ.update(saved)
        if sys.modules["__main__"] is not main:  # the shell's, since the shell was made
            inprocess.shell().restore_sys_module_state()


def quietly() -> None:
    """`rehearse` in a temporary folder, its warnings and messages not shown (they are of
    made-up data), the thread limits of Arrow and of the BLAS and OpenMP libraries put back
    after; a failure is one line on stderr, Ctrl-C ends it without a word (the run stops)."""
    cpus = pyarrow.cpu_count()
    try:
        with (tempfile.TemporaryDirectory(prefix="evalkit-rehearsal-") as tmp,
              threadpool_limits(limits=None), warnings.catch_warnings(),
              contextlib.redirect_stdout(io.StringIO()),
              contextlib.redirect_stderr(io.StringIO())):
            warnings.simplefilter("ignore")
            rehearse(Path(tmp))
    except KeyboardInterrupt:
        return
    except Exception as err:  # costs time, never the run
        first = next(iter(str(err).splitlines()), "")
        print(f"evalkit run: rehearsal failed ({type(err).__name__}: {first}); reports are "
              "still made, each a little more slowly", file=sys.stderr)
    finally:
        pyarrow.set_cpu_count(cpus)


quietly()
