"""The data contract: columns per table (required or optional, type, codes, aliases) and a
pandera schema per table for the validated output of `evalkit.data.load`.

`TABLES` drives the loader (which columns to find, how to parse and check each one) and the
agencies' template; `schema(table)` states what a loaded table guarantees to the analyses;
`ContractError` is a file that breaks the contract beyond counting rows.
Column names follow NHS England's Adult Social Care Client Level Data (CLD) in snake_case; the CLD
names themselves (as used in NHS England's published CLD code, github.com/NHSDigital/
ASC-Client-Level-Data-SALT-ASCOF-transformations) are accepted as aliases.
"""

from __future__ import annotations

import importlib
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Literal

from evalkit.data import codes

if TYPE_CHECKING:  # pandera is imported only to validate (not by a notebook reading the cache)
    import pandas as pd
    import pandera.pandas as pa

Kind = Literal["id", "text", "code", "la_code", "area_code", "date", "year_month", "bool",
               "number", "language", "languages"]


@dataclass(frozen=True)
class Column:
    """One contract column.

    kind: how values are parsed and checked. `lookup` (kind "code"): accepted keys -> canonical.
    required: the column must be present in the file. nullable: blank values are allowed
    (otherwise a blank is excluded as `blank_required:<name>`). blank_as: the value a blank
    becomes (e.g. gender blank -> "Unknown"), which makes the column accept blanks.
    lo/hi/integer: bounds for numbers. future_ok: dates after the extract date are allowed.
    """

    name: str
    kind: Kind
    required: bool = True
    nullable: bool = False
    lookup: dict | None = None
    blank_as: str | None = None
    lo: float | None = None
    hi: float | None = None
    integer: bool = False
    future_ok: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def accepts_blank(self) -> bool:
        """Whether a blank value is kept (as missing or as `blank_as`)."""
        return self.nullable or self.blank_as is not None


def _code(name: str, lookup: dict, **kw) -> Column:
    return Column(name, "code", lookup=lookup, **kw)


def _ascot(name: str) -> Column:
    return Column(name, "number", nullable=True, lo=1, hi=4, integer=True)


_ETHNICITY = _code("ethnicity", codes.ETHNICITY_LOOKUP, blank_as=codes.NOT_STATED,
                   aliases=("Ethnicity", "Ethnic_Group", "Ethnic_Category", "Ethnic_Origin"))
_GENDER = _code("gender", codes.GENDER_LOOKUP, blank_as="Unknown", aliases=("Gender", "Sex"))
_LA = Column("la_code", "la_code", aliases=("LA_Code", "CASSR_Code", "Local_Authority_Code"))
_PSR = _code("primary_support_reason", codes.PSR_LOOKUP, aliases=("Primary_Support_Reason", "PSR"))
_DELIVERY = _code("delivery_mechanism", codes.DELIVERY_LOOKUP, aliases=("Delivery_Mechanism",))
_LANGUAGE = Column("preferred_language", "language", required=False, nullable=True,
                   aliases=("Preferred_Language", "Main_Language", "First_Language", "Language"))

