"""Fingerprint the results.json of all three notebooks on demo seeds 1, 2 and 3.

A change of structure must not change a result: write the fingerprints before the change, check
them after. Each seed's data and reports go to a fixed folder under --work, so the parameters
recorded in results.json (data_dir, results_path) are the same in both runs and the files can be
compared byte for byte.

    .venv/bin/python benchmarks/results_fingerprint.py --write benchmarks/results_fingerprint.json
    .venv/bin/python benchmarks/results_fingerprint.py --check benchmarks/results_fingerprint.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

SEEDS = (1, 2, 3)
NOTEBOOKS = ("01_uptake", "02_pa_market", "03_outcomes")
LA_CODE = "E06000016"  # the leicester profile's council


def evalkit(*args: str) -> None:
    """Run the evalkit command of this Python's environment."""
    subprocess.run([sys.executable, "-m", "evalkit.cli", *args], check=True)


def fingerprints(work: Path) -> dict[str, str]:
    """SHA-256 of each notebook's results.json for each seed, keyed 'seed N/notebook'."""
    out = {}
    for seed in SEEDS:
        data, reports = work / f"seed{seed}" / "data", work / f"seed{seed}" / "reports"
        shutil.rmtree(work / f"seed{seed}", ignore_errors=True)
        evalkit("synth", "--out", str(data), "--profile", "leicester", "--seed", str(seed))
        evalkit("run", str(data), "--out", str(reports))
        for nb in NOTEBOOKS:
            path = reports / LA_CODE / nb / "results.json"
            out[f"seed {seed}/{nb}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--write", type=Path, help="write the fingerprints to this JSON file")
    what.add_argument("--check", type=Path, help="compare with the fingerprints in this file")
    parser.add_argument("--work", type=Path, default=Path("/tmp/evalkit-fingerprint"),
                        help="fixed folder for data and reports (default /tmp/evalkit-fingerprint)")
    args = parser.parse_args()
    got = fingerprints(args.work)
    if args.write:
        args.write.write_text(json.dumps(got, indent=1) + "\n")
        print(f"wrote {len(got)} fingerprints to {args.write}")
        return 0
    want = json.loads(args.check.read_text())
    differ = sorted(k for k in want if got.get(k) != want[k])
    for k in differ:
        print(f"DIFFERS: {k} (results.json under {args.work})")
    print(f"{len(want) - len(differ)} of {len(want)} results.json byte-identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
