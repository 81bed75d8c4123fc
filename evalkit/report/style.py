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
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import HTML, Markdown, display
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

from evalkit.data.contract import TABLES
from evalkit.report import text as chart_text
from evalkit.report.drawing import png
from evalkit.report.text import DPI
from evalkit.sdc import disclosure, embedded

if TYPE_CHECKING:
    from matplotlib.backend_bases import RendererBase

    from evalkit.data.load import Dataset

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
SEQUENTIAL_CMAP = LinearSegmentedColormap.from_list("af_sequential", ["#FFFFFF", *SEQUENTIAL[::-1]])

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
    "text.hinting": "no_hinting",  # a tenth less drawing time; at 150 dpi it looks the same
    "xtick.color": DARK_GREY,
    "ytick.color": DARK_GREY,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "figure.facecolor": "white",
}


def apply_style() -> None:
    """Set the house matplotlib rc settings (not done at import; a notebook gets them, with
    its other settings, from `notebook_settings`)."""
    mpl.rcParams.update(RC)


#: Below this many rows in the loaded tables (a council's data: 11,000 to 74,000 rows in the
#: synthetic England folder), the notebooks hold text as Python strings (`notebook_settings`).
PYTHON_STRINGS_BELOW = 500_000


def notebook_settings(data: Dataset) -> None:
    """The settings an evalkit notebook runs with, once `data` (an `evalkit.load` Dataset) is
    loaded: the house chart style (`apply_style`), and for a council's data pandas' text
    columns made from then on (the "str" dtype) held as Python strings, not in Arrow arrays.
    The analyses build many small frames, where Arrow's conversions cost more than they save:
    a council's three notebooks run in one process took 0.88-0.92 of the time (their
    kernels under papermill 0.92-0.97 of the CPU), with results identical; on the national
    folder (2.4 million rows) Arrow is faster, so it is kept there (docs/national.md)."""
    apply_style()
    rows = sum(len(df) for df in (getattr(data, t) for t in TABLES) if df is not None)
    if rows < PYTHON_STRINGS_BELOW:
        pd.set_option("mode.string_storage", "python")
    else:
        pd.reset_option("mode.string_storage")


def say(text: str) -> None:
    """Display one plain-English Markdown statement (e.g. instead of a chart with nothing in it)."""
    display(Markdown(text))


def show(fig: Figure, alt: str) -> None:
    """Display `fig` as `<img alt=...>` so the HTML report keeps the description; closes `fig`.

    `alt` says what the chart shows (generated from the estimates, like the title); it is required
    because a chart without it is invisible to a screen-reader user.
    """
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("show: alt text is required; say what the chart shows, "
                         f"not {alt!r}")
    src = base64.b64encode(png(fig)).decode("ascii")
    key = embedded.chart_key()  # in a run: marked as checked, for the privacy gate
    mark = f' data-evalkit-chart="{embedded.chart_mark(src, key)}"' if key else ""
    display(HTML(f'<img src="data:image/png;base64,{src}"{mark} '
                 f'alt="{html.escape(alt.strip())}" style="max-width:100%">'))


# ---- tables ------------------------------------------------------------------------------------

_HEADER_CELL = re.compile(r"<th>([^<]*)</th>")  # a plain header cell as DataFrame.to_html writes it

def _format(v: object, decimals: int) -> str:
    """A cell as text: thousands separators, fixed decimals, markers kept, missing as 'n/a'."""
    if isinstance(v, str):
        return v
    if v is None or pd.isna(v):
        return "n/a"
    if isinstance(v, bool | np.bool_):
        return "Yes" if v else "No"
    if isinstance(v, int | np.integer) or (isinstance(v, float | np.floating)
                                            and float(v).is_integer() and decimals == 0):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        return f"{float(v):,.{decimals}f}"
    return str(v)


