"""Measuring and wrapping chart text the way the PNG draws it, through matplotlib's public
`Text.get_window_extent`: titles and subtitles are wrapped to the figure's width word by word."""

from __future__ import annotations

import functools

import matplotlib as mpl
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.text import Text

DPI = 150  # charts are drawn, and their text measured, at this resolution


@functools.cache
def _measuring_figure() -> Figure:
    """A figure at DPI that the measured texts belong to (its size does not matter)."""
    return Figure(dpi=DPI)


@functools.lru_cache(maxsize=16)
def _measuring_renderer(key: tuple) -> RendererAgg:
    """An Agg renderer at DPI, one per font key: matplotlib caches a text's metrics per renderer
    and font properties, not per font file, so a renderer shared across keys could answer with
    the widths of a font no longer picked (e.g. after font.sans-serif changed)."""
    return RendererAgg(1, 1, DPI)


def _font_key(font: FontProperties) -> tuple:
    """What a text measurement depends on besides the text: the font asked for, the file
    matplotlib picks for it (a changed font.sans-serif picks another) and the hinting."""
    return (font.copy(), findfont(font), mpl.rcParams["text.hinting"],
            mpl.rcParams["text.hinting_factor"])  # a copy: the caller may change its font later


def measure_width(text: str, font: FontProperties) -> float:
    """Width of `text` in points as the PNG draws it (advance widths add up exactly, so a line
    is as wide as the sum of its words and spaces)."""
    return _size(text, _font_key(font))[0]


def measure_height(text: str, font: FontProperties) -> float:
    """Height in points of `text` laid out by matplotlib (every line, as drawn)."""
    return _size(text, _font_key(font))[1]


@functools.lru_cache(maxsize=4096)
def _size(text: str, key: tuple) -> tuple[float, float]:
    """Width and height in points of `text` laid out in the font of `key`, as matplotlib's
    public `Text.get_window_extent` gives them at DPI; cached, as words repeat across charts."""
    laid_out = Text(0, 0, text, fontproperties=key[0], parse_math=False,
                    figure=_measuring_figure())
    box = laid_out.get_window_extent(_measuring_renderer(key))
    return box.width * 72 / DPI, box.height * 72 / DPI


def wrap(text: str, width: float, font: FontProperties) -> str:
    """`text` with line breaks so no line is wider than `width` points (a word wider than that
    gets a line of its own); existing line breaks are kept.

    Words are measured one at a time. matplotlib's own wrap=True measures every growing prefix
    of every line, at every draw: about a third of a chart's drawing time.
    """
    space = measure_width("a a", font) - measure_width("aa", font)
    lines = []
    for paragraph in text.split("\n"):
        line: list[str] = []
        used = 0.0
        for word in paragraph.split(" "):
            if not word:
                continue
            w = measure_width(word, font)
            if line and used + space + w > width:
                lines.append(" ".join(line))
                line, used = [], 0.0
            used += (space if line else 0.0) + w
            line.append(word)
        lines.append(" ".join(line))
    return "\n".join(lines)
