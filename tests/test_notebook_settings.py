"""`evalkit.report.style.notebook_settings`: the house chart style, and pandas' text columns
held as Python strings for a council's data (faster on its small frames) but not for national
data; the results are the same either way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import matplotlib as mpl
import pandas as pd
import pytest

import evalkit
from evalkit.analyses import outcomes, pa_market, uptake
from evalkit.report import style
from evalkit.synth.generator import synthesise

ANALYSES = {"uptake": uptake, "pa_market": pa_market, "outcomes": outcomes}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> evalkit.data.load.Dataset:
    return evalkit.load(synthesise(tmp_path_factory.mktemp("leic") / "data", scale=0.1, seed=3))


@pytest.fixture(autouse=True)
def restored() -> Iterator[None]:
    """pandas' default string storage during the test; the options and rc settings as they
    were before it afterwards."""
    with pd.option_context("mode.string_storage", pd.get_option("mode.string_storage")), \
            mpl.rc_context():
        pd.reset_option("mode.string_storage")
        yield


def new_text_storage() -> str:
    """Where pandas keeps a text column made now."""
    return pd.Series(["a", None]).array.dtype.storage


def test_council_data_gets_the_house_style_and_python_strings(data) -> None:
    assert new_text_storage() == "pyarrow"
    style.notebook_settings(data)
    assert new_text_storage() == "python"
    assert pd.Series(["a", None]).dtype == "str"  # the same dtype, NaN for missing
    colours = [c["color"].upper() for c in mpl.rcParams["axes.prop_cycle"]]
    assert colours == list(style.PALETTE)


def test_national_data_keeps_arrow(data, monkeypatch) -> None:
    monkeypatch.setattr(style, "PYTHON_STRINGS_BELOW", len(data.support_episodes))
    pd.set_option("mode.string_storage", "python")  # e.g. left by an earlier notebook
    style.notebook_settings(data)
    assert new_text_storage() == "pyarrow"


def recorded(module, data, folder: Path) -> str:
    """The results.json and key findings of `module`'s analysis of `data`, as its notebook
    records them."""
    path = module.record(module.publish(module.analyse(data, min_cell=5)),
                         folder / "results.json")
    return path.read_text() + (path.parent / "key_findings.md").read_text()


@pytest.mark.parametrize("name", ANALYSES)
def test_results_are_the_same_with_either_storage(data, tmp_path, name) -> None:
    module = ANALYSES[name]
    (tmp_path / "arrow").mkdir()
    (tmp_path / "python").mkdir()
    arrow = recorded(module, data, tmp_path / "arrow")
    style.notebook_settings(data)
    assert new_text_storage() == "python"
    assert recorded(module, data, tmp_path / "python") == arrow
