"""The national reduction of a run (`evalkit.run.national`) gives each council the counts its
own 02 report works out: a comparator is the report's figure, never a second calculation of it.
One small synthetic England (about 10 s)."""

from __future__ import annotations

import pytest

import evalkit
from evalkit.analyses import pa_market
from evalkit.analyses.comparators import compute as comparators
from evalkit.analyses.pa_market.compute_recruitment import filled_within
from evalkit.data import load as loader
from evalkit.data.codes import NOT_RECORDED
from evalkit.run import national
from evalkit.synth.generator import synthesise


@pytest.fixture(scope="module")
def england(tmp_path_factory: pytest.TempPathFactory) -> loader.Dataset:
    return evalkit.load(synthesise(tmp_path_factory.mktemp("england"), profile="england",
                                   scale=0.01, seed=3))


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
