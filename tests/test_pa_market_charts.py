"""Notebook 02's charts (issue 18): each headline (its title, the finding) is page text and opens
the alt text; the area heatmap's title states the finding in words and never says every area is
served when the gaps are only too small to show; no two labels of a chart overlap."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

import evalkit
from evalkit.analyses import pa_market as pm
from evalkit.analyses.pa_market.display import heatmap_title
from evalkit.report import style
from evalkit.synth.generator import synthesise

CHARTS = [pm.show_composition_chart, pm.show_representation, pm.show_language_gap_chart,
          pm.show_area_heatmap, pm.show_recruitment_curves, pm.show_recruitment_cox]


@pytest.fixture(scope="module")
def pub(tmp_path_factory):
    """A demo-sized council: six request groups, many languages and areas."""
    data = evalkit.load(synthesise(tmp_path_factory.mktemp("charts02") / "data", scale=1.0,
                                   seed=1))
    return pm.publish(pm.analyse(data, n_boot=20))


@pytest.fixture
def drawn(pub, monkeypatch):
    """Every 02 chart drawn: (figure, alt text, page text said before it)."""
    said: list[str] = []
    out = []
    monkeypatch.setattr(style, "display", lambda obj: said.append(str(getattr(obj, "data", obj))))
    monkeypatch.setattr(style, "show", lambda fig, alt: out.append((fig, alt, list(said))))
    for show in CHARTS:
        show(pub)
    for fig, *_ in out:
        FigureCanvasAgg(fig).draw()
    return out


def overlaps(texts, renderer) -> list[tuple[str, str]]:
    """Pairs of visible, non-empty texts whose drawn boxes overlap."""
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts
             if t.get_text().strip() and t.get_visible()]
    return [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2)
            if box_a.overlaps(box_b)]


def test_every_chart_headline_is_page_text_and_opens_the_alt_text(drawn):
    assert len(drawn) == len(CHARTS)
    for fig, alt, said in drawn:
        title = " ".join(fig.get_suptitle().split())
        assert alt.startswith(f"{title}. "), (title, alt[:80])
        assert f"**{title}.**" in said[-1], title


def test_no_two_labels_of_a_chart_overlap(drawn):
    for fig, *_ in drawn:
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            for texts in (ax.get_yticklabels(), ax.get_xticklabels(), ax.texts):
                assert overlaps(texts, renderer) == [], fig.get_suptitle()


def test_heatmap_title_never_says_every_area_is_served_when_gaps_are_too_small_to_show():
    worst = pd.Series({"language": "Somali", "value": 1.0})
    hidden = heatmap_title(0, 12, None, unseen=True)
    assert "every area shown" in hidden and "too few people" in hidden
    assert not hidden.startswith("In every area")
    assert heatmap_title(0, 12, worst, unseen=True).startswith(
        "Somali speakers are the worst served: 100% live where no active PA speaks Somali")
    assert heatmap_title(3, 12, worst, unseen=True).startswith(
        "3 of the 12 areas and languages shown have no active PA")
    assert heatmap_title(0, 12, None, unseen=False).startswith("In every area")
