"""The national reduction of `evalkit run`: every council's counts for the comparator measures
(`evalkit.analyses.comparators`), worked out once per run from the national data, with the same
definitions the reports use, then summed to regions and England.

It lives in the run layer because it calls two analyses' own functions (01's snapshot and 02's
language coverage and time to recruit) for every council: the comparator of a report is the
same calculation as the report's own figure, never a second copy of it. The table holds exact
counts and stays in the run's private cache; what a report or the England page shows of it goes
through the publication step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.analyses.comparators import compute as comparators
from evalkit.analyses.pa_market import (
    active_pas,
    area_language_grid,
    area_rows,
    choose_snapshot,
    council_register,
    extract_date,
    recruitment_durations,
)
from evalkit.analyses.pa_market.compute import with_language
from evalkit.analyses.pa_market.compute_recruitment import council_requests, followed_filled
from evalkit.analyses.pa_market.compute_workforce import language_gaps
from evalkit.analyses.uptake.compute import default_period_end
from evalkit.cohorts import dp_recipients, snapshot
from evalkit.data import load as loader
from evalkit.data.codes import NOT_RECORDED

#: a language whose speakers are not counted in the language gap (02 shows it, but a PA who
#: speaks English is not what is missing)
ENGLISH = "English"


def reduce(dataset: loader.Dataset) -> pd.DataFrame:
    """The comparator table of `dataset`: council rows (`comparators.COLUMNS`) for every measure
    the data allow, with region and England rows added (`comparators.with_totals`)."""
    areas = Areas.of(dataset)
    frames = [_uptake_counts(dataset), _ascof_counts(dataset)]
    frames += [_market_counts(dataset, la, own, areas) for la, own in by_council(dataset)]
    table = pd.concat([f for f in frames if f is not None and len(f)], ignore_index=True)
    return comparators.with_totals(table)


def by_council(dataset: loader.Dataset) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each council's episodes (in the data's order), one council at a time."""
    for la, own in dataset.support_episodes.groupby("la_code", sort=True, observed=True):
        yield str(la), own.reset_index(drop=True)


@dataclass(frozen=True)
class Areas:
    """The council and area codes of the episodes and population, one row each, and the PA
    register's rows by area: what `council_register` reads to split the register, without the
    national rows and without scanning the register for each council."""

    episodes: pd.DataFrame | None
    population: pd.DataFrame | None
    pa_register: pd.DataFrame | None
    by_area: dict[str, np.ndarray]

    @classmethod
    def of(cls, dataset: loader.Dataset) -> Areas:
        def slim(frame: pd.DataFrame | None) -> pd.DataFrame | None:
            cols = [c for c in ("la_code", "area_code") if frame is not None and c in frame]
            return None if frame is None else frame[cols].drop_duplicates()
        return cls(slim(dataset.support_episodes), slim(dataset.population),
                   dataset.pa_register, area_rows(dataset.pa_register))

    def register(self, la: str) -> pd.DataFrame | None:
        """The council's PA register rows (`council_register`): the dataset's register itself
        when it cannot be split."""
        return council_register(self.pa_register, self.episodes, self.population, la,
                                self.by_area)


def _rows(la: pd.Series | str, measure: str, group: pd.Series | str, numerator: pd.Series | int,
          denominator: pd.Series | int) -> pd.DataFrame:
    """Council rows of one measure in the table's columns."""
    frame = pd.DataFrame({"area_code": la, "measure": measure, "group": group,
                          "numerator": numerator, "denominator": denominator},
                         index=[0] if isinstance(la, str) else None)
    return frame.assign(area_type=comparators.COUNCIL)[comparators.COLUMNS]


def _uptake_counts(dataset: loader.Dataset) -> pd.DataFrame:
    """01's snapshot on its default date: adults with a DP of all adults on community long-term
    support, per council (`dp_share`) and per council and broad ethnic group
    (`dp_share_group`)."""
    episodes = dataset.support_episodes
    snap = snapshot(episodes, default_period_end(episodes))
    whole = snap.groupby("la_code", observed=True)["has_dp"].agg(["sum", "size"]).reset_index()
    groups = (snap.groupby(["la_code", "ethnic_group_broad"], observed=True)["has_dp"]
              .agg(["sum", "size"]).reset_index())
    return pd.concat([
        _rows(whole["la_code"], "dp_share", comparators.EVERYONE, whole["sum"], whole["size"]),
        _rows(groups["la_code"], "dp_share_group", groups["ethnic_group_broad"], groups["sum"],
              groups["size"])], ignore_index=True)


def _ascof_counts(dataset: loader.Dataset) -> pd.DataFrame | None:
    """ASCOF 3D part 2a for adults (18+) per council, when the data are raw CLD."""
    ascof = dataset.ascof
    if ascof is None:
        return None
    adults = ascof[(ascof["measure"] == "3D2a") & (ascof["age_band"] == "18+")]
    return _rows(adults["la_code"], "ascof_3d2a", comparators.EVERYONE, adults["numerator"],
                 adults["denominator"])


def _market_counts(dataset: loader.Dataset, la: str, eps: pd.DataFrame, areas: Areas
                   ) -> pd.DataFrame:
    """02's headline counts for council `la` (its episodes `eps`): people with a DP (and a
    recorded area) whose preferred language other than English no active PA in their area
    speaks (`language_gap`: 02's `language_gaps`), and PA requests followed for FILL_DAYS and
    filled within them (`filled`: 02's `followed_filled`, of all requests). Only the counts:
    02's tables around them (shares, intervals, each request group) were 0.6 of the
    reduction's time."""
    register = areas.register(la)
    requests = council_requests(dataset.pa_requests, eps, la)
    extract = extract_date(eps, register, requests)
    frames = []
    if register is not None and len(register):
        snap = choose_snapshot(register, None)
        pas = active_pas(register, snap)
        recipients = with_language(dp_recipients(eps, extract))
        gaps = language_gaps(area_language_grid(pas, recipients, "area_code"))
        other = gaps[~gaps.index.isin([ENGLISH, NOT_RECORDED])]
        frames.append(_rows(la, "language_gap", comparators.EVERYONE,
                            int(other["no_pa_area"].sum()), int(other["with_area"].sum())))
    if requests is not None and len(requests):
        durations = recruitment_durations(requests, extract)
        followed, filled = followed_filled(durations, comparators.FILL_DAYS)
        frames.append(_rows(la, "filled", comparators.EVERYONE, int(filled.sum()),
                            int(followed.sum())))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
