"""Notebook 02's publication step: the frames and context every display, finding and
results.json row of the report reads, collected once from a `Market` and protected once.

Frames of one row per PA, person or request (the register, active PAs, recipients, employers,
request durations) are never published. Every published frame is declared in `SPECS` (its counts,
the shares recomputed from the protected counts, the model estimates kept under the ACRO rule,
and other numbers), so the displays and findings never see an unprotected count. The relative
likelihoods and share ratios of `representation` are derived afterwards from the protected
composition counts (`_derived`), as a share is.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from evalkit.analyses.pa_market.compute import Market
from evalkit.analyses.pa_market.compute_workforce import SOURCES, representation
from evalkit.data import codes
from evalkit.report import wording
from evalkit.report.publication import Frames, Publication, default_rules
from evalkit.report.publication import publish as collect
from evalkit.sdc.linked import Sum
from evalkit.sdc.protect import Model, Share, Spec

NOTEBOOK = "02_pa_market"
#: Group of the Total row added to `returns` (the agencies' listings at each snapshot).
TOTAL = "Total"
SHARE = Share("count", "total")
RECRUITED = Spec(counts=("followed", "filled"), shares=(Share("filled", "followed"),),
                 keep=("days", "conf"))
CHANGE = Spec(counts=("active_from", "active_to", "joiners", "leavers", "retained"),
              shares=(Share("retained", "active_from"),), keep=("conf",))
#: listed and active PAs of each agency at a snapshot; the agencies add up to the Total row,
#: whose active PAs are the snapshot's
AGENCY = "[{agency}|{snapshot_date}]"
RETURNS = Spec(counts=("pas", "active_pas"),
               names=(("pas", f"listed{AGENCY}"), ("active_pas", f"active{AGENCY}")),
               sums=(Sum(f"listed[{TOTAL}|{{snapshot_date}}]", (f"listed{AGENCY}",)),
                     Sum(f"active[{TOTAL}|{{snapshot_date}}]", (f"active{AGENCY}",))))
#: The cells a hazard ratio compares: requests with and without the preference, filled or not.
COX_CELLS = ("with_filled", "with_waiting", "without_filled", "without_waiting")
#: the group of change/all's one row (compute_workforce.changes)
ALL_PAS = "All PAs"
#: the requests of the Cox model with and without a preference, filled or still waiting: with
#: a preference, all filled and all requests are each a sum of them
COX_SUMS = (Sum("requests[{preference}]", ("cox with_filled[{preference}]",
                                            "cox with_waiting[{preference}]")),
            Sum("filled[All]", ("cox with_filled[{preference}]",
                                "cox without_filled[{preference}]"), each_row=True),
            Sum("requests[All]", tuple(f"cox {c}[{{preference}}]" for c in COX_CELLS),
                each_row=True))
#: dimensions whose groups add up to their source's total (a PA speaks several languages)
EXCLUSIVE = ("ethnic_group_broad", "ethnic_group", "gender")
#: The sources each representation measure compares (compute_workforce.representation).
MEASURED = {"ratio_to_recipients": (SOURCES["pas"], SOURCES["recipients"]),
            "relative_likelihood": (SOURCES["pas"], SOURCES["population"])}
SPECS = {
    "snapshots": Spec(counts=("active_pas",), keep=("returns", "agencies"),  # agencies: no people
                      names=(("active_pas", f"active[{TOTAL}|{{snapshot_date}}]"),)),
    "returns": RETURNS,
    "quality": Spec(counts=("rows",)),
    "composition": Spec(counts=("count", "total"), shares=(SHARE,), keep=("conf",)),
    # the index of dissimilarity summarises a whole distribution: kept as estimated when both
    # populations it compares are large enough to quote
    "dissimilarity": Spec(counts=("pas", "other"), keep=("categories", "conf"),
                          models=(Model(n="pas"), Model(n="other"))),
    # shares written last so `note` says why the gap share is blank; the gap counts every
    # person with a DP, so it is exact: no interval (issue 17)
    "coverage": Spec(counts=("recipients", "all_recipients", "pas", "with_area", "no_pa_area",
                             "areas", "areas_without"),
                     shares=(Share("recipients", "all_recipients", value="share_of_recipients",
                                   lower=None, upper=None),
                             Share("pas", "recipients", value="pas_per_10", lower=None,
                                   upper=None, kind="rate", multiplier=10),
                             Share("no_pa_area", "with_area", lower=None, upper=None))),
    # an area-language row exists only where someone prefers the language: a row of 1 to 7
    # people is left out, else a language's rows (each at least 1) would narrow its total
    "grid": Spec(counts=("recipients", "pas"), whole="recipients"),
    "waiting": RECRUITED, "filled": RECRUITED,
    "medians": Spec(counts=("n", "events"), models=(Model(n="n", each=("events",)),),
                    keep=("conf",)),
    "cox": Spec(counts=("requests_with", "n", "events", *COX_CELLS),
                models=(Model(columns=("value", "lower", "upper", "p_value", "ph_p_value"),
                              each=COX_CELLS, df="df"),), keep=("conf",),
                names=(("requests_with", "requests[{preference}]"), ("n", "requests[All]"),
                       ("events", "filled[All]"),
                       *((c, f"cox {c}[{{preference}}]") for c in COX_CELLS)),
                sums=COX_SUMS),
    "match": Spec(counts=("filled", "checked", "not_on_register", "matched"),
                  shares=(Share("matched", "checked"),), keep=("conf",)),
    # a group's rows by source break its filled requests down: left out when that is suppressed
    "sources": Spec(counts=("requests", "total"), shares=(Share("requests", "total"),),
                    keep=("conf",), whole="total"),
    "change": CHANGE,
}


#: Estimates the dissimilarity frame may carry besides D and its interval: the index chance
#: alone would give with these totals (compute_workforce.dissimilarity), estimated like D.
BY_CHANCE = ("random", "random_upper")


def _linked(name: str, spec: Spec) -> Spec:
    """A family's Spec with its counts named and its sums: the groups of a composition add up
    to their source's total (not languages), and each change row's PAs active at the end are
    those who stayed and those who joined (at the start: stayed and left)."""
    family, _, by = name.partition("/")
    if family == "composition":
        cell = f"{by}: {{source}}|{{group}}"
        broad = (Sum("ethnic_group_broad: {source}|{broad}", (cell,)),)
        return replace(spec, names=(("count", cell), ("total", "total: {source}")),
                       sums=((Sum("total: {source}", (cell,)),) if by in EXCLUSIVE else ())
                       + (broad if by == "ethnic_group" else ()),
                       fields=(("broad", lambda row: codes.broad_group_of(row["group"])),)
                       if by == "ethnic_group" else ())
    if family == "change":
        cell = f"change {by}: {{from_date}}|{{to_date}}|{{group}}|"
        everyone = f"change all: {{from_date}}|{{to_date}}|{ALL_PAS}|"
        names = tuple((c, cell + c) for c in spec.counts)
        groups = tuple(Sum(everyone + c, (cell + c,)) for c in spec.counts
                       if by == "ethnic_group_broad")
        return replace(spec, names=names, sums=(
            Sum(cell + "active_to", (cell + "retained", cell + "joiners")),
            Sum(cell + "active_from", (cell + "retained", cell + "leavers")), *groups))
    return spec


def _spec(name: str, frame: pd.DataFrame | None) -> Spec:
    """The Spec of a frame: its own, or its family's ("composition/gender" -> "composition");
    the dissimilarity's estimates of the index by chance are kept under D's rule when present."""
    spec = _linked(name, SPECS[name.split("/", 1)[0]])
    chance = tuple(c for c in BY_CHANCE if frame is not None and c in frame)
    if name != "dissimilarity" or not chance:
        return spec
    return replace(spec, models=tuple(replace(m, columns=(*m.columns, *chance))
                                      for m in spec.models))


def with_totals(returns: pd.DataFrame) -> pd.DataFrame:
    """The agencies' returns with a Total row per snapshot, summed from the true counts so that
    disclosure control rounds the total on its own (a sum of rounded parts would not be)."""
    if returns.empty:
        return returns
    total = returns.groupby("snapshot_date", as_index=False)[["pas", "active_pas"]].sum()
    return pd.concat([returns, total.assign(agency=TOTAL, missing=False)], ignore_index=True)


def with_recipients(coverage: pd.DataFrame) -> pd.DataFrame:
    """Coverage with `all_recipients` (everyone with a DP, the denominator of
    share_of_recipients), so the share can be recomputed from protected counts."""
    everyone = (coverage["recipients"] / coverage["share_of_recipients"]).round()
    return coverage.assign(all_recipients=everyone.astype("int64"))


def _derived(shown: Frames) -> Frames:
    """Frames computed from protected frames only: the representation measures (share ratios
    and SC-WRES relative likelihoods) from the protected broad ethnic-group counts; a group with
    a count suppressed in a source its measure compares is left out (not taken as 0)."""
    comp = shown.get("composition/ethnic_group_broad")
    if comp is None:
        comp = pd.DataFrame(columns=["group", "source", "count", "total"])
    hidden = comp["count"].isna() | comp["total"].isna()
    rep = representation(comp[~hidden])
    gone = {measure: set(comp.loc[hidden & comp["source"].isin(sources), "group"])
            for measure, sources in MEASURED.items()}
    keep = pd.Series([g not in gone[m] for m, g in zip(rep["measure"], rep["group"], strict=True)],
                     index=rep.index, dtype=bool)  # a mask even when empty: [] selects no columns
    return {"representation": rep[keep].reset_index(drop=True)}


def publish(m: Market) -> Publication:
    """The report's Publication: frames by name ("composition/<column>", "change/<grouping>" for
    families), protected (SPECS), and context (the parameters, place, dates, what the data lack,
    and how figures were protected)."""
    frames = {
        "snapshots": m.snapshot_counts, "returns": with_totals(m.returns), "quality": m.quality,
        **{f"composition/{by}": comp for by, comp in m.composition.items()},
        "dissimilarity": m.dissimilarity, "coverage": with_recipients(m.coverage),
        "grid": m.grid, "waiting": m.waiting, "medians": m.medians, "filled": m.filled,
        "cox": m.cox, "match": m.match, "sources": m.sources,
        **{f"change/{by}": change.drop(columns="net") for by, change in m.change.items()},
    }
    context = {**m.params, "place": wording.place(m.params["la_code"]),
               "snapshot": m.snapshot, "as_at": m.as_at, "extract": m.extract,
               "snapshot_dates": list(m.snapshots), "lacking": list(m.lacking),
               "warnings": list(m.warnings), "area_names": dict(m.area_names)}
    rules = default_rules(m.params["min_cell"], conf=m.params["conf"])
    return collect(NOTEBOOK, frames, context, specs={k: _spec(k, f) for k, f in frames.items()},
                   rules=rules, derive=_derived)
