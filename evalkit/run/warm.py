"""First-use work done once in the process `evalkit run` forks its workers from.

Imported only by the forkserver (`evalkit.run.preload.PRELOAD`), after the libraries. Importing
nbconvert is not all of its first-use cost: it loads and compiles its page templates, and
soupsieve its CSS selectors, the first time a page is rendered. Rendering one small page here
means every worker, being a fork of this process, starts with that done; the objects made so far
are then frozen (`gc.freeze`, as Python's documentation advises before forking). (Importing this
module anywhere else wastes a fraction of a second; nothing else depends on it.)
"""

from __future__ import annotations

import gc
import sys

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from evalkit.run import render

TABLE = ('<table class="evalkit-table"><thead><tr><th>Month</th><th class="count">People</th>'
         "</tr></thead><tbody><tr><td>1</td><td>10</td></tr></tbody></table>")


def warm_up() -> None:
    """Render a one-table page (with contents list), then discard it."""
    nb = new_notebook(cells=[new_markdown_cell("# Warm-up\n\n## Section"), new_code_cell(
        "", outputs=[new_output("display_data", data={"text/html": TABLE})])])
    page, _ = render.export_html(nb, "warm-up")
    render.decorate(page, title="warm-up", details=["warm-up"])


try:
    warm_up()
except Exception as err:  # a failed warm-up costs time, never the run
    print(f"evalkit run: page warm-up skipped ({type(err).__name__}: {err}); reports are still "
          "rendered, each a little more slowly", file=sys.stderr)
# Everything this process holds now lives as long as it does: move it out of the garbage
# collector's sight, so the collections in each fork neither walk it nor copy its pages
# (after collecting the warm-up's own garbage, which would otherwise be kept for good).
gc.collect()
gc.freeze()
