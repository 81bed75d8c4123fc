"""Load a data folder into a validated `Dataset`, accounting for every row.

`load(data_dir)` reads one file per table (CSV, Parquet or xlsx; file stem = table name) or a
folder of files per table (e.g. `pa_register/`, one file per agency), matches column names to
the contract (case, spacing and CLD aliases), normalises accepted variants and excludes rows that
break the contract, each with one reason. `dataset.quality` counts rows per table and reason so
that, per table, the rows sum to the rows in its file(s).

Checks run in this fixed order; a row is counted under the first it fails (columns in contract
order within each check): blank_required:<col>, invalid_value:<col>, unknown_code:<col>,
future_date:<col>, end_before_start, duplicate_row, duplicate_pa_listing (pa_register only:
same pa_id and snapshot_date listed by two agencies; the first file in name order keeps it).

Whole-file problems raise `ContractError`: unreadable file, missing required column, or a column
of the wrong type (at least 5 and more than half of its non-blank values invalid or unknown).

A validated dataset can be cached (`save_cache`): when the environment variable
`EVALKIT_LOAD_CACHE` names a folder, `load` reuses a cached copy whose input files (same folder,
same SHA-256 checksums), extract date and evalkit version match, instead of validating again.
`evalkit run` uses this so its notebooks do not each re-validate the data the runner validated.

Also the `evalkit validate DATA_DIR` subcommand (`add_arguments`, `main`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow

from evalkit.data import codes
from evalkit.data.contract import (
    ANY_LEVEL_ETHNICITY,
    END_AFTER_START,
    ETHNICITY_TABLES,
    LA_CODE,
    TABLES,
    Column,
    column_key,
    schema,
)

SUFFIXES = (".csv", ".parquet", ".pq", ".xlsx")
CACHE_ENV = "EVALKIT_LOAD_CACHE"
OK, BLANK, INVALID, UNKNOWN = 0, 1, 2, 3
WRONG_TYPE_MIN_ROWS = 5
_ROW, _FILE = "__row", "__file"

EXPECTED = {
    "id": "an identifier",
    "text": "text",
    "code": "one of the contract's codes",
    "la_code": "an ONS local authority code such as E06000016",
    "area_code": "an ONS area code (LSOA or ward) such as E01013597",
    "date": "a date (YYYY-MM-DD, DD/MM/YYYY or an Excel serial number)",
    "year_month": "a year and month (YYYY-MM)",
    "bool": "Y/N, Yes/No, True/False or 1/0",
    "number": "a number",
    "language": "a language",
    "languages": "languages separated by ';'",
}


class ContractError(ValueError):
    """A whole-file problem: the folder cannot be loaded until the file is fixed."""


@dataclass(frozen=True)
class Dataset:
    """Validated tables (None when the file is absent), the data-quality table, the files read
    per table, warnings, and the extract date used for the future-date check."""

    support_episodes: pd.DataFrame | None
    population: pd.DataFrame | None
    pa_register: pd.DataFrame | None
    pa_requests: pd.DataFrame | None
    survey: pd.DataFrame | None
    practice_changes: pd.DataFrame | None
    engagement: pd.DataFrame | None
    quality: pd.DataFrame
    files: dict[str, list[Path]]
    warnings: list[str]
    extract_date: pd.Timestamp


# ----------------------------------------------------------------------------- finding files
def find_files(data_dir: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """Table -> files for it (a file `<table>.<ext>` or the files in a folder `<table>/`), and
    warnings for data files that match no table."""
    found: dict[str, list[Path]] = {}
    warnings = []
    for path in sorted(data_dir.iterdir()):
        table = column_key(path.stem if path.is_file() else path.name)
        if path.is_dir() and table in TABLES:
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES
                           and not p.name.startswith(("~$", ".")))
            if not files:
                raise ContractError(f"{path}: folder for table {table} holds no CSV, Parquet "
                                    "or xlsx files")
            found.setdefault(table, []).extend(files)
        elif path.is_file() and path.suffix.lower() in SUFFIXES:
            if table in TABLES:
                found.setdefault(table, []).append(path)
            elif not path.name.startswith(("~$", ".")):
                warnings.append(f"{path.name} matches no table ({', '.join(TABLES)}) and was "
                                "ignored")
    for table, files in found.items():
        if len(files) > 1 and files[0].parent == data_dir:
            raise ContractError(f"{data_dir}: table {table} is given more than once "
                                f"({', '.join(p.name for p in files)}); keep one file, or put "
                                f"several in a folder {table}/ to combine them")
    return found, warnings


# ----------------------------------------------------------------------------- reading
def _decode_error(path: Path, err: UnicodeDecodeError) -> ContractError:
    line = path.read_bytes()[: err.start].count(b"\n") + 1
    return ContractError(f"{path.name}: cannot be read as UTF-8 text (row {line}, byte "
                         f"{err.object[err.start:err.start + 1]!r}); expected a CSV saved as "
                         "UTF-8 (in Excel: Save As > CSV UTF-8)")


def read_file(path: Path, table: str) -> pd.DataFrame:
    """The file as a raw DataFrame plus its row numbers (header = row 1) and file name."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            rows = np.arange(len(df)) + 2
        elif suffix in (".parquet", ".pq"):
            df = pd.read_parquet(path)
            rows = np.arange(len(df)) + 2
        else:
            with pd.ExcelFile(path, engine="openpyxl") as book:
                names = {column_key(n): n for n in book.sheet_names}
                sheet = names.get(table, book.sheet_names[0])
                df = pd.read_excel(book, sheet_name=sheet, dtype=object)
            rows = np.arange(len(df)) + 2
            empty = df.isna().all(axis=1).to_numpy()
            df, rows = df.loc[~empty].reset_index(drop=True), rows[~empty]
    except UnicodeDecodeError as err:
        raise _decode_error(path, err) from err
    except pd.errors.EmptyDataError as err:
        raise ContractError(f"{path.name}: the file is empty; expected a header row with the "
                            f"{table} columns") from err
    except Exception as err:  # noqa: BLE001 - any reader failure means an unreadable file
        raise ContractError(f"{path.name}: unreadable as {suffix[1:]} ({type(err).__name__}: "
                            f"{err}); expected a {table} table (see data/README.md)") from err
    return df.assign(**{_ROW: rows, _FILE: path.name})


