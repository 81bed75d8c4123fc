"""The England page of a national run: `REPORT_DIR/england.html` lists every council with its
Direct Payment share (ASCOF 3D part 2a from raw CLD, else the same share from the snapshot) and
its headline gaps, each compared with England, in a table whose columns can be sorted; and
`england.csv` holds the same figures for every council, region and England in the comparator
table's columns, so a council running its own data can give it as `comparators_file`.

Both are built from the run's national comparator table (`evalkit.run.national`) through the
comparators' publication step (counts rounded, 1-7 suppressed, shares and comparisons from the
rounded counts), then scanned by the privacy gate before they are published.
"""

from __future__ import annotations

import html
import os
import sys
import time
from multiprocessing.process import BaseProcess
from pathlib import Path

import pandas as pd

from evalkit.analyses.comparators import compute, display
from evalkit.analyses.comparators.publish import SPEC, against
from evalkit.data import load as loader
from evalkit.report import publication
from evalkit.report.findings import fmt_share
from evalkit.run import national, render
from evalkit.run.plan import RunError, load_data
from evalkit.run.preload import worker_context

PAGE, CSV = "england.html", "england.csv"
TABLE = "comparators.parquet"  # the comparator table, in the run's private cache
LINK = (f'<p><a href="{PAGE}">England: every council\'s Direct Payment share and headline gaps, '
        "compared with England</a></p>")
#: the page's columns: measure (its share, and how it compares with England)
HEADLINE = ("ascof_3d2a", "dp_share", "language_gap", "filled")
SORT_SCRIPT = """
document.querySelectorAll("table.evalkit-sortable").forEach(function (table) {
  table.querySelectorAll("thead th button").forEach(function (button, col) {
    button.addEventListener("click", function () {
      var th = button.parentElement;
      var up = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.sort, y = b.cells[col].dataset.sort;
        if (x === "" || y === "") { return (x === "") - (y === ""); }  // blanks last
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
        return up ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""
TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>England: Direct Payments by council</title>
<style>{css}</style>
</head>
<body>
<a class="evalkit-skip" href="#content">Skip to content</a>
<main id="content">
<h1>England: Direct Payments by council</h1>
{notice}
<p>Every council's Direct Payment share and headline gaps beside England's, from the national
data of this run. Select a column's heading to sort by it; select it again to reverse the
order. <a href="{csv}">Download every figure (CSV)</a>, councils, regions and England, in the
form a council's own run takes as its comparators file.</p>
<p>{note}</p>
<table class="evalkit-sortable">
<caption>Councils: Direct Payment share and headline gaps, compared with England</caption>
<thead><tr>{head}</tr></thead>
<tbody>
{rows}
</tbody>
</table>
</main>
<script>{script}</script>
</body>
</html>
"""


def protected(table: pd.DataFrame, min_cell: int) -> publication.Publication:
    """The whole comparator table through the comparators' publication step."""
    areas = table.assign(name=[compute.area_name(t, c) for t, c in
                               zip(table["area_type"], table["area_code"], strict=True)],
                         value=float("nan"), lower=float("nan"), upper=float("nan"))
    return publication.publish("england", {"areas": areas}, {"min_cell": min_cell},
                               specs={"areas": SPEC})


def council_rows(areas: pd.DataFrame) -> pd.DataFrame:
    """One row per council and headline measure: its share and its position against England's
    (at 95% and 99.8%), from the protected rows."""
    everyone = areas[areas["group"] == compute.EVERYONE]
    england = everyone[everyone["area_type"] == compute.ENGLAND][["measure", "value"]]
    councils = everyone[everyone["area_type"] == compute.COUNCIL]
    return against(councils.merge(england.rename(columns={"value": "england"}), on="measure",
                                  how="left"), "england")


def _cell(value: object, sort: object, header: bool = False) -> str:
    """A table cell with its sort key."""
    tag = "th scope=\"row\"" if header else "td"
    key = "" if sort is None or pd.isna(sort) else str(sort)
    return f'<{tag} data-sort="{html.escape(key)}">{html.escape(str(value))}</{tag.split()[0]}>'


