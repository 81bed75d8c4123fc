"""Render an executed notebook as a commissioner-ready HTML page.

Code, input prompts and output prompts are hidden (nbconvert `HTMLExporter` with the lab layout);
a contents list is built from the page's headings; a small accessible stylesheet is added and
every script removed (nbconvert's lab page would fetch MathJax, require.js and Mermaid from the
internet), so the page is static, works offline and makes no requests. Only notebooks that
finished are rendered (`evalkit.run.execute`).
"""

from __future__ import annotations

import functools
import html
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bs4 import BeautifulSoup, Tag

from evalkit.report import downloads
from evalkit.run import glossary

if TYPE_CHECKING:
    import nbformat
    from nbconvert import HTMLExporter

HERE = Path(__file__).resolve().parent
CSS = HERE / "report.css"
SOURCE = ("Source: the council's social care records, analysed by evalkit; every figure as the "
          "report page shows it, after the same disclosure control.")
TOC_LEVELS = ("h1", "h2", "h3")
SYNTHETIC_TITLE = "Synthetic demonstration data."
#: What papermill records in an executed notebook that does not change from run to run.
STABLE_PAPERMILL = ("parameters", "default_parameters")


def synthetic_notice(marker: Mapping[str, Any] | None) -> str | None:
    """What every page, manifest and key_findings.md of a run on `evalkit synth` data says
    (`marker`: the folder's `evalkit.data.synthetic` marker); None for real data."""
    if marker is None:
        return None
    made = ", ".join(f"{k} {marker[k]}" for k in ("profile", "seed") if k in marker)
    return (f"{SYNTHETIC_TITLE} These figures were made up by "
            f"{marker.get('generator', 'a generator')}{f' ({made})' if made else ''} to show "
            "how the reports work: they "
            "describe no real council or person, and no decision should rest on them.")


def notice_html(notice: str | None) -> str:
    """The notice as the banner at the top of a page ("" for real data)."""
    if notice is None:
        return ""
    rest = html.escape(notice.removeprefix(SYNTHETIC_TITLE).strip())
    return (f'<p class="evalkit-synthetic"><strong>{html.escape(SYNTHETIC_TITLE)}</strong> '
            f"{rest}</p>")


def mark_key_findings(path: Path, notice: str | None) -> None:
    """Put the notice under the title of a key_findings.md (nothing for real data)."""
    if notice is None or not path.is_file():
        return
    title, _, rest = path.read_text(encoding="utf-8").partition("\n")
    path.write_text(f"{title}\n\n> **{SYNTHETIC_TITLE}** "
                    f"{notice.removeprefix(SYNTHETIC_TITLE).strip()}\n{rest}", encoding="utf-8")


class _Collect(logging.Handler):
    """Keeps the messages nbconvert's own code logs at WARNING or above while it renders. Its
    logger is traitlets' shared one: a jupyter_client message logged meanwhile (e.g. a kernel
    client of an earlier notebook cleared by the garbage collector) is not the page's and is
    left out, as is anything its dependencies (nbformat, mistune) log there."""

    def __init__(self, package: Path) -> None:
        super().__init__(logging.WARNING)
        self.package = package  # nbconvert's folder
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if Path(record.pathname).resolve().is_relative_to(self.package):
            self.messages.append(record.getMessage())


def export_html(nb: nbformat.NotebookNode, title: str) -> tuple[str, list[str]]:
    """nbconvert HTML of `nb` with code and prompts hidden; returns (html, nbconvert warnings).

    The warnings are kept for the manifest: "Alternative text is missing" means a figure was
    displayed without the style helper's `<img alt>`.
    """
    import nbconvert

    exporter = _exporter()
    handler = _Collect(Path(nbconvert.__file__).resolve().parent)
    exporter.log.addHandler(handler)
    try:
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    finally:
        exporter.log.removeHandler(handler)
    return body, handler.messages


@functools.cache
def _exporter() -> HTMLExporter:
    """The HTML exporter (made once per process: it loads and compiles its templates). It
    checks the notebook against the schema once, after its preprocessors, not after each
    (`optimistic_validation`: a dozen checks of the whole notebook a page, nbconvert's default)."""
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                        exclude_output_prompt=True, optimistic_validation=True)


def _slug(text: str, taken: set[str]) -> str:
    """A unique id for a heading that has none."""
    base = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "section"
    slug, i = base, 1
    while slug in taken:
        i += 1
        slug = f"{base}-{i}"
    taken.add(slug)
    return slug


def _heading_text(heading: Tag) -> str:
    """A heading's text without nbconvert's pilcrow anchor link."""
    words = [text for text in heading.find_all(string=True)
             if not any("anchor-link" in (a.get("class") or []) for a in text.find_parents("a"))]
    return " ".join(" ".join(words).split())