def _combine_cld_birth(df: pd.DataFrame, keys: dict[str, str]) -> pd.DataFrame:
    """CLD gives Der_Birth_Year and Der_Birth_Month: combine them into birth_year_month."""
    year, month = keys.get("der_birth_year"), keys.get("der_birth_month")
    if not (year and month) or "birth_year_month" in keys:
        return df
    y = pd.to_numeric(df[year], errors="coerce").astype("Int64").astype(str)
    m = pd.to_numeric(df[month], errors="coerce").astype("Int64").astype(str).str.zfill(2)
    both = df[year].notna() & df[month].notna() & (y != "<NA>") & (m != "<NA>")
    return df.assign(birth_year_month=(y + "-" + m).where(both, ""))


def match_columns(df: pd.DataFrame, table: str, path: Path) -> tuple[pd.DataFrame, list[str]]:
    """Rename the file's columns to contract names; error on a missing required column."""
    keys = {column_key(c): c for c in df.columns if c not in (_ROW, _FILE)}
    if table == "support_episodes":
        df = _combine_cld_birth(df, keys)
        keys = {column_key(c): c for c in df.columns if c not in (_ROW, _FILE)}
    rename, used, warnings = {}, set(), []
    for col in TABLES[table]:
        for name in (col.name, *col.aliases):
            source = keys.get(column_key(name))
            if source is not None and source not in used:
                rename[source] = col.name
                used.add(source)
                break
    missing = [c.name for c in TABLES[table] if c.required and c.name not in rename.values()]
    if missing:
        raise ContractError(
            f"{path.name}: missing required column(s) {', '.join(missing)} for table {table}; "
            f"found {', '.join(map(str, keys.values())) or 'no columns'}. Expected the contract "
            "names (or their CLD aliases) listed in data/README.md")
    extra = [str(c) for c in keys.values() if c not in used and column_key(c) not in
             ("der_birth_year", "der_birth_month")]
    if extra:
        warnings.append(f"{path.name}: column(s) {', '.join(extra)} are not in the {table} "
                        "contract and were ignored")
    return df[[*rename, _ROW, _FILE]].rename(columns=rename), warnings


