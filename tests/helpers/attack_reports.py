"""What an attacker of evalkit's reports reads, and the relations it knows between the figures.

`reader_outputs` runs the three analyses in this process as their notebooks do (analyse,
publish, record) and keeps what a reader gets: every frame of the Publication (tables and chart
data), the results.json rows and the key findings text. `true_frames` are the same frames before
any disclosure control (the analysis's exact figures, for the truth only).

`extract` walks a report's frames with a `Sink`: the same walk names every count (a variable
shared by every frame, row and report where the same count appears) and says how figures
relate (a row's parts and its total, a table's rows and its "All" row, detailed groups and their
broad group, a share with its numerator and denominator, a rate per 1000 or per 10, Kaplan-Meier
steps, stayed + joined = active). `Observer` turns a published report into a `System` for
helpers.attack; `Truth` reads the true value of every variable from the unprotected frames.
"""

from __future__ import annotations

import importlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd

from evalkit.report.publication import Publication
from helpers.attack import SUPPRESSED, Leak, System, attack, count_interval
from helpers.attack_frames import HANDLERS, Sink

RATIO_TOL = 1e-9  # shares in frames and results.json are full floats


@dataclass(frozen=True)
class Outputs:
    """One report as its reader holds it."""

    notebook: str
    frames: Mapping[str, pd.DataFrame | None]
    context: Mapping[str, Any]
    results: list[dict[str, Any]]
    key_findings: str


def _raw(notebook: str, frames: Mapping[str, Any], context: Mapping[str, Any],
         **protection: Any) -> Publication:
    return Publication(notebook=notebook, frames=dict(frames), context=dict(context))


def true_frames(analysis: ModuleType, res: Any) -> Mapping[str, pd.DataFrame | None]:
    """The frames `analysis.publish(res)` would publish, before disclosure control: the
    collecting step (report.publication.publish, as each publish module names it) is replaced
    by one that keeps the frames as the analysis computed them."""
    module = f"{analysis.__name__}.publish"
    targets = ["evalkit.report.publication.publish"] + [
        f"{module}.{name}" for name in ("collect",)
        if hasattr(__import__(module, fromlist=["_"]), name)]
    with _patched(targets):
        return dict(analysis.publish(res).frames)


def _patched(targets: list[str]) -> ExitStack:
    """A context manager replacing each dotted name in `targets` by `_raw`."""
    stack = ExitStack()
    for t in targets:
        stack.enter_context(mock.patch(t, _raw))
    return stack


def reader_outputs(analysis: ModuleType, res: Any, folder: Path) -> Outputs:
    """What notebook `analysis` publishes for `res`: the Publication's frames and context, and
    the results.json and key_findings.md that its record step writes into `folder`."""
    pub = analysis.publish(res)
    folder.mkdir(parents=True, exist_ok=True)
    analysis.record(pub, folder / "results.json")
    results = json.loads((folder / "results.json").read_text())["estimates"]
    return Outputs(pub.notebook, dict(pub.frames), dict(pub.context), results,
                   (folder / "key_findings.md").read_text())


# ------------------------------------------------------------------------------- sinks
@dataclass
class Truth(Sink):
    """The true value of every variable, read from the unprotected frames."""

    values: dict[str, float] = field(default_factory=dict)

    def count(self, name: str, value: object, label: str) -> None:
        if isinstance(value, int | float | np.integer | np.floating) and np.isfinite(value):
            self.values.setdefault(name, float(value))


@dataclass
class Observer(Sink):
    """The attacker's `System` from published frames.

    A ratio whose published value is what its published (protected) counts give is skipped:
    it says nothing the counts do not; any other ratio was computed from the true counts and
    becomes a relation on them.
    """

    base: int = 5
    smallest: int = 5
    system: System = field(default_factory=System)
    shown: dict[str, float] = field(default_factory=dict)
    #: (frame, share value) -> the share's denominators, for results.json rows repeating it
    denominators: dict[tuple[str, float], set[str]] = field(default_factory=dict)
    pending: list[tuple[list[str], list[str], float, str, float]] = field(default_factory=list)

    def count(self, name: str, value: object, label: str) -> None:
        interval = count_interval(value, self.base, self.smallest)
        if interval is None:
            return
        self.system.add({name: 1}, *interval, label)
        if isinstance(value, int | float | np.number) and np.isfinite(value):
            self.shown.setdefault(name, float(value))

    def ratio(self, xs: list[str], ns: list[str], value: float, label: str,
              scale: float = 1.0) -> None:
        if not np.isfinite(value):
            return
        if len(ns) == 1 and 0 < value < 1:
            frame = label.split(" ", 1)[0].split(":", 1)[-1]
            self.denominators.setdefault((frame, value), set()).add(ns[0])
        self.pending.append((xs, ns, value, label, scale))

    def finish(self) -> None:
        """Ratios are judged once every count is read (a count may be shown in a later
        frame than its ratio)."""
        for args in self.pending:
            self._ratio(*args)
        self.pending.clear()

    def _ratio(self, xs: list[str], ns: list[str], value: float, label: str,
               scale: float) -> None:
        if all(k in self.shown for k in xs + ns):
            den = sum(self.shown[k] for k in ns)
            if den and abs(scale * sum(self.shown[k] for k in xs) / den - value) <= RATIO_TOL:
                return
        lo, hi = (value - RATIO_TOL) / scale, (value + RATIO_TOL) / scale
        self.system.add({**{k: 1 for k in xs}, **{k: -hi for k in ns}}, -np.inf, 0, label)
        self.system.add({**{k: 1 for k in xs}, **{k: -lo for k in ns}}, 0, np.inf, label)

    def margin(self, total: str, parts: Iterable[str], label: str) -> None:
        self.system.margin(total, parts, label)

    def order(self, smaller: str, larger: str, label: str) -> None:
        self.system.add({smaller: 1, larger: -1}, -np.inf, 0, label)

    def covers(self, total: str, parts: Iterable[str], label: str) -> None:
        self.system.add({**{p: 1 for p in parts}, total: -1}, -np.inf, 0, label)


