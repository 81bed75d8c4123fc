"""Notebook 01 publishes only protected figures (issue 14; docs/disclosure.md): every count in
every frame, table, sentence and results.json row is 0, suppressed, or rounded to 5 from its own
true value; every share is x' / n' of those counts; displays and findings never suppress or
quote anything of their own. On a small synthetic Leicester (many small cells)."""

from __future__ import annotations

import json
import re

import matplotlib
import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

import evalkit
from evalkit.analyses import uptake as u
from evalkit.analyses.uptake.publish import frame_specs
from evalkit.report import style
from evalkit.synth.generator import synthesise

matplotlib.use("Agg")
BASE, SMALLEST = 5, 8  # rounding base and least count shown for min_cell 5


@pytest.fixture(scope="module")
def res(tmp_path_factory):
    data = evalkit.load(synthesise(tmp_path_factory.mktemp("leic") / "data", scale=0.2, seed=3))
    return u.analyse(data, lookback=4)


@pytest.fixture(scope="module")
def pub(res):
    return u.publish(res)


def counts_of(pub) -> list[tuple[str, str, pd.Series]]:
    """(frame, column, values) of every count column the publication holds."""
    specs = frame_specs(pub.frames, pub.context["group_col"])
    return [(k, c, pub[k][c]) for k, s in specs.items() if pub[k] is not None
            and not pub[k].columns.empty for c in s.counts]


def count_cells(page: str) -> list[str]:
    """The text of every table cell under a header marked as a count (as the gate reads it)."""
    out = []
    for table in BeautifulSoup(page, "html.parser").find_all("table"):
        heads = table.find("thead").find_all("tr")[-1].find_all("th")
        marked = [i for i, h in enumerate(heads) if "count" in (h.get("class") or [])]
        for row in table.find("tbody").find_all("tr"):
            cells = row.find_all(["th", "td"])
            out += [cells[i].get_text(strip=True) for i in marked]
    return out


def test_every_published_count_is_zero_suppressed_or_rounded(pub):
    seen = counts_of(pub)
    assert len(seen) > 60
    values = pd.concat([v for *_, v in seen])
    assert values.isna().any() and (values == 0).any()  # small data: both happen
    shown = values.dropna()
    assert (shown % BASE == 0).all() and not shown.between(1, SMALLEST - 1).any()