def table(df: pd.DataFrame, *, labels: Mapping[str, str] | None = None,
          count_cols: str | Sequence[str] = (),
          rate_cols: Mapping[str, tuple[str, str]] | None = None, threshold: int = 5,
          caption: str | None = None, total_row: disclosure.TotalRow = None,
          total_col: str | None = None, by: str | Sequence[str] | None = None,
          round_to: int | None = None, decimals: int | Mapping[str, int] = 2,
          plain_cols: Sequence[str] = (), footnote: str | None = None) -> pd.DataFrame:
    """Show `df` as an accessible HTML table after disclosure control; return what was shown.

    Counts (`count_cols`) and rates (`rate_cols`, {rate: (numerator, denominator)}) go through
    `disclosure.suppress` with the totals described by total_row/total_col/by (see
    evalkit.sdc.disclosure), and the result is checked with `disclosure.check`. Columns are renamed
    with `labels`; numbers get thousands separators and `decimals` places (per column if a
    mapping) except `plain_cols` (years, codes), shown as they are; the footnote explaining `[c]`
    is shown when anything was suppressed. With `footnote` the frame is already protected
    (evalkit.sdc.protect: a missing count was suppressed): counts are shown as they are, missing
    ones as `[c]`, and `footnote` explains them.
    """
    counts = [count_cols] if isinstance(count_cols, str) else list(count_cols)
    if rate_cols and not counts:
        raise ValueError("table: rate_cols needs count_cols naming the numerators/denominators")
    spec = {"threshold": threshold, "rate_cols": rate_cols, "total_row": total_row,
            "total_col": total_col, "by": by}
    if footnote is not None:
        shown = df.copy()
        for c in counts:  # not assign(): a column may be called "self"
            shown[c] = df[c].astype(object).where(df[c].notna(), disclosure.SUPPRESSED)
    else:
        shown = disclosure.suppress(df, counts, round_to=round_to, **spec) if counts else df.copy()
    if counts and footnote is None:
        disclosure.check(shown, counts, **spec)
    places = {c: decimals.get(c, 2) if isinstance(decimals, Mapping) else decimals
              for c in shown.columns}
    out = pd.DataFrame({c: [str(v) if c in plain_cols else
                            _format(v, 0 if c in counts or c == total_col else places[c])
                            for v in shown[c]] for c in shown.columns}, index=shown.index)
    out = out.rename(columns=dict(labels or {}))
    if labels and out.index.name in labels:
        out.index.name = labels[out.index.name]
    # an unnamed whole-number index is the row numbers a filter left, not data: shown, it would
    # be a column of numbers under an empty header cell
    show_index = not (isinstance(df.index, pd.RangeIndex) or (
        df.index.name is None and pd.api.types.is_integer_dtype(df.index)))
    body = out.to_html(index=show_index, border=0, escape=True, classes="evalkit-table")
    count_labels = {dict(labels or {}).get(c, c) for c in [*counts, total_col] if c}
    body = _mark_count_headers(body, count_labels)
    if caption:
        head, rest = body.split(">", 1)
        body = f"{head}>\n  <caption>{html.escape(caption)}</caption>{rest}"
    if footnote is not None or (out == disclosure.SUPPRESSED).any().any():
        note = disclosure.footnote(threshold) if footnote is None else footnote
        body += f'\n<p class="evalkit-footnote">{html.escape(note)}</p>'
    display(HTML(body))
    return out


def _mark_count_headers(body: str, count_labels: set[str]) -> str:
    """Add class="count" to the header cells of count columns (in the `<thead>` that
    `DataFrame.to_html` writes), so the privacy gate (evalkit.sdc.gate) can find every
    published count."""
    head, end, rest = body.partition("</thead>")

    def mark(cell: re.Match[str]) -> str:
        if html.unescape(cell.group(1)).strip() in count_labels:
            return f'<th class="count">{cell.group(1)}</th>'
        return cell.group(0)

    return _HEADER_CELL.sub(mark, head) + end + rest


# ---- charts: each returns a Figure for `show(fig, alt)` -----------------------------------------