def extract(sink: Sink, out_frames: Mapping[str, pd.DataFrame | None], notebook: str,
            context: Mapping[str, Any]) -> None:
    """Walk every frame a report publishes (see the module docstring)."""
    handlers = HANDLERS[notebook]
    for name, df in out_frames.items():
        if df is None or not len(df):
            continue
        kind, _, suffix = name.partition("/")
        handler = handlers.get(name) or handlers.get(kind)
        if handler is not None:
            handler(sink, df, suffix or kind, f"{notebook}:{name}")


#: results.json names whose `value` repeats a share of a frame, and that frame
RESULTS_FRAMES = {
    "uptake_share": "uptake/broad", "uptake_share_all": "overall", "dp_offer_rate": "offers/broad",
    "dp_acceptance_rate": "offers/broad", "unpaid_carer_share": "carer/broad",
    "language_gap": "coverage", "pa_match_share": "match", "pa_retention": "change/all"}


#: results.json names of 03 whose `n` is a change's events before and after together
SUM_OF_EVENTS = ("its_level_change", "its_slope_change")


def results_relations(obs: Observer, results: list[dict[str, Any]], notebook: str) -> None:
    """results.json rows: a row repeating a share its frame publishes (the same value, of one
    denominator only) gives that denominator as its `n`, a count the attacker adds to what the
    frames say."""
    for r in results:
        v, n = r.get("value"), r.get("n")
        if r["name"] in SUM_OF_EVENTS and n is not None:  # 03: n is the events before + after
            cid = str(r["group"]).split(":")[0]
            total = f"03:events_total[{cid}]"
            obs.margin(total, [f"03:events[{cid}|0]", f"03:events[{cid}|1]"],
                       f"{notebook}:results.json {r['name']} {cid} n = before + after")
            obs.count(total, n, f"{notebook}:results.json {r['name']} {r['group']} n")
        if r["name"] == "survey_shift" and n is not None:  # n: respondents before + after
            cid, measure, group = str(r["group"]).split(":", 2)
            total = f"03:sv_total[{cid}|{group}|{measure}]"
            obs.margin(total, [f"03:sv[{cid}|{group}|{measure}|{when}]"
                               for when in ("before", "after")],
                       f"{notebook}:results.json survey_shift {r['group']} n = before + after")
            obs.count(total, n, f"{notebook}:results.json survey_shift {r['group']} n")
        dens = obs.denominators.get((RESULTS_FRAMES.get(r["name"], ""), v), set())
        if len(dens) == 1 and n is not None:
            (den,) = dens
            obs.count(den, n, f"{notebook}:results.json {r['name']} {r.get('group')} n")


COUNT_WORDS = r"(?:people|person|requests?|PAs?|events?|recipients?|starts?|speakers?)"
SMALL_IN_TEXT = re.compile(rf"\b([1-9]\d*)\s+(?:\w+\s+){{0,2}}?{COUNT_WORDS}\b")


def sentence_counts(text: str, min_cell: int = 5) -> list[str]:
    """Counts of 1..min_cell-1 written in sentences ("2 events", "4 people with a ...")."""
    return [m.group(0) for m in SMALL_IN_TEXT.finditer(text)
            if 1 <= int(m.group(1)) <= min_cell - 1]