TABLES: dict[str, tuple[Column, ...]] = {
    "support_episodes": (
        Column("person_id", "id", aliases=(
            "Der_NHS_LA_Combined_Person_ID", "Der_Unified_Person_ID",
            "Der_NHS_Number_Traced_Pseudo", "Der_LA_Person_Unique_Identifier_Pseudo",
            "LA_Person_Unique_Identifier", "Person_ID", "Client_ID")),
        Column("nhs_number", "id", required=False, nullable=True, aliases=("NHS_Number",)),
        _LA,
        Column("area_code", "area_code", required=False, nullable=True,
               aliases=("LSOA_Code", "LSOA21CD", "Ward_Code", "WD_Code", "Der_LSOA_Code")),
        Column("birth_year_month", "year_month", aliases=("Birth_Year_Month", "Der_Birth_Date",
                                                          "Month_Year_of_Birth")),
        _GENDER,
        _ETHNICITY,
        _LANGUAGE,
        Column("interpreter_required", "bool", required=False, nullable=True,
               aliases=("Interpreter_Required", "Interpreter_Needed")),
        _PSR,
        _code("service_type", codes.SERVICE_TYPE_LOOKUP, aliases=("Service_Type",)),
        _DELIVERY,
        Column("start_date", "date", aliases=("Event_Start_Date", "Service_Start_Date")),
        Column("end_date", "date", nullable=True, aliases=(
            "Event_End_Date", "Der_Event_End_Date", "Service_End_Date")),
        Column("dp_offered", "bool", required=False, nullable=True, aliases=("DP_Offered",)),
        Column("dp_requested_date", "date", required=False, nullable=True),
        Column("dp_first_payment_date", "date", required=False, nullable=True),
        _code("dp_managed_by", codes.DP_MANAGED_BY_LOOKUP, required=False, nullable=True),
        _code("dp_used_for", codes.DP_USED_FOR_LOOKUP, required=False, nullable=True),
        Column("weekly_budget", "number", required=False, nullable=True, lo=0,
               aliases=("Cost_Per_Week", "Weekly_Cost")),
        Column("planned_hours", "number", required=False, nullable=True, lo=0,
               aliases=("Planned_Units_Per_Week", "Planned_Hours_Per_Week")),
        Column("has_unpaid_carer", "bool", required=False, nullable=True,
               aliases=("Has_Unpaid_Carer",)),
        Column("team_id", "id", required=False, nullable=True, aliases=("Team", "Team_Code")),
    ),
    "population": (
        _LA,
        Column("area_code", "area_code", required=False, nullable=True),
        _code("ethnic_group", {}, aliases=("ethnicity", "ethnic_category")),
        _code("age_band", codes.AGE_BAND_LOOKUP, aliases=("age_group", "ageband")),
        _code("gender", codes.GENDER_LOOKUP, aliases=("sex",)),
        Column("population", "number", lo=0, aliases=("count", "pop", "persons")),
    ),
    "pa_register": (
        Column("snapshot_date", "date"),
        Column("pa_id", "id", aliases=("personal_assistant_id",)),
        Column("agency", "text"),
        _ETHNICITY,
        _GENDER,
        Column("languages", "languages", nullable=True, aliases=("languages_spoken",)),
        Column("area_code", "area_code"),
        _code("status", codes.PA_STATUS_LOOKUP),
        Column("hours_available", "number", nullable=True, lo=0, hi=168),
        Column("religion", "text", required=False, nullable=True),
    ),
    "pa_requests": (
        Column("request_id", "id"),
        Column("person_id", "id", aliases=("Der_NHS_LA_Combined_Person_ID",)),
        Column("request_date", "date"),
        _code("outcome", codes.OUTCOME_LOOKUP),
        Column("outcome_date", "date", nullable=True),
        Column("language_needed", "language", nullable=True),
        _code("ethnicity_preference", {}, nullable=True),
        _code("gender_preference", codes.GENDER_LOOKUP, nullable=True),
        Column("faith_preference", "text", required=False, nullable=True),
        Column("hospital_discharge", "bool"),
        Column("pa_id", "id", nullable=True),
        _code("match_source", codes.MATCH_SOURCE_LOOKUP, required=False, nullable=True),
    ),
    "survey": (
        Column("respondent_id", "id"),
        Column("survey_date", "date"),
        _LA,
        _ETHNICITY,
        _code("age_band", codes.AGE_BAND_LOOKUP),
        _GENDER,
        _PSR,
        _DELIVERY,
        *(_ascot(c) for c in ("control", "personal_care", "food_drink", "accommodation",
                              "safety", "social_participation", "occupation", "dignity")),
        Column("satisfaction", "number", nullable=True, lo=1, hi=7, integer=True),
        Column("info_ease", "number", nullable=True, lo=1, hi=5, integer=True),
        Column("weight", "number", required=False, nullable=True, lo=0),
        _LANGUAGE,
        _code("format", codes.SURVEY_FORMAT_LOOKUP, required=False, nullable=True),
    ),
    "practice_changes": (
        Column("change_id", "id"),
        Column("date", "date", future_ok=True),
        Column("name", "text"),
        Column("description", "text", nullable=True),
        Column("target_groups", "text"),
        Column("area_code", "area_code", required=False, nullable=True),
        Column("target_teams", "text", required=False, nullable=True),
        _code("status", codes.CHANGE_STATUS_LOOKUP),
        Column("dose", "number", required=False, nullable=True, lo=0),
    ),
    "engagement": (
        Column("date", "date"),
        _code("method", codes.ENGAGEMENT_METHOD_LOOKUP),
        Column("community", "text"),
        Column("n_people", "number", lo=0, integer=True),
        Column("theme", "text"),
        Column("summary", "text", nullable=True),
    ),
    # optional lookup: a name for each area code (data/areas.py checks it and names areas)
    "areas": (
        Column("area_code", "area_code", aliases=(
            "LSOA21CD", "LSOA11CD", "WD22CD", "WD23CD", "WD24CD", "Ward_Code", "LSOA_Code")),
        Column("area_name", "text", aliases=(
            "LSOA21NM", "LSOA11NM", "WD22NM", "WD23NM", "WD24NM", "Ward_Name", "LSOA_Name")),
    ),
}

