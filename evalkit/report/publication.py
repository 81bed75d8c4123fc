"""The publication step: every number a report shows passes through here once.

An analysis computes result frames; `publish` collects the ones its report shows (tables, chart
data, the numbers in sentences, alt text, key findings and results.json) with the few scalars
that describe the report (place, dates, thresholds). Display, findings and record functions read
only a `Publication`, never the raw data or the analysis's own objects, so there is one place to
ask what a report will publish (`Publication.describe`) and, later, one place to protect it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Publication:
    """The frames and context of one report, by name (see the module docstring)."""

    notebook: str
    frames: Mapping[str, pd.DataFrame | None]
    context: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame | None:
        """The frame published as `name` (None when the data had nothing for it)."""
        if name not in self.frames:
            raise KeyError(f"{self.notebook}: no frame {name!r} was published; published: "
                           f"{', '.join(sorted(self.frames))}")
        return self.frames[name]

    def __contains__(self, name: object) -> bool:
        return name in self.frames

    def __iter__(self) -> Iterator[str]:
        return iter(self.frames)

    def get(self, name: str) -> pd.DataFrame | None:
        """The frame published as `name`, or None when there is none."""
        return self.frames.get(name)

    def describe(self) -> pd.DataFrame:
        """What will be published: one row per frame with its rows and columns."""
        rows = [{"frame": name, "rows": 0 if f is None else len(f),
                 "columns": "" if f is None else ", ".join(map(str, f.columns))}
                for name, f in self.frames.items()]
        return pd.DataFrame(rows, columns=["frame", "rows", "columns"])


def publish(notebook: str, frames: Mapping[str, pd.DataFrame | None],
            context: Mapping[str, Any]) -> Publication:
    """Collect a report's result frames and context into its `Publication`.

    Frame names are unique strings (use "table/part" for families, e.g. "composition/gender");
    values are tidy DataFrames or None. Context values are scalars, dates or small lists.
    """
    bad = [k for k, v in frames.items()
           if not isinstance(k, str) or not (v is None or isinstance(v, pd.DataFrame))]
    if bad:
        raise TypeError(f"publish({notebook}): frames must map names to DataFrames or None; "
                        f"not so for {bad[:5]}")
    return Publication(notebook=notebook, frames=dict(frames), context=dict(context))
