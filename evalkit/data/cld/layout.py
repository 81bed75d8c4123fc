"""The raw Client Level Data (CLD R1) layout evalkit reads, and the supplementary table.

Names are those of NHS England's pseudonymised CLD extract as its published replication SQL
uses them (github.com/NHSDigital/ASC-Client-Level-Data-SALT-ASCOF-transformations, `ASCOF 3D`
and `SALT LTS001b`). A council's own submission file names a few columns differently (its own
person id and NHS number, a full date of birth): `COUNCIL_ALIASES` maps those names to the
extract's. Headings are matched case-, space- and punctuation-insensitively
(`evalkit.data.contract.column_key`).

The value lists are the CLD specification's defined lists as the SQL spells them; the SQL
compares text the SQL Server way (case-insensitive, trailing spaces ignored), and so does
evalkit (see docs/cld.md). This module is imported by the synthetic generator (evalkit/synth):
keep its names stable.
"""

from __future__ import annotations

# ----------------------------------------------------------------------------- raw CLD columns
LA_CODE = "LA_Code"
LA_NAME = "LA_Name"
IMPORT_DATE = "ImportDate"
PERIOD_START = "Reporting_Period_Start_Date"
PERIOD_END = "Reporting_Period_End_Date"
RECORD_ID = "Der_Unique_Record_ID"
NHS_NUMBER = "Der_NHS_Number_Traced_Pseudo"
LA_PERSON_ID = "Der_LA_Person_Unique_Identifier_Pseudo"
BIRTH_YEAR = "Der_Birth_Year"
BIRTH_MONTH = "Der_Birth_Month"
DATE_OF_DEATH = "Date_of_Death"
CLIENT_TYPE = "Client_Type"
EVENT_TYPE = "Event_Type"
EVENT_START = "Event_Start_Date"
EVENT_END = "Event_End_Date"
EVENT_OUTCOME = "Event_Outcome"
SERVICE_TYPE = "Service_Type"
SERVICE_COMPONENT = "Service_Component"
DELIVERY_MECHANISM = "Delivery_Mechanism"
GENDER = "Gender"
ETHNICITY = "Ethnicity"
PRIMARY_SUPPORT_REASON = "Primary_Support_Reason"
HAS_UNPAID_CARER = "Has_Unpaid_Carer"
LSOA = "Der_Postcode_LSOA_Code"

#: Columns the transformation needs (a file without one of them stops the load).
REQUIRED: tuple[str, ...] = (
    LA_CODE, PERIOD_START, PERIOD_END, NHS_NUMBER, LA_PERSON_ID, BIRTH_YEAR,
    BIRTH_MONTH, DATE_OF_DEATH, CLIENT_TYPE, EVENT_TYPE, EVENT_START, EVENT_END, SERVICE_TYPE,
    SERVICE_COMPONENT, DELIVERY_MECHANISM,
)
#: Columns read when present. ImportDate: without it, a file is one submission imported the
#: day after its latest Reporting_Period_End_Date. Der_Unique_Record_ID: without it, each row
#: gets its own (file and row number). LA_Name: without it, LA_Code stands for it.
OPTIONAL: tuple[str, ...] = (
    LA_NAME, IMPORT_DATE, RECORD_ID, EVENT_OUTCOME, GENDER, ETHNICITY, PRIMARY_SUPPORT_REASON,
    HAS_UNPAID_CARER, LSOA,
)
#: Every raw CLD column evalkit reads, in the extract's order.
COLUMNS: tuple[str, ...] = (
    LA_CODE, LA_NAME, IMPORT_DATE, PERIOD_START, PERIOD_END, RECORD_ID, NHS_NUMBER,
    LA_PERSON_ID, BIRTH_YEAR, BIRTH_MONTH, DATE_OF_DEATH, CLIENT_TYPE, EVENT_TYPE, EVENT_START,
    EVENT_END, EVENT_OUTCOME, SERVICE_TYPE, SERVICE_COMPONENT, DELIVERY_MECHANISM, GENDER,
    ETHNICITY, PRIMARY_SUPPORT_REASON, HAS_UNPAID_CARER, LSOA,
)
#: A council's own submission: its names for the extract's columns.
COUNCIL_ALIASES: dict[str, tuple[str, ...]] = {
    NHS_NUMBER: ("NHS_Number", "Der_NHS_Number_Traced", "NHS_No"),
    LA_PERSON_ID: ("LA_Person_Unique_Identifier", "Der_LA_Person_Unique_Identifier",
                   "Person_Unique_Identifier"),
    BIRTH_YEAR: ("Birth_Year", "Year_of_Birth"),
    BIRTH_MONTH: ("Birth_Month", "Month_of_Birth"),
    LA_CODE: ("CASSR_Code", "Local_Authority_Code"),
    LSOA: ("LSOA_Code", "Der_LSOA_Code", "LSOA21CD"),
    IMPORT_DATE: ("Import_Date", "Submission_Date"),
}
#: A council file may give a full date of birth instead of year and month.
DATE_OF_BIRTH_ALIASES: tuple[str, ...] = ("Date_of_Birth", "Der_Birth_Date", "DOB")

