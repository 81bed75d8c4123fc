"""One sub-package per notebook: `uptake` (01), `pa_market` (02), `outcomes` (03).

Each has three parts: `compute` (data in, result frames out), `findings` (sentences and
results.json rows from the published frames) and `display` (the `show_*` functions a notebook
calls). Analyses never import one another; what they share lives in the layers below.
"""