def figure(width: float = 8.0, height: float = 4.5) -> tuple[Figure, Axes]:
    """A Figure outside pyplot (nothing is drawn twice in a notebook) with one Axes, for the
    charts the helpers here do not draw; give it its words with `finish`."""
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots()


EDGE = 0.01  # title, subtitle and source start this far (figure fraction) from the left edge
TITLE_FONT = {"fontsize": 13, "fontweight": "bold", "color": "black"}
SUBTITLE_FONT = {"fontsize": 10, "fontweight": "normal", "color": DARK_GREY}
SUBTITLE_GAP = 3  # points between the title's last line and the subtitle


def _font(spec: Mapping[str, object]) -> FontProperties:
    """The FontProperties of TITLE_FONT or SUBTITLE_FONT, for measuring."""
    return FontProperties(size=spec["fontsize"], weight=spec["fontweight"])


def finish(fig: Figure, ax: Axes, *, title: str, subtitle: str, xlabel: str, ylabel: str,
           source: str | None = None) -> Figure:
    """Title (the finding), subtitle (measure, place, period, units), axis labels and source.

    Title and subtitle start at the figure's left edge and are wrapped to its width. matplotlib
    has no subtitle: the suptitle holds the title followed by blank lines that make room for
    the subtitle (so the constrained layout keeps the plot clear of both), and the subtitle is
    drawn in that room, SUBTITLE_GAP below the title's printed lines (`UnderTitle`). Their Text
    artists carry the gids "title" and "subtitle"; neither is read as mathtext, so "$" stays a
    dollar sign.
    """
    for name, text in (("title", title), ("subtitle", subtitle)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"chart: {name} is required (generate it from the estimates), "
                             f"not {text!r}")
    width = (1 - 2 * EDGE) * fig.get_figwidth() * 72
    title_font, subtitle_font = _font(TITLE_FONT), _font(SUBTITLE_FONT)
    title = chart_text.wrap(title.strip(), width, title_font)
    subtitle = chart_text.wrap(subtitle.strip(), width, subtitle_font)
    height = chart_text.measure_height
    blank_line = height("A\n\n", title_font) - height("A\n", title_font)
    blanks = math.ceil((SUBTITLE_GAP + height(subtitle, subtitle_font)) / blank_line)
    top = fig.suptitle(title + "\n" * blanks, x=EDGE, ha="left", gid="title", parse_math=False,
                       **TITLE_FONT)
    fig.add_artist(Annotation(
        subtitle, xy=(0, 0), xycoords=UnderTitle(top, title), xytext=(0, -SUBTITLE_GAP),
        textcoords="offset points", va="top", ha="left", gid="subtitle", annotation_clip=False,
        in_layout=False, parse_math=False, **SUBTITLE_FONT))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    _concise_dates(ax)
    if source:
        fig.supxlabel(f"Source: {source}", x=EDGE, ha="left", fontsize=8, color=DARK_GREY)
    return fig


class UnderTitle:
    """Where a suptitle's printed lines end (its text without the blank lines kept for the
    subtitle), measured as it is drawn: the subtitle hangs from it SUBTITLE_GAP below the title
    at any dpi (blank lines measured at DPI end a pixel or two off at another, their heights
    rounded to whole pixels by hinting). An Annotation's `xycoords`."""

    def __init__(self, top: Text, printed: str) -> None:
        self.top, self.printed = top, printed

    def __call__(self, renderer: RendererBase) -> Bbox:
        box = self.top.get_window_extent(renderer)
        lines = Text(text=self.printed, figure=self.top.get_figure(),
                     fontproperties=self.top.get_fontproperties(), parse_math=False)
        return Bbox.from_extents(box.x0, box.y1 - lines.get_window_extent(renderer).height,
                                 box.x1, box.y1)