def page(table: pd.DataFrame, min_cell: int, notice: str | None = None) -> tuple[str, str]:
    """The England page (HTML) and its CSV from the national comparator table, with the
    synthetic-data `notice` as its banner (`render.synthetic_notice`; None for real data)."""
    pub = protected(table, min_cell)
    areas = pub["areas"]
    rows = council_rows(areas)
    measures = [m for m in HEADLINE if m in set(rows.get("measure", []))]
    head = ["Council", "Region"] + [h for m in measures for h in
                                    (f"{compute.MEASURES[m].label} (%)", "Compared with England")]
    body = []
    for la, per in rows.groupby("area_code"):
        region = compute.area_name(compute.REGION, compute.region_of(la) or "")
        name = per["name"].iloc[0]
        cells = [_cell(name, name, header=True), _cell(region, region)]
        by = per.set_index("measure")
        for m in measures:
            r = by.loc[m] if m in by.index else None
            value = None if r is None else r["value"]
            words = "" if r is None else display.in_words(
                r["england_950"], r["england_998"], compute.MEASURES[m].better, "England")
            cells += [_cell("n/a" if value is None or pd.isna(value) else fmt_share(value),
                            None if value is None or pd.isna(value) else round(value, 6)),
                      _cell(words, words)]
        body.append(f"<tr>{''.join(cells)}</tr>")
    heads = "".join(f'<th scope="col"><button type="button">{html.escape(h)}</button></th>'
                    for h in head)
    text = TEMPLATE.format(css=render.CSS.read_text(), csv=CSV, head=heads, rows="\n".join(body),
                           notice=render.notice_html(notice),
                           note=html.escape(pub.context["disclosure_note"]), script=SORT_SCRIPT)
    csv = areas.drop(columns=["name"]).assign(name=areas["name"]).to_csv(index=False)
    return text, csv


def has_councils(dataset: loader.Dataset) -> bool:
    """Whether the data hold two councils or more: then the run works out the comparator
    table (`start_table`)."""
    episodes = dataset.support_episodes
    return "la_code" in episodes and episodes["la_code"].nunique() >= 2


def start_table(data_dir: Path, date_order: str | None, engine: str | None,
                cache: Path) -> BaseProcess:
    """Start reducing the national data to the comparator table (`evalkit.run.national`) in a
    process of its own (through the forkserver), which loads the run's cached dataset
    (`loader.save_cache` into `cache`, done) and saves the table in `cache`: the runner works
    out the identifiers and writes each council's cache meanwhile, on the other core (9 s of
    the start of a run of every council, on one core). `finish_table` waits for it."""
    worker = worker_context().Process(target=_write_table,
                                      args=(data_dir, date_order, engine, cache),
                                      daemon=True, name="evalkit comparators")
    worker.start()
    return worker


def _write_table(data_dir: Path, date_order: str | None, engine: str | None,
                 cache: Path) -> None:
    """`start_table`'s process: load the cached dataset, reduce it, save TABLE in `cache`
    (under another name until it is whole)."""
    t0 = time.perf_counter()
    os.environ[loader.CACHE_ENV] = str(cache)
    table = national.reduce(load_data(data_dir, date_order, engine))
    part = cache / f"{TABLE}.part"
    table.to_parquet(part, index=False)
    part.replace(cache / TABLE)
    print(f"evalkit run: England and region comparators worked out in "
          f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)


def finish_table(worker: BaseProcess, cache: Path) -> Path:
    """Wait for `start_table`'s process; the table's path, or RunError when it failed (its
    error is above, on standard error)."""
    worker.join()
    if worker.exitcode != 0 or not (cache / TABLE).is_file():
        raise RunError("the England and region comparators could not be worked out from the "
                       f"national data (their process ended with exit code {worker.exitcode}: "
                       "its error is above); nothing was published: mend what that error names "
                       "and run again")
    return cache / TABLE


def with_link(index: str, out: Path, made: bool) -> str:
    """The index page with a link to the England page when this run made one or REPORT_DIR
    has one from an earlier run."""
    if not (made or (out / PAGE).is_file()):
        return index
    return index.replace("</h1>", f"</h1>\n{LINK}", 1)


def write(table_path: Path, folder: Path, min_cell: int, notice: str | None = None
          ) -> list[Path]:
    """Write england.html and england.csv of the table at `table_path` into `folder`."""
    text, csv = page(pd.read_parquet(table_path), min_cell, notice)
    (folder / PAGE).write_text(text, encoding="utf-8")
    (folder / CSV).write_text(csv, encoding="utf-8")
    return [folder / PAGE, folder / CSV]
