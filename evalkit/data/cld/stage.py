"""Raw CLD files as the typed relation `cld_raw` the transformation starts from (a view over
the files: nothing is copied, so memory does not grow with the raw rows).

The engine (`evalkit.data.cld.engine`) reads each file; the rest is SQL written once in
DuckDB's dialect, which the Spark engine transpiles with SQLGlot. A data folder holds
`cld.csv`, `cld.parquet` or `cld.xlsx`, or a folder `cld/` of such files (say one per quarterly
submission). Headings are matched to `layout.COLUMNS` case-, space- and
punctuation-insensitively, with a council's own names (`layout.COUNCIL_ALIASES`). Every value
is read as text, then typed: dates as YYYY-MM-DD (with or without a time) or DD/MM/YYYY; a
value that cannot be read marks its row `unreadable` (it is set aside with that reason, never
silently dropped).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from evalkit.data.cld import layout as L
from evalkit.data.cld.engine import Engine, value
from evalkit.data.contract import ContractError, column_key

SUFFIXES = (".csv", ".parquet", ".xlsx")
DATES = (L.PERIOD_START, L.PERIOD_END, L.DATE_OF_DEATH, L.EVENT_START, L.EVENT_END)
#: Columns read as a date and time (the dates, ImportDate and a council's date of birth).
TIMESTAMPS = (*DATES, L.IMPORT_DATE, "date_of_birth")
#: Day-first formats tried after ISO (DuckDB's strptime codes; SQLGlot gives Spark's).
DATE_FORMATS = ('%d/%m/%Y', '%d/%m/%Y %H:%M', '%d/%m/%Y %H:%M:%S')


def _table_files(data_dir: Path, name: str) -> list[Path]:
    """`<name>.<ext>` or the files of a folder `<name>/` in `data_dir` (none: [])."""
    files = [p for p in sorted(data_dir.iterdir())
             if p.is_file() and column_key(p.stem) == name and p.suffix.lower() in SUFFIXES]
    folders = [p for p in sorted(data_dir.iterdir()) if p.is_dir() and column_key(p.name) == name]
    if len(files) + len(folders) > 1:
        raise ContractError(f"{data_dir}: {name} is given more than once "
                            f"({', '.join(p.name for p in files + folders)}); keep one file, "
                            f"or put several in a folder {name}/")
    if folders:
        files = sorted(p for p in folders[0].iterdir() if p.suffix.lower() in SUFFIXES
                       and not p.name.startswith(("~$", ".")))
        if not files:
            raise ContractError(f"{folders[0]}: folder for {name} holds no CSV, Parquet or "
                                "xlsx files")
    return files


def cld_files(data_dir: Path) -> list[Path]:
    """The raw CLD files of a data folder (none: [])."""
    return _table_files(data_dir, L.CLD_NAME)


def supplementary_files(data_dir: Path) -> list[Path]:
    """The supplementary table's files of a data folder (none: [])."""
    return _table_files(data_dir, L.SUPPLEMENTARY_NAME)


def _names() -> dict[str, str]:
    """column_key(heading) -> layout column, for the extract's names and a council's."""
    names = {column_key(c): c for c in L.COLUMNS}
    for canonical, aliases in L.COUNCIL_ALIASES.items():
        names.update({column_key(a): canonical for a in aliases})
    names.update({column_key(a): "date_of_birth" for a in L.DATE_OF_BIRTH_ALIASES})
    return names


def match_headings(headings: list[str], label: str) -> dict[str, str]:
    """Layout column -> the file's heading; a ContractError naming what is missing or
    repeated."""
    names, found = _names(), {}
    for heading in headings:
        canonical = names.get(column_key(heading))
        if canonical in found:
            raise ContractError(f"{label}: columns {found[canonical]!r} and {heading!r} both "
                                f"give {canonical}; keep one")
        if canonical:
            found[canonical] = heading
    need = [c for c in L.REQUIRED if c not in found
            and not (c in (L.BIRTH_YEAR, L.BIRTH_MONTH) and "date_of_birth" in found)]
    if need:
        raise ContractError(f"{label}: no column {', '.join(need)}; expected a raw CLD file "
                            "(NHS England's CLD R1 layout, see data/README.md)")
    return found


def _text(heading: str | None) -> str:
    """A file column as text, blank (or spaces only) as NULL; absent: NULL."""
    if heading is None:
        return "CAST(NULL AS VARCHAR)"
    col = '"' + heading.replace('"', '""') + '"'
    return f"CASE WHEN TRIM(CAST({col} AS VARCHAR)) = '' THEN NULL ELSE CAST({col} AS VARCHAR) END"


def _default_import(engine: Engine, view: str, heading: str) -> str:
    """A file without ImportDate is one submission imported the day after its latest
    reporting-period end: that date as a text literal (NULL when the file gives none)."""
    end = value(engine, f"SELECT CAST(MAX({_timestamp(_text(heading))}) AS DATE) FROM {view}")
    if end is None or pd.isna(end):
        return "CAST(NULL AS VARCHAR)"
    return f"'{pd.Timestamp(end).date() + dt.timedelta(days=1)}'"


