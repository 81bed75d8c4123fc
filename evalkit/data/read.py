"""Read a table's files into raw rows: formats, sheets, delimiters, encodings, the header row.

`find_files` finds each table's file(s) in a data folder; `read_file` reads one file into a frame
of raw cells with each row's number as the file shows it (`ROW`) and where it came from (`FILE`:
the file name, with the sheet when a workbook holds the table on several); `match_columns`
renames the file's headings to contract names. What the file is like is found, not assumed:
- CSV encoding: UTF-8 (with or without a byte order mark) or UTF-16 with one; other text is
  read as Windows-1252 (what Excel's "CSV (Comma delimited)" writes), with a warning.
- CSV delimiter: comma, semicolon, tab or vertical bar, whichever splits a row of the first
  `HEADER_ROWS` into the most contract column names.
- The header row: the first row among the first `HEADER_ROWS` that names the most contract
  columns (or their CLD aliases); rows above it (a title) are skipped with a warning.
- Workbooks: every sheet. Sheets whose header names all the required columns are combined (a
  table split over sheets); other sheets with anything on them are named in a warning (the
  instruction and code-list sheets of `evalkit template` excepted).
Whole-file problems raise `ContractError` naming the file (and sheet), the row and what was
expected; no message quotes a cell of the file other than a heading.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.data.contract import TABLES, ContractError, column_key, required_columns

SUFFIXES = (".csv", ".parquet", ".pq", ".xlsx")
ROW, FILE = "__row", "__file"
HEADER_ROWS = 20  # rows searched for the header
SAMPLE_BYTES = 1 << 16  # bytes of a CSV read to find its encoding, delimiter and header
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}
FALLBACK_ENCODING = "cp1252"
#: The sheets of `evalkit template`'s workbook besides the table: instructions and code lists.
TEMPLATE_SHEETS = ("instructions", "codes")
#: CLD gives the birth month as two columns, combined into birth_year_month.
_CLD_BIRTH = ("der_birth_year", "der_birth_month")


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


# ----------------------------------------------------------------------------- the header row
def header_keys(table: str) -> dict[str, str]:
    """Every heading `table` accepts (`column_key` of a contract name or alias) -> the contract
    column it names."""
    keys = {}
    for col in TABLES[table]:
        for name in (col.name, *col.aliases):
            keys.setdefault(column_key(name), col.name)
    if table == "support_episodes":
        keys.update(dict.fromkeys(_CLD_BIRTH, "birth_year_month"))
    return keys


def find_header(rows: list[list[object]], table: str) -> tuple[int, set[str]]:
    """(index of the header: the first of `rows` naming the most columns of `table`, the
    columns it names); (-1, empty) when no row names any."""
    keys, best, named = header_keys(table), -1, set()
    for i, cells in enumerate(rows[:HEADER_ROWS]):
        found = {keys[k] for k in map(column_key, cells) if k in keys}
        if len(found) > len(named):
            best, named = i, found
    return best, named


def _title_warning(label: str, above: list[list[object]], header_row: int) -> list[str]:
    """A warning when rows with anything in them stand above the header (on `header_row`)."""
    n = sum(any(not pd.isna(c) and str(c).strip() for c in cells) for cells in above)
    if not n:
        return []
    return [f"{label}: the header is on row {header_row}; the {n} row(s) above it (a title?) "
            "were not read"]


# ----------------------------------------------------------------------------- CSV
def _encoding(sample: bytes) -> str:
    """UTF-16 (with a byte order mark), UTF-8 (with or without one) or else Windows-1252."""
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return FALLBACK_ENCODING
    return "utf-8-sig"


def _records(text: str, delimiter: str) -> list[list[str]]:
    """The first HEADER_ROWS records of a CSV sample (fewer if the sample ends inside one)."""
    out = []
    try:
        out.extend(itertools.islice(csv.reader(io.StringIO(text), delimiter=delimiter),
                                    HEADER_ROWS))
    except csv.Error:  # the sample was cut inside a quoted value: keep the records before it
        pass
    return out


def _layout(path: Path, text: str, table: str) -> tuple[str, int, list[str], list[str]]:
    """(delimiter, header index, header cells, warnings) of a CSV from a sample of its text."""
    best = max(DELIMITERS, key=lambda d: len(find_header(_records(text, d), table)[1]))
    rows = _records(text, best)
    header, named = find_header(rows, table)
    if not named:
        raise ContractError(
            f"{path.name}: no header row found: none of the first {HEADER_ROWS} rows names a "
            f"{table} column, whether split at commas, semicolons, tabs or vertical bars. "
            f"Expected a header row naming the columns, such as "
            f"{', '.join(required_columns(table))} (data/README.md lists them and their CLD "
            "aliases)")
    return best, header, [c.strip() for c in rows[header]], _title_warning(
        path.name, rows[:header], header + 1)


def _decode_error(path: Path, encoding: str) -> ContractError:
    data = path.read_bytes()
    try:
        data.decode(encoding)
        where = ""
    except UnicodeDecodeError as err:
        row = data[: err.start].count(b"\n") + 1
        where = f" (byte 0x{data[err.start]:02X} on row {row})"
    tried = "UTF-16" if encoding == "utf-16" else "UTF-8 or Windows-1252"
    return ContractError(f"{path.name}: cannot be read as {tried} text{where}; expected a CSV "
                         "saved as UTF-8 (in Excel: Save As > CSV UTF-8)")


def _ragged(path: Path, err: pd.errors.ParserError, delimiter: str, header: int
            ) -> ContractError:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
    if not found:
        return ContractError(f"{path.name}: unreadable as CSV ({err})")
    expected, line, saw = found.groups()
    return ContractError(
        f"{path.name}: row {line} has {saw} values but the header (row {header + 1}) has "
        f"{expected} columns (values separated by {DELIMITERS[delimiter]}); expected one value "
        "per column: a value that contains the separator must be in double quotes")


def _read_csv(path: Path, table: str) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """(cells, row numbers, warnings) of a CSV file."""
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if not sample.strip():
        raise ContractError(f"{path.name}: the file is empty; expected a header row with the "
                            f"{table} columns")
    encoding = _encoding(sample)
    delimiter, header, names, warnings = _layout(path, sample.decode(encoding, "replace"),
                                                 table)

    tried = [encoding, FALLBACK_ENCODING] if encoding == "utf-8-sig" else [encoding]
    for encoding in tried:  # the one that reads the file is named in the warning below
        try:
            df = pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False,
                             encoding=encoding, skiprows=header)
            break
        except UnicodeDecodeError as err:
            if encoding == tried[-1]:
                raise _decode_error(path, encoding) from err
        except pd.errors.ParserError as err:
            raise _ragged(path, err, delimiter, header) from err
    if encoding == FALLBACK_ENCODING:
        warnings.append(f"{path.name}: not UTF-8 text; read as Windows-1252 (what Excel's 'CSV "
                        "(Comma delimited)' writes). If accented letters look wrong, save it as "
                        "'CSV UTF-8'")
    if len(names) == df.shape[1]:
        df.columns = names  # pandas renames a repeated heading ('ethnicity.1'); keep it as is
    return df, np.arange(len(df)) + header + 2, warnings


# ----------------------------------------------------------------------------- workbooks
def _sheet(path: Path, name: str, label: str, grid: pd.DataFrame, header: int
           ) -> tuple[pd.DataFrame, list[str]]:
    """(cells under the header with their row numbers and `label`, warnings) of the sheet
    `name` holding the table; `grid` has no blank rows; its index + 1 is the sheet's row."""
    cells = ["" if pd.isna(c) else str(c).strip() for c in grid.iloc[header]]
    data = grid.iloc[header + 1:].set_axis(cells, axis=1).assign(
        **{ROW: grid.index[header + 1:].to_numpy() + 1, FILE: label})
    return data, _title_warning(f"{path.name}, sheet {name!r}",
                                grid.iloc[:header].to_numpy().tolist(),
                                int(grid.index[header]) + 1)


