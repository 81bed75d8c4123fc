"""The publication step: every number a report shows passes through here once.

An analysis computes result frames; `publish` collects the ones its report shows (tables, chart
data, the numbers in sentences, alt text, key findings and results.json) with the few scalars
that describe the report (place, dates, thresholds). Display, findings and record functions read
only a `Publication`, never the raw data or the analysis's own objects, so there is one place to
ask what a report will publish (`Publication.describe`) and one place to protect it: given a
`protect.Spec` per frame, `publish` applies the disclosure protection (evalkit.sdc.protect) to
every frame once, so the Publication holds only protected figures (suppressed counts as NaN,
shown "[c]"), and its context says how (min_cell, rounding_base, smallest_shown,
disclosure_note: the sentence for the page's footnote).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from evalkit.report import wording
from evalkit.sdc import protect

Frames = Mapping[str, pd.DataFrame | None]


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


def default_rules(min_cell: int, rounding_base: int = 5, conf: float = 0.95) -> protect.Rules:
    """The protection rules of a report: `min_cell` (the runner's --min-cell), rounding to
    `rounding_base`, and shares and medians only from wording.min_people(min_cell) people."""
    return protect.Rules(min_cell=min_cell, base=rounding_base,
                         min_n=wording.min_people(min_cell), conf=conf)


def publish(notebook: str, frames: Frames, context: Mapping[str, Any], *,
            specs: Mapping[str, protect.Spec] | None = None,
            rules: protect.Rules | None = None,
            derive: Callable[[Frames], Frames] | None = None) -> Publication:
    """Collect a report's result frames and context into its `Publication`, protected.

    Frame names are unique strings (use "table/part" for families, e.g. "composition/gender");
    values are tidy DataFrames or None. Context values are scalars, dates or small lists.
    `specs` declares, for every frame, its counts, shares, model estimates and other numbers
    (`protect.Spec`); the frames are then protected with `rules` (default
    `default_rules(context["min_cell"])`) and the rules' context added. `derive` makes further
    frames from the protected frames only (e.g. funnel positions from rounded counts); they are
    published as returned. Without `specs` the frames are published as given (reports not yet
    declared; their displays control disclosure themselves).
    """
    bad = [k for k, v in frames.items()
           if not isinstance(k, str) or not (v is None or isinstance(v, pd.DataFrame))]
    if bad:
        raise TypeError(f"publish({notebook}): frames must map names to DataFrames or None; "
                        f"not so for {bad[:5]}")
    if specs is None:
        return Publication(notebook=notebook, frames=dict(frames), context=dict(context))
    r = rules or default_rules(context["min_cell"])
    shown = protect.protect_frames(frames, specs, r)
    if derive is not None:
        made = derive(shown)
        clash = sorted(set(made) & set(shown))
        if clash:
            raise ValueError(f"publish({notebook}): derived frames {clash} replace protected "
                             "frames; give them new names")
        shown |= dict(made)
    return Publication(notebook=notebook, frames=shown, context={**context, **r.context()})
