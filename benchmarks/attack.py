"""The attack on small counts over more seeds than `make test` runs, as a table for issue 14.

For each (scale, seed) it makes a synthetic Leicester (`evalkit.synth`, profile leicester),
runs the three analyses in this process as their notebooks do, and attacks every published
output (tests/helpers/attack_reports.py; see tests/test_attack_small_counts.py for the threat):
per notebook, the counts of 1..min_cell-1 attacked, those recovered exactly, those narrowed
below the protection interval (upper - lower < 2) but not pinned, sentences with a small count,
and relations of the attacker the true counts break (should be 0: its knowledge is right).

    .venv/bin/python benchmarks/attack.py [--scales 0.2 0.3 1] [--seeds 1 2 3 4 5 6 7 8 9 10]
        [--analyses uptake pa_market outcomes] [--examples N] [--work DIR]

To attack another version of the package (e.g. main before the protection), put its copy first
on the path: `git archive <commit> evalkit | tar -x -C /tmp/base` then
`PYTHONPATH=/tmp/base .venv/bin/python benchmarks/attack.py`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helpers.attack_reports import ANALYSES, Finding, attack_data  # noqa: E402

import evalkit  # noqa: E402
from evalkit.synth.generator import synthesise  # noqa: E402

HEADER = f"{'scale':>5} {'seed':>4} {'notebook':<13} {'attacked':>8} {'exact':>6} " \
         f"{'narrowed':>8} {'sentences':>9} {'wrong':>5} {'seconds':>7}"


def row(scale: float, seed: int, f: Finding, seconds: float) -> str:
    exact = sum(x.exact for x in f.leaks)
    return (f"{scale:>5} {seed:>4} {f.notebook:<13} {len(f.targets):>8} {exact:>6} "
            f"{len(f.leaks) - exact:>8} {len(f.sentences):>9} "
            f"{len(f.wrong) + len(f.contradictions):>5} {seconds:>7.1f}")


def examples(f: Finding, n: int) -> list[str]:
    """The first `n` leaks: the count, its true value, the attacker's bounds and the relations
    on it (where to start reading the way in)."""
    return [f"    {x.name} = {x.truth}: [{x.lower}, {x.upper}] via " + " | ".join(x.relations[:4])
            for x in f.leaks[:n]] + [f"    sentence: {s}" for s in f.sentences[:n]] + \
        [f"    wrong: {w}" for w in (f.wrong + f.contradictions)[:n]]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scales", type=float, nargs="+", default=[0.2, 0.3, 1.0])
    p.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 11)))
    p.add_argument("--min-cell", type=int, default=5)
    p.add_argument("--analyses", nargs="+", default=list(ANALYSES), choices=ANALYSES)
    p.add_argument("--examples", type=int, default=0, help="leaks to print per report")
    p.add_argument("--work", type=Path, help="folder for the data (default: a temporary one)")
    args = p.parse_args(argv)
    print(f"evalkit from {Path(evalkit.__file__).parent}")
    print(HEADER)
    totals = {"attacked": 0, "exact": 0, "narrowed": 0}
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        for scale in args.scales:
            for seed in args.seeds:
                folder = work / f"leicester_{scale}_{seed}"
                if not folder.exists():
                    synthesise(folder, profile="leicester", scale=scale, seed=seed)
                start = time.perf_counter()
                found = attack_data(evalkit.load(folder), work / f"out_{scale}_{seed}",
                                    args.min_cell, analyses=args.analyses)
                seconds = (time.perf_counter() - start) / len(found)
                for f in found:
                    print(row(scale, seed, f, seconds), flush=True)
                    for line in examples(f, args.examples):
                        print(line)
                    exact = sum(x.exact for x in f.leaks)
                    totals["attacked"] += len(f.targets)
                    totals["exact"] += exact
                    totals["narrowed"] += len(f.leaks) - exact
    print("total: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