def _read_workbook(path: Path, table: str, given: tuple[str, ...]
                   ) -> tuple[list[pd.DataFrame], list[str]]:
    """(cells of each sheet that holds the table, warnings); see `read_file`."""
    with pd.ExcelFile(path, engine="openpyxl") as book:
        sheets = pd.read_excel(book, sheet_name=None, header=None, dtype=object)
    required = [c for c in required_columns(table) if c not in given]
    found, problems = {}, []
    for name, grid in sheets.items():
        grid = grid.dropna(how="all")
        if grid.empty:
            continue
        header, named = find_header(grid.head(HEADER_ROWS).to_numpy().tolist(), table)
        if set(required) <= named:
            found[name] = (grid, header)
        elif column_key(name) not in TEMPLATE_SHEETS:
            missing = [c for c in required if c not in named]
            problems.append(f"sheet {name!r} " + (f"lacks {', '.join(missing)}" if named else
                                                   f"names no {table} column"))
    if not found:
        raise ContractError(f"{path.name}: no sheet has the {table} columns ("
                            f"{'; '.join(problems) or 'every sheet is blank'}); expected a "
                            f"header row naming {', '.join(required)}")
    parts, warnings = [], []
    for name, (grid, header) in found.items():
        label = path.name if len(found) == 1 else f"{path.name}, sheet {name!r}"
        part, warn = _sheet(path, name, label, grid, header)
        parts.append(part)
        warnings += warn
    warnings += [f"{path.name}: {p}; it was not read" for p in problems]
    if len(found) > 1:
        warnings.append(f"{path.name}: the table is on {len(found)} sheets "
                        f"({', '.join(map(repr, found))}); their rows were combined")
    return parts, warnings