def _concise_dates(ax: Axes) -> None:
    """A date x-axis left to matplotlib's defaults gets about 8 ticks labelled concisely
    ("2024", "Apr", "Jul"): the default labels every few months as "2024-01" and they collide."""
    if (isinstance(ax.xaxis.get_major_formatter(), mdates.AutoDateFormatter)
            and isinstance(ax.xaxis.get_major_locator(), mdates.AutoDateLocator)):
        # minticks 3: from 3 years on ticks are years (with 5, a 4-year span wanted months and
        # found no interval under 8 ticks)
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _require(df: pd.DataFrame, cols: Sequence[str], where: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{where}: column(s) {missing} not found; columns are {list(df.columns)}")


def _numeric(df: pd.DataFrame, cols: Sequence[str], where: str) -> pd.DataFrame:
    """Columns as floats; suppressed markers become NaN (never plotted)."""
    _require(df, cols, where)
    return df.loc[:, list(cols)].apply(pd.to_numeric, errors="coerce")


def _colours(groups: Sequence, where: str) -> dict:
    """One palette colour per group, in palette order."""
    if len(groups) > len(PALETTE):
        raise ValueError(f"{where}: {len(groups)} groups but the accessible palette has "
                         f"{len(PALETTE)} colours; show fewer groups or one chart per group")
    return dict(zip(groups, PALETTE, strict=False))


def _series(df: pd.DataFrame, cols: Sequence[str], group: str | None, value: str,
            where: str) -> tuple[pd.DataFrame, list, dict]:
    """For a chart of one line per group: `cols` as numbers, the groups in order of first
    appearance (or just `value` without groups) and one palette colour each."""
    keys = df[group].drop_duplicates().tolist() if group else [value]
    return _numeric(df, cols, where), keys, _colours(keys, where)


#: Share of an Axes' height left to it once the constrained layout has made room for the title,
#: subtitle and labels (an underestimate, so end labels spaced for it do not overlap).
LAID_OUT_HEIGHT = 0.55


def _label_ends(ax: Axes, ends: Mapping[str, tuple[object, float]], colours: Mapping) -> None:
    """Label each series at its last point (label directly, no legend), nudged apart by at
    least a line of label text, so labels never overlap however close the lines end."""
    lo, hi = ax.get_ylim()
    points = ax.get_position().height * ax.figure.get_figheight() * 72 * LAID_OUT_HEIGHT
    line = 1.25 * mpl.rcParams["font.size"]
    gap, last = (hi - lo) * line / points, -np.inf
    for name, (x, y) in sorted(ends.items(), key=lambda kv: kv[1][1]):
        last = max(y, last + gap)
        ax.annotate(str(name), xy=(x, last), xytext=(6, 0), textcoords="offset points",
                    va="center", color=colours[name], fontweight="bold", annotation_clip=False)


NICE_RATIOS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20, 50, 100)


def _log_ticks(ax: Axes) -> None:
    """Log x-axis for ratios, ticks labelled as plain numbers (0.5, 1, 2), not powers of ten."""
    ax.set_xscale("log")
    lo, hi = ax.get_xlim()
    ticks = [t for t in NICE_RATIOS if lo <= t <= hi]
    if len(ticks) < 3:
        steps = mpl.ticker.MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
        ticks = [t for t in steps if lo <= t <= hi and t > 0]
    ax.xaxis.set_major_locator(mpl.ticker.FixedLocator(ticks))
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())


def _readable(column: str) -> str:
    """'preferred_language' -> 'Preferred language': a column name as an axis label."""
    return column.replace("_", " ").strip().capitalize()


# An interval limit this far (relative to the chart's largest value) on the wrong side of its
# estimate is floating-point noise (a Wilson limit at 0 can be -1e-17), drawn as zero length.
INVERSION_TOLERANCE = 1e-9


