"""Parse the raw values of a contract column: normalised values and a status per row.

Values are parsed once per distinct raw value (`pd.factorize`) and broadcast back, so a column of
millions of rows costs one parse per distinct value, never a Python call per row.

Status per row: `OK`; `BLANK` (empty or a blank token such as N/A); `INVALID` (cannot be read as
its type); `UNKNOWN` (a code not in the contract's lists); `MONTH_FIRST` (a date written with the
day and month as numbers that can only be read month first, 03/25/2022, while no order was
stated); `BLANKED` (a negative number in an optional column: the value is blanked, the row
kept); `TRUNCATED` (text longer than `MAX_CELL_CHARS`, cut short, the row kept).

Dates with the day and month as numbers (05/03/2022, 5-3-2022, 05.03.2022) are read day first,
the contract's order, unless `date_order="mdy"` says month first; with an order stated, a value
that does not fit it is INVALID.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow

from evalkit.data import codes
from evalkit.data.contract import ANY_LEVEL_ETHNICITY, LA_CODE, Column

OK, BLANK, INVALID, UNKNOWN, MONTH_FIRST, BLANKED, TRUNCATED = range(7)
#: Statuses whose value is kept as parsed (a truncated text is kept, shortened).
KEPT_VALUE = (OK, TRUNCATED)
#: Longest text kept in a cell; longer text is cut to this and counted (`text_truncated`).
MAX_CELL_CHARS = 5_000
#: Ways to state the order of day and month in dates written as numbers.
DATE_ORDERS = {"dmy": "day/month/year", "mdy": "month/day/year"}

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

_DAY_MONTH = r"^([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})$"
_YEAR_FIRST = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_NS_RANGE = (pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D"))
_TIME = r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$"


def as_text(u: pd.Series) -> pd.Series:
    """Values as stripped text (integral floats without '.0')."""
    if pd.api.types.is_float_dtype(u) and (u % 1 == 0).all():
        u = u.astype("int64")
    return u.astype(object).map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer()
                                else str(v)).str.strip()


def _blank_u(u: pd.Series) -> np.ndarray:
    if pd.api.types.is_object_dtype(u) or pd.api.types.is_string_dtype(u):
        return u.astype(str).str.strip().str.lower().isin(codes.MISSING_TOKENS).to_numpy()
    return np.zeros(len(u), dtype=bool)


def day_month(values: pd.Series) -> pd.DataFrame:
    """Values written as two numbers and a four-digit year, with or without a time (05/03/2022,
    5-3-2022, 05.03.2022): columns `first`, `second` and `year` as numbers, NaN for others."""
    text = values.astype(str).str.strip().str.replace(_TIME, "", regex=True)
    parts = text.str.extract(_DAY_MONTH)
    return pd.DataFrame({"first": pd.to_numeric(parts[0]), "second": pd.to_numeric(parts[2]),
                         "year": pd.to_numeric(parts[3])}, index=text.index)


def _ns(dates: pd.Series) -> pd.Series:
    """Dates as datetime64[ns], NaT for a date outside its range (years 1677 to 2262), such as
    a 9999-12-31 some case systems write for 'no end date'."""
    return dates.where(dates.between(*_NS_RANGE)).astype("datetime64[ns]")


def _from_day_month(parts: pd.DataFrame, order: str | None) -> pd.Series:
    """The dates `parts` (of `day_month`) stand for in `order` (day first unless "mdy")."""
    day, month = ("second", "first") if order == "mdy" else ("first", "second")
    return _ns(pd.to_datetime(pd.DataFrame({"year": parts["year"], "month": parts[month],
                                            "day": parts[day]}), errors="coerce"))


def parse_dates(u: pd.Series, order: str | None = None) -> tuple[pd.Series, np.ndarray]:
    """Distinct raw values -> (datetime64[ns], NaT where not a date; month_first flags).

    Accepts datetimes, ISO dates with or without a time, DD/MM/YYYY (also with - or .; MM/DD/YYYY
    when `order` is "mdy"), YYYY/MM/DD, YYYYMMDD and Excel serial numbers. `month_first` marks
    values that can only be read month first (second number over 12) when `order` is None.
    """
    month_first = np.zeros(len(u), dtype=bool)
    if pd.api.types.is_datetime64_any_dtype(u):
        u = u.dt.tz_localize(None) if getattr(u.dt, "tz", None) else u
        return _ns(u).dt.normalize(), month_first
    out = pd.Series(pd.NaT, index=u.index, dtype="datetime64[ns]")
    is_dt = u.map(lambda v: isinstance(v, pd.Timestamp | np.datetime64)
                  or hasattr(v, "year")).astype(bool)
    if is_dt.any():
        out[is_dt] = _ns(pd.to_datetime(u[is_dt].astype(object), errors="coerce")
                         ).dt.normalize()
    text = u[~is_dt].astype(str).str.strip()
    serial = pd.to_numeric(text.where(text.str.fullmatch(r"\d{1,5}(\.\d+)?")), errors="coerce")
    ok = serial.between(1, 73050)  # up to 2099-12-31
    out[ok[ok].index] = _EXCEL_EPOCH + pd.to_timedelta(np.floor(serial[ok]), unit="D")
    rest = text[~ok].str.replace(_TIME, "", regex=True)
    parts = day_month(rest).dropna()
    if not parts.empty:
        out[parts.index] = _from_day_month(parts, order)
        if order is None:
            only = parts.index[(parts["first"] <= 12) & (parts["second"] > 12)]
            month_first[u.index.get_indexer(only)] = True
    for fmt in _YEAR_FIRST:
        todo = rest[out[rest.index].isna()]
        if todo.empty:
            break
        out[todo.index] = _ns(pd.to_datetime(todo, format=fmt, errors="coerce"))
    return out, month_first


def parse_year_month(u: pd.Series, order: str | None = None) -> tuple[pd.Series, np.ndarray]:
    """Distinct raw values -> ('YYYY-MM', NaN where not a year and month; month_first flags as
    `parse_dates`). Accepts YYYY-MM, YYYYMM, MM/YYYY and any full date `parse_dates` accepts."""
    text = as_text(u) if not pd.api.types.is_datetime64_any_dtype(u) else u.astype(str)
    parts = text.str.extract(r"^(?:(\d{4})[-/]?(\d{1,2})|(\d{1,2})[/-](\d{4}))$")
    year = parts[0].fillna(parts[3])
    month = parts[1].fillna(parts[2])
    full = year.isna().to_numpy()
    dates, month_first_full = parse_dates(u[full], order)
    month_first = np.zeros(len(u), dtype=bool)
    month_first[full] = month_first_full
    year = year.fillna(dates.dt.year.astype("Int64").astype(str).where(dates.notna()))
    month = month.fillna(dates.dt.month.astype("Int64").astype(str).where(dates.notna()))
    y = pd.to_numeric(year, errors="coerce")
    m = pd.to_numeric(month, errors="coerce")
    good = y.between(1880, 2100) & m.between(1, 12)
    return (y.astype("Int64").astype(str) + "-" + m.astype("Int64").astype(str).str.zfill(2)
            ).where(good), month_first


def _truncate(values: pd.Series, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Text longer than MAX_CELL_CHARS cut to it (status TRUNCATED)."""
    long = (values.str.len() > MAX_CELL_CHARS).to_numpy(bool) & (status == OK)
    if long.any():
        values = values.where(~long, values.str.slice(0, MAX_CELL_CHARS))
    return values.to_numpy(object), np.where(long, TRUNCATED, status).astype(np.int8)