# ----------------------------------------------------------------------------- parsing values
def _as_text(u: pd.Series) -> pd.Series:
    """Distinct values as stripped text (integral floats without '.0')."""
    if pd.api.types.is_float_dtype(u) and (u % 1 == 0).all():
        u = u.astype("int64")
    return u.astype(object).map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer()
                                else str(v)).str.strip()


def _blank_u(u: pd.Series) -> np.ndarray:
    if pd.api.types.is_object_dtype(u) or pd.api.types.is_string_dtype(u):
        return u.astype(str).str.strip().str.lower().isin(codes.MISSING_TOKENS).to_numpy()
    return np.zeros(len(u), dtype=bool)


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y%m%d")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def parse_dates(u: pd.Series) -> pd.Series:
    """Distinct raw values -> datetime64[ns] (NaT where not a date). Accepts datetimes, ISO dates
    with or without a time, DD/MM/YYYY (also with - or .), YYYYMMDD and Excel serial numbers."""
    if pd.api.types.is_datetime64_any_dtype(u):
        u = u.dt.tz_localize(None) if getattr(u.dt, "tz", None) else u
        return u.astype("datetime64[ns]").dt.normalize()
    out = pd.Series(pd.NaT, index=u.index, dtype="datetime64[ns]")
    is_dt = u.map(lambda v: isinstance(v, pd.Timestamp | np.datetime64)
                  or hasattr(v, "year")).astype(bool)
    if is_dt.any():
        out[is_dt] = pd.to_datetime(u[is_dt].astype(object), errors="coerce").astype(
            "datetime64[ns]").dt.normalize()
    text = u[~is_dt].astype(str).str.strip()
    serial = pd.to_numeric(text.where(text.str.fullmatch(r"\d{1,5}(\.\d+)?")), errors="coerce")
    ok = serial.between(1, 73050)  # up to 2099-12-31
    out[ok[ok].index] = _EXCEL_EPOCH + pd.to_timedelta(np.floor(serial[ok]), unit="D")
    rest = text[~ok].str.replace(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "", regex=True)
    for fmt in _DATE_FORMATS:
        todo = rest[out[rest.index].isna()]
        if todo.empty:
            break
        out[todo.index] = pd.to_datetime(todo, format=fmt, errors="coerce").astype(
            "datetime64[ns]")
    return out


def parse_year_month(u: pd.Series) -> pd.Series:
    """Distinct raw values -> 'YYYY-MM' (NaN where not a year and month). Accepts YYYY-MM,
    YYYYMM, MM/YYYY and any full date `parse_dates` accepts."""
    text = _as_text(u) if not pd.api.types.is_datetime64_any_dtype(u) else u.astype(str)
    parts = text.str.extract(r"^(?:(\d{4})[-/]?(\d{1,2})|(\d{1,2})[/-](\d{4}))$")
    year = parts[0].fillna(parts[3])
    month = parts[1].fillna(parts[2])
    dates = parse_dates(u[year.isna()])
    year = year.fillna(dates.dt.year.astype("Int64").astype(str).where(dates.notna()))
    month = month.fillna(dates.dt.month.astype("Int64").astype(str).where(dates.notna()))
    y = pd.to_numeric(year, errors="coerce")
    m = pd.to_numeric(month, errors="coerce")
    good = y.between(1880, 2100) & m.between(1, 12)
    return (y.astype("Int64").astype(str) + "-" + m.astype("Int64").astype(str).str.zfill(2)
            ).where(good)


