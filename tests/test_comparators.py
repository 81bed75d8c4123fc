"""Comparators (issue 19): regions of the councils, the comparator table summed to regions and
England, the council's rows picked from the run's table or a published england.csv, protected
counts, Fingertips-style comparisons worked out from them, the England page and `--la
all-councils`. Small hand-made tables: each test takes well under a second."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from evalkit.analyses import comparators
from evalkit.analyses.comparators import compute, display
from evalkit.analyses.comparators.publish import position
from evalkit.data.councils import councils
from evalkit.data.regions import REGIONS, council_regions, region_of
from evalkit.run import england
from evalkit.run.manifest import data_periods
from evalkit.run.plan import RunError
from evalkit.run.plan import councils as plan_councils
from evalkit.sdc import gate

#: Leicester and Derby (East Midlands), Birmingham (West Midlands)
LEICESTER, DERBY, BIRMINGHAM = "E06000016", "E06000015", "E08000025"


def council_table() -> pd.DataFrame:
    """Council rows of two measures: Leicester's DP share well above the others'."""
    rows = [(LEICESTER, "dp_share", "Everyone", 600, 1000),
            (DERBY, "dp_share", "Everyone", 300, 1000),
            (BIRMINGHAM, "dp_share", "Everyone", 900, 3000),
            (LEICESTER, "dp_share_group", "Asian", 203, 400),
            (LEICESTER, "dp_share_group", "Black", 3, 6),
            (DERBY, "dp_share_group", "Asian", 52, 200),
            (BIRMINGHAM, "dp_share_group", "Asian", 310, 1000),
            (LEICESTER, "language_gap", "Everyone", 12, 300),
            (DERBY, "language_gap", "Everyone", 60, 300),
            (BIRMINGHAM, "language_gap", "Everyone", 200, 1000)]
    frame = pd.DataFrame(rows, columns=["area_code", "measure", "group", "numerator",
                                        "denominator"])
    return frame.assign(area_type=compute.COUNCIL)[compute.COLUMNS]


@pytest.fixture
def table_file(tmp_path: Path) -> Path:
    path = tmp_path / "comparators.parquet"
    compute.with_totals(council_table()).to_parquet(path, index=False)
    return path


def test_every_council_has_its_ons_region() -> None:
    regions = council_regions()
    assert set(regions) == set(councils()["la_code"])
    sizes = Counter(REGIONS[r] for r in regions.values())
    assert sizes == {"London": 33, "North West": 24, "South East": 19, "South West": 15,
                     "Yorkshire and The Humber": 15, "West Midlands": 14, "North East": 12,
                     "East of England": 11, "East Midlands": 10}
    assert region_of(LEICESTER) == region_of(DERBY) == "E12000004"
    assert region_of("E09000001") == "E12000007" and region_of("W06000001") is None


def test_totals_are_the_sums_of_the_councils() -> None:
    table = compute.with_totals(council_table())
    england_rows = table[table["area_type"] == compute.ENGLAND].set_index(["measure", "group"])
    assert england_rows.loc[("dp_share", "Everyone"), ["numerator", "denominator"]].tolist() \
        == [1800, 5000]
    region = table[(table["area_type"] == compute.REGION) & (table["measure"] == "dp_share")]
    assert region.set_index("area_code")["numerator"].to_dict() == {"E12000004": 900,
                                                                    "E12000005": 900}


def test_without_national_data_there_are_no_comparators_and_a_reason(monkeypatch) -> None:
    monkeypatch.delenv(compute.ENV, raising=False)
    alone = comparators.analyse(LEICESTER)
    assert alone.rows is None and "never estimated from one council's data" in alone.reason
    assert comparators.analyse("all").rows is None
    pub = comparators.publish(alone, 5)
    assert pub["comparisons"] is None


def test_council_rows_come_from_the_run_table(table_file: Path, monkeypatch) -> None:
    monkeypatch.setenv(compute.ENV, str(table_file))
    cmp = comparators.analyse(LEICESTER)
    assert set(zip(cmp.rows["area_type"], cmp.rows["area_code"], strict=True)) == {
        (compute.COUNCIL, LEICESTER), (compute.REGION, "E12000004"),
        (compute.ENGLAND, compute.ENGLAND_CODE)}
    assert comparators.analyse("E06000001").rows is None  # not in the table: said, not guessed


def test_published_counts_are_protected_and_compared_from_them(table_file: Path) -> None:
    pub = comparators.publish(comparators.analyse(LEICESTER, table_file), 5)
    areas = pub["areas"]
    shown = areas[["numerator", "denominator"]].to_numpy(float).ravel()
    shown = shown[~np.isnan(shown)]
    assert (shown % 5 == 0).all()  # rounded to 5, each from its own true count
    assert not ((areas["group"] == "Black") & (areas["area_type"] == compute.COUNCIL)).any()
    cmp = pub["comparisons"].set_index(["measure", "group"])
    overall = cmp.loc[("dp_share", "Everyone")]
    assert overall["value"] == pytest.approx(0.6) and overall["england"] == pytest.approx(0.36)
    assert overall["england_950"] == overall["england_998"] == "higher"
    asian = cmp.loc[("dp_share_group", "Asian")]  # 205/400 shown, from 203/400
    assert asian["value"] == pytest.approx(205 / 400)
    gap = cmp.loc[("language_gap", "Everyone")]
    assert gap["england_950"] == "lower"


def test_position_against_a_comparator() -> None:
    x, n = np.array([50.0, 30.0, np.nan, 5.0]), np.array([100.0, 100.0, 100.0, 0.0])
    base = np.array([0.3, 0.3, 0.3, 0.3])
    assert position(x, n, base, 0.95).tolist() == ["higher", "similar", None, None]
    assert position(np.array([35.0]), np.array([100.0]), np.array([0.25]), 0.998).tolist() \
        == ["similar"]  # above at 95%, not beyond 99.8%


def test_comparisons_in_words_follow_the_measure_direction() -> None:
    assert display.in_words("lower", "lower", "lower", "England") \
        == "better than England (beyond the 99.8% limit)"
    assert display.in_words("higher", "similar", "lower", "the region") \
        == "worse than the region (beyond the 95% limit)"
    assert display.in_words("higher", "higher", None, "England").startswith("higher than")
    assert display.in_words("similar", "similar", "higher", "England") == "similar to England"
    assert display.in_words(None, None, "higher", "England").startswith("not compared")


def test_england_page_is_sortable_protected_and_passes_the_gate(tmp_path: Path) -> None:
    path = tmp_path / "comparators.parquet"
    compute.with_totals(council_table()).to_parquet(path, index=False)
    page, csv = england.write(path, tmp_path, 5)
    soup = BeautifulSoup(page.read_text(), "html.parser")
    table = soup.find("table", class_="evalkit-sortable")
    heads = table.find("thead").find_all("th")
    assert all(th.get("scope") == "col" and th.find("button", type="button") for th in heads)
    names = [th.get_text() for th in table.find("tbody").find_all("th", scope="row")]
    assert sorted(names) == ["Birmingham", "Derby", "Leicester"]
    assert soup.find("script") and soup.find("a", href=england.CSV)
    published = pd.read_csv(csv)
    counts = published[["numerator", "denominator"]].to_numpy(float).ravel()
    counts = counts[~np.isnan(counts)]
    assert (counts % 5 == 0).all() and not ((counts > 0) & (counts < 8)).any()
    ids = gate.identifiers({"support_episodes": pd.DataFrame({"person_id": ["P0000001"]})})
    assert gate.scan([page, csv], ids, 5, tmp_path) == []


def test_a_published_england_csv_gives_the_same_comparators(tmp_path: Path) -> None:
    path = tmp_path / "comparators.parquet"
    compute.with_totals(council_table()).to_parquet(path, index=False)
    _, csv = england.write(path, tmp_path, 5)
    from_run = comparators.publish(comparators.analyse(LEICESTER, path), 5)["comparisons"]
    from_csv = comparators.publish(comparators.analyse(LEICESTER, csv), 5)["comparisons"]
    pd.testing.assert_frame_equal(from_run, from_csv, check_dtype=False)


def test_index_links_the_england_page_only_when_there_is_one(tmp_path: Path) -> None:
    index = "<h1>Reports</h1><p>rest</p>"
    assert england.with_link(index, tmp_path, made=False) == index
    assert 'href="england.html"' in england.with_link(index, tmp_path, made=True)
    (tmp_path / england.PAGE).write_text("earlier run")
    assert 'href="england.html"' in england.with_link(index, tmp_path, made=False)


def test_all_councils_is_every_council_in_the_data() -> None:
    episodes = pd.DataFrame({"la_code": [DERBY, LEICESTER, DERBY, BIRMINGHAM]})
    data = SimpleNamespace(support_episodes=episodes)
    assert plan_councils(data, ["all-councils"]) == [DERBY, LEICESTER, BIRMINGHAM]
    assert plan_councils(data, [BIRMINGHAM, "all-councils"]) == [BIRMINGHAM, DERBY, LEICESTER]
    with pytest.raises(RunError, match="E06000001"):  # a council asked for must be in the data
        plan_councils(data, ["E06000001", "all-councils"])


def test_each_councils_data_period_in_one_pass() -> None:
    episodes = pd.DataFrame({
        "la_code": [DERBY, DERBY, LEICESTER, None],
        "start_date": pd.to_datetime(["2020-01-02", None, "2021-05-01", "2019-01-01"]),
        "end_date": pd.to_datetime([None, "2022-03-04", None, None])})
    assert data_periods(episodes, [DERBY, LEICESTER, BIRMINGHAM, "all"]) == {
        DERBY: {"start": "2020-01-02", "end": "2022-03-04"},
        LEICESTER: {"start": "2021-05-01", "end": "2021-05-01"},
        BIRMINGHAM: {"start": None, "end": None},  # no episode
        "all": {"start": "2019-01-01", "end": "2022-03-04"}}  # the row without a council too
    assert data_periods(episodes.iloc[:0], ["all"]) == {"all": {"start": None, "end": None}}


def test_a_measure_without_direction_is_shown_alone(table_file: Path) -> None:
    """Group shares have no better direction: the table words them higher or lower (once
    failed when every row shown was such a measure: None became NaN)."""
    pub = comparators.publish(comparators.analyse(LEICESTER, table_file), 5)
    table = display.comparison_table(pub, ["dp_share_group"])
    assert table["vs_england"].tolist() == ["higher than England (beyond the 99.8% limit)"]
    display.show_comparators(pub, ["dp_share_group"])
