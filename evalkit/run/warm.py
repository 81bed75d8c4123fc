"""First-use work done once in the process `evalkit run` forks its workers and kernels from.

Imported only by the forkserver (`evalkit.run.preload.PRELOAD`), after the libraries. Importing
is not all of a library's first-use cost: nbconvert loads and compiles its page templates and
soupsieve its CSS selectors the first time a page is rendered, matplotlib loads its fonts the
first time a chart is drawn, and ipykernel imports its debugger only when a kernel starts.
Importing the debugger, rendering one small page and drawing one small chart here means every
worker and kernel, being a fork of this process, starts with that done; the objects made
so far are then frozen (`gc.freeze`, as Python's documentation advises before forking).
(Importing this module anywhere else wastes about a second; nothing else depends on it.)
"""

from __future__ import annotations

import gc
import os
import sys

import matplotlib as mpl
import pandas as pd
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from evalkit.report import style
from evalkit.run import render


def warm_up() -> None:
    """Render a one-table page (with contents list) and draw a one-line chart in the house style
    (as the notebooks set it), then discard both."""
    frame = pd.DataFrame({"month": [1, 2, 3], "value": [1.0, 2.0, 1.5]})
    table = frame.to_html(classes="evalkit-table")
    nb = new_notebook(cells=[new_markdown_cell("# Warm-up\n\n## Section"), new_code_cell(
        "", outputs=[new_output("display_data", data={"text/html": table})])])
    page, _ = render.export_html(nb, "warm-up")
    render.decorate(page, title="warm-up", details=["warm-up"])
    with mpl.rc_context(style.RC):  # the notebooks' settings, without imposing them on forks
        style.png(style.line_chart(frame, "month", "value", title="Warm-up",
                                   subtitle="Warm-up", xlabel="Month", ylabel="Value"))


def import_debugger() -> None:
    """Import ipykernel's debugger (debugpy) once, here: every new kernel imports it, ~0.35 s
    each. debugpy would print a warning that this interpreter runs frozen modules (a kernel
    started the usual way gets -Xfrozen_modules=off; this process, and so the kernels forked
    from it, do not): nobody steps through a scheduled run in a debugger, so debugpy's file
    validation is off while it is imported (it reads the setting once, then); a value the user
    set is kept."""
    own = os.environ.get("PYDEVD_DISABLE_FILE_VALIDATION")
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    try:
        import ipykernel.debugger  # noqa: F401
    finally:
        if own is None:
            del os.environ["PYDEVD_DISABLE_FILE_VALIDATION"]
        else:
            os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = own


for step in (import_debugger, warm_up):
    try:
        step()
    except Exception as err:  # a failed warm-up costs time, never the run
        print(f"evalkit run: warm-up step {step.__name__} skipped ({type(err).__name__}: {err}); "
              "reports are still rendered, each a little more slowly", file=sys.stderr)
# Everything this process holds now lives as long as it does: move it out of the garbage
# collector's sight, so the collections in each fork neither walk it nor copy its pages
# (after collecting the warm-up's own garbage, which would otherwise be kept for good).
gc.collect()
gc.freeze()
