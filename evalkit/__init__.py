"""evalkit: evidence on whether Direct Payments work for everyone.

Load a council's data folder with `evalkit.load`, then use the analysis modules
(`evalkit.uptake`, `evalkit.pa_market`, `evalkit.outcomes`) from the notebooks.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("evalkit")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"


def load(data_dir, **kwargs):
    """Load and validate a data folder; see `evalkit.data.load.load`."""
    from evalkit.data.load import load as _load

    return _load(data_dir, **kwargs)
