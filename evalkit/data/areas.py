"""The optional `areas` lookup table: a name for each area code (area_code, area_name), so that
reports show "Belgrave (E05010453)" instead of a bare code.

`check_areas` refuses a lookup whose codes repeat or whose names are blank (a ContractError
naming the file, the rows and the column); `area_warnings` says which codes of the data have no
name and how many names no row of the data uses (a warning, not an error: a lookup of every
ward in England is fine); `area_names` and `area_label` are what the reports use.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from evalkit.data.contract import ContractError
from evalkit.data.read import ROW

#: Tables whose area_code an areas lookup names.
AREA_TABLES = ("support_episodes", "pa_register", "population")


def _rows(numbers: pd.Series, limit: int = 5) -> str:
    """'rows 3, 7 and 2 more' from file row numbers."""
    shown = ", ".join(str(int(n)) for n in numbers.iloc[:limit])
    more = f" and {len(numbers) - limit} more" if len(numbers) > limit else ""
    return f"row{'s' if len(numbers) > 1 else ''} {shown}{more}"


def check_areas(raw: pd.DataFrame, source: str) -> None:
    """Raise ContractError when a row of the lookup (matched to the contract, with its file row
    numbers) has a blank area_name or its area_code repeats another row's."""
    name = raw["area_name"].astype("string").str.strip()
    blank = name.isna() | (name == "")
    if blank.any():
        raise ContractError(f"{source}: area_name is blank on {_rows(raw.loc[blank, ROW])}; "
                            "expected the name of every area (e.g. Belgrave), or remove the row")
    code = raw["area_code"].astype("string").str.strip().str.upper()
    repeated = code.duplicated(keep=False) & code.notna()
    if repeated.any():
        first = code[repeated].iloc[0]
        raise ContractError(f"{source}: area_code repeats on {_rows(raw.loc[repeated, ROW])} "
                            f"(e.g. {first}); expected each area once, with one name")


def area_names(areas: pd.DataFrame | None) -> dict[str, str]:
    """Area code -> name from a loaded lookup ({} without one)."""
    if areas is None or areas.empty:
        return {}
    return dict(zip(areas["area_code"], areas["area_name"].astype(str).str.strip(), strict=True))


def area_label(code: object, names: Mapping[str, str]) -> str:
    """'Belgrave (E05010453)' when the lookup names the code, else the code as it is."""
    name = names.get(str(code))
    return f"{name} ({code})" if name else str(code)


def area_warnings(areas: pd.DataFrame | None, tables: Mapping[str, pd.DataFrame | None],
                  source: str = "areas") -> list[str]:
    """Warnings about a lookup that does not match the data: codes of the data with no name
    (shown as codes; the first few named), and how many codes of the lookup the data never use."""
    if areas is None:
        return []
    used = set()
    for table in AREA_TABLES:
        frame = tables.get(table)
        if frame is not None and "area_code" in frame:
            used |= set(frame["area_code"].dropna().astype(str).unique())  # not row by row
    named = set(areas["area_code"].astype(str).unique())
    out = []
    unnamed = sorted(used - named)
    if unnamed:
        shown = ", ".join(unnamed[:5]) + (f" and {len(unnamed) - 5} more" if len(unnamed) > 5
                                          else "")
        out.append(f"{source}: {len(unnamed)} area code(s) in the data have no area_name "
                   f"({shown}); reports show them as codes")
    unused = len(named - used)
    if unused:
        out.append(f"{source}: {unused} of its {len(named)} area code(s) are not in the data; "
                   "they are not used")
    return out
