"""Every chart on a published page has its headline (its title: the finding) as page text right
before the image, and its alt text opens with that headline (`charts.headline`): the words
inside a PNG reach neither a screen reader nor a search, so the finding must be in the text."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from bs4 import BeautifulSoup, Tag

BLOCKS = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "caption", "figcaption", "dt", "dd"]


def words(text: str) -> str:
    """`text` with its whitespace made single spaces (markup and attributes wrap differently)."""
    return " ".join(text.split())


def text_before(img: Tag) -> str:
    """The text of the last block with words in it before `img` on the page ('' when none)."""
    for block in img.find_all_previous(BLOCKS):
        if text := words(block.get_text()):
            return text
    return ""


def missing_headlines(page: str) -> list[tuple[str, str]]:
    """(alt text, text before the image) of each described image whose alt text does not open
    with a sentence that is the page text right before it; decorative images (empty alt,
    role="presentation" or aria-hidden) are left out."""
    soup = BeautifulSoup(page, "html.parser")
    out = []
    for img in soup.find_all("img"):
        alt = words(img.get("alt") or "")
        if not alt or img.get("role") == "presentation" or img.get("aria-hidden") == "true":
            continue
        before = text_before(img)
        if not (before.endswith(".") and (alt == before or alt.startswith(f"{before} "))):
            out.append((alt[:120], before[:120]))
    return out


def test_a_headline_missing_from_the_text_or_the_alt_is_found():
    chart = '<img src="data:image/png;base64,AA" alt="{}">'
    good = "<p>Intro.</p><p><strong>Uptake is lower.</strong></p>" + chart.format(
        "Uptake is lower. Dot chart: shares.")
    assert missing_headlines(good) == []
    assert missing_headlines(good.replace("Uptake is lower. Dot", "Dot"))  # alt without it
    assert missing_headlines(chart.format("Uptake is lower. Dot chart: shares."))  # no text
    assert missing_headlines(good.replace("Uptake is lower.</strong>", "Uptake</strong>"))
    assert missing_headlines(good.replace('alt="', 'role="presentation" alt="')) == []


@pytest.mark.parametrize("name", ["01_uptake", "02_pa_market", "03_outcomes"])
def test_every_chart_is_led_by_its_headline_in_page_text_and_alt_text(
        published: Callable, name: str):
    page = published(name).page.read_text(encoding="utf-8")
    assert "<img" in page, f"{name}: no chart on the page"
    assert missing_headlines(page) == []
