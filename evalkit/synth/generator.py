"""Synthetic council data with planted effects: `evalkit synth`.

`synthesise` writes one data folder in the contract (data/README.md) plus `truth.json`, the
effects it planted (names as docs/planted_effects.md), and the marker that makes every report
from the folder say its data are synthetic (`evalkit.data.synthetic`). The steps live beside this
module: people (councils, population, people, uptake, dates), tables, pa, survey and truth;
calibration constants are in `evalkit.synth.facts`, each citing its row of
docs/calibration_facts.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from evalkit.data import synthetic
from evalkit.data.cld.layout import CLD_NAME, SUPPLEMENTARY_NAME
from evalkit.data.councils import councils as _all_councils
from evalkit.synth import facts as F
from evalkit.synth.changes import CHANGES
from evalkit.synth.cld import LAYOUTS, write_cld
from evalkit.synth.columns import areas_table
from evalkit.synth.pa import pa_register, pa_requests
from evalkit.synth.people import (
    age_ethnic,
    council_table,
    draw_dates,
    draw_optional,
    draw_people,
    draw_uptake,
    ethnic_shares,
    population_table,
)
from evalkit.synth.supplementary import supplementary_table
from evalkit.synth.survey import survey_table
from evalkit.synth.tables import engagement_table, episodes_table, practice_changes_table
from evalkit.synth.truth import ascof_3d, planted_effects

PROFILES = ("leicester", "england")
FORMATS = ("contract", "cld")
FILE_FORMATS = ("csv", "parquet")
LARGE_ROWS = 200_000
CLD_STREAM = 16  # seeds the raw CLD's own random stream with the run's seed
#: Raw CLD rows per person (stacked submissions, extra events): to choose Parquet for large files.
CLD_ROWS_PER_PERSON = 6


def synthesise(out: Path, profile: str = "leicester", scale: float = 1.0, seed: int = 1,
               dirty: bool = False, fmt: str = "contract", file_format: str | None = None,
               cld_layout: str = "extract") -> Path:
    """Write a synthetic data folder with planted effects and `truth.json`; returns `out`.

    fmt "contract" writes support_episodes; "cld" writes the same people as raw CLD plus the
    supplementary table (evalkit.synth.cld), every other table being the same. file_format
    forces CSV or Parquet for every table (default: CSV, Parquet for england or large tables).
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; use one of {PROFILES}")
    if scale <= 0:
        raise ValueError("scale must be positive")
    if fmt not in FORMATS or file_format not in (None, *FILE_FORMATS):
        raise ValueError(f"format must be one of {FORMATS}, file format one of {FILE_FORMATS}")
    if dirty and fmt != "contract":
        raise ValueError("--dirty injects defects into the contract format only")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    changes = CHANGES[profile]
    long_run = profile == "england" or scale >= 20
    steps = ["councils", "people", "uptake", "dates", "episodes", "PA register", "PA requests",
             "survey", "truth", "write"]
    bar = tqdm(total=len(steps), desc="synth", disable=not long_run, unit="step")

    def step(name: str) -> None:
        bar.set_postfix_str(name)
        bar.update(1)

    table = council_table(profile, scale, rng)
    p_eth = age_ethnic(ethnic_shares(table, profile, rng))
    population = population_table(table, p_eth, profile, scale)
    step("councils")
    people = draw_people(table, p_eth, profile, rng)
    step("people")
    draw_uptake(people, table, rng)
    step("uptake")
    draw_dates(people, changes, rng)
    draw_optional(people, rng)
    step("dates")
    episodes = episodes_table(people, table, rng)
    step("episodes")
    register = pa_register(people, table, p_eth, profile, rng)
    step("PA register")
    requests = pa_requests(people, episodes, register, rng)
    step("PA requests")
    survey, survey_truth = survey_table(people, episodes, changes, scale, rng)
    step("survey")
    truth = {"profile": profile, "seed": seed, "scale": scale,
             "period_end": str(F.PERIOD_END), "period_start": str(F.PERIOD_START),
             "la_codes": table["la_code"].tolist(),
             "effects": planted_effects(people, episodes, register, changes, survey_truth)}
    tables = {"support_episodes": episodes, "population": population,
              "pa_register": register.drop(columns="la_code"),
              "pa_requests": requests, "survey": survey,
              "practice_changes": practice_changes_table(changes), "engagement": engagement_table()}
    step("truth")
    areas = areas_table(pd.concat([t["area_code"] for t in tables.values() if "area_code" in t]))
    large = profile == "england"
    _remove(out, ("support_episodes",) if fmt == "cld" else (CLD_NAME, SUPPLEMENTARY_NAME))
    if fmt == "cld":
        truth["cld"], truth["ascof_3d"] = _write_cld(out, tables, people, table, seed, cld_layout,
                                                     _parquet(file_format, large, len(people)
                                                              * CLD_ROWS_PER_PERSON))
    files = _files(tables)
    defects = None
    if dirty:
        files, defects = _inject(files, rng)
    files["areas"] = areas  # a clean lookup, never given defects
    _write_tables(files, out, large=large, text=dirty, file_format=file_format)
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    synthetic.write_marker(out, profile=profile, seed=seed, scale=scale)
    if defects is not None:
        (out / "defects.json").write_text(json.dumps(defects, indent=1, sort_keys=True) + "\n")
    step("write")
    bar.close()
    return out