#: Pairs (start, end) whose end may not precede its start (reason `end_before_start`).
END_AFTER_START: dict[str, tuple[str, str]] = {
    "support_episodes": ("start_date", "end_date"),
    "pa_requests": ("request_date", "outcome_date"),
}
#: Tables whose ethnicity is mapped to `ethnic_group` and `ethnic_group_broad`.
ETHNICITY_TABLES = ("support_episodes", "survey", "pa_register")
#: Tables whose ethnic group column may be detailed or broad ("Asian").
ANY_LEVEL_ETHNICITY = {"population": "ethnic_group", "pa_requests": "ethnicity_preference"}

LA_CODE = re.compile(r"^[EWSN]\d{8}$")


class ContractError(ValueError):
    """A whole-file problem: the folder cannot be loaded until the file is fixed."""


def column_key(name: object) -> str:
    """Case/space/punctuation-insensitive column key: "Event Start-Date " -> "event_start_date"."""
    return "_".join(re.sub(r"[^0-9a-z]+", " ", str(name).lower()).split())


def columns(table: str) -> tuple[Column, ...]:
    """The contract columns of `table`."""
    return TABLES[table]


def required_columns(table: str) -> list[str]:
    """Names of the columns a file for `table` must have."""
    return [c.name for c in TABLES[table] if c.required]


def optional_columns(table: str) -> list[str]:
    """Names of the columns a file for `table` may have."""
    return [c.name for c in TABLES[table] if not c.required]


@contextmanager
def without_pyspark_warning() -> Iterator[None]:
    """pandera imports pyspark.pandas when PySpark is installed (evalkit's [spark] extra), as it
    imports pandera and as it first validates, and pyspark warns that it does not yet support
    pandas 3: a warning about a library evalkit does not use through pandera, kept out of the
    notebooks and the log."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                                category=FutureWarning)
        yield


def pandera_pandas() -> ModuleType:
    """pandera's pandas API, imported without PySpark's warning."""
    with without_pyspark_warning():
        return importlib.import_module("pandera.pandas")


def validated(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """`df` validated against `schema(table)` (all failures at once), without PySpark's
    warning."""
    with without_pyspark_warning():
        return schema(table).validate(df, lazy=True)


def _field(col: Column) -> pa.Column:
    """The pandera column for a loaded (validated, normalised) contract column."""
    pa = pandera_pandas()

    nullable = col.nullable
    checks: list[pa.Check] = []
    if col.kind in ("date",):
        dtype = "datetime64[ns]"
    elif col.kind == "bool":
        dtype = "boolean"
    elif col.kind == "number":
        dtype = "float64"
        if col.lo is not None:
            checks.append(pa.Check.ge(col.lo))
        if col.hi is not None:
            checks.append(pa.Check.le(col.hi))
    else:
        dtype = None
        if col.name == "ethnicity":  # the code as given; ethnic_group holds the checked group
            nullable = True
        elif col.kind == "code" and col.lookup:
            checks.append(pa.Check.isin(sorted(set(col.lookup.values()) | {col.blank_as}
                                               - {None})))
        elif col.kind == "la_code":
            checks.append(pa.Check.str_matches(LA_CODE.pattern))
        elif col.kind == "year_month":
            checks.append(pa.Check.str_matches(r"^\d{4}-(0[1-9]|1[0-2])$"))
        if col.kind in ("language", "languages"):
            nullable = col.name == "language_needed"
    return pa.Column(dtype, checks=checks, nullable=nullable, required=col.required)


def schema(table: str) -> pa.DataFrameSchema:
    """Pandera schema of `table` as `load` returns it (contract columns plus derived ones)."""
    pa = pandera_pandas()

    cols = {c.name: _field(c) for c in TABLES[table]}
    if table in ETHNICITY_TABLES:
        cols["ethnic_group"] = pa.Column(None, pa.Check.isin(codes.ETHNIC_GROUP_LABELS))
        cols["ethnic_group_broad"] = pa.Column(None, pa.Check.isin(codes.BROAD_GROUPS))
    if table in ANY_LEVEL_ETHNICITY:
        name = ANY_LEVEL_ETHNICITY[table]
        nullable = next(c.nullable for c in TABLES[table] if c.name == name)
        cols[name] = pa.Column(None, pa.Check.isin([*codes.ETHNIC_GROUP_LABELS,
                                                    *codes.BROAD_GROUPS]), nullable=nullable)
    if table == "population":
        cols["ethnic_group_broad"] = pa.Column(None, pa.Check.isin(codes.BROAD_GROUPS))
    if table == "support_episodes":
        cols["has_dp"] = pa.Column("boolean")
        cols["birth_date"] = pa.Column("datetime64[ns]")
    return pa.DataFrameSchema(cols, name=table, strict=False)
