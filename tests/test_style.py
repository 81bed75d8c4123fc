"""House style: palette in one place, show() embeds an <img> with alt text, charts build."""

from __future__ import annotations

import base64
import re

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from evalkit.report import drawing, style
from evalkit.report import text as chart_text


@pytest.fixture
def shown(monkeypatch):
    """Capture what show() passes to IPython's display."""
    out = []
    monkeypatch.setattr(style, "display", out.append)
    return out


def _fig() -> Figure:
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1])
    return fig


def test_palette_is_the_analysis_function_palette():
    assert style.PALETTE == ("#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1")
    assert style.DARK_BLUE == "#12436D" and style.ORANGE == "#F46A25"


def test_apply_style_sets_colour_cycle():
    with mpl.rc_context():
        style.apply_style()
        colours = [c["color"] for c in mpl.rcParams["axes.prop_cycle"]]
        assert [c.upper() for c in colours] == list(style.PALETTE)


@pytest.mark.parametrize("alt", ["", "   ", None])
def test_show_requires_alt_text(shown, alt):
    with pytest.raises(ValueError, match="alt text is required"):
        style.show(_fig(), alt)
    assert shown == []


def test_show_embeds_png_with_escaped_alt(shown):
    assert style.show(_fig(), 'Asian people: 0.71 times as likely "to take" a DP') is None
    (obj,) = shown
    match = re.fullmatch(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]*)"[^>]*>', obj.data)
    assert match, obj.data[:200]
    assert base64.b64decode(match.group(1))[:8] == b"\x89PNG\r\n\x1a\n"
    assert match.group(2) == "Asian people: 0.71 times as likely &quot;to take&quot; a DP"


def test_show_closes_pyplot_figure(shown):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2])
    style.show(fig, "A rising line")
    assert not plt.fignum_exists(fig.number)


# ---- tables ------------------------------------------------------------------------------------

def test_table_suppresses_labels_and_explains_marker(shown):
    df = pd.DataFrame({"ethnic_group_broad": ["Asian", "Black", "White"], "dp": [3, 40, 1200],
                       "clients": [50, 160, 5000], "share": [0.06, 0.25, 0.24],
                       "year": [2025, 2025, 2025]})
    out = style.table(df, labels={"ethnic_group_broad": "Ethnic group", "dp": "People with a DP",
                                  "share": "Share"},
                      count_cols=["dp", "clients"], rate_cols={"share": ("dp", "clients")},
                      caption="Direct Payments by ethnic group, Leicester, 2025/26",
                      plain_cols=["year"])
    assert list(out.columns) == ["Ethnic group", "People with a DP", "clients", "Share", "year"]
    assert out["People with a DP"].tolist() == ["[c]", "40", "1,200"]
    assert out["Share"].tolist() == ["[c]", "0.25", "0.24"]
    assert out["clients"].tolist() == ["50", "160", "5,000"]
    assert out["year"].tolist() == ["2025"] * 3
    (obj,) = shown
    assert "<caption>Direct Payments by ethnic group, Leicester, 2025/26</caption>" in obj.data
    assert "[c] = confidential: counts of 1 to 4" in obj.data
    assert '<th class="count">People with a DP</th>' in obj.data  # for the privacy gate


def test_table_without_suppression_has_no_footnote(shown):
    df = pd.DataFrame({"group": ["A", "B"], "n": [10, 0], "mean": [1.234, np.nan]})
    out = style.table(df, count_cols="n", decimals={"mean": 1})
    assert out["n"].tolist() == ["10", "0"] and out["mean"].tolist() == ["1.2", "n/a"]
    assert "confidential" not in shown[0].data and "<caption>" not in shown[0].data


def test_table_uses_totals_for_secondary_suppression(shown):
    df = pd.DataFrame({"Male": [3, 20, 23], "Female": [10, 30, 40]}, index=["x", "y", "Total"])
    out = style.table(df, count_cols=["Male", "Female"], total_row="Total")
    # Male 3 is hidden, so is the next-smallest Male cell; Female has nothing hidden.
    assert out["Male"].tolist() == ["[c]", "[c]", "23"]
    assert out["Female"].tolist() == ["10", "30", "40"]


# ---- charts ------------------------------------------------------------------------------------

TITLES = {"title": "Asian people are less likely than White people to take a Direct Payment",
          "subtitle": "Share with a DP, by ethnic group, Leicester, 2025/26, 95% CIs"}