def test_parts_and_totals_are_each_rounded_from_their_own_true_value(res, pub):
    b, g = res.bounds.set_index(res.group_col), pub["bounds"].set_index(pub.context["group_col"])
    for col in ("people", "dp", "no_dp", "not_stated_dp", "not_stated_people"):
        want = np.where((b[col] > 0) & (b[col] < SMALLEST), np.nan, BASE * ((b[col] + 2) // BASE))
        assert np.array_equal(g[col].to_numpy(), want, equal_nan=True), col
    with_parts = g.dropna(subset=["people", "dp", "no_dp"])
    assert (with_parts["people"] != with_parts["dp"] + with_parts["no_dp"]).any() or len(g) < 3


def test_a_share_with_all_not_stated_added_is_worked_out_from_protected_parts(pub):
    """Rounding each group's sum with the Not stated counts would give the attacker one noisy
    reading of the Not stated count per group; the parts are protected once instead."""
    b = pub["bounds"]
    assert not {"dp_if_all", "people_if_all"} & set(b.columns)
    want = (b["dp"] + b["not_stated_dp"]) / (b["people"] + b["not_stated_people"])
    ok = (b["people"] + b["not_stated_people"]) >= 50
    assert np.allclose(b["share_if_all_not_stated"][ok], want[ok], equal_nan=True)


def test_no_published_share_times_its_published_n_is_a_small_count(pub):
    checked = 0
    for name, spec in frame_specs(pub.frames, pub.context["group_col"]).items():
        f = pub[name]
        if f is None or f.columns.empty:
            continue
        for s in spec.shares:
            rows = f if s.rows is None else f[f[s.rows[0]] == s.rows[1]]
            if not set(s.parts("n")) <= set(spec.counts):
                continue
            x = (rows[s.value] / s.multiplier * rows[list(s.parts("n"))].sum(axis=1)).dropna()
            assert np.allclose(x, np.round(x / BASE) * BASE), (name, s.value)
            assert not x.round(6).between(1, SMALLEST - 1).any(), (name, s.value)
            checked += len(x)
    assert checked > 30


def test_results_json_holds_only_protected_figures(pub, tmp_path):
    path = u.record(pub, tmp_path / "results.json")
    rows = json.loads(path.read_text())["estimates"]
    ns = [e["n"] for e in rows if e["n"] is not None]
    assert ns and all(isinstance(n, int) and n % BASE == 0 and not 0 < n < SMALLEST for n in ns)
    shares = [e for e in rows if e["name"] in ("uptake_share", "dp_offer_rate",
                                               "dp_acceptance_rate", "unpaid_carer_share",
                                               "uptake_share_all") and e["value"] is not None]
    assert shares
    for e in shares:  # value = x' / n': its count is a multiple of 5 as well
        x = e["value"] * e["n"]
        assert abs(x - BASE * round(x / BASE)) < 1e-6 and not 0 < round(x) < SMALLEST, e
    assert all(e["n"] is None or e["n"] >= 50 for e in shares)  # shares need 50 people


def test_model_estimates_blank_where_a_group_lacks_min_cell_in_an_outcome(res, pub):
    o, p = res.odds.set_index(["factor", "group"]), pub["odds/broad"].set_index(["factor",
                                                                                "group"])
    few = (o["dp"] < 5) | (o["no_dp"] < 5) | o["dp"].isna()
    assert p.loc[few[few].index, "value"].isna().all()
    kept = o.index[~few & o["value"].notna()]
    assert len(kept) and np.allclose(p.loc[kept, "value"], o.loc[kept, "value"])  # as fitted
    assert "df_resid" not in p


def test_funnel_positions_come_from_protected_counts(pub):
    f, units = pub["areas/funnel"], pub["areas/units"]
    assert set(f["area"]) == set(units.dropna(subset=["dp", "people"])
                                 .query("people > 0")["area"])
    assert np.allclose(f["value"], f["dp"] / f["people"])
    assert pub["areas/limits"]["baseline"].iloc[0] == pytest.approx(f["dp"].sum()
                                                                    / f["people"].sum())


def test_continuation_shares_are_counts_over_counts(pub):
    c = pub["continuation"].dropna(subset=["value"])
    assert len(c) and np.allclose(c["value"], c["ended"] / c["followed"])
    assert not {"n_risk", "surv"} & set(pub["continuation"].columns)  # no Kaplan-Meier steps


def test_pages_show_only_protected_counts_and_say_how(pub, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(style, "display", lambda obj: shown.append(str(getattr(obj, "data", ""))))
    monkeypatch.setattr(style, "show", lambda fig, alt: shown.append(alt))
    for f in (u.show_key_findings, u.show_coverage, u.show_missing, u.show_sensitivity,
              u.show_uptake, u.show_isr, u.show_intersection, u.show_offers, u.show_ended,
              u.show_carer, u.show_funnel, u.show_areas_outside, u.show_methods):
        f(pub)
    u.show_mix(pub, "dp_used_for")
    u.show_trend(pub, "new_starts")
    page = "\n".join(shown)
    counts = count_cells(page)
    assert len(counts) > 100 and "[c]" in counts and "0" in counts
    numbers = [int(c.replace(",", "")) for c in counts if c != "[c]"]
    assert all(n % BASE == 0 and not 0 < n < SMALLEST for n in numbers)
    assert pub.context["disclosure_note"] in page.replace("&#x27;", "'")
    said = re.findall(r"(?:the|of|holds) ([\d,]+) (?:adults|people|Asian|Black|White)", page)
    assert said and all(int(n.replace(",", "")) % BASE == 0 for n in said)
