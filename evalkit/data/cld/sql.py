"""NHS England's ASCOF 3D client transformation (parts 1a and 2a) as one engine-neutral SQL
definition: an ordered list of named SELECT statements over a typed raw table `cld_raw`.

Written in plain SQL (CASE, COALESCE, window ROW_NUMBER, GROUP BY, JOIN, UNION ALL, DATE and
TIMESTAMP literals, integer arithmetic) so that the same text runs on DuckDB and, through
SQLGlot's transpiler or as is, on Spark SQL (each step becomes a temporary view there). No
engine-specific function is used; dates enter as DATE/TIMESTAMP columns and the proxy birth date
as a day number (days since 1970-01-01) prepared by the staging step (`evalkit.data.cld.stage`).

It follows `ASCOF 3D/ASCOF 3D replication code.txt` as written, including SQL Server's default
text comparison: every comparison of text uses `ci()` (case-insensitive, trailing spaces
ignored) and the SQL's `trim()` joins use `ci_trim()` (leading spaces also ignored). Every raw
row ends with one reason in `cld_reasons` (docs/cld.md lists them and the order they are
tested in).
"""

from __future__ import annotations

import datetime as dt

from evalkit.data.cld import layout as L

EPOCH = dt.date(1970, 1, 1)
#: Why a raw row is not used, in the order they are tested (the first that applies is given).
REASONS: dict[str, str] = {
    "unreadable_value": "set aside, a date or birth year/month that cannot be read",
    "no_council": "set aside, no council name (LA_Name)",
    "history": "used: an episode that ended before the snapshot (history, not in ASCOF 3D)",
    "outside_window": "set aside, submission outside the window (period or import date)",
    "superseded_submission": "set aside, superseded by the council's later submission",
    "not_long_term_service": "set aside, not a long-term service (Service_Type)",
    "carer": "set aside, a carer (Client_Type)",
    "not_service_user": "set aside, Client_Type not 'Service User'",
    "not_open_at_snapshot": "set aside, event not open at the snapshot",
    "died_before_snapshot": "set aside, died before the snapshot",
    "no_birth_month": "set aside, birth year or month missing or not a date",
    "no_usable_id": "set aside, no usable id (no NHS number; council id absent or "
                    "seen with one)",
    "lower_setting": "set aside, the person is counted in a higher setting",
    "another_row_same_person": "merged, another row of the person in the same setting",
    "prison_setting": "set aside, prison (not a setting of evalkit's support episodes)",
    "kept": "used: one long-term client at the snapshot",
}

#: Steps worth keeping as tables (each is read by several later steps); the others are views.
#: `cld_ids` keeps only what later steps need (the cohort's other columns are joined back from
#: `cld_raw` by row_id), so no wide copy of the raw rows is made after staging.
MATERIALISED = frozenset({"cld_latest", "cld_nhs_la_ids", "cld_ids", "cld_history",
                          "cld_band_kept"})


def ci(expr: str) -> str:
    """SQL Server's `=` on text: case-insensitive, trailing spaces ignored."""
    return f"UPPER(TRIM(TRAILING ' ' FROM {expr}))"


def ci_trim(expr: str) -> str:
    """SQL Server's `trim(x) = trim(y)`: also leading spaces ignored."""
    return f"UPPER(TRIM(BOTH ' ' FROM {expr}))"


def lit(value: str) -> str:
    """A text literal in the case-folded form `ci()` compares with."""
    return "'" + value.upper().replace("'", "''") + "'"


def in_list(expr: str, values: tuple[str, ...]) -> str:
    """`expr IN (...)` on case-folded literals."""
    return f"{expr} IN ({', '.join(lit(v) for v in values)})"


def financial_year_start(day: dt.date) -> dt.date:
    """1 April of the financial year holding `day` (the window's reporting-period start)."""
    return dt.date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def _valid_mechanism() -> str:
    """Whether the row's delivery mechanism is listed for its service type (else blanked)."""
    pairs: dict[str, list[str]] = {}
    for service, mechanism, _, _ in L.SETTING_HIERARCHY:
        if mechanism:
            pairs.setdefault(service, []).append(mechanism)
    return " OR ".join(f"(st_key = {lit(s)} AND {in_list('dm_trim_key', tuple(m))})"
                       for s, m in pairs.items())