def _words(fig, gid: str) -> str:
    """The title or subtitle of a chart as one line (finish wraps them)."""
    (text,) = fig.findobj(lambda artist: artist.get_gid() == gid)
    return " ".join(text.get_text().split())


def _assert_labelled(fig, xlabel: bool = True):
    assert _words(fig, "title") == TITLES["title"]
    assert _words(fig, "subtitle") == TITLES["subtitle"]
    ax = fig.axes[0]
    if xlabel:
        assert ax.get_xlabel()
    fig.canvas.draw()  # lays out without error


def test_ci_chart_builds_with_suppressed_row(shown):
    df = pd.DataFrame({"group": ["Asian", "Black", "Mixed"], "value": [0.71, "[c]", 1.1],
                       "lower": [0.64, "[c]", 0.9], "upper": [0.79, "[c]", 1.3]})
    fig = style.ci_chart(df, "group", "value", "lower", "upper", reference_line=1,
                         reference_label="White (reference)", xlabel="Odds ratio", log=True,
                         source="Synthetic data", **TITLES)
    _assert_labelled(fig)
    ax = fig.axes[0]
    ticks = dict(zip([t.get_text() for t in ax.get_yticklabels()], ax.get_yticks(), strict=True))
    assert ticks["Asian"] > ticks["Black"] > ticks["Mixed"]  # first row at the top
    assert any(t.get_text() == "[c]" for t in ax.texts)
    style.show(fig, "Odds ratios by ethnic group")


def test_ci_chart_requires_title():
    df = pd.DataFrame({"g": ["A"], "v": [1.0], "l": [0.5], "u": [2.0]})
    with pytest.raises(ValueError, match="title is required"):
        style.ci_chart(df, "g", "v", "l", "u", title=" ", subtitle="s", xlabel="x")


def test_ci_chart_labels_the_category_axis():
    df = pd.DataFrame({"preferred_language": ["Gujarati", "Somali"], "value": [20.0, 15.0],
                       "lower": [15.0, 10.0], "upper": [25.0, 20.0]})
    fig = style.ci_chart(df, "preferred_language", "value", "lower", "upper", xlabel="% with a DP",
                         **TITLES)
    assert fig.axes[0].get_ylabel() == "Preferred language"  # readable column name by default
    fig = style.ci_chart(df, "preferred_language", "value", "lower", "upper", xlabel="% with a DP",
                         ylabel="Language the person prefers", **TITLES)
    assert fig.axes[0].get_ylabel() == "Language the person prefers"


def _errorbar_arms(fig) -> list[float]:
    """Half-lengths of the CI lines drawn, left and right of each dot, in data units."""
    (bars,) = fig.axes[0].collections
    return sorted(round(float(abs(seg[1][0] - seg[0][0])), 12) for seg in bars.get_segments())


def test_ci_chart_tolerates_rounding_error_inversions():
    # a Wilson limit at a share of 0 can come out as -1e-17; at 40 it can be 40 + 4e-15
    df = pd.DataFrame({"group": ["Asian", "Black"], "value": [0.0, 40.0],
                       "lower": [-1e-17, 30.0], "upper": [3.0, 40.0 - 4e-15]})
    fig = style.ci_chart(df, "group", "value", "lower", "upper", xlabel="%", **TITLES)
    fig.canvas.draw()
    # Asian: 0 to 3 (arm below 0 long); Black: 30 to 40 (arm above 0 long)
    assert _errorbar_arms(fig) == [3.0, 10.0]


@pytest.mark.parametrize("lower, upper", [(1.0001, 2.0), (0.2, 0.9999)])
def test_ci_chart_refuses_an_interval_that_misses_the_estimate(lower, upper):
    df = pd.DataFrame({"group": ["Asian", "Black"], "value": [1.0, 1.0],
                       "lower": [0.8, lower], "upper": [1.2, upper]})
    with pytest.raises(ValueError, match=r"does not contain the estimate for \['Black'\]"):
        style.ci_chart(df, "group", "value", "lower", "upper", xlabel="Ratio", **TITLES)