def _interval_arms(nums: pd.DataFrame, value: str, lower: str, upper: str,
                   labels: Sequence[str]) -> np.ndarray:
    """Lengths below and above each estimate (2 x rows) for errorbar: missing limits give 0,
    rounding-error inversions give 0, and a real inversion (lower above the estimate or upper
    below it) is an error naming the rows."""
    err = np.vstack([nums[value] - nums[lower], nums[upper] - nums[value]])
    scale = np.nanmax(np.abs(nums.to_numpy(dtype=float)), initial=0.0)
    bad = (err < -INVERSION_TOLERANCE * scale).any(axis=0)
    if bad.any():
        rows = [labels[i] for i in np.flatnonzero(bad)]
        raise ValueError(f"ci_chart: the interval does not contain the estimate for {rows}; "
                         f"check the {lower!r} and {upper!r} columns")
    return np.clip(np.nan_to_num(err), 0.0, None)


def ci_chart(df: pd.DataFrame, label: str, value: str, lower: str, upper: str, *,
             reference_line: float | None = None, reference_label: str | None = None,
             title: str, subtitle: str, xlabel: str, ylabel: str | None = None,
             source: str | None = None, log: bool = False) -> Figure:
    """Dots with confidence-interval lines, one row per `label`, in the frame's order.

    Rows whose value is missing or suppressed show the marker instead of a dot, so a reader sees
    the group is there. `reference_line` draws a vertical line (e.g. 1 for a ratio); `log` puts
    ratios on a log scale so 0.5 and 2 are equally far from 1. `ylabel` names the rows (e.g.
    "Ethnic group"); by default it is the label column's name made readable. Limits a rounding
    error beyond the estimate (INVERSION_TOLERANCE) are drawn as zero length; larger inversions
    raise ValueError.
    """
    nums = _numeric(df, [value, lower, upper], "ci_chart")
    _require(df, [label], "ci_chart")
    labels = df[label].astype(str).tolist()
    err = _interval_arms(nums, value, lower, upper, labels)
    fig, ax = figure(8.0, 1.6 + 0.42 * len(df))
    y = np.arange(len(df))[::-1]
    ok = nums[value].notna().to_numpy()
    ax.errorbar(nums[value][ok], y[ok], xerr=err[:, ok], fmt="o", color=DARK_BLUE,
                ecolor=DARK_BLUE, elinewidth=2, capsize=0, markersize=7)
    if reference_line is not None:
        ax.axvline(reference_line, color=DARK_GREY, linestyle="--", linewidth=1)
        if reference_label:
            ax.annotate(reference_label, xy=(reference_line, 1), xycoords=("data", "axes fraction"),
                        xytext=(3, 2), textcoords="offset points", fontsize=8, color=DARK_GREY)
    if log:
        _log_ticks(ax)
    for yi, raw in zip(y[~ok], df[value][~ok], strict=True):
        marker = disclosure.SUPPRESSED if raw == disclosure.SUPPRESSED else "no estimate"
        ax.annotate(marker, xy=(0, yi), xycoords=("axes fraction", "data"), xytext=(4, 0),
                    textcoords="offset points", va="center", color=DARK_GREY)
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.7, len(df) - 0.3)
    ax.grid(axis="y", visible=False)
    return finish(fig, ax, title=title, subtitle=subtitle, xlabel=xlabel,
                   ylabel=_readable(label) if ylabel is None else ylabel, source=source)


def line_chart(df: pd.DataFrame, x: str, value: str, *, lower: str | None = None,
               upper: str | None = None, group: str | None = None, title: str, subtitle: str,
               xlabel: str, ylabel: str, source: str | None = None) -> Figure:
    """Lines over time, one per `group`, with shaded confidence ribbons; labelled at the end."""
    nums, keys, colours = _series(df, [value, *(c for c in (lower, upper) if c)], group, value,
                                  "line_chart")
    fig, ax = figure()
    ends = {}
    for key in keys:
        rows = (df[group] == key).to_numpy() if group else np.ones(len(df), dtype=bool)
        order = np.argsort(df.loc[rows, x].to_numpy(), kind="stable")
        xs, part = df.loc[rows, x].to_numpy()[order], nums.loc[rows].iloc[order]
        ax.plot(xs, part[value], color=colours[key], linewidth=2)
        if lower and upper:
            ax.fill_between(xs, part[lower], part[upper], color=colours[key], alpha=0.2,
                            linewidth=0)
        valid = np.flatnonzero(part[value].notna().to_numpy())
        if group and len(valid):
            ends[key] = (xs[valid[-1]], float(part[value].iloc[valid[-1]]))
    ax.grid(axis="y", visible=True)
    ax.grid(axis="x", visible=False)
    _label_ends(ax, ends, colours)
    return finish(fig, ax, title=title, subtitle=subtitle, xlabel=xlabel, ylabel=ylabel,
                   source=source)


