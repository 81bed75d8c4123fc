"""Known defects for clean raw tables, to prove the loader catches and counts them.

`inject_defects(tables, rng)` returns dirty copies of the tables and `{table: {reason: count}}`
for the defects the loader must exclude (reason names as in `dataset.quality`). It also mixes in
variants the loader must accept and normalise, which are not counted because no row is lost.

Excluded kinds, each on its own rows (so each row fails exactly one check):
`blank_required:<col>`, `invalid_value:<col>` (negative number, impossible date),
`unknown_code:<col>`, `future_date:<col>` (1-5 years after today, so after any extract
date up to today),
`end_before_start`, `duplicate_row` (copies of clean rows appended at the end).
Accepted kinds: DD/MM/YYYY, Excel serial and date-time dates; YYYYMM and MM/YYYY birth months;
numbers as text with spaces, thousands separators and a pound sign; codes in odd case and spacing;
NHS ethnic codes swapped for CLD-style labels; language codes ("guj", "gu") and alternative names
("Punjabi"); ONS codes that lost a leading zero (E6000016) or gained spaces; Y/N as yes/TRUE/1;
blank optional cells written as "N/A" or "NULL"; identifiers with trailing spaces.
Every column comes back as text, as a CSV or a spreadsheet column of mixed cells would be.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.data import codes
from evalkit.data.contract import END_AFTER_START, TABLES, Column

MIN_ROWS = 20  # tables smaller than this get variants only
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_LANGUAGE_VARIANTS = {"Gujarati": ["guj", "gu", " GUJARATI "], "Panjabi": ["Punjabi", "pan"],
                      "Somali": ["som", "so"], "English": ["eng", "en", "english "],
                      "Polish": ["pol", "pl"], "Urdu": ["urd", " urdu"]}


def as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Every column as text: dates as YYYY-MM-DD, booleans as Y/N, blanks as ""."""
    out = {}
    for name, s in df.items():
        if pd.api.types.is_datetime64_any_dtype(s):
            text = s.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_bool_dtype(s):
            text = s.map({True: "Y", False: "N"})
        else:
            text = s.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer()
                         else str(v) if not pd.isna(v) else "")
        out[name] = text.fillna("").astype(object)
    return pd.DataFrame(out, index=df.index)


def _candidates(df: pd.DataFrame, table: str) -> dict[str, list[Column]]:
    """Columns present in `df` that can carry each excluded defect."""
    cols = [c for c in TABLES[table] if c.name in df.columns]
    numbers = [c for c in cols if c.kind == "number" and c.lo is not None and c.required]
    return {
        "blank_required": [c for c in cols if not c.accepts_blank],
        "invalid_value": numbers + [c for c in cols if c.kind == "date"],
        "unknown_code": [c for c in cols if c.kind == "code"],
        "future_date": [c for c in cols if (c.kind == "date" and not c.future_ok)
                        or c.kind == "year_month"],
    }


def _bad_value(kind: str, col: Column, rng: np.random.Generator) -> str:
    """A value that fails `kind` in `col` (and no earlier check)."""
    if kind == "blank_required":
        return str(rng.choice(["", "N/A", "NULL", " "]))
    if kind == "unknown_code":
        return "Q" if col.name == "ethnicity" else "XX"
    if kind == "invalid_value":
        return "-5" if col.kind == "number" else "31/02/2024"
    future = pd.Timestamp.today().normalize() + pd.DateOffset(years=int(rng.integers(1, 6)))
    return future.strftime("%Y-%m" if col.kind == "year_month" else "%Y-%m-%d")


