"""A chart drawn as the PNG a report shows: once, at DPI, white, with a renderer kept for
the next chart of the same size (`SharedRendererCanvas`), after refusing any label that is an
identifier of the input (a PNG cannot be scanned later)."""

from __future__ import annotations

import functools
import io

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.dates import AutoDateLocator
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator
from PIL import Image

from evalkit.report.text import DPI
from evalkit.sdc import labels


def png(fig: Figure) -> bytes:
    """`fig` as PNG at DPI (white background, RGB); closes `fig`.

    Drawn once, constrained layout included: `savefig` would lay the figure out in a draw of its
    own first. No bbox_inches="tight" (the layout already fits the labels; "tight" would draw a
    third time). zlib level 1 instead of 6: files about 8% larger for a tenth of the chart's time.
    """
    try:
        fig.set_dpi(DPI)
        fig.set_facecolor("white")  # nothing shows through (RGB has no transparency)
        no_minor_overlap_check(fig)
        fixed_date_ticks(fig)
        canvas = SharedRendererCanvas(fig)
        canvas.draw()
        refuse_identifier_labels(fig)
        image = Image.frombuffer("RGBA", canvas.get_width_height(physical=True),
                                 canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    finally:
        plt.close(fig)
    buf = io.BytesIO()
    image.save(buf, format="png", compress_level=1, dpi=(DPI, DPI))
    return buf.getvalue()


def no_minor_overlap_check(fig: Figure) -> None:
    """Skip matplotlib's removal of minor ticks that fall on major ones for an axis without
    minor ticks (`Axis.remove_overlapping_locs`): to find those, each tick update (a dozen a
    chart, most in the constrained layout) ran the axis' major locator a second time, a
    quarter of the ticks' time, for nothing to remove."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(axis.get_minor_locator(), NullLocator):
                axis.remove_overlapping_locs = False


def fixed_date_ticks(fig: Figure) -> None:
    """Find a date axis' ticks (`AutoDateLocator`) once, from its limits, which is all they
    depend on (not the axis' length, as a number axis' do): each tick update, a dozen a chart,
    ran its calendar rules again."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(locator := axis.get_major_locator(), AutoDateLocator):
                axis.set_major_locator(FixedLocator(locator()))


class SharedRendererCanvas(FigureCanvasAgg):
    """An Agg canvas that draws with a renderer kept for the next figure of the same size and
    text settings (`shared_renderer`), which `draw` clears first: matplotlib keeps the sizes
    of the texts it has laid out per renderer, and a report's charts repeat most of theirs
    (tick labels, group names, axis titles): four councils' 121 charts took 0.93 of the time.
    At most 8 renderers are kept (about 4 MB each)."""

    def get_renderer(self) -> RendererAgg:
        w, h = self.figure.bbox.size
        self.renderer = shared_renderer(int(w), int(h), self.figure.dpi, _text_settings())
        return self.renderer


def _text_settings() -> tuple:
    """The settings a text's laid-out size depends on besides its own font properties: the
    font families' lists (`font.sans-serif` changed, "sans-serif" names another font) and
    the hinting."""
    return tuple((k, str(v)) for k, v in mpl.rcParams.items()
                 if k.startswith(("font.", "text.hinting", "mathtext.")))


@functools.lru_cache(maxsize=8)
def shared_renderer(width: int, height: int, dpi: float, settings: tuple) -> RendererAgg:
    """An Agg renderer of this size in pixels and dpi, for charts drawn under `settings`."""
    return RendererAgg(width, height, dpi)


def refuse_identifier_labels(fig: Figure) -> None:
    """Raise ValueError when a drawn chart's tick label, series label, annotation, title or axis
    label is an identifier of the input (`labels.refuse_identifier_labels`; a PNG cannot be
    scanned later)."""
    labels.refuse_identifier_labels({"figure texts": [t.get_text() for t in fig.texts]},
                                  "chart")  # suptitle and fig.text
    for i, ax in enumerate(fig.axes, start=1):
        labels.refuse_identifier_labels({
            "x tick labels": [t.get_text() for t in ax.get_xticklabels()],
            "y tick labels": [t.get_text() for t in ax.get_yticklabels()],
            "series labels": ax.get_legend_handles_labels()[1],
            "annotations": [t.get_text() for t in ax.texts],
            "titles": [ax.get_title(loc) for loc in ("left", "center", "right")],
            "axis labels": [ax.get_xlabel(), ax.get_ylabel()]}, f"chart axes {i}")