def _parse(col: Column, table: str, u: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse the distinct values `u` of a column: (values, status OK/BLANK/INVALID/UNKNOWN)."""
    status = np.where(_blank_u(u), BLANK, OK).astype(np.int8)
    kind = col.kind
    if kind == "text":
        values = _as_text(u).str.replace(r"\s+", " ", regex=True)
        return values.to_numpy(object), status
    if kind == "code":
        if col.name in ANY_LEVEL_ETHNICITY.values() and table in ANY_LEVEL_ETHNICITY:
            values = codes.ethnic_group_any_level(u)
        elif col.name == "ethnicity":
            values = codes.ethnic_group(u)
        else:
            values = codes.normalise_code(u, col.lookup or {})
        bad = values.isna().to_numpy() & (status == OK)
        return values.to_numpy(object), np.where(bad, UNKNOWN, status).astype(np.int8)
    if kind in ("la_code", "area_code"):
        values = _as_text(u).str.upper().str.replace(r"\s+", "", regex=True).str.replace(
            r"^([A-Z])(\d{1,7})$", lambda m: m[1] + m[2].zfill(8), regex=True)
        bad = ~values.str.fullmatch(LA_CODE.pattern).to_numpy() & (status == OK)
        return values.to_numpy(object), np.where(bad, INVALID, status).astype(np.int8)
    if kind == "date":
        values = parse_dates(u)
        bad = values.isna().to_numpy() & (status == OK)
        return values.to_numpy("datetime64[ns]"), np.where(bad, INVALID, status).astype(np.int8)
    if kind == "year_month":
        values = parse_year_month(u)
        bad = values.isna().to_numpy() & (status == OK)
        return values.to_numpy(object), np.where(bad, INVALID, status).astype(np.int8)
    if kind == "bool":
        if pd.api.types.is_bool_dtype(u):
            values = u.astype(object)
        else:
            values = u.map(lambda v: codes.BOOL_LOOKUP.get(codes.key(v), np.nan))
        bad = values.isna().to_numpy() & (status == OK)
        return values.to_numpy(object), np.where(bad, INVALID, status).astype(np.int8)
    if kind == "number":
        if pd.api.types.is_numeric_dtype(u) and not pd.api.types.is_bool_dtype(u):
            values = u.astype(float)
        else:
            text = u.astype(str).str.strip().str.replace(r"^£|,|\s", "", regex=True)
            values = pd.to_numeric(text, errors="coerce").astype(float)
        bad = values.isna() | ~np.isfinite(values)
        if col.lo is not None:
            bad |= values < col.lo
        if col.hi is not None:
            bad |= values > col.hi
        if col.integer:
            bad |= values % 1 != 0
        bad = bad.to_numpy() & (status == OK)
        return values.to_numpy(float), np.where(bad, INVALID, status).astype(np.int8)
    if kind == "language":
        return u.map(codes.language).to_numpy(object), status
    if kind == "languages":
        return u.map(codes.languages).to_numpy(object), status
    raise ValueError(f"contract column {col.name}: unknown kind {kind!r}")


def _blank_value(col: Column) -> str | None:
    """What a blank becomes in a column that accepts blanks (None: missing)."""
    if col.blank_as is not None:
        return col.blank_as
    if col.name in ("preferred_language", "languages"):
        return codes.NOT_RECORDED
    return None


def _parse_id(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Identifiers without factorising (they are mostly distinct): stripped text."""
    if pd.api.types.is_float_dtype(raw) or pd.api.types.is_object_dtype(raw):
        raw = raw.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else v)
    text = raw.astype("str").str.strip()
    blank = (text.isna() | text.str.lower().isin(codes.MISSING_TOKENS)).to_numpy()
    return text.where(~blank), np.where(blank, BLANK, OK).astype(np.int8)


