"""The national reduction of a run (`evalkit.run.national`) gives each council the counts its
own 02 report works out: a comparator is the report's figure, never a second calculation of it;
a run works it out in a process of its own, from its cached dataset (`england.start_table`),
with the same result. One small synthetic England (about 15 s)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import evalkit
from evalkit.analyses import pa_market
from evalkit.analyses.comparators import compute as comparators
from evalkit.analyses.pa_market.compute_recruitment import filled_within
from evalkit.data import load as loader
from evalkit.data.codes import NOT_RECORDED
from evalkit.run import england as run_england
from evalkit.run import national
from evalkit.run.plan import RunError
from evalkit.synth.generator import synthesise


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesise(tmp_path_factory.mktemp("england"), profile="england", scale=0.01, seed=3)


@pytest.fixture(scope="module")
def england(folder: Path) -> loader.Dataset:
    return evalkit.load(folder)


def test_each_councils_comparator_counts_are_its_02_figures(england: loader.Dataset) -> None:
    table = national.reduce(england).set_index(["area_type", "area_code", "measure"])
    councils = table.loc[comparators.COUNCIL]
    both = sorted(set(councils.xs("language_gap", level="measure").index)
                  & set(councils.xs("filled", level="measure").index))
    assert len(both) >= 3
    people = councils.xs("language_gap", level="measure")["denominator"]
    checked = people[both].sort_values(ascending=False, kind="stable").index[:3]
    for la in checked:
        market = pa_market.analyse(england, la_code=la)
        cover = market.coverage[~market.coverage["language"].isin([national.ENGLISH,
                                                                    NOT_RECORDED])]
        gap = councils.loc[(la, "language_gap")]
        assert (gap["numerator"], gap["denominator"]) == (cover["no_pa_area"].sum(),
                                                          cover["with_area"].sum())
        filled = filled_within(market.durations, [comparators.FILL_DAYS]).iloc[0]
        assert filled["group"] == pa_market.ALL_REQUESTS
        row = councils.loc[(la, "filled")]
        assert (row["numerator"], row["denominator"]) == (filled["filled"], filled["followed"])
    # not only empty councils: people and requests were counted
    for measure in ("language_gap", "filled"):
        assert councils.loc[[(la, measure) for la in checked], "denominator"].min() > 0


def test_a_runs_table_worked_out_in_its_own_process_is_the_reduction(
        folder: Path, england: loader.Dataset, tmp_path: Path) -> None:
    assert run_england.has_councils(england)
    loader.save_cache(england, folder, tmp_path, loader.checksums(england.files))
    made = run_england.finish_table(run_england.start_table(folder, None, None, tmp_path),
                                    tmp_path)
    assert made == tmp_path / run_england.TABLE
    pd.testing.assert_frame_equal(pd.read_parquet(made), national.reduce(england))
    assert not list(tmp_path.glob("*.part"))


def test_a_table_that_could_not_be_worked_out_stops_the_run(tmp_path: Path) -> None:
    worker = run_england.start_table(tmp_path / "missing", None, None, tmp_path)
    with pytest.raises(RunError, match="comparators could not be worked out.*exit code 1"):
        run_england.finish_table(worker, tmp_path)
    assert not (tmp_path / run_england.TABLE).exists()