def _label_note(shown: int, outside: int, units: str) -> str:
    """The funnel subtitle's note on which units outside the 95% limits carry a label."""
    if shown == 0:
        return f"The {outside} {units} outside the 95% limits are not labelled."
    return (f"Labelled: the {shown} of the {outside} {units} outside the 95% limits that lie "
            "furthest from the baseline.")


def funnel_chart(points: pd.DataFrame, limits: pd.DataFrame, *, x: str, y: str,
                 label: str | None = None, limit_x: str = "population",
                 lower95: str = "lower_2s_limit", upper95: str = "upper_2s_limit",
                 lower998: str = "lower_3s_limit", upper998: str = "upper_3s_limit",
                 baseline: str | float = "baseline", max_labels: int | None = None,
                 unit_name: str = "units", title: str, subtitle: str, xlabel: str, ylabel: str,
                 source: str | None = None) -> Figure:
    """Funnel plot: units as points against their size, with 95% and 99.8% control limits.

    `limits` holds the limit lines over a range of sizes (column names default to those of
    evalkit.stats / PHEindicatormethods: 2s = 95%, 3s = 99.8%). Units outside the 95% limits are
    labelled by `label`; with `max_labels`, only that many of them, the furthest from the
    baseline in units of the 95% funnel's half-width (so roughly by z-score), and the subtitle
    says so, calling the units `unit_name` ("councils"): 131 labels on one chart cannot be read.
    """
    if max_labels is not None and max_labels < 0:
        raise ValueError(f"funnel_chart: max_labels must be 0 or more, not {max_labels}")
    pts = _numeric(points, [x, y], "funnel_chart")
    lim = _numeric(limits, [limit_x, lower95, upper95, lower998, upper998], "funnel_chart")
    lim = lim.sort_values(limit_x)
    lim = lim[lim[limit_x] <= 1.1 * pts[x].max()] if pts[x].notna().any() else lim
    fig, ax = figure()
    for lo, hi, style, name in ((lower95, upper95, "--", "95% limits"),
                                (lower998, upper998, ":", "99.8% limits")):
        ax.plot(lim[limit_x], lim[lo], color=DARK_GREY, linestyle=style, linewidth=1, label=name)
        ax.plot(lim[limit_x], lim[hi], color=DARK_GREY, linestyle=style, linewidth=1)
    base = (float(pd.to_numeric(limits[baseline]).iloc[0]) if isinstance(baseline, str)
            else float(baseline))
    ax.axhline(base, color=DARK_GREY, linewidth=1, label="Baseline")
    ax.scatter(pts[x], pts[y], color=DARK_BLUE, zorder=3, s=25)
    if label:
        _require(points, [label], "funnel_chart")
        lo = np.interp(pts[x], lim[limit_x], lim[lower95])
        hi = np.interp(pts[x], lim[limit_x], lim[upper95])
        outside = np.flatnonzero(((pts[y] < lo) | (pts[y] > hi)).to_numpy())
        if max_labels is not None and len(outside) > max_labels:
            spread = np.where(pts[y] > base, hi - base, base - lo)
            extremity = np.abs(pts[y].to_numpy() - base) / np.maximum(spread, 1e-12)
            note = _label_note(max_labels, len(outside), unit_name)
            if isinstance(subtitle, str) and subtitle.strip():  # blank: finish refuses it
                subtitle = f"{subtitle.rstrip().rstrip('.')}. {note}"
            outside = outside[np.argsort(-extremity[outside], kind="stable")[:max_labels]]
        for i in outside:
            ax.annotate(str(points[label].iloc[i]), xy=(pts[x].iloc[i], pts[y].iloc[i]),
                        xytext=(4, 4), textcoords="offset points", fontsize=8, color=DARK_BLUE)
    ax.legend(loc="best")
    ax.grid(axis="y", visible=True)
    ax.xaxis.set_major_formatter(mpl.ticker.StrMethodFormatter("{x:,.0f}"))
    return finish(fig, ax, title=title, subtitle=subtitle, xlabel=xlabel, ylabel=ylabel,
                   source=source)


