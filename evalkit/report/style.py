"""House style for every chart and table the notebooks show.

Colours are the Government Analysis Function colour-blind-safe palettes, in one place. Charts are
built as matplotlib Figures by the helpers here and displayed with `show(fig, alt)`, which embeds
the PNG as `<img alt=...>` so the rendered HTML keeps the description (nbconvert's lab template
ignores alt text in output metadata). Titles state the finding and are passed in by the caller,
generated from the estimates; subtitles give measure, place, period and units.
"""

from __future__ import annotations

import base64
import html
import io

import matplotlib as mpl
import matplotlib.pyplot as plt
from IPython.display import HTML, display
from matplotlib.figure import Figure

# Analysis Function categorical palette, in the order colours should be used.
DARK_BLUE = "#12436D"
TURQUOISE = "#28A197"
DARK_PINK = "#801650"
ORANGE = "#F46A25"
DARK_GREY = "#3D3D3D"
LIGHT_PURPLE = "#A285D1"
PALETTE = (DARK_BLUE, TURQUOISE, DARK_PINK, ORANGE, DARK_GREY, LIGHT_PURPLE)
# Analysis Function sequential and focus palettes.
MID_BLUE = "#2073BC"
LIGHT_BLUE = "#6BACE6"
GREY = "#BFBFBF"
SEQUENTIAL = (DARK_BLUE, MID_BLUE, LIGHT_BLUE)

RC = {
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": DARK_GREY,
    "axes.labelcolor": DARK_GREY,
    "axes.titlesize": 10,
    "axes.titlelocation": "left",
    "axes.grid": True,
    "axes.grid.axis": "x",
    "grid.color": GREY,
    "grid.linewidth": 0.5,
    "axes.axisbelow": True,
    "font.size": 10,
    "font.family": "sans-serif",
    "xtick.color": DARK_GREY,
    "ytick.color": DARK_GREY,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "figure.facecolor": "white",
}


def apply_style() -> None:
    """Set the house matplotlib rc settings (call once in a notebook; not done at import)."""
    mpl.rcParams.update(RC)


def show(fig: Figure, alt: str) -> None:
    """Display `fig` as `<img alt=...>` so the HTML report keeps the description; closes `fig`.

    `alt` says what the chart shows (generated from the estimates, like the title); it is required
    because a chart without it is invisible to a screen-reader user.
    """
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("show: alt text is required; say what the chart shows, "
                         f"not {alt!r}")
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=150, bbox_inches="tight", facecolor="white")
    finally:
        plt.close(fig)
    src = base64.b64encode(buf.getvalue()).decode("ascii")
    display(HTML(f'<img src="data:image/png;base64,{src}" alt="{html.escape(alt.strip())}" '
                 'style="max-width:100%">'))
