"""Wall time and peak memory of synth, load and validate at council and national scale.

Each case runs in its own Python subprocess; its peak resident memory comes from `os.wait4`
(the child's own rusage, so cases do not contaminate each other). Two national sizes (scale 0.5
and 1) show whether cost is linear in rows. Targets (issue 3, 2-core machine): national synth
< 60 s, national load + validate from Parquet < 30 s, peak memory < 4 GiB.

    .venv/bin/python benchmarks/bench_data.py [--work DIR] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = {  # name -> (profile, scale)
    "council (leicester x1)": ("leicester", 1.0),
    "national (england x0.5)": ("england", 0.5),
    "national (england x1)": ("england", 1.0),
}
STEPS = {
    "synth": "from evalkit.synth.generator import synthesise; "
             "synthesise({out!r}, profile={profile!r}, scale={scale}, seed=1)",
    "load": "import evalkit; evalkit.load({out!r})",
    "validate": "import argparse, contextlib, io; from evalkit.data import load; "
                "f = io.StringIO()\nwith contextlib.redirect_stdout(f):\n"
                "    code = load.main(argparse.Namespace(data_dir={out!r}, extract_date=None,\n"
                "                                        date_order=None))\n"
                "raise SystemExit(code)",
}


def machine() -> str:
    """Cores, RAM and CPU model of this machine."""
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines()
                 if ln.startswith("model name")]
        model = names[0] if names else model
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {ram:.1f} GiB RAM, {model}, Python {platform.python_version()}"


def run(code: str) -> tuple[float, float]:
    """Run `code` in a fresh interpreter; (wall seconds, peak RSS in MiB). Raises on failure."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"case failed ({proc.returncode}):\n{err[-2000:]}")
    peak_mib = usage.ru_maxrss / 1024  # Linux reports KiB
    return wall, peak_mib


def rows(out: Path) -> int:
    """Episodes written (the size that drives cost)."""
    import pandas as pd

    for path in out.glob("support_episodes.*"):
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        return len(pd.read_csv(path, usecols=["person_id"]))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default temp)")
    parser.add_argument("--quick", action="store_true", help="council case only")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="evalkit-bench-"))
    cases = dict(list(CASES.items())[:1]) if args.quick else CASES
    print(f"machine: {machine()}")
    print(f"{'case':<26}{'episodes':>10}  {'step':<9}{'wall s':>8}{'peak MiB':>10}"
          f"{'s per 100k rows':>17}")
    for name, (profile, scale) in cases.items():
        out = work / f"{profile}_{scale}"
        for step, template in STEPS.items():
            wall, peak = run(template.format(out=str(out), profile=profile, scale=scale))
            n = rows(out)
            print(f"{name:<26}{n:>10,}  {step:<9}{wall:>8.1f}{peak:>10.0f}"
                  f"{wall / max(n, 1) * 1e5:>17.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