def _exclusions(df: pd.DataFrame, table: str, rng: np.random.Generator, rate: float
                ) -> tuple[pd.DataFrame, dict[str, int], np.ndarray]:
    """Excluded defects on distinct rows; returns (frame, counts, rows touched)."""
    counts: dict[str, int] = {}
    per_kind = max(1, int(round(rate * len(df))))
    pool = list(rng.permutation(len(df)))
    for kind, cols in _candidates(df, table).items():
        for _ in range(per_kind if cols else 0):
            row, col = pool.pop(), cols[int(rng.integers(len(cols)))]
            df.iat[row, df.columns.get_loc(col.name)] = _bad_value(kind, col, rng)
            reason = f"{kind}:{col.name}"
            counts[reason] = counts.get(reason, 0) + 1
    if table in END_AFTER_START:
        start, end = END_AFTER_START[table]
        for _ in range(per_kind):
            row = pool.pop()
            before = pd.Timestamp(df.iat[row, df.columns.get_loc(start)]) - pd.Timedelta(
                days=int(rng.integers(1, 100)))
            df.iat[row, df.columns.get_loc(end)] = before.strftime("%Y-%m-%d")
            counts["end_before_start"] = counts.get("end_before_start", 0) + 1
    touched = np.setdiff1d(np.arange(len(df)), pool)
    copies = df.iloc[rng.choice(pool, size=per_kind, replace=False)]
    counts["duplicate_row"] = per_kind
    return pd.concat([df, copies], ignore_index=True), counts, touched


def _variant(col: Column, value: str, rng: np.random.Generator) -> str:
    """An accepted way of writing `value` in `col`."""
    if value == "":
        return str(rng.choice(["N/A", "NULL", "n/a", "  "])) if col.accepts_blank else value
    if col.kind == "date":
        day = pd.Timestamp(value)
        return str(rng.choice([day.strftime("%d/%m/%Y"), str((day - _EXCEL_EPOCH).days),
                               day.strftime("%Y-%m-%d 00:00:00")]))
    if col.kind == "year_month":
        year, month = value.split("-")
        return str(rng.choice([f"{year}{month}", f"{month}/{year}"]))
    if col.kind == "number":
        whole, dot, fraction = value.partition(".")
        commas = f"{int(whole):,}{dot}{fraction}"  # same digits, so the same number
        return str(rng.choice([f" {value} ", commas, f"£{value}"]))
    if col.kind in ("la_code", "area_code"):
        lost = value[0] + value[2:] if value[1] == "0" else value
        return str(rng.choice([lost, value.lower(), f" {value}  "]))
    if col.kind == "bool":
        yes = codes.BOOL_LOOKUP.get(codes.key(value))
        return str(rng.choice(["yes", "TRUE", "1"] if yes else ["no", "FALSE", "0"]))
    if col.kind in ("language", "languages"):
        parts = [str(rng.choice(_LANGUAGE_VARIANTS.get(p, [p.upper()]))) for p in value.split(";")]
        return ", ".join(parts)
    if col.name == "ethnicity" and value in codes.NHS_ETHNIC_CODES:
        label = codes.NHS_ETHNIC_CODES[value]
        return str(rng.choice([f" {value.lower()} ", label.replace(": ", " - ").upper()]))
    if col.kind == "code":
        return str(rng.choice([value.upper(), value.lower(), f"  {value.replace(' ', '  ')} "]))
    return f"{value}  "


def _variants(df: pd.DataFrame, table: str, rng: np.random.Generator, rate: float,
              skip: np.ndarray) -> pd.DataFrame:
    """Accepted variants in a share `rate` of the cells of the rows not in `skip`."""
    rows = np.setdiff1d(np.arange(len(df)), skip)
    for col in TABLES[table]:
        if col.name not in df.columns or col.kind == "text":
            continue
        j = df.columns.get_loc(col.name)
        for row in rows[rng.random(len(rows)) < rate]:
            df.iat[row, j] = _variant(col, df.iat[row, j], rng)
    return df


def inject_defects(tables: dict[str, pd.DataFrame], rng: np.random.Generator, *,
                   rate: float = 0.02, variant_rate: float = 0.1
                   ) -> tuple[dict[str, pd.DataFrame], dict[str, dict[str, int]]]:
    """Dirty copies of clean raw tables and the excluded defects `{table: {reason: count}}`.

    rate: share of rows per excluded defect kind (at least one row each; tables under
    MIN_ROWS rows get none). variant_rate: share of cells per column written as an accepted
    variant. The input tables are not modified.
    """
    dirty, defects = {}, {}
    for table, clean in tables.items():
        df = as_text(clean.reset_index(drop=True))
        touched = np.array([], dtype=int)
        if table in TABLES and len(df) >= MIN_ROWS:
            df, defects[table], touched = _exclusions(df, table, rng, rate)
        if table in TABLES:
            df = _variants(df, table, rng, variant_rate, touched)
        dirty[table] = df
    return dirty, defects