def _contents(soup: BeautifulSoup, main: Tag) -> Tag | None:
    """`<nav>` listing the page's h1–h3 headings as links; None when there are none."""
    headings = [h for h in main.find_all(TOC_LEVELS) if _heading_text(h)]
    if not headings:
        return None
    taken = {str(t["id"]) for t in soup.find_all(id=True)}
    nav = soup.new_tag("nav", attrs={"class": "evalkit-toc", "aria-label": "Contents"})
    label = soup.new_tag("p")
    label.append(soup.new_tag("strong"))
    label.strong.string = "Contents"
    nav.append(label)
    items = soup.new_tag("ol")
    for heading in headings:
        text = _heading_text(heading)
        if not heading.get("id"):
            heading["id"] = _slug(text, taken)
        item = soup.new_tag("li", attrs={"class": f"toc-{heading.name}"})
        link = soup.new_tag("a", href=f"#{heading['id']}")
        link.string = text
        item.append(link)
        items.append(item)
    nav.append(items)
    return nav


def _scroll_tables(soup: BeautifulSoup, main: Tag) -> None:
    """Put each table in a box of its own that scrolls sideways on a narrow screen (the page
    itself never does), focusable so a keyboard can scroll it, named by the table's caption."""
    for tab in main.find_all("table"):
        caption = tab.find("caption")
        name = " ".join(caption.get_text().split()) if caption else "Table"
        tab.wrap(soup.new_tag("div", attrs={"class": "evalkit-scroll", "tabindex": "0",
                                            "role": "group", "aria-label": name}))


def decorate(page: str, *, title: str, details: list[str], notice: str | None = None,
             out: Path | None = None) -> str:
    """Remove scripts, add the stylesheet, a header (title, run details and the synthetic-data
    `notice`, if any), a contents list, a skip link and a glossary of the words the page uses
    (`evalkit.run.glossary`); put each table in a box that scrolls on its own; returns the
    HTML. With `out`, the page's
    path, its tables are also written as downloads beside it and linked
    (`evalkit.report.downloads`)."""
    soup = BeautifulSoup(page, "html.parser")
    main = soup.find("main")
    if main is None:
        raise ValueError("decorate: the nbconvert page has no <main> element; cannot add contents")
    for script in soup.find_all("script"):
        script.decompose()
    style = soup.new_tag("style")
    style.string = CSS.read_text()
    soup.head.append(style)
    main["id"] = "content"
    if out is not None:
        downloads.publish(soup, main, out.parent / downloads.FOLDER, out.stem, title=title,
                          about=[*([notice] if notice else []), *details, SOURCE])
    _scroll_tables(soup, main)
    if (terms := glossary.section(soup, main)) is not None:
        main.append(terms)
    nav = _contents(soup, main)
    header = soup.new_tag("header", attrs={"class": "evalkit-header"})
    name = soup.new_tag("p")
    name.string = title
    header.append(name)
    for line in details:
        para = soup.new_tag("p")
        para.string = line
        header.append(para)
    if notice is not None:
        header.append(BeautifulSoup(notice_html(notice), "html.parser"))
    blocks: list[Tag] = [header]
    if nav is not None:
        blocks.append(nav)
    for block in reversed(blocks):
        main.insert(0, block)
    skip = soup.new_tag("a", href="#content", attrs={"class": "evalkit-skip"})
    skip.string = "Skip to content"
    soup.body.insert(0, skip)
    return str(soup)


def stable_metadata(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """`nb` with metadata that are the same on every run and machine: the language without its
    version, papermill's parameters without times, paths or versions, and cells without
    execution times (the manifest records times, paths and versions)."""
    meta = nb.metadata
    meta["language_info"] = {"name": meta.get("language_info", {}).get("name", "python")}
    if "papermill" in meta:
        meta["papermill"] = {k: v for k, v in meta["papermill"].items() if k in STABLE_PAPERMILL}
    for cell in nb.cells:
        for key in ("execution", "papermill"):
            cell.metadata.pop(key, None)
    return nb


def render(notebook: Path, out: Path, *, title: str, details: list[str],
           notice: str | None = None) -> list[str]:
    """Write the report page for the executed `notebook` to `out` (with the synthetic-data
    `notice`, if any), and give the notebook, which is published too, `stable_metadata`;
    returns nbconvert warnings."""
    import nbformat

    nb = stable_metadata(nbformat.read(notebook, as_version=4))
    nbformat.write(nb, notebook)
    page, warnings = export_html(nb, title)
    out.write_text(decorate(page, title=title, details=details, notice=notice, out=out),
                   encoding="utf-8")
    return warnings
