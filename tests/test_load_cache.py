"""The load cache: `evalkit run` validates once and its notebooks reuse the validated tables."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers.tables import EXTRACT, make_clean_tables, write_tables

from evalkit.data.contract import TABLES
from evalkit.data.load import CACHE_ENV, load, save_cache

FIELDS = (*TABLES, "quality")


@pytest.fixture()
def folder(tmp_path):
    """A data folder with an excluded row, an ignored column and an unknown file (warnings)."""
    tables = make_clean_tables(seed=1, n=60)
    episodes = tables["support_episodes"].copy()
    episodes.loc[0, "start_date"] = ""  # blank_required:start_date
    tables["support_episodes"] = episodes.assign(notes="x")
    data = write_tables(tables, tmp_path / "data", "csv")
    (data / "readme.csv").write_text("a\n1\n")
    return data


def _same(a, b) -> None:
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if x is None:
            assert y is None, name
        else:
            pd.testing.assert_frame_equal(x, y, check_exact=True, obj=name)
    assert a.warnings == b.warnings and a.files == b.files and a.extract_date == b.extract_date


def test_cached_load_is_identical_to_a_fresh_one(folder, tmp_path, monkeypatch):
    fresh = load(folder, extract_date=EXTRACT)
    assert fresh.warnings and set(fresh.quality["reason"]) != {"kept"}
    save_cache(fresh, folder, tmp_path / "cache")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr("evalkit.data.load.load_table", _no_validation)
    _same(load(folder, extract_date=EXTRACT), fresh)


def _no_validation(*args, **kwargs):
    raise AssertionError("validated again although a matching cache exists")


def test_changed_file_or_extract_date_is_validated_again(folder, tmp_path, monkeypatch):
    fresh = load(folder, extract_date=EXTRACT)
    save_cache(fresh, folder, tmp_path / "cache")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    earlier = load(folder, extract_date=pd.Timestamp(EXTRACT) - pd.Timedelta(days=400))
    assert earlier.quality["reason"].str.startswith("future_date").any()
    path = folder / "support_episodes.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))  # one row fewer
    changed = load(folder, extract_date=EXTRACT)
    assert changed.quality["rows"].sum() == fresh.quality["rows"].sum() - 1


def test_cache_is_ignored_without_the_environment_variable(folder, tmp_path, monkeypatch):
    fresh = load(folder, extract_date=EXTRACT)
    save_cache(fresh, folder, tmp_path / "cache")
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setattr("evalkit.data.load.read_cache", _no_validation)
    _same(load(folder, extract_date=EXTRACT), fresh)


def test_a_second_load_reuses_the_first_and_cannot_see_its_changes(folder, tmp_path, monkeypatch):
    fresh = load(folder, extract_date=EXTRACT)
    save_cache(fresh, folder, tmp_path / "cache")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    first = load(folder, extract_date=EXTRACT)
    # what a notebook might do to its data: change values, add and drop columns, rebind
    first.support_episodes.loc[0, "person_id"] = "changed"
    first.population["extra"] = 1
    del first.pa_register[first.pa_register.columns[0]]
    first.warnings.append("added by a notebook")
    first.files["survey"] = []
    monkeypatch.setattr("evalkit.data.load.read_cache", _no_validation)
    monkeypatch.setattr("evalkit.data.load.sha256", _no_validation)
    second = load(folder, extract_date=EXTRACT)
    _same(second, fresh)
    assert second.support_episodes is not first.support_episodes


def test_a_file_changed_since_the_last_load_is_read_again(folder, tmp_path, monkeypatch):
    fresh = load(folder, extract_date=EXTRACT)
    save_cache(fresh, folder, tmp_path / "cache")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    _same(load(folder, extract_date=EXTRACT), fresh)
    path = folder / "support_episodes.csv"
    path.write_text(path.read_text().replace("\n", "\r\n"))  # same rows, another file
    monkeypatch.setattr("evalkit.data.load.read_cache", _no_validation)
    with pytest.raises(AssertionError, match="validated again"):
        load(folder, extract_date=EXTRACT)
