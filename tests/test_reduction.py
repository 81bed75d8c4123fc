"""The comparator table of a national run is reduced in a process of its own while the runner
goes on (`evalkit.run.england.Reduction`): the same table as reduced in the runner, its errors
redacted, and the process ended when the run stops first."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers.tables import EXTRACT, make_clean_tables, write_tables

from evalkit.data import load as loader
from evalkit.run import england, national
from evalkit.run.plan import RunError
from evalkit.sdc import gate as privacy


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[loader.Dataset, Path]:
    """Two councils' validated data and the folder `save_cache` wrote them to."""
    folder = tmp_path_factory.mktemp("reduction")
    data_dir = write_tables(make_clean_tables(seed=3, n=400), folder / "data", "csv")
    dataset = loader.load(data_dir, extract_date=EXTRACT)
    assert dataset.support_episodes["la_code"].nunique() == 2
    return dataset, loader.save_cache(dataset, data_dir, folder / "cache")


def ids_of(dataset: loader.Dataset) -> privacy.Identifiers:
    return privacy.identifiers({t: getattr(dataset, t) for t in privacy.ID_COLUMNS})


def test_the_table_reduced_in_its_own_process_is_the_runners(saved, tmp_path: Path) -> None:
    dataset, folder = saved
    reduction = england.start_reduction(dataset, folder, tmp_path)
    assert reduction is not None
    table = pd.read_parquet(reduction.result(ids_of(dataset)))
    assert not reduction.process.is_alive()
    pd.testing.assert_frame_equal(table, national.reduce(dataset), check_exact=True)
    assert set(table["measure"]) >= {"dp_share", "dp_share_group"}


def test_one_councils_data_have_no_comparators(saved, tmp_path: Path) -> None:
    dataset, folder = saved
    episodes = dataset.support_episodes
    one = loader.Dataset(**{**vars(dataset), "support_episodes":
                            episodes[episodes["la_code"] == episodes["la_code"].iloc[0]]})
    assert england.start_reduction(one, folder, tmp_path) is None


def test_a_failed_reduction_stops_the_run_with_its_error_redacted(saved, tmp_path: Path) -> None:
    dataset, _ = saved
    person = str(dataset.support_episodes["person_id"].iloc[0])
    missing = tmp_path / person  # no tables saved here; its name is a person's identifier
    reduction = england.Reduction(missing, dataset.files, None, tmp_path)
    with pytest.raises(RunError, match="comparators could not be worked out") as raised:
        reduction.result(ids_of(dataset))
    assert "FileNotFoundError" in str(raised.value) and person not in str(raised.value)
    assert not reduction.process.is_alive() and not (tmp_path / "comparators.parquet").exists()


def test_a_run_that_stops_first_ends_the_reduction(saved, tmp_path: Path) -> None:
    dataset, folder = saved
    reduction = england.start_reduction(dataset, folder, tmp_path)
    reduction.stop()
    assert not reduction.process.is_alive()
    reduction.stop()  # once ended, stopping again does nothing


def test_a_reduction_killed_stops_the_run(saved, tmp_path: Path) -> None:
    import os
    import signal

    dataset, folder = saved
    reduction = england.start_reduction(dataset, folder, tmp_path)
    os.kill(reduction.process.pid, signal.SIGKILL)
    with pytest.raises(RunError, match=r"ended without a result \(exit code -9\)"):
        reduction.result(ids_of(dataset))
