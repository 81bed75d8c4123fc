"""What the attacker knows about each frame evalkit publishes: which cells are counts (and which
count each is, so one count shown in several frames or reports is one variable) and how the
figures relate. One handler per frame (or family of frames, "kind/<suffix>"), per notebook;
helpers.attack_reports walks them. Relations are those a reader can tell from the published
column names and rows alone; tests check the true counts satisfy every one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from evalkit.data import codes

Row = dict[str, Any]


class Sink:
    """Receives the walk of `extract`: counts, ratios and margins, by variable name."""

    def count(self, name: str, value: object, label: str) -> None:
        """A count cell of variable `name`."""

    def ratio(self, xs: list[str], ns: list[str], value: float, label: str,
              scale: float = 1.0) -> None:
        """value = scale * sum(xs) / sum(ns)."""

    def margin(self, total: str, parts: Iterable[str], label: str) -> None:
        """total = sum(parts)."""

    def order(self, smaller: str, larger: str, label: str) -> None:
        """smaller <= larger (a cumulative count and a later one)."""

    def covers(self, total: str, parts: Iterable[str], label: str) -> None:
        """total >= sum(parts) (the parts shown of a total)."""


Handler = Callable[[Sink, pd.DataFrame, str, str], None]


def _key(v: object) -> str:
    return str(v)[:10] if isinstance(v, pd.Timestamp | np.datetime64) else str(v)


def _rows(df: pd.DataFrame) -> Iterable[dict[str, Any]]:
    return (dict(r) for r in df.to_dict("records"))


def _cells(sink: Sink, df: pd.DataFrame, label: str,
           names: Mapping[str, Callable[[dict[str, Any]], str | None]],
           ratios: Iterable[tuple[str, list[str], list[str], float]] = ()) -> None:
    """Each row's count cells (column -> name of the row's variable) and ratios (value column,
    numerator columns, denominator columns, scale)."""
    for row in _rows(df):
        got = {c: f(row) for c, f in names.items() if c in row}
        for c, name in got.items():
            if name is not None:
                sink.count(name, row[c], f"{label} {name}")
        for value, xs, ns, scale in ratios:
            if isinstance(row.get(value), float) and all(got.get(c) for c in xs + ns):
                sink.ratio([got[c] for c in xs], [got[c] for c in ns], float(row[value]),
                           f"{label} {value} of {got[xs[0]]}", scale)


def _sum_rows(sink: Sink, df: pd.DataFrame, label: str, part: Callable[[dict], str | None],
              total: Callable[[dict], str | None], some: bool = False) -> None:
    """Rows whose `part` variables share a `total` variable sum to it (`some`: the rows shown
    sum to at most it, rows of suppressed size being left out)."""
    groups: dict[str, list[str]] = {}
    for row in _rows(df):
        p, t = part(row), total(row)
        if p is not None and t is not None:
            groups.setdefault(t, []).append(p)
    for t, parts in groups.items():
        if some:
            sink.covers(t, parts, f"{label}: {t} >= sum of its rows shown")
        else:
            sink.margin(t, parts, f"{label}: {t} = sum of its rows")


def km_steps(sink: Sink, df: pd.DataFrame, label: str, prefix: str, start: str) -> None:
    """Kaplan-Meier curves (group, time, n_risk, n_event, n_censor, surv): the number at risk
    falls by the events and censored of each step, starts at `start`[group], and each step's
    survival gives its events from its number at risk (events = at risk x (1 - S_j/S_{j-1}))."""
    for group, g in df.groupby("group", sort=False):
        g = g.sort_values("time")
        prev_surv, prev = 1.0, None
        for row in _rows(g):
            t = f"{prefix}[{group}|{row['time']:g}]"
            risk, event, censor = f"{t}:risk", f"{t}:event", f"{t}:censor"
            for name, col in ((risk, "n_risk"), (event, "n_event"), (censor, "n_censor")):
                sink.count(name, row[col], f"{label} {name}")
            if prev is None:
                sink.margin(f"{start}[{group}]", [risk], f"{label} {group}: first at risk")
            else:
                sink.margin(f"{prev}:risk", [risk, f"{prev}:event", f"{prev}:censor"],
                            f"{label} {group}: at risk after {prev}")
            if prev_surv > 0 and np.isfinite(row["surv"]):
                sink.ratio([event], [risk], 1 - row["surv"] / prev_surv,
                           f"{label} {t} survival step")
            prev_surv, prev = row["surv"], t


def col(template: str) -> Callable[[dict[str, Any]], str]:
    """A variable name from a template formatted with the row's (stringified) values."""
    return lambda row: template.format(**{k: _key(v) for k, v in row.items()})