def _is_timestamp(sql_type: str) -> bool:
    """Whether a file column's type (the engine's name for it) is a date or a date and time
    without a time zone (Parquet's dates; CSV and xlsx columns are text)."""
    name = sql_type.lower()
    return name == "date" or (name.startswith("timestamp") and "time zone" not in name
                              and name != "timestamptz")


def _dates(found: dict[str, str], types: dict[str, str], defaults: dict[str, str]
           ) -> dict[str, str]:
    """Each date column as text (`c`; NULL when the file has it typed) and as a TIMESTAMP
    (`c__t`): a typed column is used as it is, without writing and re-reading it as text."""
    out = {}
    for c in TIMESTAMPS:
        heading = found.get(c)
        if heading is not None and _is_timestamp(types[heading]):
            out[c] = "CAST(NULL AS VARCHAR)"
            out[f"{c}__t"] = f'CAST("{heading.replace(chr(34), chr(34) * 2)}" AS TIMESTAMP)'
        else:
            out[c] = defaults.get(c, _text(heading))
            out[f"{c}__t"] = _timestamp(out[c])
    return out


def _select(engine: Engine, path: Path, index: int, offset: int) -> tuple[str, int]:
    """One file as the layout's text columns and each date's TIMESTAMP (`_dates`; defaults
    for LA_Name, ImportDate and the record id when the file lacks them), its name, row numbers
    and row ids from `offset`; and its number of rows."""
    view = f"cld_file_{index}"
    types = engine.read(path, view)
    found = match_headings(list(types), path.name)
    rows = int(value(engine, f"SELECT COUNT(*) FROM {view}"))
    first = 2 if path.suffix.lower() != ".parquet" else 1  # rows as a spreadsheet shows them
    name = path.name.replace("'", "''")
    cols = {c: _text(found.get(c)) for c in L.COLUMNS if c not in TIMESTAMPS}
    if L.LA_NAME not in found:
        cols[L.LA_NAME] = cols[L.LA_CODE]
    if L.RECORD_ID not in found:
        cols[L.RECORD_ID] = f"'{name}:' || CAST(n + {first - 1} AS VARCHAR)"
    defaults = {} if L.IMPORT_DATE in found else {
        L.IMPORT_DATE: _default_import(engine, view, found[L.PERIOD_END])}
    cols |= _dates(found, types, defaults)
    return (f"SELECT n + {offset - 1} AS row_id, '{name}' AS source_file, "
            f"n + {first - 1} AS source_row, "
            f"{', '.join(f'{e} AS {c}' for c, e in cols.items())} FROM {view}"), rows


def _timestamp(col: str) -> str:
    """A text date or date and time as a TIMESTAMP; NULL when it cannot be read."""
    days = ", ".join(f"TRY_STRPTIME({col}, '{f}')" for f in DATE_FORMATS)
    return f"COALESCE(TRY_CAST({col} AS TIMESTAMP), {days})"


def _integer(col: str) -> str:
    return f"TRY_CAST(TRY_CAST({col} AS DOUBLE) AS INTEGER)"


def _typed(union: str) -> str:
    """The files' rows (`union`, from `_select`) -> cld_raw: dates, birth year/month (or a
    date of birth), the proxy birth date as a day number, `unreadable` (the first column whose
    value cannot be read)."""
    year = f"COALESCE({_integer(L.BIRTH_YEAR)}, YEAR(date_of_birth__t))"
    month = f"COALESCE({_integer(L.BIRTH_MONTH)}, MONTH(date_of_birth__t))"
    checks = [(c, f"{c}__t") for c in TIMESTAMPS]
    checks += [(c, _integer(c)) for c in (L.BIRTH_YEAR, L.BIRTH_MONTH)]
    unreadable = " ".join(f"WHEN {c} IS NOT NULL AND {typed} IS NULL THEN '{c}'"
                          for c, typed in checks)
    text = [c for c in L.COLUMNS if c not in (*DATES, L.IMPORT_DATE, L.BIRTH_YEAR,
                                              L.BIRTH_MONTH, L.LA_NAME, L.RECORD_ID)]
    return f"""
SELECT row_id, source_file, source_row, {', '.join(text)}, {L.LA_NAME}, {L.RECORD_ID},
  {', '.join(f'CAST({c}__t AS DATE) AS {c}' for c in DATES)},
  {L.IMPORT_DATE}__t AS {L.IMPORT_DATE},
  {year} AS {L.BIRTH_YEAR}, {month} AS {L.BIRTH_MONTH},
  CASE WHEN {month} BETWEEN 1 AND 12 AND {year} BETWEEN 1 AND 9999
    THEN DATE_DIFF('day', DATE '1970-01-01', MAKE_DATE({year}, {month}, 1)) END AS birth_days,
  CASE {unreadable} END AS unreadable
FROM ({union}) cld_text"""


def stage(engine: Engine, files: list[Path]) -> int:
    """Create `cld_raw` over the files (in DuckDB a view: nothing is copied, each step reads
    the files); returns the number of rows read."""
    parts, offset = [], 0
    for i, path in enumerate(files):
        select, rows = _select(engine, path, i, offset)
        parts.append(select)
        offset += rows
    if offset == 0:
        raise ContractError(f"{', '.join(p.name for p in files)}: no rows under the header; "
                            "expected raw CLD rows")
    engine.create("cld_raw", _typed("\nUNION ALL\n".join(parts)), engine.materialise_raw)
    return offset
