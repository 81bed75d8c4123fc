"""Notebook 02's workforce measures: who the active PAs are against the people who employ them and
the adult population (composition, index of dissimilarity, relative likelihood), and which
languages people with a Direct Payment prefer that no active PA near them speaks.

Inputs are the frames of one row per PA or person that `analyse` prepares; outputs are tidy
frames of counts and estimates per group.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evalkit.analyses.pa_market.compute_register import split_languages
from evalkit.data import codes
from evalkit.stats.comparisons import compare_proportions, relative_likelihood
from evalkit.stats.indicators import proportion
from evalkit.stats.workforce import dissimilarity_index

NOT_RECORDED = codes.NOT_RECORDED
SOURCES = {"pas": "Active PAs", "recipients": "DP recipients employing PAs",
           "population": "Working-age population (18-64)"}
WORKING_AGE = (18, 64)  # PAs are of working age: the WRES denominator (issue 17)


# --------------------------------------------------------------------------- who the PAs are
def broad_population(population: pd.DataFrame | None) -> pd.DataFrame | None:
    """Adult population with `ethnic_group_broad` derived (its ethnic_group may be either level)."""
    if population is None or population.empty or "ethnic_group" not in population:
        return None
    return population.assign(
        ethnic_group_broad=codes.ethnic_group_broad(population["ethnic_group"]))


def composition(pas: pd.DataFrame, recipients: pd.DataFrame, population: pd.DataFrame | None,
                by: str, conf: float = 0.95) -> pd.DataFrame:
    """Share of each group among active PAs, DP recipients employing PAs and adults.

    `by` is a column of the register (ethnic_group_broad, ethnic_group, gender, religion) or
    `language` (a PA speaking two languages counts in both; recipients by preferred_language).
    Sources lacking the column are left out. Wilson intervals via `proportion`.
    """
    parts = []
    if by == "language":
        long = split_languages(pas)
        if len(long):
            parts.append(long.groupby("language").size().rename("count").reset_index()
                         .assign(source=SOURCES["pas"], total=len(pas)))
        if len(recipients):
            rec = recipients.assign(language=recipients["preferred_language"])
            parts.append(rec.groupby("language").size().rename("count").reset_index()
                         .assign(source=SOURCES["recipients"], total=len(rec)))
        key = "language"
    else:
        key = by
        for name, frame in (("pas", pas), ("recipients", recipients)):
            if by in frame and len(frame):
                n = frame.groupby(by).size().rename("count").reset_index()
                parts.append(n.assign(source=SOURCES[name], total=len(frame)))
        if population is not None and by in population and len(population):
            # whole people: an age band straddling 18 or 64 gives a fractional population
            n = (working_age(population).groupby(by)["population"].sum().round()
                 .rename("count").reset_index())
            parts.append(n.assign(source=SOURCES["population"], total=n["count"].sum()))
    if not parts:
        return pd.DataFrame(columns=[key, "source", "count", "total", "value", "lower", "upper"])
    counts = pd.concat(parts, ignore_index=True)
    counts[["count", "total"]] = counts[["count", "total"]].astype("int64")
    out = proportion(counts, "count", "total", by=["source", key], conf=conf)
    return out.rename(columns={key: "group"}).assign(dimension=by)


def working_age(population: pd.DataFrame) -> pd.DataFrame:
    """The population aged 18-64: each row's population times the share of its age band in
    WORKING_AGE, assuming even ages within a band ("60-69" -> 0.5; "65+", "Under 18" -> 0).
    Without age_band, the rows as they are. Against all adults, the relative likelihood of being
    a PA confounded ethnicity with age (groups with more older adults looked under-represented:
    mean 1.08-1.17 where PAs mirrored the working-age mix exactly)."""
    if "age_band" not in population:
        return population
    band = population["age_band"].astype(str).str.strip()
    lo = pd.to_numeric(band.str.extract(r"^(\d+)")[0], errors="coerce")
    hi = pd.to_numeric(band.str.extract(r"^\d+\s*-\s*(\d+)")[0], errors="coerce")
    hi = hi.where(hi.notna(), lo.where(lo > WORKING_AGE[1], WORKING_AGE[1] + 1))
    inside = (hi.clip(upper=WORKING_AGE[1]) - lo.clip(lower=WORKING_AGE[0]) + 1).clip(lower=0)
    share = (inside / (hi - lo + 1)).where(~band.str.lower().str.startswith("under"), 0.0)
    return population.assign(population=population["population"] * share.fillna(0.0))


def _wide_counts(comp: pd.DataFrame, sources: Sequence[str]) -> pd.DataFrame:
    """Composition counts as one row per group and one column per source (0 where absent)."""
    part = comp[comp["source"].isin(sources)]
    wide = part.pivot_table(index="group", columns="source", values="count", aggfunc="sum",
                            fill_value=0)
    return wide.reindex(columns=list(sources), fill_value=0).reset_index()


def dissimilarity(comp: pd.DataFrame, conf: float = 0.95, n_boot: int = 1000,
                  seed: int = 2024) -> pd.DataFrame:
    """Index of dissimilarity between active PAs and each comparison population.

    `comp` is one dimension of `composition` (e.g. ethnic_group_broad). 'Not stated' is left out
    (it is not a group the population has). Uses `dissimilarity_index` (basic bootstrap CI, and
    `random` / `random_upper`: the index chance alone gives with these totals).
    """
    comp = comp[comp["group"] != codes.NOT_STATED]
    rows = []
    for other in (SOURCES["recipients"], SOURCES["population"]):
        if not (comp["source"] == other).any() or not (comp["source"] == SOURCES["pas"]).any():
            continue
        wide = _wide_counts(comp, [SOURCES["pas"], other]).rename(
            columns={SOURCES["pas"]: "pas", other: "other"})
        est = dissimilarity_index(wide, "pas", "other", conf=conf, n_boot=n_boot, seed=seed)
        rows.append(est.assign(comparison=f"{SOURCES['pas']} vs {other}"))
    cols = ["comparison", "pas", "other", "categories", "value", "lower", "upper", "conf",
            "random", "random_upper", "method", "note"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


def representation(comp: pd.DataFrame, reference: str = "White", conf: float = 0.95
                   ) -> pd.DataFrame:
    """How each ethnic group is represented among PAs, two ways, each group on its own.

    `ratio_to_recipients`: share of PAs in the group / share of DP recipients employing PAs in
    it (1 = PAs mirror the people who employ them; `compare_proportions`, Katz CI).
    `relative_likelihood`: SC-WRES relative likelihood of an adult in the group being an active
    PA compared with `reference` adults (PAs / adults, over the same for the reference group;
    `relative_likelihood`). Rows: measure, group, value, lower, upper, with the counts.
    """
    cols = ["measure", "group", "x", "n", "ref_x", "ref_n", "value", "lower", "upper", "conf",
            "note"]
    comp = comp[comp["group"] != codes.NOT_STATED]
    frames = []
    pair = comp[comp["source"].isin([SOURCES["pas"], SOURCES["recipients"]])]
    if pair["source"].nunique() == 2:
        ratio = compare_proportions(pair, "count", "total", group="source",
                                          reference=SOURCES["recipients"], by="group", conf=conf)
        ratio = ratio[ratio["measure"] == "ratio"]
        frames.append(ratio.rename(columns={"count": "x", "total": "n", "ref_count": "ref_x",
                                            "ref_total": "ref_n"})
                      .assign(measure="ratio_to_recipients"))
    wide = _wide_counts(comp, [SOURCES["pas"], SOURCES["population"]])
    if (wide[SOURCES["population"]] > 0).any() and (wide["group"] == reference).any():
        wide = wide[wide[SOURCES["population"]] > 0].rename(
            columns={SOURCES["pas"]: "x", SOURCES["population"]: "n"})
        wide[["x", "n"]] = wide[["x", "n"]].astype("int64")
        rl = relative_likelihood(wide, "x", "n", group="group", reference=reference,
                                       conf=conf)
        frames.append(rl.assign(measure="relative_likelihood"))
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


# --------------------------------------------------------------------------- language coverage
def _area(frame: pd.DataFrame, area_level: str) -> pd.Series:
    """The area each row is in; blank when the column is absent."""
    if area_level in frame:
        return frame[area_level].astype("string").str.strip().replace("", pd.NA)
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def area_language_grid(pas: pd.DataFrame, recipients: pd.DataFrame,
                       area_level: str = "area_code") -> pd.DataFrame:
    """Per area and language recipients prefer: recipients and active PAs who speak it there."""
    cols = ["area", "language", "recipients", "pas"]
    if recipients.empty:
        return pd.DataFrame(columns=cols)
    rec = recipients.assign(area=_area(recipients, area_level),
                            language=recipients["preferred_language"])
    rec = rec[rec["language"].notna() & (rec["language"] != NOT_RECORDED) & rec["area"].notna()]
    n_rec = rec.groupby(["area", "language"]).size().rename("recipients")
    long = split_languages(pas)
    long = long.assign(area=_area(long, area_level))
    n_pa = long[long["area"].notna()].groupby(["area", "language"])["pa_id"].nunique()
    grid = n_rec.to_frame().join(n_pa.rename("pas"), how="left").fillna({"pas": 0})
    return grid.reset_index().astype({"recipients": "int64", "pas": "int64"})[cols]


def language_gaps(grid: pd.DataFrame) -> pd.DataFrame:
    """Per language of an `area_language_grid`: its speakers with a recorded area
    (`with_area`), those of them living where no active PA speaks it (`no_pa_area`), the areas
    they live in (`areas`) and those of them without such a PA (`areas_without`)."""
    gap = grid["pas"] == 0
    return grid.assign(gap=gap, stranded=grid["recipients"].where(gap, 0)).groupby(
        "language").agg(with_area=("recipients", "sum"), no_pa_area=("stranded", "sum"),
                        areas=("area", "nunique"), areas_without=("gap", "sum"))


def language_coverage(pas: pd.DataFrame, recipients: pd.DataFrame,
                      area_level: str = "area_code",
                      grid: pd.DataFrame | None = None) -> pd.DataFrame:
    """For each language recipients prefer: the gap between speakers and PAs who speak it
    (`language_gaps` of their `area_language_grid`, or of `grid` when it is already worked
    out).

    Columns: language, recipients, pas (active PAs speaking it anywhere), pas_per_10,
    with_area (recipients whose area is known), no_pa_area (of those, living in an area where
    no active PA speaks it), areas (areas where its speakers live), areas_without, and the gap
    share `value` = no_pa_area / with_area. Every person with a DP and every active PA is
    counted, so the gap is an exact count of this council's people, not an estimate from a
    sample: it has no confidence interval (a Wilson interval around it carried no information;
    issue 17). Ranked by the share, then the people living where no PA speaks their language
    (of two complete gaps, the one of more people first), then recipients. 'Not recorded' is
    not a language and is left out.
    """
    cols = ["language", "recipients", "share_of_recipients", "pas", "pas_per_10", "with_area",
            "no_pa_area", "areas", "areas_without", "value", "note"]
    rec = recipients[recipients["preferred_language"].notna()
                     & (recipients["preferred_language"] != NOT_RECORDED)] \
        if len(recipients) else recipients
    if rec.empty:
        return pd.DataFrame(columns=cols)
    per_lang = rec.groupby("preferred_language").size().rename("recipients")
    long = split_languages(pas)
    speaking = long.groupby("language")["pa_id"].nunique().rename("pas")
    out = per_lang.to_frame().join(speaking, how="left").fillna({"pas": 0})
    out.index.name = "language"
    by_lang = language_gaps(area_language_grid(pas, rec, area_level) if grid is None else grid)
    out = out.join(by_lang, how="left").fillna(0).reset_index()
    out = out.astype({c: "int64" for c in ["recipients", "pas", "with_area", "no_pa_area",
                                             "areas", "areas_without"]})
    out["share_of_recipients"] = out["recipients"] / len(recipients)
    out["pas_per_10"] = 10 * out["pas"] / out["recipients"]
    known = out["with_area"] > 0
    out["value"] = (out["no_pa_area"] / out["with_area"]).where(known)
    out["note"] = np.where(known, "", "no recipient has a recorded area")
    out = out.sort_values(["value", "no_pa_area", "recipients"], ascending=False,
                          na_position="last")
    return out.reset_index(drop=True)[cols]
