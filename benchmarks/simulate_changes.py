"""Simulation study of notebook 03's "did it change" answers (issue 17).

Over synthetic councils (`evalkit synth`, leicester profile) with planted practice-change effects
and a placebo (C5, no effect), fit every method 03 reports and compare with truth.json:

- false-positive rate per method, on estimands whose truth is "no change" (the placebo's level
  and slope, slope changes where none was planted, survey shifts of changes with none planted,
  SPC signals after the placebo, the autocorrelation warning), with exact 95% binomial CIs;
- coverage of the 95% interval, bias (mean estimate - truth) and mean interval width for every
  estimand, planted or null.

Rows are appended to a CSV per seed, so a run can be stopped and resumed, and the table rebuilt
from the rows alone; processes run on separate ranges of seeds, each with its own rows file, are
put together with `--table-only --merge`. Long: not part of `make test`. Documented command
(`make simulate`):

    nice python benchmarks/simulate_changes.py --seeds 1-200 --scale 1 \
        --rows benchmarks/out/simulate_rows.csv --table benchmarks/out/calibration_table.md
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binomtest

import evalkit
from evalkit.analyses import outcomes as o
from evalkit.synth.generator import synthesise

COLUMNS = ["seed", "method", "estimand", "truth", "value", "lower", "upper", "signal"]


def seed_rows(seed: int, scale: float, root: Path) -> pd.DataFrame:
    """Every method's answer for every implemented change of one synthetic council."""
    folder = synthesise(root / f"s{seed}", scale=scale, seed=seed)
    truth = {(e["name"], e["group"]): e["value"]
             for e in json.loads((folder / "truth.json").read_text())["effects"]}
    data = evalkit.load(folder)
    ep, log = data.support_episodes, o.change_log(data.practice_changes)
    start, end = o.series_bounds(ep)
    rows: list[dict] = []

    def add(method: str, estimand: str, true: float, e: pd.Series | dict | None,
            signal: bool | None = None) -> None:
        if e is None:
            return
        lo, hi = float(e["lower"]), float(e["upper"])
        rows.append({"seed": seed, "method": method, "estimand": estimand, "truth": true,
                     "value": float(e["value"]), "lower": lo, "upper": hi,
                     "signal": bool(not lo <= (1.0 if method != "survey" else 0.0) <= hi)
                     if signal is None else signal})

    for _, change in log[log["implemented"]].iterrows():
        group = str(change["group"])
        fit = o.fit_change(ep, log, change, start=start, end=end)
        level = truth[("its_level_change", group)]
        for term in ("level_change", "slope_change"):
            add(f"its_{term}", group, truth[("its_" + term, group)], fit.estimate(term))
        if fit.result is not None:
            p = float(fit.result.checks["p_value"].iloc[-1])
            rows.append({"seed": seed, "method": "autocorrelation_warning", "estimand": group,
                         "truth": 0.0, "value": p, "lower": np.nan, "upper": np.nan,
                         "signal": p < 0.05})
        points = o.spc_points(fit)
        if points is not None:
            after = points["month"] >= o.first_post(change["date"])
            flagged = bool((points.loc[after, "point_type"] != "common_cause").any())
            rows.append({"seed": seed, "method": "spc_signal_after_change", "estimand": group,
                         "truth": float(level != 1.0), "value": float(flagged),
                         "lower": np.nan, "upper": np.nan, "signal": flagged})
        ctl = o.controlled(ep, log, change, start=start, end=end, all_episodes=ep)
        if ctl.result is not None:
            est = ctl.result.estimates.set_index("term").loc["treated:level_change"]
            add("controlled_its_level", group, level, est)
        shifts = o.survey_shifts(data.survey, change, log=log)
        for _, r in shifts[np.isfinite(shifts["value"])].iterrows():
            name = f"{change['change_id']}:{r['measure']}:{r['group']}"
            add("survey", name, truth.get(("survey_shift", name), 0.0), r)
    return pd.DataFrame(rows, columns=COLUMNS)


def _ci(k: int, n: int) -> str:
    ci = binomtest(k, n).proportion_ci(0.95, method="exact")
    return f"{100 * k / n:.1f}% ({100 * ci.low:.1f} to {100 * ci.high:.1f})"


def table(rows: pd.DataFrame) -> str:
    """The two markdown tables: false positives on null estimands, coverage per estimand."""
    seeds = rows["seed"].nunique()
    null = rows[((rows["truth"] == 1.0) & rows["method"].str.startswith(("its", "controlled")))
                | ((rows["truth"] == 0.0) & ~rows["method"].str.startswith(("its",
                                                                           "controlled")))]
    lines = [f"Seeds: {seeds} ({rows['seed'].min()}-{rows['seed'].max()}).", "",
             "| method | estimand (no effect planted) | cases | signals (95% CI) |",
             "|---|---|---|---|"]
    for (method, est), g in null.groupby(["method", "estimand"]):
        lines.append(f"| {method} | {est} | {len(g)} | {_ci(int(g['signal'].sum()), len(g))} |")
    lines += ["", "| method | estimand | truth | cases | coverage (95% CI) | bias "
              "| mean CI width |", "|---|---|---|---|---|---|---|"]
    est_rows = rows[rows["lower"].notna()]
    for (method, est), g in est_rows.groupby(["method", "estimand"]):
        cover = int(((g["lower"] <= g["truth"]) & (g["truth"] <= g["upper"])).sum())
        lines.append(f"| {method} | {est} | {g['truth'].iloc[0]:g} | {len(g)} | "
                     f"{_ci(cover, len(g))} | {(g['value'] - g['truth']).mean():+.3f} | "
                     f"{(g['upper'] - g['lower']).mean():.3f} |")
    return "\n".join(lines) + "\n"


def merged(paths: list[Path]) -> pd.DataFrame:
    """The rows of several runs (e.g. one process per range of seeds); a seed in two files is
    an error, as it would count twice."""
    parts = [pd.read_csv(p) for p in paths]
    seen: dict[int, Path] = {}
    for path, part in zip(paths, parts, strict=True):
        for seed in sorted(set(part["seed"])):
            if seed in seen:
                raise ValueError(f"seed {seed} is in both {seen[seed]} and {path}")
            seen[seed] = path
    return pd.concat(parts, ignore_index=True)


def _seeds(text: str) -> list[int]:
    """'1-200', '7' or several joined by commas ('11-40,53-60')."""
    out = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        out += range(int(first), int(last or first) + 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="1-20",
                    help="first-last seed, e.g. 1-200, or several ranges: 1-50,101-150")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--rows", type=Path, default=Path("benchmarks/out/simulate_rows.csv"))
    ap.add_argument("--table", type=Path, help="write the markdown tables here")
    ap.add_argument("--table-only", action="store_true", help="rebuild the tables from --rows")
    ap.add_argument("--merge", type=Path, nargs="*", default=[],
                    help="rows files of other processes (other seeds) to add to the tables")
    args = ap.parse_args()
    args.rows.parent.mkdir(parents=True, exist_ok=True)
    if not args.table_only:
        done = set(pd.read_csv(args.rows)["seed"]) if args.rows.exists() else set()
        with tempfile.TemporaryDirectory() as tmp:
            for seed in [s for s in _seeds(args.seeds) if s not in done]:
                got = seed_rows(seed, args.scale, Path(tmp))
                got.to_csv(args.rows, mode="a", header=not args.rows.exists(), index=False)
                print(f"seed {seed}: {len(got)} rows", flush=True)
    text = table(merged([args.rows, *args.merge]))
    if args.table:
        args.table.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