def _rank() -> str:
    """The SALT setting hierarchy as a CASE: a listed mechanism before the blank one of its
    service type (SETTING_HIERARCHY lists the blank last), so a blanked mechanism ranks blank."""
    whens = [f"WHEN st_key = {lit(L.COMMUNITY)} AND sc_key = {lit(L.DP_SERVICE_COMPONENT)} "
             f"THEN {L.DP_COMPONENT_RANK}"]
    whens += [f"WHEN st_key = {lit(s)} AND dm_valid AND dm_trim_key = {lit(m)} THEN {rank}"
              if m else f"WHEN st_key = {lit(s)} THEN {rank}"
              for s, m, _, rank in L.SETTING_HIERARCHY]
    return "CASE " + " ".join(whens) + " END"


def _band(label: str, lo: int | None, hi: int | None) -> str:
    """Rows of one age band (the SQL's 18-64: BETWEEN; 65+: > 64; Total: no age filter)."""
    cond = ["person_key IS NOT NULL"]
    if lo is not None:
        cond.append(f"age >= {lo}")
    if hi is not None:
        cond.append(f"age <= {hi}")
    return (f"SELECT '{label}' AS age_band, row_id, la_code_key, person_key, rank, "
            f"is_community, is_dp, is_sds, Event_Start_Date FROM cld_ids "
            f"WHERE {' AND '.join(cond)}")


def _submission_steps(period_end: dt.date, submitted_by: dt.date) -> list[tuple[str, str]]:
    """Text keys as SQL Server compares them; each council's latest submission in the window."""
    snap = f"DATE '{period_end.isoformat()}'"
    keyed = f"""
SELECT r.*, {ci('LA_Name')} AS la_name_key, {ci('LA_Code')} AS la_code_key,
  {ci(L.NHS_NUMBER)} AS nhs_key, {ci(L.LA_PERSON_ID)} AS la_id_key,
  {ci('Service_Type')} AS st_key, {ci('Service_Component')} AS sc_key,
  {ci('Delivery_Mechanism')} AS dm_key, {ci_trim('Delivery_Mechanism')} AS dm_trim_key,
  {ci('Client_Type')} AS ct_key
FROM cld_raw r"""
    submissions = """
SELECT la_name_key, la_code_key, ImportDate,
  MIN(Reporting_Period_Start_Date) AS period_start, MAX(Reporting_Period_End_Date) AS period_end
FROM cld_keyed WHERE la_name_key IS NOT NULL
GROUP BY la_name_key, la_code_key, ImportDate"""
    in_window = f"""
SELECT * FROM cld_submissions
WHERE period_start <= DATE '{financial_year_start(period_end).isoformat()}'
  AND period_end >= {snap}
  AND ImportDate > CAST({snap} AS TIMESTAMP)
  AND CAST(ImportDate AS DATE) <= DATE '{submitted_by.isoformat()}'"""
    latest = """
SELECT DISTINCT la_name_key, ImportDate FROM (
  SELECT la_name_key, ImportDate, ROW_NUMBER() OVER (
    PARTITION BY la_name_key, la_code_key ORDER BY ImportDate DESC) AS rn
  FROM cld_in_window) s
WHERE rn = 1"""
    return [("cld_keyed", keyed), ("cld_submissions", submissions),
            ("cld_in_window", in_window), ("cld_latest", latest)]