def km_chart(df: pd.DataFrame, *, time: str = "time", value: str = "value",
             lower: str | None = "lower", upper: str | None = "upper", group: str | None = None,
             title: str, subtitle: str, xlabel: str, ylabel: str,
             source: str | None = None) -> Figure:
    """Kaplan-Meier steps (e.g. share still waiting for a PA) with confidence bands by group."""
    nums, keys, colours = _series(df, [time, value, *(c for c in (lower, upper) if c and c in df)],
                                  group, value, "km_chart")
    fig, ax = figure()
    ends = {}
    for key in keys:
        part = nums[(df[group] == key).to_numpy()] if group else nums
        part = part.sort_values(time, kind="stable")
        ax.step(part[time], part[value], where="post", color=colours[key], linewidth=2)
        if lower in part and upper in part:
            ax.fill_between(part[time], part[lower], part[upper], step="post",
                            color=colours[key], alpha=0.2, linewidth=0)
        if group and len(part):
            ends[key] = (float(part[time].iloc[-1]), float(part[value].iloc[-1]))
    ax.set_ylim(0, max(1.0, float(np.nanmax(nums[value])) if len(nums) else 1.0) * 1.02)
    ax.grid(axis="y", visible=True)
    _label_ends(ax, ends, colours)
    return finish(fig, ax, title=title, subtitle=subtitle, xlabel=xlabel, ylabel=ylabel,
                   source=source)


def heatmap(df: pd.DataFrame, *, title: str, subtitle: str, xlabel: str, ylabel: str,
            source: str | None = None, fmt: str = "{:,.0f}") -> Figure:
    """Heatmap of a wide table (rows x columns), as `disclosure.suppress` returns it, drawn with
    `seaborn.heatmap`.

    Suppressed cells are hatched grey and marked `[c]`, never coloured as if they held a value;
    blank cells stay white. Each cell is also written as a number so colour is not the only cue.
    """
    nums = df.apply(pd.to_numeric, errors="coerce").astype(float)
    hidden = (df == disclosure.SUPPRESSED).to_numpy()
    fig, ax = figure(max(5.0, 1.2 + 0.9 * df.shape[1]), max(3.0, 1.6 + 0.45 * df.shape[0]))
    text = nums.map(lambda v: "" if np.isnan(v) else fmt.format(v)).to_numpy()
    sns.heatmap(nums, ax=ax, cmap=SEQUENTIAL_CMAP, annot=text, fmt="", annot_kws={"fontsize": 9},
                cbar_kws={"shrink": 0.8}, xticklabels=[str(c) for c in df.columns],
                yticklabels=[str(r) for r in df.index])
    for i, j in zip(*np.nonzero(hidden), strict=True):
        ax.add_patch(mpl.patches.Rectangle((j, i), 1, 1, facecolor=GREY, hatch="///",
                                           edgecolor="white", linewidth=0))
        ax.text(j + 0.5, i + 0.5, disclosure.SUPPRESSED, ha="center", va="center",
                color="black", fontsize=9)
    plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    plt.setp(ax.get_yticklabels(), rotation=0)
    ax.grid(False)
    return finish(fig, ax, title=title, subtitle=subtitle, xlabel=xlabel, ylabel=ylabel,
                  source=source)