def _write_cld(out: Path, tables: dict[str, pd.DataFrame], people: pd.DataFrame,
               table: pd.DataFrame, seed: int, layout: str, parquet: bool
               ) -> tuple[dict, list[dict]]:
    """Write raw CLD and swap support_episodes for the supplementary table in `tables`;
    returns truth.json's "cld" and "ascof_3d"."""
    episodes = tables.pop("support_episodes")
    tables[SUPPLEMENTARY_NAME] = supplementary_table(episodes)
    known = _all_councils()
    names = dict(zip(known["la_code"], known["name"], strict=True))
    rng = np.random.default_rng([seed, CLD_STREAM])  # its own stream: other tables unchanged
    cld = write_cld(out, people, episodes, table, names, rng, layout=layout, parquet=parquet)
    return cld, ascof_3d(people, episodes, table)


def _remove(out: Path, stems: tuple[str, ...]) -> None:
    """Remove the files of tables (or folders of files) an earlier run in the other format
    wrote, so a folder never holds both formats."""
    for stem in stems:
        for path in [*out.glob(f"{stem}.*"), *out.glob(f"{stem}/*")]:
            path.unlink()


def _parquet(file_format: str | None, large: bool, rows: int) -> bool:
    """Whether a table of `rows` rows is written as Parquet."""
    return file_format == "parquet" if file_format else large or rows > LARGE_ROWS


def _files(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """File stem -> frame: one file per table, and `pa_register/<agency>` per agency."""
    files = {name: frame for name, frame in tables.items() if name != "pa_register"}
    for agency, part in tables["pa_register"].groupby("agency", sort=True):
        files[f"pa_register/{str(agency).lower().replace(' ', '_')}"] = part
    return files


def _inject(files: dict[str, pd.DataFrame], rng: np.random.Generator
            ) -> tuple[dict[str, pd.DataFrame], dict[str, dict[str, int]]]:
    """Dirty copies of every file (each agency file on its own) and the summed defect counts."""
    from evalkit.synth.dirty import inject_defects

    out, defects = {}, {}
    for stem, frame in files.items():
        table = stem.split("/", 1)[0]
        dirty, counts = inject_defects({table: frame}, rng)
        out[stem] = dirty[table]
        for reason, n in counts.get(table, {}).items():
            defects.setdefault(table, {})
            defects[table][reason] = defects[table].get(reason, 0) + n
    return out, defects


def _write_tables(files: dict[str, pd.DataFrame], out: Path, large: bool, text: bool,
                  file_format: str | None = None) -> None:
    """CSV for small files, Parquet for large ones (england, or a table > 200k rows), or
    `file_format` for all. `text` (dirty data) forces CSV so variants survive as written."""
    for stem in files:  # remove files from an earlier run in other formats
        for old in out.glob(f"{stem.split('/', 1)[0]}*"):
            for path in (old.glob("*") if old.is_dir() else [old]):
                path.unlink()
    sizes: dict[str, int] = {}
    for stem, frame in files.items():
        table = stem.split("/", 1)[0]
        sizes[table] = sizes.get(table, 0) + len(frame)
    for stem, frame in files.items():
        path = out / stem
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_one(frame, path, _parquet(file_format, large, sizes[stem.split("/", 1)[0]]),
                   text)


def _write_one(frame: pd.DataFrame, stem: Path, parquet: bool, text: bool) -> None:
    if parquet and not text:
        frame.to_parquet(stem.with_suffix(".parquet"), index=False)
    else:
        frame.to_csv(stem.with_suffix(".csv"), index=False, date_format="%Y-%m-%d")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `evalkit synth`."""
    parser.add_argument("--out", type=Path, required=True, help="folder to write")
    parser.add_argument("--profile", choices=PROFILES, default="leicester",
                        help="leicester (one council, E06000016) or england (153 councils)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiplier of the profile's real size (default 1)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--dirty", action="store_true",
                        help="inject known defects and write defects.json")
    parser.add_argument("--format", choices=FORMATS, default="contract", dest="fmt",
                        help="contract (support_episodes, default) or cld (raw CLD submissions "
                             "and the supplementary table)")
    parser.add_argument("--file-format", choices=FILE_FORMATS, default=None,
                        help="write every table as CSV or Parquet (default: CSV, Parquet for "
                             "england or large tables)")
    parser.add_argument("--cld-layout", choices=LAYOUTS, default="extract",
                        help="with --format cld: NHS England's pseudonymised extract (one file, "
                             "default) or a council's own quarterly submission files")


def main(args: argparse.Namespace) -> int:
    """Run `evalkit synth`; returns the exit code."""
    out = synthesise(args.out, profile=args.profile, scale=args.scale, seed=args.seed,
                     dirty=args.dirty, fmt=args.fmt, file_format=args.file_format,
                     cld_layout=args.cld_layout)
    print(f"wrote synthetic {args.profile} data (scale {args.scale}, seed {args.seed}) to {out}")
    return 0