def marked(raw: Mapping[str, pd.DataFrame | None], shown: Mapping[str, pd.DataFrame | None]
           ) -> dict[str, pd.DataFrame | None]:
    """The published frames as their pages show them: a number the analysis had but the page
    withholds reads "[c]" (a blank the analysis left blank stays blank). Frames that are not
    in `raw` (made from protected frames) or changed shape are kept as they are."""
    out: dict[str, pd.DataFrame | None] = dict(shown)
    for name, df in shown.items():
        before = raw.get(name)
        if df is None or before is None or not before.index.equals(df.index):
            continue
        common = [c for c in df.columns if c in before.columns]
        withheld = df[common].isna() & before[common].notna()
        cols = [c for c in common if withheld[c].any()]
        if cols:
            df = df.astype({c: object for c in cols})
            for c in cols:
                df.loc[withheld[c], c] = SUPPRESSED
            out[name] = df
    return out


def texts(out: Outputs) -> list[str]:
    """Every text a reader gets: the key findings, the words in the frames (notes, reasons a
    figure is not shown) and in results.json."""
    words = [out.key_findings]
    for df in out.frames.values():
        if df is not None:
            for c in df.columns:
                words += [v for v in df[c].unique() if isinstance(v, str) and " " in v]
    words += [v for r in out.results for v in r.values() if isinstance(v, str) and " " in v]
    return words


def attack_report(raw: Mapping[str, pd.DataFrame | None], out: Outputs, base: int = 5,
                  min_cell: int = 5) -> tuple[System, dict[str, float]]:
    """The attacker's System for one published report and the true value of its variables."""
    truth = Truth()
    extract(truth, raw, out.notebook, out.context)
    ctx = out.context
    protected = "smallest_shown" in ctx  # the report says how it protected its counts
    obs = Observer(base=int(ctx.get("rounding_base", base)) if protected else 1,
                   smallest=int(ctx.get("smallest_shown", min_cell)))
    extract(obs, marked(raw, out.frames), out.notebook, out.context)
    results_relations(obs, out.results, out.notebook)
    obs.finish()
    secondaries_are_at_least_one(obs.system, truth.values, obs.smallest)
    return obs.system, truth.values


def secondaries_are_at_least_one(system: System, truth: Mapping[str, float],
                                 smallest: int) -> None:
    """A [c] hiding a count of `smallest` or more was hidden to protect another
    (evalkit.sdc.linked): the reader cannot tell it from one of 1..smallest-1 and reads it as
    at least 1. Every other [c] stays 1..smallest-1, as if the reader could tell them apart."""
    for i, r in enumerate(system.relations):
        (name,) = r.coefs if len(r.coefs) == 1 else (None,)
        if (r.lower, r.upper) == (1, smallest - 1) and truth.get(name, 0) >= smallest:
            system.relations[i] = replace(r, upper=math.inf)




@dataclass(frozen=True)
class Finding:
    """The attack on one report: the counts attacked, those leaked, sentences with small counts
    and any relation the truth breaks (an error of the attacker's knowledge, not a leak)."""

    notebook: str
    targets: list[str]
    leaks: list[Leak]
    sentences: list[str]
    wrong: list[str]
    contradictions: list[str]


ANALYSES = ("uptake", "pa_market", "outcomes")


SHARED = "all reports"  # counts that are the same in every report (rows of the input tables)


def _owner(name: str, notebooks: Mapping[str, str]) -> str:
    """The report a variable (or relation label) belongs to: by its prefix ("01:", "01_uptake:")."""
    return next((nb for prefix, nb in notebooks.items() if name.startswith(prefix)), SHARED)


def attack_data(data: Any, folder: Path, min_cell: int = 5, base: int = 5,
                exact: bool = True, analyses: Iterable[str] = ANALYSES) -> list[Finding]:
    """Run the analyses (default all three) on loaded `data` as their notebooks do (defaults,
    `min_cell`), then attack everything they publish together (a reader holds every report of a
    run); results.json and key_findings.md are written under `folder`. One Finding per report,
    and one for the counts every report shares (the input tables' rows: a count published by
    two reports is one variable only when both count the same people on the same date)."""
    system, truth, sentences = System(), {}, {}
    for name in analyses:
        analysis = importlib.import_module(f"evalkit.analyses.{name}")
        res = analysis.analyse(data, la_code=None, min_cell=min_cell)
        report = reader_outputs(analysis, res, folder / name)
        one, true = attack_report(true_frames(analysis, res), report, base, min_cell)
        system.relations += one.relations
        truth |= true
        sentences[report.notebook] = [c for t in texts(report)
                                      for c in sentence_counts(t, min_cell)]
    targets, leaks, contradictions = attack(system, truth, min_cell, exact)
    wrong = system.violated(truth)
    owners = {f"{nb[:2]}:": nb for nb in sentences} | {f"{nb}:": nb for nb in sentences}
    return [Finding(nb, [t for t in targets if _owner(t, owners) == nb],
                    [x for x in leaks if _owner(x.name, owners) == nb], sentences.get(nb, []),
                    [w for w in wrong if _owner(w, owners) == nb],
                    contradictions if nb == SHARED else [])
            for nb in [*sentences, SHARED]]
