"""The support_episodes, practice_changes and engagement tables in contract columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.data import codes
from evalkit.synth import facts as F
from evalkit.synth.changes import Change
from evalkit.synth.columns import area_codes, days, ethnicity_text, flags, ids, text


def episodes_table(people: pd.DataFrame, table: pd.DataFrame,
                   rng: np.random.Generator) -> pd.DataFrame:
    """The support_episodes table in contract columns."""
    dp = people["dp"].to_numpy()
    community = (people["service"] == 0).to_numpy()
    mech = np.where(dp, np.where(rng.random(len(dp)) < F.PART_DP, 1, 0),
                    np.where(community & (rng.random(len(dp)) < F.MANAGED_PB), 2, 3))
    birth = people["birth"].to_numpy()
    months = np.arange(birth.min(), birth.max() + 1)
    month_text = [f"{m // 12}-{m % 12 + 1:02d}" for m in months]
    council = people["council"].to_numpy()
    return pd.DataFrame({
        "person_id": ids("P", rng.permutation(len(people)) + 1, 8),
        "la_code": text(table["la_code"].tolist(), council),
        "area_code": area_codes(council, people["area"].to_numpy(), len(table)),
        "birth_year_month": text(month_text, birth - months[0]),
        "gender": text(["Male", "Female"], people["female"].to_numpy(int)),
        "ethnicity": ethnicity_text(people["eth_rec"].to_numpy(), rng),
        "preferred_language": text(F.LANGUAGES, people["lang_rec"].to_numpy()),
        "interpreter_required": flags(people["interp"]),
        "primary_support_reason": text(F.PSR, people["psr"].to_numpy()),
        "service_type": text(codes.SERVICE_TYPES, people["service"].to_numpy()),
        "delivery_mechanism": text(codes.DELIVERY_MECHANISMS, mech),
        "start_date": days(people["start"]),
        "end_date": days(people["end"]),
        "dp_offered": flags(people["offered"], community),
        "dp_requested_date": days(people["requested"]),
        "dp_first_payment_date": days(people["pay"]),
        "dp_managed_by": text(codes.DP_MANAGED_BY, people["managed_by"].to_numpy()),
        "dp_used_for": text(codes.DP_USED_FOR, people["used_for"].to_numpy()),
        "weekly_budget": people["budget"].to_numpy(),
        "planned_hours": people["hours"].to_numpy(),
        "has_unpaid_carer": flags(people["carer"]),
        "team_id": text([f"T{t + 1:02d}" for t in range(F.N_TEAMS)], people["team"].to_numpy()),
    })


def practice_changes_table(changes: tuple[Change, ...]) -> pd.DataFrame:
    """The practice_changes table: the profile's change log."""
    return pd.DataFrame({
        "change_id": [c.change_id for c in changes],
        "date": pd.to_datetime([c.date for c in changes]),
        "name": [c.name for c in changes],
        "description": [c.description for c in changes],
        "target_groups": [c.target for c in changes],
        "target_teams": [";".join(c.teams) or None for c in changes],
        "status": "implemented",
        "dose": [c.dose for c in changes],
    })


def engagement_table() -> pd.DataFrame:
    """A few synthetic engagement notes (no names), read beside the numbers."""
    rows = [
        ("2022-06-15", "group", "Gujarati", 14, "awareness",
         "Synthetic note: several people had not heard that a Direct Payment was an option."),
        ("2022-09-20", "interview", "Somali", 6, "paperwork",
         "Synthetic note: forms and payroll felt hard without help in Somali."),
        ("2023-03-08", "group", "Black African", 9, "trust",
         "Synthetic note: worry that taking a DP means less support from the council."),
        ("2023-07-12", "survey comment", "Bengali", 4, "finding a PA",
         "Synthetic note: no personal assistant nearby who speaks Bengali."),
        ("2024-02-01", "group", "Polish", 7, "information",
         "Synthetic note: translated guidance helped, but audio would help more."),
        ("2024-11-05", "interview", "Indian", 8, "family care",
         "Synthetic note: family help is valued but carers are stretched."),
    ]
    frame = pd.DataFrame(rows, columns=["date", "method", "community", "n_people", "theme",
                                        "summary"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame

