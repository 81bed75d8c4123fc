"""The optional `areas` lookup (area_code, area_name): loaded like any table, refused with a
clear error when a name is blank or a code repeats, a warning (not an error) when it does not
match the data, and used by notebook 02 to show "Name (code)"; `evalkit synth` writes one."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest

import evalkit
from evalkit.analyses import pa_market as pm
from evalkit.data.areas import area_label
from evalkit.data.contract import ContractError
from evalkit.report import style
from evalkit.synth.generator import synthesise


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return synthesise(tmp_path_factory.mktemp("areas") / "data", scale=0.2, seed=5)


def with_areas(folder, tmp_path, areas: pd.DataFrame | None):
    """A copy of the synthetic folder with `areas` as its lookup (none when None)."""
    out = tmp_path / "data"
    shutil.copytree(folder, out)
    (out / "areas.csv").unlink()
    if areas is not None:
        areas.to_csv(out / "areas.csv", index=False)
    return out


def test_synth_writes_a_lookup_naming_every_area_of_the_data(folder):
    data = evalkit.load(folder)
    assert data.areas is not None and data.areas["area_name"].str.startswith("Ward ").all()
    assert set(data.support_episodes["area_code"].dropna()) <= set(data.areas["area_code"])
    assert not [w for w in data.warnings if w.startswith("areas")]


def test_blank_name_is_an_error_naming_file_rows_and_column(folder, tmp_path):
    areas = pd.DataFrame({"area_code": ["E05900000", "E05900001", "E05900002"],
                          "area_name": ["Ward 1", " ", None]})
    with pytest.raises(ContractError, match=r"areas\.csv: area_name is blank on rows 3, 4"):
        evalkit.load(with_areas(folder, tmp_path, areas))


def test_repeated_code_is_an_error_naming_the_rows(folder, tmp_path):
    areas = pd.DataFrame({"area_code": ["E05900000", "e05900001", "E05900001"],
                          "area_name": ["Ward 1", "Ward 2", "Ward Two"]})
    with pytest.raises(ContractError, match=r"area_code repeats on rows 3, 4 \(e\.g\. E05900001"):
        evalkit.load(with_areas(folder, tmp_path, areas))


def test_codes_not_matching_the_data_are_warnings_not_errors(folder, tmp_path):
    areas = pd.DataFrame({"area_code": ["E05900000", "E05999999"],
                          "area_name": ["Ward 1", "Elsewhere"]})
    data = evalkit.load(with_areas(folder, tmp_path, areas))
    said = [w for w in data.warnings if w.startswith("areas")]
    assert any("have no area_name (E05900001" in w for w in said), said
    assert any("1 of its 2 area code(s) are not in the data" in w for w in said), said


def test_area_label_is_name_and_code_when_named():
    assert area_label("E05900002", {"E05900002": "Ward 3"}) == "Ward 3 (E05900002)"
    assert area_label("E05900009", {"E05900002": "Ward 3"}) == "E05900009"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo-sized folder: enough people per area and language for the heatmap."""
    return synthesise(tmp_path_factory.mktemp("areas_demo") / "data", scale=1.0, seed=1)


def heatmap_rows(data, monkeypatch) -> list[str]:
    """The area labels of 02's area heatmap."""
    figs = []
    monkeypatch.setattr(style, "display", lambda obj: None)
    monkeypatch.setattr(style, "show", lambda fig, alt: figs.append(fig))
    pm.show_area_heatmap(pm.publish(pm.analyse(data, n_boot=20)))
    return [t.get_text() for t in figs[0].axes[0].get_yticklabels()]


def test_02_heatmap_shows_name_and_code_with_the_lookup_and_codes_without(demo, tmp_path,
                                                                         monkeypatch):
    named = heatmap_rows(evalkit.load(demo), monkeypatch)
    assert named and all(re.fullmatch(r"Ward \d+ \(E059\d{5}\)", r) for r in named), named
    bare = heatmap_rows(evalkit.load(with_areas(demo, tmp_path, None)), monkeypatch)
    assert all(re.fullmatch(r"E059\d{5}", r) for r in bare), bare


def test_01_funnel_and_areas_table_show_name_and_code(demo, monkeypatch):
    from evalkit.analyses import uptake as up

    said, figs = [], []
    monkeypatch.setattr(style, "display", lambda obj: said.append(str(getattr(obj, "data", obj))))
    monkeypatch.setattr(style, "show", lambda fig, alt: figs.append(fig))
    pub = up.publish(up.analyse(evalkit.load(demo)))
    up.show_funnel(pub)
    up.show_areas_outside(pub)
    labels = [t.get_text() for ax in figs[0].axes for t in ax.texts]
    assert labels and all(re.fullmatch(r"Ward \d+ \(E059\d{5}\)", t) for t in labels), labels
    assert re.search(r"Ward \d+ \(E059\d{5}\)", "\n".join(said))