def test_line_chart_builds_with_ribbons_and_end_labels():
    months = pd.date_range("2024-01-01", periods=6, freq="MS")
    df = pd.DataFrame({"month": list(months) * 2, "group": ["Asian"] * 6 + ["White"] * 6,
                       "value": np.linspace(0.1, 0.2, 12), "lower": np.linspace(0.05, 0.15, 12),
                       "upper": np.linspace(0.15, 0.25, 12)})
    fig = style.line_chart(df, "month", "value", lower="lower", upper="upper", group="group",
                           xlabel="Month", ylabel="Share with a DP", **TITLES)
    _assert_labelled(fig)
    assert fig.axes[0].get_ylabel() == "Share with a DP"
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["Asian", "White"]


@pytest.mark.parametrize("ends", [[0.50, 0.50, 0.50, 0.50, 0.50], [0.40, 0.401, 0.402, 0.9, 0.1]])
def test_end_labels_never_overlap_however_close_the_lines_end(ends):
    # five groups ending at (nearly) the same value: labels drawn without overlapping boxes
    groups = ["Asian", "Black", "Mixed", "White", "Other"]
    months = pd.date_range("2024-01-01", periods=6, freq="MS")
    df = pd.DataFrame({"month": list(months) * 5, "group": np.repeat(groups, 6),
                       "value": np.concatenate([np.linspace(0.3, end, 6) for end in ends])})
    fig = style.line_chart(df, "month", "value", group="group", xlabel="Month",
                           ylabel="Share", **TITLES)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # lays the figure out as the saved image is
    renderer = canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    assert len(boxes) == 5
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_line_chart_refuses_more_groups_than_colours():
    df = pd.DataFrame({"t": range(7), "g": list("abcdefg"), "v": range(7)})
    with pytest.raises(ValueError, match="7 groups but the accessible palette has 6"):
        style.line_chart(df, "t", "v", group="g", xlabel="t", ylabel="v", **TITLES)


def test_funnel_chart_labels_units_outside_limits():
    limits = pd.DataFrame({"population": [10, 100, 1000], "lower_2s_limit": [0.1, 0.2, 0.25],
                           "upper_2s_limit": [0.5, 0.4, 0.35], "lower_3s_limit": [0.0, 0.15, 0.22],
                           "upper_3s_limit": [0.6, 0.45, 0.38], "baseline": 0.3})
    points = pd.DataFrame({"area": ["North", "South"], "n": [50, 900], "share": [0.3, 0.5]})
    fig = style.funnel_chart(points, limits, x="n", y="share", label="area",
                             xlabel="People on long-term support", ylabel="Share with a DP",
                             **TITLES)
    _assert_labelled(fig)
    assert [t.get_text() for t in fig.axes[0].texts] == ["South"]


def _funnel_limits() -> pd.DataFrame:
    """95% limits 30 +/- 10 (99.8%: +/- 15) at every size, baseline 30."""
    return pd.DataFrame({"population": [10, 1000], "lower_2s_limit": [20.0, 20.0],
                         "upper_2s_limit": [40.0, 40.0], "lower_3s_limit": [15.0, 15.0],
                         "upper_3s_limit": [45.0, 45.0], "baseline": 30.0})


def test_funnel_chart_labels_only_the_most_extreme_units():
    # distance from the baseline in half-widths (10): A 1.2, B 3.0, C 0.5 (inside), D 2.1, E 1.5
    points = pd.DataFrame({"area": list("ABCDE"), "n": [100, 200, 300, 400, 500],
                           "share": [42.0, 0.0, 35.0, 51.0, 15.0]})
    fig = style.funnel_chart(points, _funnel_limits(), x="n", y="share", label="area",
                             max_labels=2, unit_name="councils", xlabel="People",
                             ylabel="% with a DP", title=TITLES["title"],
                             subtitle="Share with a DP, 2025, 95% and 99.8% limits.")
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["B", "D"]
    assert _words(fig, "subtitle") == (
        "Share with a DP, 2025, 95% and 99.8% limits. Labelled: the 2 of the 4 councils outside "
        "the 95% limits that lie furthest from the baseline.")
    fig = style.funnel_chart(points, _funnel_limits(), x="n", y="share", label="area",
                             max_labels=4, xlabel="People", ylabel="% with a DP", **TITLES)
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["A", "B", "D", "E"]
    assert _words(fig, "subtitle") == TITLES["subtitle"]  # all labelled: no note
    fig = style.funnel_chart(points, _funnel_limits(), x="n", y="share", label="area",
                             max_labels=0, xlabel="People", ylabel="% with a DP", **TITLES)
    assert len(fig.axes[0].texts) == 0
    assert _words(fig, "subtitle").endswith(
        "95% CIs. The 4 units outside the 95% limits are not labelled.")