def _number(col: Column, u: pd.Series, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numbers (text with spaces, thousands commas or a leading £ accepted), checked against the
    column's bounds; a negative value in an optional column is BLANKED, not INVALID."""
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
    negative = bad & (values < 0).to_numpy() if not col.required else np.zeros_like(bad)
    status = np.where(negative, BLANKED, np.where(bad, INVALID, status))
    return values.to_numpy(float), status.astype(np.int8)


def _parse(col: Column, table: str, u: pd.Series, order: str | None
           ) -> tuple[np.ndarray, np.ndarray]:
    """Parse the distinct values `u` of a column: (values, status per value)."""
    status = np.where(_blank_u(u), BLANK, OK).astype(np.int8)
    kind = col.kind
    if kind == "text":
        return _truncate(as_text(u).str.replace(r"\s+", " ", regex=True), status)
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
        values = as_text(u).str.upper().str.replace(r"\s+", "", regex=True).str.replace(
            r"^([A-Z])(\d{1,7})$", lambda m: m[1] + m[2].zfill(8), regex=True)
        bad = ~values.str.fullmatch(LA_CODE.pattern).to_numpy() & (status == OK)
        return values.to_numpy(object), np.where(bad, INVALID, status).astype(np.int8)
    if kind in ("date", "year_month"):
        parse = parse_dates if kind == "date" else parse_year_month
        values, month_first = parse(u, order)
        bad = values.isna().to_numpy() & (status == OK)
        status = np.where(bad, np.where(month_first, MONTH_FIRST, INVALID), status)
        return values.to_numpy("datetime64[ns]" if kind == "date" else object), status.astype(
            np.int8)
    if kind == "bool":
        if pd.api.types.is_bool_dtype(u):
            values = u.astype(object)
        else:
            values = u.map(lambda v: codes.BOOL_LOOKUP.get(codes.key(v), np.nan))
        bad = values.isna().to_numpy() & (status == OK)
        return values.to_numpy(object), np.where(bad, INVALID, status).astype(np.int8)
    if kind == "number":
        return _number(col, u, status)
    if kind in ("language", "languages"):
        return _truncate(u.map(codes.language if kind == "language" else codes.languages),
                         status)
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


def parse_column(col: Column, table: str, raw: pd.Series, date_order: str | None = None
                 ) -> tuple[pd.Series, np.ndarray]:
    """Parse a raw column: (normalised values, status per row; see the module docstring).

    Text results are pandas `str` columns, dates datetime64[ns], numbers float64, booleans
    `boolean`; a value whose status is not OK (or TRUNCATED) is missing.
    """
    if col.kind == "id":
        return _parse_id(raw)
    ids, uniques = pd.factorize(raw, use_na_sentinel=True)
    values_u, status_u = _parse(col, table, pd.Series(uniques), date_order)
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
    values_u = np.where(np.isin(status_u, KEPT_VALUE), values_u,
                        np.where(status_u == BLANK, blank, None))
    table_u = pyarrow.array(np.append(values_u, blank), type=pyarrow.string(), from_pandas=True)
    data = table_u.take(pyarrow.array(np.where(ids < 0, len(values_u), ids)))
    return pd.Series(pd.array(data, dtype="str"), index=raw.index), status