def _row_steps(period_end: dt.date) -> list[tuple[str, str]]:
    """Per raw row: the first filter it fails, age, the person id, mechanism and rank."""
    snap = f"DATE '{period_end.isoformat()}'"
    snap_days = (period_end - EPOCH).days
    carers = tuple(c for c in L.CLIENT_TYPES if c != L.SERVICE_USER)
    flags = f"""
SELECT k.*,
  CASE WHEN k.unreadable IS NOT NULL THEN 'unreadable_value'
    WHEN k.la_name_key IS NULL THEN 'no_council'
    WHEN l.la_name_key IS NULL AND w.la_name_key IS NULL THEN 'outside_window'
    WHEN l.la_name_key IS NULL THEN 'superseded_submission'
    WHEN k.st_key IS NULL OR NOT ({in_list('k.st_key', L.LONG_TERM_SERVICE_TYPES)})
      THEN 'not_long_term_service'
    WHEN k.ct_key IS NOT NULL AND {in_list('k.ct_key', carers)} THEN 'carer'
    WHEN k.ct_key IS NULL OR k.ct_key <> {lit(L.SERVICE_USER)} THEN 'not_service_user'
    WHEN k.Event_Start_Date IS NULL OR k.Event_Start_Date > {snap}
      OR k.Event_End_Date < {snap} THEN 'not_open_at_snapshot'
    WHEN k.Date_of_Death < {snap} THEN 'died_before_snapshot'
    WHEN k.birth_days IS NULL THEN 'no_birth_month'
  END AS reason_pre,
  FLOOR(({snap_days} - k.birth_days) / 365.25) AS age
FROM cld_keyed k
LEFT JOIN cld_latest l ON k.la_name_key = l.la_name_key AND k.ImportDate = l.ImportDate
LEFT JOIN cld_in_window w ON k.la_name_key = w.la_name_key
  AND k.la_code_key IS NOT DISTINCT FROM w.la_code_key
  AND k.ImportDate IS NOT DISTINCT FROM w.ImportDate"""
    nhs_la_ids = """
SELECT DISTINCT la_id_key FROM cld_flags
WHERE reason_pre IS NULL AND nhs_key IS NOT NULL AND la_id_key IS NOT NULL"""
    ids = f"""
SELECT row_id, la_code_key, nhs_key, la_id_key, st_key, dm_key, dm_trim_key, reason_pre, age,
  Event_Start_Date, Event_End_Date, Date_of_Death, person_key, dm_valid, la_name_key,
  ImportDate, COALESCE(unreadable IS NULL AND la_name_key IS NOT NULL
    AND {in_list('st_key', (L.NURSING, L.RESIDENTIAL, L.COMMUNITY))}
    AND ct_key = {lit(L.SERVICE_USER)} AND Event_Start_Date IS NOT NULL
    AND birth_days IS NOT NULL AND (la_id_key IS NOT NULL OR nhs_key IS NOT NULL), FALSE)
    AS episode_row,
  {_rank()} AS rank,
  COALESCE(st_key = {lit(L.COMMUNITY)}, FALSE) AS is_community,
  COALESCE((dm_valid AND dm_key = {lit(L.DIRECT_PAYMENT)})
    OR sc_key = {lit(L.DP_SERVICE_COMPONENT)}, FALSE) AS is_dp,
  COALESCE((dm_valid AND {in_list('dm_key', (L.DIRECT_PAYMENT, L.MANAGED_BUDGET))})
    OR sc_key = {lit(L.DP_SERVICE_COMPONENT)}, FALSE) AS is_sds
FROM (
  SELECT f.*,
    CASE WHEN f.reason_pre IS NOT NULL OR f.Der_Unique_Record_ID IS NULL THEN NULL
      WHEN f.nhs_key IS NOT NULL THEN f.nhs_key
      WHEN n.la_id_key IS NULL THEN f.la_id_key END AS person_key,
    COALESCE({_valid_mechanism()}, FALSE) AS dm_valid
  FROM cld_flags f LEFT JOIN cld_nhs_la_ids n ON f.la_id_key = n.la_id_key) v"""
    return [("cld_flags", flags), ("cld_nhs_la_ids", nhs_la_ids), ("cld_ids", ids)]