def test_km_chart_builds_by_group():
    df = pd.DataFrame({"time": [0, 10, 20, 0, 15], "value": [1, 0.7, 0.4, 1, 0.5],
                       "lower": [1, 0.6, 0.3, 1, 0.4], "upper": [1, 0.8, 0.5, 1, 0.6],
                       "group": ["Gujarati"] * 3 + ["English"] * 2})
    fig = style.km_chart(df, group="group", xlabel="Days since request",
                         ylabel="Share still waiting", **TITLES)
    _assert_labelled(fig)
    assert fig.axes[0].get_ylim()[0] == 0


def test_heatmap_hatches_suppressed_cells():
    df = pd.DataFrame({"Asian": [10, "[c]"], "Black": ["[c]", 25]}, index=["North", "South"])
    fig = style.heatmap(df, xlabel="Ethnic group", ylabel="Area", **TITLES)
    _assert_labelled(fig)
    ax = fig.axes[0]
    assert sum(p.get_hatch() == "///" for p in ax.patches) == 2
    assert sorted(t.get_text() for t in ax.texts) == ["10", "25", "[c]", "[c]"]


def test_table_marks_count_columns_for_the_privacy_gate(shown):
    from bs4 import BeautifulSoup

    from evalkit.sdc import gate as privacy

    df = pd.DataFrame({"group": ["Asian", "Black"], "people": [120, 30], "share": [0.4, 0.5]})
    style.table(df, labels={"people": "People"}, count_cols="people")
    soup = BeautifulSoup(shown[-1].data, "html.parser")
    marked = [th.get_text(strip=True) for th in soup.select("th.count")]
    assert marked == ["People"]
    # a small count planted in the marked column is then caught by the gate
    planted = shown[-1].data.replace(">30<", ">3<")
    findings = list(privacy._small_counts(BeautifulSoup(planted, "html.parser"), 5, "t.html"))
    assert len(findings) == 1


def test_say_displays_markdown(shown):
    style.say("No council in the data has a Somali speaker with a Direct Payment.")
    assert shown[-1].data == "No council in the data has a Somali speaker with a Direct Payment."


LONG_TITLE = ("Monthly new direct payment starts among people in teams T01, T02, T03, T04: "
              "special-cause variation (2 in 3 Above CL, 2 in 3 Below CL, Above UCL)")
# capitals with accents stand taller than the font's usual ascent: matplotlib's 'normal' line
# spacing makes such a line taller than the others
ACCENTED_TITLE = ("Éire, Ōsaka and Ŵales: ÉÉÉ ÖÖÖ ŴŴŴ are ÅÅÅ names of places in a title "
                  "long enough to wrap onto several lines of a narrow chart ÉÖŴ")


@pytest.mark.parametrize(("dpi", "width", "title"), [
    (100, 8.0, LONG_TITLE),  # as a notebook shows a figure
    (200, 8.0, LONG_TITLE),  # saved for print: the gap is the same in points at any dpi
    (style.DPI, 8.0, LONG_TITLE),  # as png() draws it
    (style.DPI, 5.0, LONG_TITLE + " " + LONG_TITLE),  # narrow: many title lines
    (style.DPI, 5.0, ACCENTED_TITLE),
])
def test_title_and_subtitle_wrap_inside_the_chart_without_overlap(dpi, width, title) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    fig, ax = style.figure(width, 4.5)
    ax.plot([1, 2, 3], [1.0, 2.0, 3.0])
    style.finish(fig, ax, title=title, subtitle="A long subtitle, Éire, " * 12, xlabel="Month",
                 ylabel="Starts")
    fig.set_dpi(dpi)
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    top, sub = (fig.findobj(lambda a, gid=gid: a.get_gid() == gid)[0]
                for gid in ("title", "subtitle"))
    for text in (top, sub):
        extent = text.get_window_extent(renderer)
        assert extent.width > box.width / 2  # the long line was drawn ...
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1  # ... and kept inside the figure
        assert box.y0 <= extent.y0 and extent.y1 <= box.y1
    # the title's printed lines (without the blank lines kept for the subtitle), laid out by
    # matplotlib where the suptitle stands, end SUBTITLE_GAP above the subtitle; the plot
    # starts below both
    printed = Text(*top.get_position(), top.get_text().rstrip("\n"), figure=fig,
                   fontproperties=top.get_fontproperties(), va="top", ha="left",
                   transform=top.get_transform())
    assert printed.get_text().count("\n") >= 1
    gap = printed.get_window_extent(renderer).y0 - sub.get_window_extent(renderer).y1
    assert gap == pytest.approx(style.SUBTITLE_GAP * dpi / 72, abs=1.5)
    plot = fig.axes[0].get_tightbbox(renderer)
    assert sub.get_window_extent(renderer).y0 >= plot.y1
    assert top.get_window_extent(renderer).y0 >= plot.y1


def test_wrap_fills_lines_up_to_the_width() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.text import Text

    font = FontProperties(size=13, weight="bold")
    fig = Figure(dpi=style.DPI)  # as the PNG is drawn (hinting varies with dpi)
    renderer = FigureCanvasAgg(fig).get_renderer()

    def width(text: str) -> float:  # in points, the whole line laid out as matplotlib draws it
        line = Text(0, 0, text, fontproperties=font, parse_math=False, figure=fig)
        return line.get_window_extent(renderer).width * 72 / style.DPI

    text = ("Somali and Gujarati speakers wait longer for a Personal Assistant than English "
            "speakers in Leicester, and the gap has not closed since the register opened")
    lines = chart_text.wrap(text, 300, font).split("\n")
    assert " ".join(lines) == text  # every word kept, in order
    assert len(lines) >= 3
    for line, following in zip(lines, lines[1:], strict=False):
        assert width(line) <= 300  # measured as a whole line, not word by word
        assert width(f"{line} {following.split()[0]}") > 300  # the next word would not fit
    assert width(lines[-1]) <= 300
    # a word wider than the line gets a line of its own; given line breaks are kept
    assert chart_text.wrap("a Supercalifragilisticexpialidocious b", 50, font).split("\n") == [
        "a", "Supercalifragilisticexpialidocious", "b"]
    assert chart_text.wrap("First line\nsecond", 1000, font) == "First line\nsecond"


def test_word_widths_follow_the_font_matplotlib_picks() -> None:
    from matplotlib.font_manager import FontProperties

    with mpl.rc_context({"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"]}):
        proportional = chart_text.wrap("iiiiiiii x", 40, FontProperties(size=10))
    # same family name, another file: the cached widths of DejaVu Sans must not be reused
    with mpl.rc_context({"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans Mono"]}):
        mono = chart_text.wrap("iiiiiiii x", 40, FontProperties(size=10))
    assert proportional == "iiiiiiii x"  # narrow i: ~32 pt in DejaVu Sans, fits in 40
    assert mono == "iiiiiiii\nx"  # ~62 pt in DejaVu Sans Mono: wrapped
    with mpl.rc_context({"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans Mono"]}):
        assert chart_text.measure_width("iiii", FontProperties(size=10)) == pytest.approx(
            chart_text.measure_width("mmmm", FontProperties(size=10)))  # monospaced: equal widths
    assert chart_text.measure_width("iiii", FontProperties(size=10)) < chart_text.measure_width(
        "mmmm", FontProperties(size=10))


def test_chart_png_is_opaque_white_and_dollars_stay_dollars() -> None:
    import io

    from PIL import Image

    fig, ax = style.figure()
    fig.patch.set_alpha(0)  # a transparent figure still comes out on white
    ax.plot([1, 2], [1, 2])
    style.finish(fig, ax, title="Budgets of $1,200 to $1,500 a week", subtitle="In $",
                 xlabel="x", ylabel="y")
    title = fig.findobj(lambda a: a.get_gid() == "title")[0]
    assert not title.get_parse_math()  # "$1,200 to $" is not mathtext
    image = Image.open(io.BytesIO(style.png(fig)))
    assert image.mode == "RGB"
    assert image.getpixel((image.width - 2, image.height // 2)) == (255, 255, 255)


@pytest.mark.parametrize("months", [2, 7, 13, 25, 34, 40, 49, 54, 60, 61, 97, 130, 300])
def test_date_axis_labels_are_few_and_do_not_collide(months) -> None:
    import warnings

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    when = pd.date_range("2020-04-01", periods=months, freq="MS")
    fig = style.line_chart(pd.DataFrame({"m": when, "v": np.ones(months)}), "m", "v",
                           xlabel="Month", ylabel="Starts", **TITLES)
    fig.set_dpi(style.DPI)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning would be printed into the report
        FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    labels = [t for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert 2 <= len(labels) <= 9  # matplotlib's default gives 9 or more from 2 years on
    boxes = sorted((t.get_window_extent(renderer) for t in labels), key=lambda b: b.x0)
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:], strict=False))
    if months >= 36:
        assert any(re.fullmatch(r"20\d\d", t.get_text()) for t in labels)  # not "2022-01"