def parse_column(col: Column, table: str, raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse a raw column: (normalised values, per-row status OK/BLANK/INVALID/UNKNOWN).

    Values are parsed once per distinct raw value and broadcast back; text results are
    pandas `str` columns, dates datetime64[ns], numbers float64, booleans `boolean`.
    """
    if col.kind == "id":
        return _parse_id(raw)
    ids, uniques = pd.factorize(raw, use_na_sentinel=True)
    values_u, status_u = _parse(col, table, pd.Series(uniques))
    status = np.append(status_u, BLANK)[ids]
    if col.kind == "date":
        values_u = np.where(status_u == OK, values_u, np.datetime64("NaT", "ns"))
        data = np.append(values_u, np.datetime64("NaT", "ns"))[ids]
        return pd.Series(data, index=raw.index), status
    if col.kind == "number":
        data = np.append(np.where(status_u == OK, values_u, np.nan), np.nan)[ids]
        return pd.Series(data, index=raw.index), status
    if col.kind == "bool":
        truth = np.append(np.where(status_u == OK, values_u, False).astype(bool), False)[ids]
        return pd.Series(pd.arrays.BooleanArray(truth, status != OK), index=raw.index), status
    blank = _blank_value(col)
    values_u = np.where(status_u == OK, values_u, np.where(status_u == BLANK, blank, None))
    table_u = pyarrow.array(np.append(values_u, blank), type=pyarrow.string(), from_pandas=True)
    data = table_u.take(pyarrow.array(np.where(ids < 0, len(values_u), ids)))
    return pd.Series(pd.array(data, dtype="str"), index=raw.index), status


# ----------------------------------------------------------------------------- row accounting
def _examples(raw: pd.Series, rows: pd.Series, files: pd.Series, mask: np.ndarray,
              show_values: bool) -> str:
    idx = np.flatnonzero(mask)[:3]
    items = []
    for i in idx:
        where = f"{files.iat[i]} row {rows.iat[i]}" if files.nunique() > 1 else f"row {rows.iat[i]}"
        items.append(f"{where}: {raw.iat[i]!r}" if show_values else where)
    return "; ".join(items)


def _check_wrong_type(col: Column, raw: pd.Series, status: np.ndarray, df: pd.DataFrame,
                      table: str, source: str) -> None:
    """Raise ContractError when a column is of the wrong type beyond repair."""
    bad = (status == INVALID) | (status == UNKNOWN)
    nonblank = int((status != BLANK).sum())
    if bad.sum() >= WRONG_TYPE_MIN_ROWS and bad.sum() > nonblank / 2:
        expected = EXPECTED[col.kind]
        if col.kind == "code" and col.lookup:
            expected += f" ({'; '.join(sorted(set(col.lookup.values())))})"
        if col.name in ("ethnicity", *ANY_LEVEL_ETHNICITY.values()):
            expected = "an NHS ethnic category code (A-Z) or an ONS 2021 ethnic group label"
        raise ContractError(
            f"{source}: column {col.name!r} has {int(bad.sum())} of {nonblank} non-blank values "
            f"that are not {expected}, e.g. "
            f"{_examples(raw, df[_ROW], df[_FILE], bad, col.kind != 'id')}")


def account(df: pd.DataFrame, table: str, extract_date: pd.Timestamp, source: str
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate and normalise one table's raw rows: (kept rows, quality rows for the table)."""
    cols = [c for c in TABLES[table] if c.name in df.columns]
    parsed, status = {}, {}
    for col in cols:
        parsed[col.name], status[col.name] = parse_column(col, table, df[col.name])
        _check_wrong_type(col, df[col.name], status[col.name], df, table, source)
    alive = np.ones(len(df), dtype=bool)  # not excluded yet
    counts: dict[str, int] = {}

    def assign(mask: np.ndarray, name: str) -> None:
        new = mask & alive
        if new.any():
            alive[new] = False
            counts[name] = int(new.sum())

    for col in cols:
        if not col.accepts_blank:
            assign(status[col.name] == BLANK, f"blank_required:{col.name}")
    for col in cols:
        assign(status[col.name] == INVALID, f"invalid_value:{col.name}")
    for col in cols:
        assign(status[col.name] == UNKNOWN, f"unknown_code:{col.name}")
    for col in cols:
        if col.kind == "date" and not col.future_ok:
            assign((parsed[col.name] > extract_date).to_numpy(), f"future_date:{col.name}")
        elif col.kind == "year_month":
            first = pd.to_datetime(parsed[col.name] + "-01", errors="coerce")
            assign((first > extract_date).to_numpy(), f"future_date:{col.name}")
    start, end = END_AFTER_START.get(table, (None, None))
    if start in parsed and end in parsed:
        assign((parsed[end] < parsed[start]).to_numpy(), "end_before_start")
    out = pd.DataFrame(parsed, index=df.index)
    for subset, name in [(None, "duplicate_row"), (["pa_id", "snapshot_date"],
                                                   "duplicate_pa_listing")]:
        if name == "duplicate_pa_listing" and table != "pa_register":
            continue
        dup = (out if alive.all() else out.loc[alive]).duplicated(subset, keep="first")
        dup = dup.to_numpy()
        mask = np.zeros(len(df), dtype=bool)
        mask[np.flatnonzero(alive)[dup]] = True
        assign(mask, name)
    keep = alive
    quality = pd.DataFrame({"table": table, "reason": ["kept", *counts],
                            "rows": [int(keep.sum()), *counts.values()]})
    kept = out if keep.all() else out.loc[keep]
    if table in ETHNICITY_TABLES:  # keep the code as given; the group is derived
        kept = kept.assign(ethnic_group=kept["ethnicity"],
                           ethnicity=_source_code(df.loc[keep, "ethnicity"]))
    return derive(kept.reset_index(drop=True), table), quality


def _source_code(raw: pd.Series) -> pd.Series:
    """The code as given, stripped (single-letter NHS codes upper-cased); NaN when blank."""
    def one(value: object) -> object:
        text = " ".join(str(value).split())
        if text.lower() in codes.MISSING_TOKENS:
            return np.nan
        return text.upper() if len(text) == 1 else text

    return codes.map_unique(raw, one).astype("str")


def derive(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Add the derived columns of docs/interfaces.md."""
    if table in (*ETHNICITY_TABLES, "population"):
        df["ethnic_group_broad"] = codes.ethnic_group_broad(df["ethnic_group"])
    if table == "support_episodes":
        df["has_dp"] = df["delivery_mechanism"].isin(codes.DP_MECHANISMS).astype("boolean")
        df["birth_date"] = pd.to_datetime(df["birth_year_month"] + "-15", format="%Y-%m-%d"
                                          ).astype("datetime64[ns]")
    return df


# ----------------------------------------------------------------------------- load
def load_table(table: str, files: list[Path], extract_date: pd.Timestamp
               ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Read, match, validate and normalise one table from its file(s)."""
    frames, warnings = [], []
    for path in files:
        raw = read_file(path, table)
        if table == "pa_register" and len(files) > 1 and not any(
                column_key(c) == "agency" for c in raw.columns):
            raw = raw.assign(agency=path.stem)
        matched, warn = match_columns(raw, table, path)
        frames.append(matched)
        warnings.extend(warn)
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    source = files[0].name if len(files) == 1 else f"{table}/ ({len(files)} files)"
    kept, quality = account(df, table, extract_date, source)
    try:
        kept = schema(table).validate(kept, lazy=True)
    except Exception as err:  # a bug in evalkit, not in the data: say so plainly
        raise RuntimeError(f"evalkit produced a {table} table that breaks its own schema; "
                           f"please report this: {err}") from err
    return kept, quality, warnings


def _warnings(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Warnings about what the data cannot show."""
    out = []
    episodes = tables.get("support_episodes")
    if episodes is not None and "preferred_language" not in episodes:
        out.append("support_episodes has no preferred_language column: Somali, Gujarati and "
                   "other communities that ethnic codes cannot see will not show up; add it if "
                   "the case system records a preferred or main language")
    if episodes is not None and "preferred_language" in episodes:
        share = (episodes["preferred_language"] == codes.NOT_RECORDED).mean()
        if share > 0.5:
            out.append(f"support_episodes: preferred_language is not recorded for {share:.0%} "
                       "of rows, so language gaps will be under-counted")
    return out


def load(data_dir: str | Path, *, extract_date: str | pd.Timestamp | None = None) -> Dataset:
    """Load and validate a data folder (see the module docstring and data/README.md).

    extract_date: dates after it are excluded as `future_date:<col>`; default today.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ContractError(f"{data_dir}: not a folder; expected a data folder with one file "
                            f"per table ({', '.join(TABLES)})")
    extract = (pd.Timestamp(extract_date) if extract_date is not None
               else pd.Timestamp.today()).normalize()
    files, warnings = find_files(data_dir)
    if not files:
        raise ContractError(f"{data_dir}: no table files found; expected files named "
                            f"{', '.join(TABLES)} (.csv, .parquet or .xlsx)")
    cache = os.environ.get(CACHE_ENV)
    if cache:
        cached = read_cache(Path(cache) / cache_key(data_dir, files, extract), files)
        if cached is not None:
            return cached
    tables, qualities = {}, []
    for table in TABLES:
        if table in files:
            tables[table], quality, warn = load_table(table, files[table], extract)
            qualities.append(quality)
            warnings.extend(warn)
    warnings.extend(_warnings(tables))
    return Dataset(**{t: tables.get(t) for t in TABLES},
                   quality=pd.concat(qualities, ignore_index=True), files=files,
                   warnings=warnings, extract_date=extract)


# ----------------------------------------------------------------------------- cache
def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def checksums(files: dict[str, list[Path]]) -> dict[str, str]:
    """File path -> SHA-256 for every file read."""
    return {str(p): sha256(p) for paths in files.values() for p in paths}


def cache_key(data_dir: Path, files: dict[str, list[Path]], extract_date: pd.Timestamp,
              sums: dict[str, str] | None = None) -> str:
    """Names a cached dataset: the folder, each input file's checksum, the extract date and the
    evalkit version (a new loader may validate differently)."""
    from evalkit import __version__

    sums = checksums(files) if sums is None else sums
    ident = json.dumps([str(data_dir.resolve()), extract_date.isoformat(), __version__,
                        {t: [sums[str(p)] for p in ps] for t, ps in sorted(files.items())}])
    return hashlib.sha256(ident.encode()).hexdigest()[:32]


def save_cache(dataset: Dataset, data_dir: Path, folder: Path,
               sums: dict[str, str] | None = None) -> Path:
    """Write the validated tables (Parquet) and everything else `load` returns into
    `folder/<cache_key>/`, so `load` of the same inputs can reuse it; returns that folder."""
    target = folder / cache_key(Path(data_dir), dataset.files, dataset.extract_date, sums)
    target.mkdir(parents=True, exist_ok=True)
    dtypes = {}
    for table in (*TABLES, "quality"):
        df = getattr(dataset, table)
        if df is not None:
            df.to_parquet(target / f"{table}.parquet", index=False)
            dtypes[table] = {str(c): str(t) for c, t in df.dtypes.items()}
    meta = {"dtypes": dtypes, "warnings": dataset.warnings,
            "extract_date": dataset.extract_date.isoformat()}
    (target / "meta.json.tmp").write_text(json.dumps(meta))
    (target / "meta.json.tmp").replace(target / "meta.json")  # written last: marks it complete
    return target


def read_cache(target: Path, files: dict[str, list[Path]]) -> Dataset | None:
    """The Dataset saved by `save_cache` in `target` (with `files` as this call found them), or
    None when there is none."""
    if not (target / "meta.json").is_file():
        return None
    meta = json.loads((target / "meta.json").read_text())
    frames = {}
    for table, dtypes in meta["dtypes"].items():
        df = pd.read_parquet(target / f"{table}.parquet")
        changed = {c: t for c, t in dtypes.items() if str(df[c].dtype) != t}
        frames[table] = df.astype(changed) if changed else df
    return Dataset(**{t: frames.get(t) for t in TABLES}, quality=frames["quality"],
                   files=files, warnings=list(meta["warnings"]),
                   extract_date=pd.Timestamp(meta["extract_date"]))


# ----------------------------------------------------------------------------- validate CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `evalkit validate`."""
    parser.add_argument("data_dir", type=Path, metavar="DATA_DIR",
                        help="folder with one file per table (CSV, Parquet or xlsx)")
    parser.add_argument("--extract-date", type=pd.Timestamp, default=None,
                        help="dates after this (YYYY-MM-DD) are excluded; default today")


#: Reasons that are not defects: rows kept, or merged because another row stands for them.
REASON_LABELS = {
    "kept": "kept",
    "duplicate_pa_listing": "merged, same PA listed by another agency (counted once)",
}


def format_quality(quality: pd.DataFrame) -> str:
    """The data-quality table as readable text, with each table's total."""
    lines = []
    for table, rows in quality.groupby("table", sort=False):
        total = int(rows["rows"].sum())
        lines.append(f"{table}: {total:,} rows read")
        for reason, n in zip(rows["reason"], rows["rows"], strict=True):
            label = REASON_LABELS.get(reason, f"excluded, {reason}")
            lines.append(f"  {label:<56} {n:>10,}")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    """Print the data-quality table and warnings; 1 with the message on a ContractError."""
    try:
        data = load(args.data_dir, extract_date=args.extract_date)
    except ContractError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"Data folder {args.data_dir} (extract date {data.extract_date.date()})")
    print(format_quality(data.quality))
    for warning in data.warnings:
        print(f"warning: {warning}")
    return 0
