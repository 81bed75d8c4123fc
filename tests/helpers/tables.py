"""Small clean raw tables in the data contract, as a council would write them to files.

Shared by the data tests (tests/test_load.py, test_dirty.py, test_load_cache.py); independent
of the synthetic data generator.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.data import codes

EXTRACT = pd.Timestamp("2026-03-31")
COUNCILS = ["E06000016", "E08000025"]  # Leicester and Birmingham
NHS_CODES = list(codes.NHS_ETHNIC_CODES)
LANGS = ["English", "Gujarati", "Somali", "Panjabi", "Polish", "Urdu", ""]
AREAS = [f"E0100{i:04d}" for i in range(10, 20)]
MIN_ROWS = 10  # the fewest rows of a table sized from the episode count


def _dates(rng: np.random.Generator, n: int, start: str, days: int) -> pd.Series:
    return (pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days, n), unit="D")
            ).strftime("%Y-%m-%d")


def support_episodes(rng: np.random.Generator, n: int) -> pd.DataFrame:
    start = pd.Timestamp("2021-04-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    ended = rng.random(n) < 0.3
    end = (start + pd.to_timedelta(rng.integers(0, 300, n), unit="D")).strftime("%Y-%m-%d")
    mech = rng.choice(codes.DELIVERY_MECHANISMS, n)
    is_dp = np.isin(mech, codes.DP_MECHANISMS)
    req = start - pd.to_timedelta(rng.integers(20, 90, n), unit="D")
    return pd.DataFrame({
        "person_id": [f"P{i:06d}" for i in range(n)],
        "la_code": rng.choice(COUNCILS, n),
        "area_code": rng.choice(AREAS, n),
        "birth_year_month": [f"{y}-{m:02d}" for y, m in zip(rng.integers(1930, 2000, n),
                                                            rng.integers(1, 13, n), strict=True)],
        "gender": rng.choice(["Male", "Female"], n),
        "ethnicity": rng.choice(NHS_CODES, n),
        "preferred_language": rng.choice(LANGS, n),
        "interpreter_required": rng.choice(["Y", "N"], n),
        "primary_support_reason": rng.choice(codes.PRIMARY_SUPPORT_REASONS, n),
        "service_type": rng.choice(codes.SERVICE_TYPES, n),
        "delivery_mechanism": mech,
        "start_date": start.strftime("%Y-%m-%d"),
        "end_date": np.where(ended, end, ""),
        "dp_offered": np.where(is_dp, "Y", rng.choice(["Y", "N"], n)),
        "dp_requested_date": np.where(is_dp, req.strftime("%Y-%m-%d"), ""),
        "dp_first_payment_date": np.where(is_dp, start.strftime("%Y-%m-%d"), ""),
        "dp_managed_by": np.where(is_dp, rng.choice(codes.DP_MANAGED_BY, n), ""),
        "dp_used_for": np.where(is_dp, rng.choice(codes.DP_USED_FOR, n), ""),
        "weekly_budget": np.round(rng.uniform(50, 900, n), 2),
        "planned_hours": rng.integers(2, 40, n).astype(float),
        "has_unpaid_carer": rng.choice(["Y", "N"], n),
        "team_id": rng.choice(["T01", "T02", "T03"], n),
    })


def population() -> pd.DataFrame:
    groups = list(codes.ETHNIC_GROUPS)[:6]
    rows = [(la, g, band, sex, 100 + 7 * i) for i, (la, g, band, sex) in enumerate(
        (la, g, b, s) for la in COUNCILS for g in groups
        for b in codes.AGE_BANDS[1:] for s in ["Male", "Female"])]
    return pd.DataFrame(rows, columns=["la_code", "ethnic_group", "age_band", "gender",
                                       "population"])


def pa_register(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "snapshot_date": rng.choice(["2025-03-31", "2025-09-30"], n),
        "pa_id": [f"PA{i:05d}" for i in range(n)],
        "agency": rng.choice(["Agency North", "Agency South"], n),
        "ethnicity": rng.choice(NHS_CODES[:-1], n),
        "gender": rng.choice(["Female", "Male"], n),
        "languages": rng.choice(["English", "English;Gujarati", "English;Somali", "Polish"], n),
        "area_code": rng.choice(AREAS, n),
        "status": rng.choice(codes.PA_STATUSES, n),
        "hours_available": rng.integers(5, 40, n).astype(float),
    })


def pa_requests(rng: np.random.Generator, n: int) -> pd.DataFrame:
    req = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 600, n), unit="D")
    outcome = rng.choice(codes.REQUEST_OUTCOMES, n)
    done = req + pd.to_timedelta(rng.integers(1, 120, n), unit="D")
    return pd.DataFrame({
        "request_id": [f"R{i:05d}" for i in range(n)],
        "person_id": [f"P{i:06d}" for i in rng.integers(0, 1000, n)],
        "request_date": req.strftime("%Y-%m-%d"),
        "outcome": outcome,
        "outcome_date": np.where(outcome == "open", "", done.strftime("%Y-%m-%d")),
        "language_needed": rng.choice(["", "Gujarati", "Somali"], n),
        "ethnicity_preference": rng.choice(["", "Asian", "Black"], n),
        "gender_preference": rng.choice(["", "Female"], n),
        "hospital_discharge": rng.choice(["N", "Y"], n),
        "pa_id": np.where(outcome == "filled", [f"PA{i:05d}" for i in range(n)], ""),
        "match_source": np.where(outcome == "filled", rng.choice(codes.MATCH_SOURCES, n), ""),
    })


def survey(rng: np.random.Generator, n: int) -> pd.DataFrame:
    items = {c: rng.integers(1, 5, n) for c in (
        "control", "personal_care", "food_drink", "accommodation", "safety",
        "social_participation", "occupation", "dignity")}
    return pd.DataFrame({
        "respondent_id": [f"S{i:05d}" for i in range(n)],
        "survey_date": _dates(rng, n, "2024-01-10", 700),
        "la_code": COUNCILS[0],
        "ethnicity": rng.choice(list(codes.ETHNIC_GROUPS), n),
        "age_band": rng.choice(codes.AGE_BANDS[1:], n),
        "gender": rng.choice(["Male", "Female"], n),
        "primary_support_reason": rng.choice(codes.PRIMARY_SUPPORT_REASONS, n),
        "delivery_mechanism": rng.choice(codes.DELIVERY_MECHANISMS, n),
        **items,
        "satisfaction": rng.integers(1, 8, n),
        "info_ease": rng.integers(1, 6, n),
        "weight": np.round(rng.uniform(0.5, 2, n), 3),
        "preferred_language": rng.choice(LANGS, n),
        "format": rng.choice(codes.SURVEY_FORMATS, n),
    })


def practice_changes() -> pd.DataFrame:
    return pd.DataFrame({
        "change_id": ["C1", "C2", "C3"],
        "date": ["2023-04-01", "2024-01-15", "2026-09-01"],
        "name": ["DP training", "Translated guidance", "DP support service"],
        "description": ["Training for social workers", "", "New service"],
        "target_groups": ["all", "Asian;language:Gujarati", "all"],
        "status": ["implemented", "implemented", "planned"],
    })


def engagement() -> pd.DataFrame:
    return pd.DataFrame({
        "date": ["2024-05-01", "2024-06-12"],
        "method": ["group", "interview"],
        "community": ["Somali", "Gujarati"],
        "n_people": [12, 3],
        "theme": ["information", "finding a PA"],
        "summary": ["Leaflets only in English", ""],
    })


def make_clean_tables(seed: int = 0, n: int = 120) -> dict[str, pd.DataFrame]:
    """All seven tables, clean, as raw text-like frames (dates as ISO strings)."""
    rng = np.random.default_rng(seed)
    side = max(n // 2, MIN_ROWS)  # the PA register, PA requests and survey rows
    return {
        "support_episodes": support_episodes(rng, n),
        "population": population(),
        "pa_register": pa_register(rng, side),
        "pa_requests": pa_requests(rng, side),
        "survey": survey(rng, side),
        "practice_changes": practice_changes(),
        "engagement": engagement(),
    }


def write_tables(tables: dict[str, pd.DataFrame], folder: Path, fmt: str = "csv") -> Path:
    """Write each table as `<table>.<fmt>` (csv, parquet or xlsx) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            # CRLF line ends (as Excel writes them) make the writer quote a field holding a bare
            # carriage return, which every CSV reader would otherwise take for a new row
            df.to_csv(path, index=False, lineterminator="\r\n")
        elif fmt == "parquet":
            df.to_parquet(path, index=False)
        else:
            df.to_excel(path, index=False, sheet_name=name)
    return folder
