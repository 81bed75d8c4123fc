"""The CLD episodes as evalkit's `support_episodes` rows, joined with the supplementary table.

One row per long-term client at the snapshot (the ASCOF 3D cohort, the rows the transformation
keeps) and one per episode that ended before it (history: the latest version of each ended
long-term service event, docs/cld.md), in the support_episodes contract's columns as text,
ready for the same validation a support_episodes file gets (`evalkit.data.checks.account`).
The Direct Payment flag is exactly ASCOF 3D 2a's: `delivery_mechanism` is "Direct Payment
only" when 2a counts the person (Delivery_Mechanism or Service_Component), "CASSR Managed
Personal Budget" when 1a counts them without a DP, and "CASSR Commissioned Support only"
otherwise (a blank mechanism too: CLD does not require one; evalkit's DP share reads only
whether it is a DP). The supplementary table adds what CLD does not carry
(`layout.SUPPLEMENTARY_COLUMNS`), matched on the council's person id. `person_id` is the
council's person id (what pa_requests and the supplementary table use), `nhs_number` the NHS
number (an identifier the privacy gate checks).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.data import codes
from evalkit.data.cld import layout as L
from evalkit.data.contract import TABLES, ContractError, column_key
from evalkit.data.read import FILE, ROW

_DP, _MPB, _CS = (codes.DELIVERY_MECHANISMS[i] for i in (0, 2, 3))


def _iso(dates: pd.Series) -> pd.Series:
    """Dates as YYYY-MM-DD text, blank when missing."""
    return pd.to_datetime(dates).dt.strftime("%Y-%m-%d").fillna("")


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna("")


def _birth_year_month(cohort: pd.DataFrame) -> pd.Series:
    year = cohort["birth_year"].astype("Int64").astype("string")
    month = cohort["birth_month"].astype("Int64").astype("string").str.zfill(2)
    return (year + "-" + month).fillna("")


def _mechanism(cohort: pd.DataFrame) -> np.ndarray:
    """Contract delivery mechanism from the ASCOF flags (see the module docstring)."""
    return np.select([cohort["is_dp"].to_numpy(bool), cohort["is_sds"].to_numpy(bool)],
                     [_DP, _MPB], _CS)


def episode_frame(cohort: pd.DataFrame, extract_date: pd.Timestamp) -> pd.DataFrame:
    """The transformation's episode rows as support_episodes text columns (plus `la_person_id`
    for the supplementary join, and the row references the validation names rows by). An
    Event_End_Date after the extract date is a planned end: the episode is open."""
    end = pd.to_datetime(cohort["end_date"])
    return pd.DataFrame({
        "person_id": _text(cohort["person_id"]),
        "nhs_number": _text(cohort["nhs_number"]),
        "la_code": _text(cohort["la_code"]),
        "area_code": _text(cohort["area_code"]),
        "birth_year_month": _birth_year_month(cohort),
        "gender": _text(cohort["gender"]),
        "ethnicity": _text(cohort["ethnicity"]),
        "primary_support_reason": _text(cohort["primary_support_reason"]),
        "service_type": _text(cohort["service_type"]).str.strip(),
        "delivery_mechanism": _mechanism(cohort),
        "start_date": _iso(cohort["start_date"]),
        "end_date": _iso(end.where(end <= extract_date)),
        "has_unpaid_carer": _text(cohort["has_unpaid_carer"]),
        "la_person_id": _text(cohort["la_person_id"]),
        ROW: cohort["source_row"].to_numpy(),
        FILE: cohort["source_file"].to_numpy(),
    })


# ----------------------------------------------------------------------------- supplementary
def _supplementary_names() -> dict[str, str]:
    """column_key(heading) -> supplementary column (its contract names and aliases)."""
    names = {column_key(a): L.SUPPLEMENTARY_KEY
             for a in (L.SUPPLEMENTARY_KEY, *L.SUPPLEMENTARY_KEY_ALIASES)}
    names[column_key(L.SUPPLEMENTARY_LA)] = L.SUPPLEMENTARY_LA
    for col in TABLES["support_episodes"]:
        if col.name in L.SUPPLEMENTARY_COLUMNS or col.name == L.SUPPLEMENTARY_LA:
            names.update({column_key(a): col.name for a in (col.name, *col.aliases)})
    return names


def _read_any(path: Path) -> pd.DataFrame:
    """A CSV, Parquet or xlsx file as text columns."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    if suffix == ".parquet":
        return pd.read_parquet(path).astype("string")
    return pd.read_excel(path, dtype=str).fillna("")