# ----------------------------------------------------------------------------- defined values
NURSING = "Long Term Support: Nursing Care"
RESIDENTIAL = "Long Term Support: Residential Care"
COMMUNITY = "Long Term Support: Community"
PRISON = "Long Term Support: Prison"
#: The long-term service types of the SQL's snapshot filter.
LONG_TERM_SERVICE_TYPES: tuple[str, ...] = (NURSING, RESIDENTIAL, COMMUNITY, PRISON)

DIRECT_PAYMENT = "Direct Payment"
MANAGED_BUDGET = "CASSR Managed Personal Budget"
COMMISSIONED = "CASSR Commissioned Support"
#: Delivery mechanisms of the CLD defined list.
DELIVERY_MECHANISMS: tuple[str, ...] = (DIRECT_PAYMENT, MANAGED_BUDGET, COMMISSIONED)
#: Service_Component value that also shows a Direct Payment (community services only).
DP_SERVICE_COMPONENT = DIRECT_PAYMENT

SERVICE_USER = "Service User"
#: Client types of the CLD defined list; only `SERVICE_USER` enters ASCOF 3D part a.
CLIENT_TYPES: tuple[str, ...] = (SERVICE_USER, "Carer", "Carer known by association")
#: Event types of the CLD defined list (the client measures do not filter on them).
EVENT_TYPES: tuple[str, ...] = ("Request", "Assessment", "Service", "Review")

#: The SALT setting hierarchy (LTS001b, ASCOF 3D): (service type, delivery mechanism or "",
#: SALT category, rank). A person in several settings at the snapshot is counted once, in the
#: row of lowest rank. A delivery mechanism not listed for its service type is blanked ("").
#: A community row whose Service_Component is "Direct Payment" ranks 3 whatever its mechanism.
SETTING_HIERARCHY: tuple[tuple[str, str, str, int], ...] = (
    (NURSING, "", "Nursing", 1),
    (RESIDENTIAL, "", "Residential", 2),
    (COMMUNITY, DIRECT_PAYMENT, "Community: Direct Payment", 3),
    (COMMUNITY, MANAGED_BUDGET, "Community: CASSR Managed Personal Budget", 4),
    (COMMUNITY, COMMISSIONED, "Community: CASSR Commissioned Support", 5),
    (COMMUNITY, "", "Community", 6),
    (PRISON, MANAGED_BUDGET, "Prison: CASSR Managed Personal Budget", 7),
    (PRISON, COMMISSIONED, "Prison: CASSR Commissioned Support", 8),
    (PRISON, "", "Prison", 9),
)
#: Rank given to a community row with Service_Component "Direct Payment".
DP_COMPONENT_RANK = 3

#: ASCOF 3D age bands: (label, lowest age, highest age or None). "18+" is the SQL's "Total",
#: which has no age filter (see docs/cld.md).
AGE_BANDS: tuple[tuple[str, int | None, int | None], ...] = (
    ("18-64", 18, 64), ("65+", 65, None), ("18+", None, None))
MEASURES: tuple[str, ...] = ("3D1a", "3D2a")

# ----------------------------------------------------------------------------- files
#: A data folder holds raw CLD as `cld.csv|parquet|xlsx` or a folder `cld/` of files.
CLD_NAME = "cld"
#: The optional supplementary table: `cld_supplementary.csv|parquet|xlsx`.
SUPPLEMENTARY_NAME = "cld_supplementary"

# ----------------------------------------------------------------------------- supplementary
#: Key of the supplementary table: the council's person id (the same id as the CLD file's
#: person id column), and the council when the file covers several.
SUPPLEMENTARY_KEY = "la_person_id"
SUPPLEMENTARY_KEY_ALIASES: tuple[str, ...] = (
    "LA_Person_Unique_Identifier", LA_PERSON_ID, "person_id", "Client_ID")
SUPPLEMENTARY_LA = "la_code"
#: What the notebooks use that CLD does not carry; names are evalkit's support_episodes
#: columns (evalkit/data/contract.py), with the same aliases and codes. All optional.
SUPPLEMENTARY_COLUMNS: tuple[str, ...] = (
    "preferred_language", "interpreter_required", "dp_offered", "dp_requested_date",
    "dp_first_payment_date", "dp_managed_by", "dp_used_for", "weekly_budget",
    "planned_hours", "team_id", "area_code",
)


def nhs_round(numerator: int, denominator: int) -> float:
    """numerator / denominator * 100 to one decimal, halves away from zero, as NHS England's
    ASCOF SQL rounds it: SQL Server's ROUND(CAST(n AS Decimal) / CAST(d AS Decimal) * 100, 1),
    done in exact integers (Python's round would give 6.2 for 1/16; the SQL gives 6.3)."""
    tenths = (2000 * numerator + denominator) // (2 * denominator)
    return tenths / 10
