"""A second, independent reading of NHS England's ASCOF 3D client SQL, in plain pandas.

Written from `ASCOF 3D/ASCOF 3D replication code.txt` without looking at evalkit's SQL, to check
it person by person. It takes raw CLD as a DataFrame of text in the extract layout (as read
from the CSV evalkit reads, dates as YYYY-MM-DD) and returns, per age band, the people the SQL
counts in the community denominator with their 1a/2a flags. SQL Server compares text
case-insensitively with trailing spaces ignored; `trim()` drops leading spaces too.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

NURSING, RESIDENTIAL = "LONG TERM SUPPORT: NURSING CARE", "LONG TERM SUPPORT: RESIDENTIAL CARE"
COMMUNITY, PRISON = "LONG TERM SUPPORT: COMMUNITY", "LONG TERM SUPPORT: PRISON"
DP, CMPB, CCS = "DIRECT PAYMENT", "CASSR MANAGED PERSONAL BUDGET", "CASSR COMMISSIONED SUPPORT"
# The SQL's #REF_Service_Type_Delivery_Mech: (service type, mechanism) -> hierarchy.
REF = {(NURSING, ""): 1, (RESIDENTIAL, ""): 2, (COMMUNITY, DP): 3, (COMMUNITY, CMPB): 4,
       (COMMUNITY, CCS): 5, (COMMUNITY, ""): 6, (PRISON, CMPB): 7, (PRISON, CCS): 8,
       (PRISON, ""): 9}


def _eq(value: object) -> object:
    """The form SQL Server's `=` compares: upper case, trailing spaces dropped; None: NULL."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value)
    return None if text.strip() == "" else text.rstrip(" ").upper()


def _trim(value: object) -> str | None:
    key = _eq(value)
    return None if key is None else key.strip(" ")


def _date(value: object) -> pd.Timestamp | None:
    key = _eq(value)
    return None if key is None else pd.Timestamp(key)


def latest_submissions(raw: pd.DataFrame, period_end: dt.date, submitted_by: dt.date
                       ) -> set[tuple[str, pd.Timestamp]]:
    """(LA name, ImportDate) of each council's latest submission inside the window."""
    fy_start = pd.Timestamp(period_end.year if period_end.month >= 4 else period_end.year - 1,
                            4, 1)
    snap = pd.Timestamp(period_end)
    groups: dict[tuple, list] = {}
    for row in raw.itertuples(index=False):
        name = _eq(row.LA_Name)
        if name is None:
            continue
        key = (name, _eq(row.LA_Code), _date(row.ImportDate))
        start, end = _date(row.Reporting_Period_Start_Date), _date(row.Reporting_Period_End_Date)
        lo, hi = groups.get(key, [None, None])
        groups[key] = [start if lo is None or (start is not None and start < lo) else lo,
                       end if hi is None or (end is not None and end > hi) else hi]
    best: dict[tuple, pd.Timestamp] = {}
    for (name, code, imported), (lo, hi) in groups.items():
        ok = (lo is not None and hi is not None and imported is not None and lo <= fy_start
              and hi >= snap and imported > snap
              and imported.normalize() <= pd.Timestamp(submitted_by))
        if ok and ((name, code) not in best or imported > best[(name, code)]):
            best[(name, code)] = imported
    return {(name, imported) for (name, _), imported in best.items()}


def _build(raw: pd.DataFrame, period_end: dt.date, submitted_by: dt.date) -> list[dict]:
    """The SQL's #ASCOF_3D_Clients_Build: rows of the latest submissions passing the filters."""
    latest = latest_submissions(raw, period_end, submitted_by)
    snap = pd.Timestamp(period_end)
    out = []
    for row in raw.to_dict("records"):
        if (_eq(row["LA_Name"]), _date(row["ImportDate"])) not in latest:
            continue
        start, end = _date(row["Event_Start_Date"]), _date(row["Event_End_Date"])
        death = _date(row["Date_of_Death"])
        year, month = _eq(row["Der_Birth_Year"]), _eq(row["Der_Birth_Month"])
        if (_eq(row["Service_Type"]) not in (NURSING, RESIDENTIAL, COMMUNITY, PRISON)
                or _eq(row["Client_Type"]) != "SERVICE USER"
                or start is None or start > snap or (end is not None and end < snap)
                or (death is not None and death < snap) or year is None or month is None):
            continue
        try:
            dob = pd.Timestamp(int(float(year)), int(float(month)), 1)
        except ValueError:  # SQL Server's CAST fails; evalkit sets the row aside
            continue
        row["age"] = math.floor((snap - dob).days / 365.25)
        out.append(row)
    return out


def _ids(build: list[dict]) -> None:
    """The amalgamated NHS/LA id (None: the row is deleted), in place."""
    with_nhs = {_eq(r["Der_LA_Person_Unique_Identifier_Pseudo"]) for r in build
                if _eq(r["Der_NHS_Number_Traced_Pseudo"]) is not None}
    for r in build:
        nhs, la = _eq(r["Der_NHS_Number_Traced_Pseudo"]), \
            _eq(r["Der_LA_Person_Unique_Identifier_Pseudo"])
        if _eq(r["Der_Unique_Record_ID"]) is None:
            r["id"] = None
        elif nhs is not None:
            r["id"] = nhs
        else:
            r["id"] = la if la is not None and la not in with_nhs else None


def _hierarchy(r: dict) -> None:
    """Blank an unexpected mechanism, then rank the row (in place)."""
    st, mech = _eq(r["Service_Type"]), r["Delivery_Mechanism"]
    listed = (st, _trim(mech) or "") in REF and (_trim(mech) or "") != ""
    r["mech"] = _eq(mech) if listed and st in (COMMUNITY, PRISON) else ""
    r["rank"] = 3 if st == COMMUNITY and _eq(r["Service_Component"]) == DP else \
        REF[(st, (r["mech"] or "").strip(" "))]


def reference(raw: pd.DataFrame, period_end: dt.date, submitted_by: dt.date) -> pd.DataFrame:
    """Community clients counted per band: la_code, age_band, person, sds (1a), dp (2a)."""
    build = _build(raw, period_end, submitted_by)
    _ids(build)
    rows = [r for r in build if r["id"] is not None]
    for r in rows:
        _hierarchy(r)
    out = []
    bands = {"18-64": lambda a: 18 <= a <= 64, "65+": lambda a: a > 64, "18+": lambda a: True}
    for band, inside in bands.items():
        sub = [r for r in rows if inside(r["age"])]
        lowest: dict[tuple, int] = {}
        for r in sub:
            k = (_eq(r["LA_Code"]), r["id"])
            lowest[k] = min(lowest.get(k, 99), r["rank"])
        # the SQL joins the minimum rank on the id alone (any council's minimum)
        mins: dict[str, set[int]] = {}
        for (_, pid), rank in lowest.items():
            mins.setdefault(pid, set()).add(rank)
        for r in sub:
            if r["rank"] in mins[r["id"]] and _eq(r["Service_Type"]) == COMMUNITY:
                dp = r["mech"] == DP or _eq(r["Service_Component"]) == DP
                out.append({"la_code": _eq(r["LA_Code"]), "age_band": band, "person": r["id"],
                            "sds": dp or r["mech"] == CMPB, "dp": dp})
    frame = pd.DataFrame(out, columns=["la_code", "age_band", "person", "sds", "dp"])
    return (frame.groupby(["la_code", "age_band", "person"], as_index=False)
            [["sds", "dp"]].any())
