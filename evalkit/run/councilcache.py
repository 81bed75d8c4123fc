"""Per-council caches of a national run: each council's own rows, validated once, so a notebook
that reads only its council's rows loads those and not the whole country.

`evalkit run` caches the validated national data once (`evalkit.data.load.save_cache`); every
kernel then loaded all of it (2.4M rows of the synthetic England folder) to keep one council's.
Notebooks 01, 02 and 03 read only their council's rows (03 unless asked to compare with other
councils, `comparison=councils`), with two exceptions that depend on the national data: 01's
default snapshot is the quarter end after the latest date in the whole folder, and 02 keeps the
whole PA register when it cannot be split by council. A council gets its own cache only when
neither applies (its default snapshot is the national one; the register has la_code, or is split
by its area codes, or is absent), so its reports are the same figures either way; otherwise,
and for every other notebook, the national cache is used. The quality table, findings and
warnings stay the national ones, as in every report of the run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.analyses.pa_market.compute_recruitment import council_requests
from evalkit.analyses.uptake.compute import default_period_end
from evalkit.cohorts import for_council
from evalkit.data import load as loader
from evalkit.run.national import Areas, by_council

#: the notebooks whose analyses read only their council's rows (see the module docstring)
OWN_ROWS = ("01_uptake", "02_pa_market")
#: 03 reads only its council's rows unless its controlled comparison is with other councils
OUTCOMES = "03_outcomes"


def council_dataset(dataset: loader.Dataset, la: str, own: pd.DataFrame,
                    snapshot: pd.Timestamp, areas: Areas) -> loader.Dataset | None:
    """The council's rows of `dataset` (its episodes `own`, population, survey, ASCOF, PA
    register and requests), or None when 01 or 02 would read national rows for it (see the
    module docstring)."""
    register = areas.register(la)
    if default_period_end(own) != snapshot or (
            register is dataset.pa_register and register is not None):
        return None
    return dataclasses.replace(
        dataset, support_episodes=own, population=for_council(dataset.population, la),
        survey=for_council(dataset.survey, la), ascof=for_council(dataset.ascof, la),
        pa_register=register, pa_requests=council_requests(dataset.pa_requests, own, la))


def write(dataset: loader.Dataset, data_dir: Path, cache: Path, sums: dict[str, str],
          las: Iterable[str]) -> dict[str, Path]:
    """Save each council's own cache under `cache`/councils/<la>; returns the council -> cache
    folder of those that have one (the others use the national cache)."""
    episodes = dataset.support_episodes
    if "la_code" not in episodes or episodes["la_code"].nunique() < 2:
        return {}
    snapshot, areas, wanted = default_period_end(episodes), Areas.of(dataset), set(las)
    folders = {}
    for la, own in by_council(dataset):
        data = council_dataset(dataset, la, own, snapshot, areas) if la in wanted else None
        if data is not None:
            folders[la] = cache / "councils" / la
            loader.save_cache(data, data_dir, folders[la], sums)
    return folders


def cache_for(la: str, notebook: str, parameters: Mapping[str, Any], folders: dict[str, Path],
              national: Path) -> Path:
    """The cache a notebook's kernel loads: its council's own, or the national one (03 when
    asked to compare with other councils, `comparison=councils`)."""
    own_rows = notebook in OWN_ROWS or (notebook == OUTCOMES
                                        and parameters.get("comparison") != "councils")
    return folders.get(la, national) if own_rows else national


def size(folder: Path) -> int:
    """Bytes of the files in a council's cache folder: how much work its notebooks have."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def table_bytes(dataset: loader.Dataset) -> int:
    """Memory held by one council's validated episodes at most (the largest council): what a
    notebook reading its own council's rows holds, for the memory estimate of --jobs."""
    episodes = dataset.support_episodes
    per_row = episodes.memory_usage(deep=True).sum() / max(len(episodes), 1)
    largest = episodes["la_code"].value_counts().max() if len(episodes) else 0
    return int(per_row * largest)
