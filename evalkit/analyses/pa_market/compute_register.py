"""Notebook 02's PA register: snapshots, the active PAs at one, the languages they speak, the
agencies' returns, which PAs belong to a council, and who joined or left between snapshots.

Frames of one row per PA (`active_pas`, `split_languages`) stay inside the analysis; the rest are
tidy counts per snapshot, agency or group.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from evalkit.stats.indicators import proportion


def isin(values: pd.Series, pool: Iterable) -> pd.Series:
    """`values.isin(pool)` for id columns, via object arrays: pandas' Arrow-string isin loops in
    Python over the pool and takes seconds at national size. dtype=object is explicit because
    pandas infers an Arrow string Series from an object array of strings."""
    pool = pd.unique(np.asarray(list(pool) if isinstance(pool, set) else pool, dtype=object))
    return pd.Series(values.to_numpy(dtype=object), index=values.index, dtype=object).isin(pool)


def latest(frame: pd.DataFrame, key: str, date: str) -> pd.DataFrame:
    """Each `key`'s row with the latest `date` (the last listed on a tie), in the frame's order.

    Sorts row numbers rather than the whole frame: at national size the frame has a million rows
    of Arrow strings, and sorting it all took seconds.
    """
    ids = pd.factorize(frame[key].to_numpy(dtype=object))[0]
    order = np.lexsort((np.arange(len(frame)), frame[date].to_numpy(), ids))
    last = order[np.r_[ids[order][1:] != ids[order][:-1], True]] if len(order) else order
    return frame.iloc[np.sort(last)]


def snapshot_dates(register: pd.DataFrame | None) -> list[pd.Timestamp]:
    """The register's snapshot dates, oldest first (empty without a register)."""
    if register is None or register.empty:
        return []
    return sorted(pd.to_datetime(register["snapshot_date"]).dropna().unique())


def choose_snapshot(register: pd.DataFrame | None,
                    snapshot_date: str | pd.Timestamp | None = None) -> pd.Timestamp | None:
    """The snapshot to describe: `snapshot_date` if given (it must exist), else the latest."""
    dates = snapshot_dates(register)
    if not dates:
        return None
    if snapshot_date is None:
        return pd.Timestamp(dates[-1])
    wanted = pd.Timestamp(snapshot_date)
    if wanted not in dates:
        listed = ", ".join(f"{d:%Y-%m-%d}" for d in dates)
        raise ValueError(f"choose_snapshot: snapshot_date {wanted:%Y-%m-%d} is not in the PA "
                         f"register; snapshots present: {listed}")
    return wanted


def active_pas(register: pd.DataFrame | None, snapshot: pd.Timestamp | None) -> pd.DataFrame:
    """Active PAs at a snapshot, one row per pa_id (a PA listed twice counts once)."""
    if register is None or snapshot is None:
        return pd.DataFrame(columns=["pa_id", "languages"])
    at = register[pd.to_datetime(register["snapshot_date"]) == snapshot]
    active = at[at["status"].astype("string").str.strip().str.lower() == "active"]
    return active.drop_duplicates("pa_id").reset_index(drop=True)


def split_languages(pas: pd.DataFrame) -> pd.DataFrame:
    """One row per PA per language spoken (from the semicolon-separated `languages`)."""
    if pas.empty or "languages" not in pas:
        return pd.DataFrame(columns=[*pas.columns, "language"])
    langs = pas["languages"].astype("string").fillna("").str.split(";")
    long = pas.assign(language=langs).explode("language")
    long["language"] = long["language"].str.strip()
    long = long[long["language"].notna() & (long["language"] != "")]
    return long.drop_duplicates(["pa_id", "language"]).reset_index(drop=True)


# --------------------------------------------------------------------------- data section
def returns_received(register: pd.DataFrame | None) -> pd.DataFrame:
    """PAs returned per agency per snapshot; `missing` flags an agency with no return that time."""
    cols = ["agency", "snapshot_date", "pas", "active_pas", "missing"]
    if register is None or register.empty:
        return pd.DataFrame(columns=cols)
    reg = register.assign(snapshot_date=pd.to_datetime(register["snapshot_date"]),
                          _active=register["status"].astype("string").str.lower() == "active")
    counts = reg.groupby(["agency", "snapshot_date"]).agg(pas=("pa_id", "nunique"),
                                                          active_pas=("_active", "sum"))
    grid = pd.MultiIndex.from_product([sorted(reg["agency"].dropna().unique()),
                                       sorted(reg["snapshot_date"].unique())],
                                      names=["agency", "snapshot_date"])
    out = counts.reindex(grid, fill_value=0).reset_index()
    return out.assign(missing=out["pas"] == 0)[cols]


def snapshot_counts(register: pd.DataFrame | None) -> pd.DataFrame:
    """Per snapshot: agencies whose return came in (`returns`), agencies that ever returned one
    (`agencies`), and active PAs each counted once however many agencies list them."""
    cols = ["snapshot_date", "returns", "agencies", "active_pas"]
    ret = returns_received(register)
    if ret.empty:
        return pd.DataFrame(columns=cols)
    t = ret.assign(received=~ret["missing"]).groupby("snapshot_date").agg(
        returns=("received", "sum"), agencies=("agency", "nunique")).reset_index()
    t["active_pas"] = [len(active_pas(register, d)) for d in t["snapshot_date"]]
    return t[cols]