# ----------------------------------------------------------------------------- any file
def read_file(path: Path, table: str, given: tuple[str, ...] = ()
              ) -> tuple[list[pd.DataFrame], list[str]]:
    """The file's rows as raw cells with their row numbers (`ROW`) and source (`FILE`): one
    frame, or one per sheet of a workbook holding the table (a sheet must name the required
    columns but those in `given`, which the caller fills in); and warnings on how it was read."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            df, rows, warnings = _read_csv(path, table)
        elif suffix in (".parquet", ".pq"):
            df, warnings = pd.read_parquet(path), []
            rows = np.arange(len(df)) + 2
        else:
            return _read_workbook(path, table, given)
    except ContractError:
        raise
    except Exception as err:  # noqa: BLE001 - any reader failure means an unreadable file
        raise ContractError(f"{path.name}: unreadable as {suffix[1:]} ({type(err).__name__}: "
                            f"{err}); expected a {table} table (see data/README.md)") from err
    return [df.assign(**{ROW: rows, FILE: path.name})], warnings


# ----------------------------------------------------------------------------- columns
def _combine_cld_birth(df: pd.DataFrame, keys: dict[str, str]) -> pd.DataFrame:
    """CLD gives Der_Birth_Year and Der_Birth_Month: combine them into birth_year_month."""
    year, month = (keys.get(k) for k in _CLD_BIRTH)
    if not (year and month) or "birth_year_month" in keys:
        return df
    y = pd.to_numeric(df[year], errors="coerce").astype("Int64").astype(str)
    m = pd.to_numeric(df[month], errors="coerce").astype("Int64").astype(str).str.zfill(2)
    both = df[year].notna() & df[month].notna() & (y != "<NA>") & (m != "<NA>")
    return df.assign(birth_year_month=(y + "-" + m).where(both, ""))


def _letters(position: int) -> str:
    """Spreadsheet column letters of a 0-based position: 0 -> A, 27 -> AB."""
    from openpyxl.utils import get_column_letter

    return get_column_letter(position + 1)


def _check_repeated(names: list[str], table: str, label: str) -> None:
    """Raise ContractError when a heading naming a contract column is given twice."""
    keys = [column_key(n) for n in names]
    accepted = header_keys(table)
    key = next((k for k in keys if k in accepted and keys.count(k) > 1), None)
    if key is not None:
        where = [_letters(i) for i, k in enumerate(keys) if k == key]
        raise ContractError(
            f"{label}: the header gives column {names[keys.index(key)]!r} {len(where)} times "
            f"(columns {', '.join(where)}); expected each column once: keep the right one")


def match_columns(df: pd.DataFrame, table: str, label: str) -> tuple[pd.DataFrame, list[str]]:
    """Rename the columns of the file `label` to contract names; error on a missing or
    repeated column."""
    names = [str(c) for c in df.columns if c not in (ROW, FILE)]
    _check_repeated(names, table, label)
    keys = {column_key(c): c for c in names}
    if table == "support_episodes":
        df = _combine_cld_birth(df, keys)
        keys = {column_key(c): str(c) for c in df.columns if c not in (ROW, FILE)}
    rename, used = {}, set()
    for col in TABLES[table]:
        for name in (col.name, *col.aliases):
            source = keys.get(column_key(name))
            if source is not None and source not in used:
                rename[source] = col.name
                used.add(source)
                break
    missing = [c for c in required_columns(table) if c not in rename.values()]
    if missing:
        raise ContractError(
            f"{label}: missing required column(s) {', '.join(missing)} for table {table}; "
            f"found {', '.join(names) or 'no columns'}. Expected the contract names (or their "
            "CLD aliases) listed in data/README.md")
    return df[[*rename, ROW, FILE]].rename(columns=rename), _unused(df, names, used, table,
                                                                     label)


def _has_values(cells: pd.Series) -> bool:
    """Whether any cell holds something other than spaces."""
    return bool((cells.dropna().astype(str).str.strip() != "").any())


def _unused(df: pd.DataFrame, names: list[str], used: set[str], table: str, label: str
            ) -> list[str]:
    """Warnings for the columns not read: not in the contract, naming a column already read
    from another heading, or without a heading but with values."""
    accepted = header_keys(table)
    unused = [(i, n) for i, n in enumerate(names) if n not in used
              and column_key(n) not in _CLD_BIRTH]
    again = [n for _, n in unused if n and column_key(n) in accepted]
    other = [n for _, n in unused if n and column_key(n) not in accepted]
    unnamed = [_letters(i) for i, n in unused if not n and _has_values(df.iloc[:, i])]
    out = []
    if other:
        out.append(f"{label}: column(s) {', '.join(other)} are not in the {table} contract and "
                   "were ignored")
    if again:
        out.append(f"{label}: column(s) {', '.join(again)} name a column already read from "
                   "another heading and were ignored")
    if unnamed:
        out.append(f"{label}: column(s) {', '.join(unnamed)} have values but no heading and "
                   "were ignored")
    return out
