"""Time evalkit.stats at national shape: 153 councils x 19 ethnic groups x 4 age bands.

Run: .venv/bin/python benchmarks/bench_stats.py. Prints the machine and the best of 3 runs per
function (synthetic counts; one warm-up call first).
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np
import pandas as pd

from evalkit import stats

COUNCILS, GROUPS, BANDS = 153, 19, 4


def table(seed: int = 1) -> pd.DataFrame:
    """One row per council x ethnic group x age band, with counts that look like CLD."""
    rng = np.random.default_rng(seed)
    idx = pd.MultiIndex.from_product([[f"E{c:08d}" for c in range(COUNCILS)],
                                      [f"group {g:02d}" for g in range(GROUPS)],
                                      ["18-64", "65-74", "75-84", "85+"]],
                                     names=["la_code", "ethnic_group", "age_band"])
    df = idx.to_frame(index=False)
    df["people"] = rng.integers(0, 400, len(df))
    df["dp"] = rng.binomial(df["people"], 0.25)
    df["population"] = df["people"] * 40 + rng.integers(1, 50, len(df))
    df["esp"] = rng.integers(1000, 7000, len(df))
    df["ref_dp"], df["ref_people"] = df["dp"] + 5, df["people"] + 20
    df["pas"] = rng.integers(0, 30, len(df))
    return df


def cpu() -> str:
    """CPU model from /proc/cpuinfo where there is one, else the platform's name."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def best(fn, repeat: int = 3) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    df = table()
    cells = ["la_code", "ethnic_group", "age_band"]
    councils = df.groupby(["la_code", "ethnic_group"], as_index=False)[["dp", "people"]].sum()
    cases = {
        "proportion (by council x group x band)":
            lambda: stats.proportion(df, "dp", "people", by=cells),
        "rate (by council x group x band)":
            lambda: stats.rate(df, "dp", "population", by=cells),
        "mean (by council x group)":
            lambda: stats.mean(df, "people", by=["la_code", "ethnic_group"]),
        "dsr (by council x group, bands standardised)":
            lambda: stats.dsr(df, "dp", "population", "esp", by=["la_code", "ethnic_group"]),
        "isr (by council x group)":
            lambda: stats.isr(df, "dp", "people", "ref_dp", "ref_people",
                              by=["la_code", "ethnic_group"]),
        "compare_proportions (group vs 'group 00', by council x band)":
            lambda: stats.compare_proportions(df, "dp", "people", "ethnic_group", "group 00",
                                              by=["la_code", "age_band"]),
        "relative_likelihood (group vs 'group 00', by council x band)":
            lambda: stats.relative_likelihood(df, "dp", "people", "ethnic_group", "group 00",
                                              by=["la_code", "age_band"]),
        "funnel_limits (one funnel per group, councils as units)":
            lambda: stats.funnel_limits(councils, "dp", "people", statistic="proportion",
                                        by="ethnic_group"),
        "funnel_significance (one funnel per group)":
            lambda: stats.funnel_significance(councils, "dp", "people",
                                              statistic="proportion", by="ethnic_group"),
        "dissimilarity_index (PAs vs DPs, by council x band, 1000 resamples)":
            lambda: stats.dissimilarity_index(df, "pas", "dp", by=["la_code", "age_band"]),
        "diversity_index (PAs, by council x band, 1000 resamples)":
            lambda: stats.diversity_index(df, "pas", by=["la_code", "age_band"]),
    }
    print(f"machine: {cpu()}, {os.cpu_count()} cores (shared), "
          f"Python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}")
    print(f"rows: {len(df)} ({COUNCILS} councils x {GROUPS} groups x {BANDS} bands)")
    for name, fn in cases.items():
        print(f"{best(fn) * 1000:8.1f} ms  {name}")


if __name__ == "__main__":
    main()