def broad_of(detailed: str) -> str:
    """The broad group (ONS 5) of a detailed group, as the published hierarchy has it."""
    return str(codes.ethnic_group_broad(pd.Series([detailed])).iloc[0])




def _g(row: Row) -> str:
    """The ethnic group of a notebook-01 row (broad or detailed level)."""
    return _key(row.get("ethnic_group_broad", row.get("ethnic_group", row.get("group"))))


def name(template: str, key: Callable[[Row], str] = _g) -> Callable[[Row], str]:
    """A variable name `template` with {g} the row's group and other {column} fields."""
    return lambda row: template.format(g=key(row), **{k: _key(v) for k, v in row.items()})


def _share(sink: Sink, df: pd.DataFrame, label: str, x: str, n: str, vx: Callable[[Row], str],
           vn: Callable[[Row], str], value: str = "value", scale: float = 1.0) -> None:
    _cells(sink, df, label, {x: vx, n: vn}, [(value, [x], [n], scale)])


# ------------------------------------------------------------------------------ 01_uptake
def _uptake_groups(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """uptake/group|broad, isr/group: DP recipients and people by group; groups sum to All."""
    x = "observed" if "observed" in df.columns else "dp"  # isr: value is observed/expected
    _cells(sink, df, label, {x: name("01:dp[{g}]"), "people": name("01:people[{g}]")},
           [("value", [x], ["people"], 1.0)] if x == "dp" else [])
    for c, v in ((x, "01:dp"), ("people", "01:people")):
        sink.margin(f"{v}[All]", [f"{v}[{_g(r)}]" for r in df.to_dict("records")],
                    f"{label}: groups sum to All ({c})")


def _uptake_other(prefix: str) -> Handler:
    """uptake/language|interpreter, isr/language: by language or interpreter need, summing to
    All."""
    def handle(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
        key = df.columns[0]
        x = "observed" if "observed" in df.columns else "dp"
        vx = lambda r: f"01:dp_{prefix}[{_key(r[key])}]"  # noqa: E731
        vn = lambda r: f"01:people_{prefix}[{_key(r[key])}]"  # noqa: E731
        _cells(sink, df, label, {x: vx, "people": vn},
               [("value", [x], ["people"], 1.0)] if x == "dp" else [])
        rows = df.to_dict("records")
        sink.margin("01:dp[All]", [vx(r) for r in rows], f"{label}: sums to All (dp)")
        sink.margin("01:people[All]", [vn(r) for r in rows], f"{label}: sums to All (people)")
    return handle


def _population(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """uptake/population: DP recipients per adult of the group (ONS population, public)."""
    _share(sink, df, label, "dp", "population", name("01:dp[{g}]"), name("01:population[{g}]"))


def _overall(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    _share(sink, df, label, "dp", "people", lambda r: "01:dp[All]", lambda r: "01:people[All]")


def _missing(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    _cells(sink, df, label, {"people": name("01:missing[{field}]"),
                             "total": lambda r: "01:people[All]"})


def _bounds(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """Each group with "if all Not stated belonged to it": (dp + dp_ns) / (people + ns)."""
    cells = {"people": name("01:people[{g}]"), "dp": name("01:dp[{g}]"),
             "no_dp": name("01:nodp[{g}]"),
             "not_stated_people": lambda r: "01:people[Not stated]"}
    _cells(sink, df, label, cells, [("share_recorded", ["dp"], ["people"], 1.0)])
    combined = {c: name(f"01:{c}[{{g}}]") for c in ("dp_if_all", "people_if_all")}
    _cells(sink, df, label, combined,
           [("share_if_all_not_stated", ["dp_if_all"], ["people_if_all"], 1.0)])
    for r in df.to_dict("records"):
        g = _g(r)
        sink.margin(f"01:people[{g}]", [f"01:dp[{g}]", f"01:nodp[{g}]"], f"{label} {g}")
        for c, whole in (("dp_if_all", "dp"), ("people_if_all", "people")):
            sink.margin(combined[c](r), [f"01:{whole}[{g}]", f"01:{whole}[Not stated]"],
                        f"{label} {g} {c}")
        share = r.get("share_if_all_not_stated")
        if "dp_if_all" not in r and isinstance(share, float):  # a share of sums, no sum shown
            sink.ratio([f"01:dp[{g}]", "01:dp[Not stated]"],
                       [f"01:people[{g}]", "01:people[Not stated]"], share,
                       f"{label} {g} if all Not stated")


def _odds(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """odds/*: people with and without a DP at each level of each factor, among the people the
    model could use (complete covariates: not the same counts as the uptake tables')."""
    v = {c: name(f"01:odds_{c}[{{factor}}|{{group}}]") for c in ("people", "dp", "no_dp")}
    _cells(sink, df, label, v)
    if "no_dp" in df.columns:
        for r in df.to_dict("records"):
            sink.margin(v["people"](r), [v["dp"](r), v["no_dp"](r)], f"{label} {r['group']}")


def _intersection(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    t = "[{g}|{age_band}|{primary_support_reason}]"
    v = {c: name(f"01:ix_{c}{t}") for c in ("people", "dp", "no_dp")}
    _cells(sink, df, label, v, [("share", ["dp"], ["people"], 1.0)])
    for r in df.to_dict("records"):
        sink.margin(v["people"](r), [v["dp"](r), v["no_dp"](r)], f"{label} {v['people'](r)}")
    _sum_rows(sink, df, label, v["people"], name("01:people[{g}]"), some=True)
    _sum_rows(sink, df, label, v["dp"], name("01:dp[{g}]"), some=True)


def _offers(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    offered = df[df["measure"] == "offered"]
    accepted = df[df["measure"] == "accepted"]
    _share(sink, offered, label, "offered", "recorded", name("01:offered[{g}]"),
           name("01:recorded[{g}]"))
    _share(sink, accepted, label, "accepted", "offered", name("01:accepted[{g}]"),
           name("01:offered[{g}]"))


def _setup(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    if suffix == "median":
        _cells(sink, df, label, {"n": name("01:setup_n[{group}]"),
                                 "events": name("01:setup_events[{group}]")})
    else:
        _cells(sink, df, label, {"people": name("01:setup_people[{g}]")})


def _continuation(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    if suffix == "curves":
        km_steps(sink, df, label, "01:km", "01:started")
    elif suffix == "ended":
        _cells(sink, df, label, {"n": name("01:started[{group}]")})
    else:  # counts, or (protected) one frame of those followed for each number of months
        whole = "followed" if "followed" in df.columns else "started"
        v = {"ended": name("01:ended[{group}|{months}]"),
             "running": name("01:running[{group}|{months}]"),
             whole: name("01:followed[{group}|{months}]") if whole == "followed"
             else name("01:started[{group}]")}
        _cells(sink, df, label, v, [("value", ["ended"], ["followed"], 1.0)])
        for r in df.to_dict("records"):
            sink.margin(v[whole](r), [v["ended"](r), v["running"](r)], f"{label} row")


def _mix(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """mix/<field>: DP recipients of each group by category (wide); a row sums to the group's
    recipients (its `dp` column, when shown)."""
    _cells(sink, df, label, {"dp": name("01:dp[{g}]")})
    cats = [c for c in df.columns if c not in ("ethnic_group_broad", "ethnic_group", "dp")]
    v = {c: name(f"01:{suffix}[{{g}}|{c}]") for c in cats}
    _cells(sink, df, label, v)
    for r in df.to_dict("records"):
        sink.margin(f"01:dp[{_g(r)}]", [f(r) for f in v.values()], f"{label} {_g(r)}")


def _plan(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    _cells(sink, df, label, {"people": name("01:people[{g}]")})


def _carer(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    if suffix == "group":
        status = {"with a Direct Payment": "dp", "without a Direct Payment": "nodp"}
        people = lambda r: f"01:{status[r['dp_status']]}[{_g(r)}]"  # noqa: E731
        carer = name("01:carer[{g}|{dp_status}]")
        _share(sink, df, label, "carer", "people", carer, people)
        _sum_rows(sink, df, label, carer, name("01:carer[{g}]"), some=True)
    else:
        _share(sink, df, label, "carer", "people", name("01:carer[{g}]"), name("01:people[{g}]"))


def _areas(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """areas/units and areas/funnel (the funnel plot's points): each area's people with and
    without a DP."""
    if suffix not in ("units", "funnel"):
        return
    v = {c: name(f"01:area_{c}[{{area}}]") for c in ("dp", "no_dp", "people")}
    _cells(sink, df, label, v, [("value", ["dp"], ["people"], 1.0)])
    for r in df.to_dict("records"):
        sink.margin(v["people"](r), [v["dp"](r), v["no_dp"](r)], f"{label} {r['area']}")


def _trend(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    t = "[{g}|{quarter}]"
    up, starts = df[df["measure"] == "uptake"], df[df["measure"] == "new_starts"]
    _share(sink, up, label, "dp", "people", name(f"01:tr_dp{t}"), name(f"01:tr_people{t}"))
    _share(sink, starts, label, "starts", "people", name(f"01:tr_starts{t}"),
           name(f"01:tr_people{t}"), scale=1000.0)


def _quality(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """Rows kept and excluded per table: the same input in every report."""
    _cells(sink, df, label, {"rows": name("rows[{table}|{reason}]")})


def _ascof(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """ASCOF 3D by age band: percent = 100 x numerator / denominator; 18-64 and 65+ sum to 18+;
    DPs (2a) <= self-directed (1a) <= people; 18+ is the cohort (01:people[All], 01:dp[All])."""
    num, den = name("01:ascof[{measure}|{age_band}]"), name("01:ascof[{age_band}]")
    _cells(sink, df, label, {"numerator": num, "denominator": den},
           [("percent", ["numerator"], ["denominator"], 100.0)])
    for v in ("3D1a|", "3D2a|", ""):
        sink.margin(f"01:ascof[{v}18+]", [f"01:ascof[{v}18-64]", f"01:ascof[{v}65+]"], label)
    for band in ("18-64", "65+", "18+"):
        sink.order(f"01:ascof[3D2a|{band}]", f"01:ascof[3D1a|{band}]", f"{label} 2a <= 1a")
        sink.order(f"01:ascof[3D1a|{band}]", f"01:ascof[{band}]", f"{label} 1a <= people")
    sink.margin("01:people[All]", ["01:ascof[18+]"], f"{label}: the cohort")
    sink.margin("01:dp[All]", ["01:ascof[3D2a|18+]"], f"{label}: the cohort's DPs")


UPTAKE: dict[str, Handler] = {
    "quality": _quality, "ascof": _ascof, "overall": _overall, "missing": _missing,
    "bounds": _bounds, "uptake/group": _uptake_groups, "uptake/broad": _uptake_groups,
    "uptake/population": _population, "uptake/language": _uptake_other("lang"),
    "uptake/interpreter": _uptake_other("int"),
    "isr/group": _uptake_groups, "isr/language": _uptake_other("lang"), "odds": _odds,
    "intersection": _intersection, "offers": _offers, "setup": _setup,
    "continuation": _continuation, "mix": _mix, "plan_size": _plan, "carer": _carer,
    "areas": _areas, "trend": _trend,
}


# ------------------------------------------------------------------------------ 02_pa_market
def _snapshots(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    _cells(sink, df, label, {"active_pas": name("02:active[{snapshot_date}]")})


def _returns(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """Each agency's listed and active PAs per snapshot; agencies sum to the snapshot's (the
    Total row, when shown, is that sum)."""
    def var(kind: str) -> Callable[[Row], str]:
        return lambda r: (f"02:{kind}[{_key(r['snapshot_date'])}]" if r["agency"] == "Total"
                          else f"02:{kind}[{r['agency']}|{_key(r['snapshot_date'])}]")
    _cells(sink, df, label, {"pas": var("listed"), "active_pas": var("active")})
    agencies = df[df["agency"] != "Total"]
    for kind in ("listed", "active"):
        _sum_rows(sink, agencies, label, var(kind), name(f"02:{kind}[{{snapshot_date}}]"))


def _composition(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """composition/<dimension>: count of each group in each source with the source's total;
    groups sum to the total (not for languages: a PA speaks several); detailed groups sum to
    their broad group."""
    cell = name("02:comp[{dimension}|{source}|{group}]")
    total = name("02:total[{source}]")
    _share(sink, df, label, "count", "total", cell, total)
    if suffix in ("ethnic_group_broad", "gender"):
        _sum_rows(sink, df, label, cell, total)
    if suffix == "ethnic_group":
        _sum_rows(sink, df, label, cell,
                  lambda r: f"02:comp[ethnic_group_broad|{r['source']}|{broad_of(r['group'])}]")


def _dissimilarity(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """dissimilarity: the people of the two sources it compares (those of known group)."""
    _cells(sink, df, label, {"pas": name("02:dis_pas[{comparison}]"),
                             "other": name("02:dis_other[{comparison}]")})


def _representation(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    rec = df[df["measure"] == "ratio_to_recipients"]
    _cells(sink, rec, label, {
        "x": name("02:comp[ethnic_group_broad|Active PAs|{group}]"),
        "n": lambda r: "02:total[Active PAs]",
        "ref_x": name("02:comp[ethnic_group_broad|DP recipients employing PAs|{group}]"),
        "ref_n": lambda r: "02:total[DP recipients employing PAs]"})
    _cells(sink, df[df["measure"] == "relative_likelihood"], label, {
        "x": name("02:comp[ethnic_group_broad|Active PAs|{group}]")})


def _coverage(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    v = {"recipients": name("02:rec_lang[{language}]"),
         "pas": name("02:comp[language|Active PAs|{language}]"),
         "with_area": name("02:rec_lang_area[{language}]"),
         "no_pa_area": name("02:rec_lang_nopa[{language}]"),
         "all_recipients": lambda r: "02:recipients"}  # everyone with a DP (at 02's date)
    _cells(sink, df, label, v, [("value", ["no_pa_area"], ["with_area"], 1.0),
                                ("pas_per_10", ["pas"], ["recipients"], 10.0),
                                ("share_of_recipients", ["recipients"], ["all_recipients"], 1.0)])


def _grid(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    rec, pas = name("02:grid_rec[{area}|{language}]"), name("02:grid_pa[{area}|{language}]")
    _cells(sink, df, label, {"recipients": rec, "pas": pas})
    _sum_rows(sink, df, label, rec, name("02:rec_lang_area[{language}]"), some=True)


def _curves(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    km_steps(sink, df, label, "02:km", "02:req")


def _medians(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    _cells(sink, df, label, {"n": name("02:req[{group}]"), "events": name("02:filled[{group}]")})


def _filled(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """filled and waiting (protected): requests followed N days and those filled within N days
    (followed shrinks with N; filled need not grow, among fewer followed); before: the
    Kaplan-Meier share with n."""
    if "followed" not in df.columns:
        _cells(sink, df, label, {"n": name("02:req[{group}]")})
        return
    v = {"followed": name("02:followed[{group}|{days}]"),
         "filled": name("02:filled_by[{group}|{days}]")}
    _cells(sink, df, label, v, [("value", ["filled"], ["followed"], 1.0)])
    for _, g in df.sort_values("days").groupby("group", sort=False):
        rows = g.to_dict("records")
        for a, b in zip(rows, rows[1:], strict=False):
            sink.order(v["followed"](b), v["followed"](a), f"{label} followed {b['days']}")


def _cox(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """cox: requests with each preference, and (protected) with and without it, filled or
    still waiting: the four cells of the hazard ratio."""
    v = {"requests_with": name("02:req[{preference}]"), "n": lambda r: "02:req[All requests]",
         "events": lambda r: "02:filled[All requests]",
         **{c: name(f"02:cox_{c}[{{preference}}]")
            for c in ("with_filled", "with_waiting", "without_filled", "without_waiting")}}
    _cells(sink, df, label, v)
    if "with_filled" in df.columns:
        for r in df.to_dict("records"):
            cell = {c: f(r) for c, f in v.items()}
            sink.margin(cell["requests_with"], [cell["with_filled"], cell["with_waiting"]],
                        f"{label} {r['preference']} with")
            sink.margin(cell["events"], [cell["with_filled"], cell["without_filled"]],
                        f"{label} {r['preference']} filled")
            sink.margin(cell["n"], [cell["with_filled"], cell["with_waiting"],
                                    cell["without_filled"], cell["without_waiting"]],
                        f"{label} {r['preference']} all")


def _match(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    v = {c: name(f"02:match_{c}[{{preference}}]")
         for c in ("checked", "not_on_register", "matched")}
    v["filled"] = name("02:filled[{preference}]")
    _cells(sink, df, label, v, [("value", ["matched"], ["checked"], 1.0)])
    for r in df.to_dict("records"):
        sink.margin(v["filled"](r), [v["checked"](r), v["not_on_register"](r)], f"{label} row")


def _sources(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    cell, total = name("02:src[{group}|{source}]"), name("02:filled[{group}]")
    _share(sink, df, label, "requests", "total", cell, total)
    _sum_rows(sink, df, label, cell, total, some=True)


def _change(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """change/<grouping>: active at each snapshot, joiners, leavers, retained: stayed + joined
    = active now, stayed + left = active before; groups sum to All PAs (not languages)."""
    v = {c: name(f"02:ch_{c}[{suffix}|{{group}}]")
         for c in ("active_from", "active_to", "joiners", "leavers", "retained")}
    _cells(sink, df, label, v, [("value", ["retained"], ["active_from"], 1.0)])
    for r in df.to_dict("records"):
        sink.margin(v["active_to"](r), [v["retained"](r), v["joiners"](r)], f"{label} to")
        sink.margin(v["active_from"](r), [v["retained"](r), v["leavers"](r)], f"{label} from")
    if suffix == "ethnic_group_broad":
        for c, f in v.items():
            _sum_rows(sink, df, label, f, lambda r, c=c: f"02:ch_{c}[all|All PAs]")


PA_MARKET: dict[str, Handler] = {
    "quality": _quality, "snapshots": _snapshots, "returns": _returns,
    "composition": _composition, "dissimilarity": _dissimilarity,
    "representation": _representation, "coverage": _coverage,
    "grid": _grid, "curves": _curves, "medians": _medians, "filled": _filled,
    "waiting": _filled, "cox": _cox,
    "match": _match, "sources": _sources, "change": _change,
}


# ------------------------------------------------------------------------------ 03_outcomes
def _changes(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    _cells(sink, df, label, {"events_before": name("03:events[{change_id}|0]"),
                             "events_after": name("03:events[{change_id}|1]")})


def _series(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """series/<id> (and its_lines, spc): the outcome each month; before and after sum to the
    change's events."""
    y = "observed" if "observed" in df.columns else "y"
    month = name(f"03:y[{suffix}|{{month}}]")
    _cells(sink, df, label, {y: month})
    if "post" in df.columns:
        _sum_rows(sink, df, label, month, name(f"03:events[{suffix}|{{post}}]"))


def _spc(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """spc/<id>: the run chart's points; each stretch between rebasings sums to its events."""
    _series(sink, df, suffix, label)
    _sum_rows(sink, df, label, name(f"03:y[{suffix}|{{month}}]"),
              name(f"03:spc_events[{suffix}|{{rebase_group}}]"))


def _rate(sink: Sink, df: pd.DataFrame, label: str, rate: str, months: str,
          events: Callable[[Row], str]) -> None:
    """A rate per month with its months (known exactly): rate x months = the events."""
    if rate not in df.columns or months not in df.columns:
        return
    period = name(f"03:months[{label}|{{{months}}}|{{rowid}}]")
    for i, r in enumerate(df.to_dict("records")):
        r = {**r, "rowid": i}
        sink.count(period(r), r[months], f"{label} months")
        if isinstance(r[rate], float):
            sink.ratio([events(r)], [period(r)], r[rate], f"{label} {rate} x {months}")


def _spc_limits(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    _rate(sink, df, label, "mean", "n", name(f"03:spc_events[{suffix}|{{rebase_group}}]"))


def _change_of(row: Row) -> str:
    """The change id of a power/planning row ("C1:all" -> "C1")."""
    return str(row["group"]).split(":")[0]


def _power(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """power (and power/counts): the DP starts before a change, and their rate per month over
    the months before."""
    before = lambda r: f"03:events[{_change_of(r)}|0]"  # noqa: E731
    _cells(sink, df, label, {"starts": before})
    _rate(sink, df, label, "baseline", "n_pre", before)


def _planning(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """planning (and planning/counts): each group's DP starts and their rate per month."""
    _cells(sink, df, label, {"starts": name("03:plan_events[{group}]")})
    _rate(sink, df, label, "baseline", "months_before", name("03:plan_events[{group}]"))


def _its(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """its/<id>: the events before and after the change the model was fitted to."""
    _cells(sink, df, label, {"events_before": lambda r: f"03:events[{suffix}|0]",
                             "events_after": lambda r: f"03:events[{suffix}|1]"})


def _controlled_its(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """controlled_its/<id>: each arm's events before and after."""
    _cells(sink, df, label, {f"{arm}_{when}": lambda r, a=arm, p=post: f"03:ctl[{suffix}|{a}|{p}]"
                             for arm in ("target", "comparison")
                             for when, post in (("before", 0), ("after", 1))})


def _offers03(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    _share(sink, df, label, "offered", "episodes", name("03:offered[{team}|{period}]"),
           name("03:episodes[{team}|{period}]"))


def _controlled(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """controlled/<id>: each arm's events per month, summing to the arm's before and after;
    the index is the month's events over the arm's mean month before (pre_total/pre_months)."""
    month = name(f"03:ctl[{suffix}|{{arm}}|{{month}}]")
    _cells(sink, df, label, {"y": month,
                             "pre_total": name(f"03:ctl[{suffix}|{{arm}}|0]")})
    if "post" in df.columns:
        _sum_rows(sink, df, label, month, name(f"03:ctl[{suffix}|{{arm}}|{{post}}]"))
    if {"index", "pre_total", "pre_months"} <= set(df.columns):
        for r in df.to_dict("records"):
            if isinstance(r["index"], float) and isinstance(r["pre_months"], int | float):
                sink.ratio([month(r)], [f"03:ctl[{suffix}|{_key(r['arm'])}|0]"], r["index"],
                           f"{label} index {r['month']}", scale=100.0 * r["pre_months"])


def _survey(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    """survey/<id> and survey_by/<grouping>: respondents before and after; groups of a
    grouping sum to everyone ("all")."""
    for when in ("before", "after"):
        v = name(f"03:sv[{{change_id}}|{{group}}|{{measure}}|{when}]")
        _cells(sink, df, label, {f"n_{when}": v})
        if suffix in ("ethnic group",):
            _sum_rows(sink, df, label, v, name(f"03:sv[{{change_id}}|all|{{measure}}|{when}]"))


def _engagement(sink: Sink, df: pd.DataFrame, suffix: str, label: str) -> None:
    _cells(sink, df, label, {"people": name("03:engaged[{period}|{community}|{theme}]")})


OUTCOMES: dict[str, Handler] = {
    "quality": _quality, "changes": _changes, "series": _series, "its_lines": _series,
    "spc": _spc, "spc_limits": _spc_limits, "power": _power, "planning": _planning,
    "its": _its, "controlled_its": _controlled_its,
    "controlled": _controlled, "offers": _offers03, "survey": _survey,
    "survey_by": _survey, "engagement": _engagement,
}

HANDLERS: dict[str, dict[str, Handler]] = {
    "01_uptake": UPTAKE, "02_pa_market": PA_MARKET, "03_outcomes": OUTCOMES}