def read_supplementary(files: list[Path]) -> tuple[pd.DataFrame | None, list[str]]:
    """The supplementary table (key upper-cased and right-trimmed, as CLD ids are compared),
    and warnings for columns it does not use; None when there is no file."""
    if not files:
        return None, []
    names, frames, warnings = _supplementary_names(), [], []
    for path in files:
        raw = _read_any(path)
        found = {c: names[column_key(c)] for c in raw.columns if column_key(c) in names}
        if L.SUPPLEMENTARY_KEY not in found.values():
            raise ContractError(f"{path.name}: no person id column ({L.SUPPLEMENTARY_KEY} or "
                                f"{', '.join(L.SUPPLEMENTARY_KEY_ALIASES)}); expected the "
                                "council's person id as in its CLD file (see data/README.md)")
        unused = [c for c in raw.columns if c not in found]
        if unused:
            warnings.append(f"{path.name}: columns not used: {', '.join(map(str, unused))}")
        frames.append(raw[list(found)].rename(columns=found).assign(**{ROW: raw.index + 2,
                                                                      FILE: path.name}))
    table = pd.concat(frames, ignore_index=True)
    table[L.SUPPLEMENTARY_KEY] = table[L.SUPPLEMENTARY_KEY].astype("string").str.upper() \
        .str.rstrip(" ")
    keys = [L.SUPPLEMENTARY_KEY] + ([L.SUPPLEMENTARY_LA] if L.SUPPLEMENTARY_LA in table else [])
    if L.SUPPLEMENTARY_LA in table:
        table[L.SUPPLEMENTARY_LA] = table[L.SUPPLEMENTARY_LA].astype("string").str.upper() \
            .str.strip()
    twice = table.duplicated(keys, keep=False)
    if twice.any():
        where = table.loc[twice, [FILE, ROW]].head(5)
        rows = ", ".join(f"{f} row {r}" for f, r in where.itertuples(index=False))
        raise ContractError(f"supplementary table: the same person id is given more than once "
                            f"({int(twice.sum())} rows, e.g. {rows}); expected one row per "
                            "person")
    return table.drop(columns=[FILE, ROW]), warnings


def with_supplementary(frame: pd.DataFrame, supplementary: pd.DataFrame | None
                       ) -> pd.DataFrame:
    """The cohort frame with the supplementary columns of each person (blank when none); the
    supplementary `area_code` fills a blank CLD one."""
    if supplementary is None:
        return frame.drop(columns="la_person_id")
    on = {"la_person_id": L.SUPPLEMENTARY_KEY}
    if L.SUPPLEMENTARY_LA in supplementary:
        on["la_code"] = L.SUPPLEMENTARY_LA
    extra = supplementary.rename(columns={v: k for k, v in on.items()})
    clash = [c for c in extra.columns if c in frame.columns and c not in on]
    out = frame.merge(extra.rename(columns={c: f"{c}__supp" for c in clash}),
                      on=list(on), how="left", validate="many_to_one")
    for col in clash:
        supp = out.pop(f"{col}__supp").fillna("")
        out[col] = out[col].where(out[col] != "", supp)
    return out.drop(columns="la_person_id").fillna({c: "" for c in extra.columns
                                                    if c in out and c not in on})
