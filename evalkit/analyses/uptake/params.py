"""Notebook 01's parameters, checked before anything is computed (`evalkit.report.params`).

`analyse` here is what the notebook calls: it checks group_level, reference_group, period_end
and lookback against what the notebook documents and the data hold, then runs
`compute.analyse`. A wrong value is a ParameterError naming the parameter and listing the valid
values; nothing falls back to another value in silence.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evalkit.analyses.uptake import compute
from evalkit.analyses.uptake.compute_snapshot import GROUP_COLUMNS, NOT_STATED
from evalkit.cohorts import council, for_council
from evalkit.data import codes
from evalkit.report import params


def reference_groups(episodes: pd.DataFrame, group_level: str) -> list[str]:
    """The reference groups a report can compare with: each recorded group at `group_level` in
    the episodes, and at 'detailed' also each broad group (meaning its largest detailed group)."""
    present = episodes[GROUP_COLUMNS[group_level]].dropna().astype(str)
    groups = sorted(set(present) - {NOT_STATED})
    if group_level == "detailed":
        broad = {codes.ETHNIC_GROUPS.get(g) for g in groups} - {None}
        groups = [b for b in codes.BROAD_GROUPS if b in broad] + groups
    return groups


def check(data, *, la_code: str | None = None, period_end: object = None, lookback: object = 12,
          group_level: object = "broad", reference_group: object = "White",
          **rest: Any) -> dict[str, Any]:
    """The parameters as `compute.analyse` takes them, each checked (see the module docstring)."""
    level = params.choice("group_level", group_level, GROUP_COLUMNS)
    end = params.date("period_end", period_end)
    ep = for_council(data.support_episodes, council(data.support_episodes, la_code,
                                                    where="uptake"))
    if len(ep):
        params.choice("reference_group", reference_group, reference_groups(ep, str(level)))
    return {"la_code": la_code, "lookback": params.whole_number("lookback", lookback, minimum=1),
            "period_end": None if end is None else end.date().isoformat(),
            "group_level": level, "reference_group": reference_group, **rest}


def analyse(data, **parameters: Any) -> compute.Uptake:
    """`compute.analyse` after checking the notebook's parameters (`check`)."""
    return compute.analyse(data, **check(data, **parameters))