def test_date_ticks_a_chart_chose_are_kept() -> None:
    months = pd.date_range("2022-01-01", periods=36, freq="MS")
    fig, ax = style.figure()
    ax.plot(months, np.arange(36))
    ax.set_xticks(months[::12])
    style.finish(fig, ax, xlabel="Month", ylabel="Starts", **TITLES)
    assert len(ax.get_xticks()) == 3


def _labelled_chart(words: str) -> Figure:
    """A small chart whose tick labels, title and axis labels are `words`."""
    fig, ax = style.figure(6.0, 3.0)
    ax.barh([words, f"{words} too"], [1, 2])
    return style.finish(fig, ax, title=words, subtitle=words, xlabel=words, ylabel=words)


def test_charts_drawn_with_a_shared_renderer_are_those_of_a_new_one() -> None:
    from matplotlib.font_manager import FontProperties

    def fresh(fig: Figure) -> bytes:  # a renderer of its own, as FigureCanvasAgg makes one
        fig.set_dpi(style.DPI)
        fig.set_facecolor("white")
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return bytes(canvas.buffer_rgba())

    def shared(fig: Figure) -> bytes:
        fig.set_dpi(style.DPI)
        fig.set_facecolor("white")
        canvas = drawing.SharedRendererCanvas(fig)
        canvas.draw()
        return bytes(canvas.buffer_rgba())

    drawing.shared_renderer.cache_clear()
    first = shared(_labelled_chart("Pakistani"))
    assert shared(_labelled_chart("Bangladeshi")) == fresh(_labelled_chart("Bangladeshi"))
    assert drawing.shared_renderer.cache_info().currsize == 1  # the same renderer, cleared
    assert shared(_labelled_chart("Pakistani")) == first
    # another font under the same family name: its texts are laid out again, not reused
    with mpl.rc_context({"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans Mono"]}):
        assert FontProperties().get_family() == ["sans-serif"]
        mono = shared(_labelled_chart("Pakistani"))
        assert mono == fresh(_labelled_chart("Pakistani")) != first
    assert drawing.shared_renderer.cache_info().currsize == 2


def test_ticks_worked_out_once_or_without_overlap_check_draw_the_same() -> None:
    def dated() -> tuple[Figure, mpl.axes.Axes]:
        fig, ax = style.figure()
        ax.plot(pd.date_range("2021-04-01", periods=48, freq="MS"), np.arange(48))
        style.finish(fig, ax, title="Starts rose", subtitle="Monthly", xlabel="Month",
                     ylabel="Starts")
        return fig, ax

    def pixels(fig: Figure) -> bytes:
        fig.set_dpi(style.DPI)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return bytes(canvas.buffer_rgba())

    checked = pixels(dated()[0])  # once: a figure drawn again is laid out from where it was
    skipped, ax = dated()
    drawing.no_minor_overlap_check(skipped)
    assert not ax.xaxis.remove_overlapping_locs and not ax.yaxis.remove_overlapping_locs
    assert pixels(skipped) == checked
    # a date axis' ticks found once from its limits: the same ticks, the same pixels
    fixed, ax = dated()
    drawing.fixed_date_ticks(fixed)
    assert isinstance(ax.xaxis.get_major_locator(), mpl.ticker.FixedLocator)
    assert isinstance(ax.yaxis.get_major_locator(), mpl.ticker.MaxNLocator)  # numbers: as was
    assert pixels(fixed) == checked
    # minor ticks shown: the overlap with the major ones is still taken out
    minor, ax = dated()
    ax.yaxis.set_minor_locator(mpl.ticker.AutoMinorLocator())
    drawing.no_minor_overlap_check(minor)
    assert ax.yaxis.remove_overlapping_locs and not ax.xaxis.remove_overlapping_locs