def _history_steps(period_end: dt.date, submitted_by: dt.date) -> list[tuple[str, str]]:
    """The episodes that ended before the snapshot: the latest version of each long-term
    service event across the council's accepted submissions (the one ASCOF 3D uses and those
    imported before it; without one in the window, those imported by `submitted_by`). An event
    is a council's service type for a person (council id, else NHS number) from a start date;
    its latest version is its row(s) in the latest-imported accepted submission holding it. It
    ended when its end date, or the person's death, is before the snapshot. One row stands for
    the event (`pick` 1: a Direct Payment row first, then a managed budget), so a part Direct
    Payment written as two rows is one episode with a DP."""
    snap = f"DATE '{period_end.isoformat()}'"
    ended = ("CASE WHEN Date_of_Death < COALESCE(Event_End_Date, Date_of_Death) "
             "THEN Date_of_Death ELSE COALESCE(Event_End_Date, Date_of_Death) END")
    key = "la_name_key, la_code_key, event_person, st_key, Event_Start_Date"
    events = f"""
SELECT i.row_id, i.la_name_key, i.la_code_key, i.ImportDate, i.st_key, i.Event_Start_Date,
  i.is_dp, i.is_sds, COALESCE(i.la_id_key, 'NHS ' || i.nhs_key) AS event_person,
  {ended} AS ended
FROM cld_ids i
LEFT JOIN (SELECT la_name_key, MAX(ImportDate) AS cutoff FROM cld_latest
           GROUP BY la_name_key) c ON i.la_name_key = c.la_name_key
WHERE i.episode_row AND CAST(i.ImportDate AS DATE) <= DATE '{submitted_by.isoformat()}'
  AND (c.cutoff IS NULL OR i.ImportDate <= c.cutoff)"""
    history = f"""
SELECT row_id, ended, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY
    CASE WHEN is_dp THEN 0 ELSE 1 END, CASE WHEN is_sds THEN 0 ELSE 1 END, row_id) AS pick
FROM (SELECT *, MAX(ImportDate) OVER (PARTITION BY {key}) AS latest FROM cld_events) e
WHERE ImportDate = latest AND ended < {snap}"""
    return [("cld_events", events), ("cld_history", history)]


def _count_steps() -> list[tuple[str, str]]:
    """Per age band the highest setting of each person, the ASCOF counts, and each row's
    reason (the 18+ band decides the cohort; rows of ended episodes are `history`)."""
    band_rows = "\nUNION ALL\n".join(_band(*b) for b in L.AGE_BANDS)
    band_min = """
SELECT age_band, la_code_key, person_key, MIN(rank) AS min_rank
FROM cld_band_rows GROUP BY age_band, la_code_key, person_key"""
    # The SQL joins each row to the lowest rank of the same id in ANY council (its MinRank
    # join has no LA_Code): kept as written.
    band_kept = """
SELECT DISTINCT r.* FROM cld_band_rows r
JOIN (SELECT DISTINCT age_band, person_key, min_rank FROM cld_band_min) m
  ON r.age_band = m.age_band AND r.person_key = m.person_key AND r.rank = m.min_rank"""
    ascof = """
SELECT la_code_key AS la_code, age_band, COUNT(DISTINCT person_key) AS denominator,
  COUNT(DISTINCT CASE WHEN is_sds THEN person_key END) AS num_1a,
  COUNT(DISTINCT CASE WHEN is_dp THEN person_key END) AS num_2a
FROM cld_band_kept WHERE is_community
GROUP BY la_code_key, age_band"""
    picked = """
SELECT row_id, ROW_NUMBER() OVER (PARTITION BY la_code_key, person_key
  ORDER BY rank, CASE WHEN is_dp THEN 0 ELSE 1 END, Event_Start_Date DESC, row_id) AS pick
FROM cld_band_kept WHERE age_band = '18+'"""
    reasons = f"""
SELECT i.*, h.ended AS history_end, CASE WHEN h.pick = 1 THEN 'history'
    WHEN h.pick > 1 THEN 'another_row_same_person'
    WHEN i.reason_pre IS NOT NULL THEN i.reason_pre
    WHEN i.person_key IS NULL THEN 'no_usable_id'
    WHEN p.row_id IS NULL THEN 'lower_setting'
    WHEN p.pick > 1 THEN 'another_row_same_person'
    WHEN i.st_key = {lit(L.PRISON)} THEN 'prison_setting'
    ELSE 'kept' END AS reason
FROM cld_ids i LEFT JOIN cld_picked p ON i.row_id = p.row_id
LEFT JOIN cld_history h ON i.row_id = h.row_id"""
    return [("cld_band_rows", band_rows), ("cld_band_min", band_min),
            ("cld_band_kept", band_kept), ("cld_ascof", ascof), ("cld_picked", picked),
            ("cld_reasons", reasons)]


def steps(period_end: dt.date, submitted_by: dt.date) -> list[tuple[str, str]]:
    """The transformation: (view name, SELECT) in order, for a snapshot at `period_end` and
    submissions imported up to `submitted_by` (inclusive, by date)."""
    return [*_submission_steps(period_end, submitted_by), *_row_steps(period_end),
            *_history_steps(period_end, submitted_by), *_count_steps()]