# --------------------------------------------------------------------------- the council's PAs
def several_councils(episodes: pd.DataFrame | None) -> bool:
    """True when support_episodes holds more than one council."""
    return episodes is not None and "la_code" in episodes and episodes["la_code"].nunique() > 1


def _council_areas(episodes: pd.DataFrame | None, population: pd.DataFrame | None,
                   la_code: str) -> pd.Series:
    """The area_code values of one council's people and population rows."""
    areas = [f.loc[f["la_code"] == la_code, "area_code"].dropna()
             for f in (episodes, population)
             if f is not None and "la_code" in f and "area_code" in f]
    return pd.concat(areas).drop_duplicates() if areas else pd.Series(dtype=object)


def area_rows(register: pd.DataFrame | None) -> dict[str, np.ndarray]:
    """The register's row positions by area code (none without area codes): `council_register`
    then splits it for each council without scanning it again (a national run splits it 153
    times)."""
    if register is None or "area_code" not in register:
        return {}
    codes, areas = pd.factorize(register["area_code"].to_numpy(dtype=object))
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(areas) + 1))
    return {str(a): order[starts[i]:starts[i + 1]] for i, a in enumerate(areas)}


def council_register(register: pd.DataFrame | None, episodes: pd.DataFrame | None,
                     population: pd.DataFrame | None, la_code: str | None,
                     by_area: dict[str, np.ndarray] | None = None) -> pd.DataFrame | None:
    """The PA register rows belonging to the chosen council.

    The register has no la_code (agencies return PAs by area), so when the folder holds several
    councils a PA belongs to the council whose areas (in support_episodes or population) include
    the PA's area_code; without area codes the register cannot be split and is kept whole (a note
    says so). With one council in the folder, or all councils chosen, the whole register is used,
    so PAs living just over the boundary still count. `by_area` (`area_rows` of the register)
    picks the rows without a scan; they are the same rows, in the same order.
    """
    if register is None or la_code is None:
        return register
    if "la_code" in register:
        return register[register["la_code"] == la_code].reset_index(drop=True)
    areas = _council_areas(episodes, population, la_code)
    if not several_councils(episodes) or "area_code" not in register or areas.empty:
        return register
    if by_area is None:
        return register[isin(register["area_code"], areas).to_numpy()].reset_index(drop=True)
    picked = [by_area[a] for a in areas.astype(str) if a in by_area]
    rows = np.sort(np.concatenate(picked)) if picked else np.array([], dtype=np.intp)
    return register.iloc[rows].reset_index(drop=True)


# --------------------------------------------------------------------------- change over time
def _pa_groups(pas: pd.DataFrame, by: str) -> pd.DataFrame:
    """pa_id and group for each active PA (a PA speaking two languages is in both)."""
    if by == "language":
        return split_languages(pas)[["pa_id", "language"]].rename(columns={"language": "group"})
    if by is None or by == "all":
        return pas[["pa_id"]].assign(group="All PAs")
    if by not in pas:
        return pd.DataFrame(columns=["pa_id", "group"])
    return pas[["pa_id", by]].rename(columns={by: "group"}).fillna({"group": "Not stated"})


def snapshot_change(register: pd.DataFrame | None, by: str = "all", all_pairs: bool = False,
                    conf: float = 0.95) -> pd.DataFrame:
    """Joiners, leavers, net change and retention of active PAs between snapshots.

    Compares the last two snapshots (every consecutive pair with `all_pairs`). A joiner is active
    at the later snapshot and not at the earlier; a leaver was active at the earlier and is not
    at the later (listed as left or inactive, or no longer listed); retention = share of the
    earlier active PAs still active (Wilson CI). The group is the PA's at the earlier snapshot
    for leavers and retention, at the later for joiners. Empty with fewer than two snapshots.
    """
    cols = ["from_date", "to_date", "group", "active_from", "active_to", "joiners", "leavers",
            "net", "retained", "value", "lower", "upper", "conf", "note"]
    dates = snapshot_dates(register)
    if len(dates) < 2:
        return pd.DataFrame(columns=cols)
    pairs = list(zip(dates[:-1], dates[1:], strict=True))
    if not all_pairs:
        pairs = pairs[-1:]
    rows = []
    active = {d: active_pas(register, pd.Timestamp(d)) for d in {d for pair in pairs for d in pair}}
    for d0, d1 in pairs:
        g0, g1 = _pa_groups(active[d0], by), _pa_groups(active[d1], by)
        g0 = g0.assign(stays=isin(g0["pa_id"], active[d1]["pa_id"]))
        g1 = g1.assign(new=~isin(g1["pa_id"], active[d0]["pa_id"]))
        a = g0.groupby("group").agg(active_from=("pa_id", "nunique"), retained=("stays", "sum"))
        b = g1.groupby("group").agg(active_to=("pa_id", "nunique"), joiners=("new", "sum"))
        t = a.join(b, how="outer").fillna(0).astype("int64").reset_index()
        rows.append(t.assign(from_date=pd.Timestamp(d0), to_date=pd.Timestamp(d1)))
    out = pd.concat(rows, ignore_index=True)
    out["leavers"] = out["active_from"] - out["retained"]
    out["net"] = out["joiners"] - out["leavers"]
    has = out["active_from"] > 0
    keys = ["from_date", "to_date", "group"]
    est = proportion(out[has], "retained", "active_from", by=keys, conf=conf)
    out = out.merge(est[[*keys, "value", "lower", "upper", "conf", "note"]], on=keys, how="left")
    out["note"] = out["note"].where(has, "no active PAs in this group at the earlier snapshot")
    return out[cols]
