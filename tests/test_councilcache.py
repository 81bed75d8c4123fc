"""Per-council caches of a national run (issue 19): a council gets its own rows only when
notebooks 01 and 02 would read nothing national for it, and 03 always loads the national data.
Hand-made frames; each test takes well under a second."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evalkit.data import load as loader
from evalkit.run import councilcache
from evalkit.run.national import Areas


def own_data(data: loader.Dataset, la: str, snapshot: str) -> loader.Dataset | None:
    """`council_dataset` of council `la`."""
    episodes = data.support_episodes
    own = episodes[episodes["la_code"] == la].reset_index(drop=True)
    return councilcache.council_dataset(data, la, own, pd.Timestamp(snapshot), Areas.of(data))


def dataset(ends: dict[str, str], register: pd.DataFrame | None = None) -> loader.Dataset:
    """Two episodes per council, the last ending on `ends[la]`."""
    rows = [(la, f"P{la}{i}", "2023-01-01", end if i else None)
            for la, end in ends.items() for i in range(2)]
    episodes = pd.DataFrame(rows, columns=["la_code", "person_id", "start_date", "end_date"])
    episodes[["start_date", "end_date"]] = episodes[["start_date", "end_date"]].apply(
        pd.to_datetime)
    episodes["area_code"] = episodes["la_code"] + "A"
    return loader.Dataset(support_episodes=episodes, population=None, pa_register=register,
                          pa_requests=None, survey=None, practice_changes=None, engagement=None,
                          quality=pd.DataFrame(), findings=pd.DataFrame(), files={},
                          warnings=[], extract_date=pd.Timestamp("2025-01-01"))


def test_a_council_whose_own_snapshot_is_the_national_one_gets_its_rows() -> None:
    data = dataset({"E1": "2024-03-10", "E2": "2024-02-01", "E3": "2023-06-01"})
    own = own_data(data, "E2", "2024-03-31")
    assert own is not None and set(own.support_episodes["la_code"]) == {"E2"}
    assert own.quality is data.quality  # the national data-quality table, as in every report
    assert own_data(data, "E3", "2024-03-31") is None  # 01's snapshot would differ


def test_a_register_that_cannot_be_split_keeps_the_council_on_national_data() -> None:
    whole = pd.DataFrame({"pa_id": ["A", "B"], "snapshot_date": ["2024-01-01"] * 2})
    data = dataset({"E1": "2024-03-10", "E2": "2024-03-01"}, register=whole)
    assert own_data(data, "E1", "2024-03-31") is None
    split = whole.assign(area_code=["E1A", "E2A"])
    data = dataset({"E1": "2024-03-10", "E2": "2024-03-01"}, register=split)
    own = own_data(data, "E1", "2024-03-31")
    assert own.pa_register["pa_id"].tolist() == ["A"]


def test_03_loads_the_national_data_only_to_compare_with_other_councils(tmp_path: Path) -> None:
    own = {"E1": tmp_path / "E1"}
    national = tmp_path / "national"
    for notebook in ("01_uptake", "02_pa_market", "03_outcomes"):
        assert councilcache.cache_for("E1", notebook, {}, own, national) == own["E1"]
        assert councilcache.cache_for("E2", notebook, {}, own, national) == national
    councils = {"comparison": "councils"}
    assert councilcache.cache_for("E1", "03_outcomes", councils, own, national) == national
    assert councilcache.cache_for("E1", "03_outcomes", {"comparison": "teams"}, own,
                                  national) == own["E1"]
    assert councilcache.cache_for("E1", "04_other", {}, own, national) == national
