"""House style: palette in one place, show() embeds an <img> with alt text, charts build."""

from __future__ import annotations

import base64
import re

import matplotlib as mpl
import pytest
from matplotlib.figure import Figure

from evalkit.report import style


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
