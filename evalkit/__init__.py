"""evalkit: evidence on whether Direct Payments work for everyone.

Load a council's data folder with `evalkit.load`, then use the analysis modules
(`evalkit.uptake`, `evalkit.pa_market`, `evalkit.outcomes`) from the notebooks.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("evalkit")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"


def notebook_settings() -> None:
    """The settings an evalkit notebook runs with (its second cell calls this): the house chart
    style (`evalkit.report.style.apply_style`), and pandas' text columns (the "str" dtype) held
    as Python strings rather than in Arrow arrays. The analyses build many small frames, where
    Arrow's conversions cost more than they save: a council's three notebooks take about a sixth
    less time, with results identical (docs/national.md)."""
    import pandas as pd

    from evalkit.report.style import apply_style

    apply_style()
    pd.set_option("mode.string_storage", "python")


def load(data_dir, **kwargs):
    """Load and validate a data folder; see `evalkit.data.load.load`."""
    from evalkit.data.load import load as _load

    return _load(data_dir, **kwargs)
