"""The supplementary table beside raw CLD: what the notebooks use that CLD does not carry.

One row per person, keyed by the council's person id (the CLD file's person id column), taken
from the same synthetic people as support_episodes, so a transformation that joins it back
gets the contract's values.
"""

from __future__ import annotations

import pandas as pd

from evalkit.data.cld import layout as L


def supplementary_table(episodes: pd.DataFrame) -> pd.DataFrame:
    """The supplementary table (layout.SUPPLEMENTARY_KEY, SUPPLEMENTARY_LA and its columns)."""
    frame = episodes[["person_id", "la_code", *L.SUPPLEMENTARY_COLUMNS]]
    return frame.rename(columns={"person_id": L.SUPPLEMENTARY_KEY,
                                 "la_code": L.SUPPLEMENTARY_LA})
