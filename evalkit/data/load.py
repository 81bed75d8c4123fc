"""Load a data folder into a validated `Dataset`, accounting for every row.

`load(data_dir)` reads one file per table (CSV, Parquet or xlsx; file stem = table name) or a
folder of files per table (e.g. `pa_register/`, one file per agency): `read` finds each file's
encoding, delimiter, sheets and header row and matches its headings to the contract (case,
spacing and CLD aliases); `values` parses and normalises accepted variants; `checks` excludes the
rows that break the contract, each with one reason, and notes findings on the rows kept.
`dataset.quality` counts rows per table and reason so that, per table, the rows sum to the rows
in its file(s); `dataset.findings` lists what is odd but excludes nothing (implausible ages,
overlapping episodes, blanked or shortened values) and the values of unknown codes.

Whole-file problems raise `ContractError` (unreadable file, no header, a missing or repeated
required column, a column of the wrong type, day/month dates whose order cannot be told, a
header with no rows); each message names the file, rows and column and what was expected, and
never a person's data.

A validated dataset can be cached (`save_cache`): when the environment variable
`EVALKIT_LOAD_CACHE` names a folder, `load` reuses a cached copy whose input files (same folder,
same SHA-256 checksums), extract date and evalkit version match (and, when `date_order` is
given, was validated with it), instead of validating again. `evalkit run` uses this so its
notebooks do not each re-validate the data the runner validated.

Also the `evalkit validate DATA_DIR` subcommand (`add_arguments`, `main`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path

import pandas as pd

from evalkit.data import codes, synthetic
from evalkit.data.areas import area_warnings, check_areas
from evalkit.data.checks import FINDING_COLUMNS, FINDINGS, account
from evalkit.data.cld.sql import REASONS as CLD_REASONS
from evalkit.data.contract import TABLES, ContractError, column_key, validated
from evalkit.data.read import FILE, find_files, match_columns, read_file
from evalkit.data.values import DATE_ORDERS

CACHE_ENV = "EVALKIT_LOAD_CACHE"


@dataclass(frozen=True)
class Dataset:
    """Validated tables (None when the file is absent), the data-quality table, the findings,
    the files read per table, warnings, the extract date used for the future-date check, the
    date order stated (None: day first unless the data show otherwise, see `load`) and, when
    the folder holds raw CLD, ASCOF 3D 1a/2a as NHS England computes them (`evalkit ascof`); and,
    for a folder `evalkit synth` wrote, its marker (`evalkit.data.synthetic`)."""

    support_episodes: pd.DataFrame | None
    population: pd.DataFrame | None
    pa_register: pd.DataFrame | None
    pa_requests: pd.DataFrame | None
    survey: pd.DataFrame | None
    practice_changes: pd.DataFrame | None
    engagement: pd.DataFrame | None
    quality: pd.DataFrame
    findings: pd.DataFrame
    files: dict[str, list[Path]]
    warnings: list[str]
    extract_date: pd.Timestamp
    date_order: str | None = None
    ascof: pd.DataFrame | None = None
    synthetic: dict | None = None  # the marker of `evalkit synth` (`data.synthetic`), or None
    #: Where the excluded rows are, per table and reason ("rows 2, 5, 9 and 12 more"), for
    #: `evalkit validate`; kept out of `quality`, which reports publish.
    exclusions: pd.DataFrame | None = None
    areas: pd.DataFrame | None = None  # the optional lookup area_code -> area_name (data.areas)


# ----------------------------------------------------------------------------- load
def load_table(table: str, files: list[Path], extract_date: pd.Timestamp,
               date_order: str | None = None
               ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """Read, match, validate and normalise one table from its file(s): (kept rows, quality
    rows, findings, warnings)."""
    frames, warnings = [], []
    by_file = table == "pa_register" and len(files) > 1  # agency: the file name if not given
    for path in files:
        parts, warn = read_file(path, table, given=("agency",) if by_file else ())
        warnings += warn
        for raw in parts:
            if by_file and not any(column_key(c) == "agency" for c in raw.columns):
                raw = raw.assign(agency=path.stem)
            label = raw[FILE].iat[0] if len(raw) else path.name
            matched, warn = match_columns(raw, table, label)
            frames.append(matched)
            warnings += warn
        if len(files) > 1 and not any(len(raw) for raw in parts):
            warnings.append(f"{table}/{path.name} has a header but no rows")
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    source = files[0].name if len(files) == 1 else f"{table}/ ({len(files)} files)"
    if df.empty:
        raise ContractError(f"{source}: no rows: there is a header but no {table} row under "
                            "it; expected at least one row (remove the file if there is "
                            "nothing to give)")
    if table == "areas":
        check_areas(df, source)
    return (*validate_frame(df, table, extract_date, source, date_order), warnings)


def validate_frame(df: pd.DataFrame, table: str, extract_date: pd.Timestamp, source: str,
                   date_order: str | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Validate a table's matched rows (with their row references): (kept rows, quality rows,
    findings)."""
    kept, quality, findings = account(df, table, extract_date, source, date_order)
    try:
        kept = validated(kept, table)
    except Exception as err:  # a bug in evalkit, not in the data: say so plainly
        raise RuntimeError(f"evalkit produced a {table} table that breaks its own schema; "
                           f"please report this: {err}") from err
    return kept, quality, findings


def finding_warnings(findings: pd.DataFrame) -> list[str]:
    """One warning per finding on kept rows, without counts or rows (`evalkit validate` lists
    those): the notebooks show warnings as notes."""
    kept = findings[findings["finding"] != "unknown_code"]
    return [f"{t}.{c}: {FINDINGS[f]} (`evalkit validate` lists the rows)"
            for t, f, c in kept[["table", "finding", "column"]].itertuples(index=False)]


def _warnings(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Warnings about what the data cannot show."""
    out = []
    episodes = tables.get("support_episodes")
    if episodes is not None and "preferred_language" not in episodes:
        out.append("support_episodes has no preferred_language column: Somali, Gujarati and "
                   "other communities that ethnic codes cannot see will not show up; add it if "
                   "the case system records a preferred or main language")
    if episodes is not None and "preferred_language" in episodes:
        share = (episodes["preferred_language"] == codes.NOT_RECORDED).mean()
        if share > 0.5:
            out.append(f"support_episodes: preferred_language is not recorded for {share:.0%} "
                       "of rows, so language gaps will be under-counted")
    return out


def load_cld(cld: list[Path], supplementary: list[Path], extract_date: pd.Timestamp,
             date_order: str | None = None, period_end: dt.date | None = None,
             submitted_by: dt.date | None = None
             ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str], pd.DataFrame]:
    """Raw CLD (and the supplementary table) -> (support_episodes, quality rows of the raw CLD
    rows and of the cohort, findings, warnings, ASCOF 3D table); see evalkit/data/cld/."""
    from evalkit.data.cld import episodes, transform  # DuckDB only when there is CLD

    done = transform.transform(cld, period_end, submitted_by)
    supp, warnings = episodes.read_supplementary(supplementary)
    frame = episodes.with_supplementary(episodes.episode_frame(done.episodes, extract_date),
                                        supp)
    source = cld[0].name if len(cld) == 1 else f"cld/ ({len(cld)} files)"
    if not (done.episodes["reason"] == "kept").any():
        raise ContractError(f"{source}: no long-term client is open at the snapshot "
                            f"{done.period_end} in a submission imported by "
                            f"{done.submitted_by}; check --period-end and --submitted-by "
                            "(the data-quality table of `evalkit ascof` says why)")
    kept, quality, findings = validate_frame(frame, "support_episodes", extract_date, source,
                                             date_order)
    raw = done.reasons.assign(table="cld")[["table", "reason", "rows"]]
    return kept, pd.concat([raw, quality], ignore_index=True), findings, warnings, done.ascof


def _cld_inputs(data_dir: Path, files: dict[str, list[Path]], warnings: list[str]
                ) -> tuple[list[Path], list[Path], list[str]]:
    """The raw CLD and supplementary files, and the warnings without the ones `find_files`
    gives for them (they are tables of the CLD path, not unknown files)."""
    from evalkit.data.cld.stage import cld_files, supplementary_files

    cld, supp = cld_files(data_dir), supplementary_files(data_dir)
    if cld and "support_episodes" in files:
        raise ContractError(f"{data_dir}: both raw CLD ({cld[0].name}) and support_episodes "
                            "are given; keep one (raw CLD becomes the support episodes)")
    if supp and not cld:
        raise ContractError(f"{data_dir}: {supp[0].name} is given without raw CLD (cld.csv, "
                            "cld.parquet, cld.xlsx or a folder cld/); its columns belong in "
                            "support_episodes otherwise")
    names = {p.name for p in cld + supp}
    return cld, supp, [w for w in warnings if w.split(" ", 1)[0] not in names]


def load(data_dir: str | Path, *, extract_date: str | pd.Timestamp | None = None,
         date_order: str | None = None, period_end: dt.date | None = None,
         submitted_by: dt.date | None = None) -> Dataset:
    """Load and validate a data folder (see the module docstring and data/README.md).

    extract_date: dates after it are excluded as `future_date:<col>`; default today.
    date_order: "dmy" or "mdy", how dates written with the day and month as numbers are read;
    default None: day first, and an error naming the rows if some can only be month first.
    period_end, submitted_by: with raw CLD, the snapshot (default: the latest reporting-period
    end in the files) and the last import date accepted (default: a month after it).
    """
    if date_order is not None and date_order not in DATE_ORDERS:
        raise ValueError(f"load: date_order must be one of {', '.join(DATE_ORDERS)} or None, "
                         f"not {date_order!r}")
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ContractError(f"{data_dir}: not a folder; expected a data folder with one file "
                            f"per table ({', '.join(TABLES)})")
    extract = (pd.Timestamp(extract_date) if extract_date is not None
               else pd.Timestamp.today()).normalize()
    files, warnings = find_files(data_dir)
    cld, supp, warnings = _cld_inputs(data_dir, files, warnings)
    if not files and not cld:
        raise ContractError(f"{data_dir}: no table files found; expected files named "
                            f"{', '.join(TABLES)} (.csv, .parquet or .xlsx), or raw CLD")
    if cld:
        files = {**files, "cld": cld, **({"cld_supplementary": supp} if supp else {})}
    cache = os.environ.get(CACHE_ENV) if period_end is submitted_by is None else None
    if cache:
        cached = _read_cache_once(Path(cache), data_dir, files, extract, date_order)
        if cached is not None:
            return replace(cached, synthetic=synthetic.read_marker(data_dir))
    tables, qualities, found, ascof = {}, [], [], None
    if cld:
        tables["support_episodes"], quality, findings, warn, ascof = load_cld(
            cld, supp, extract, date_order, period_end, submitted_by)
        qualities.append(quality)
        found.append(findings)
        warnings.extend(warn)
    for table in TABLES:
        if table in files:
            tables[table], quality, findings, warn = load_table(table, files[table], extract,
                                                                date_order)
            qualities.append(quality)
            found.append(findings)
            warnings.extend(warn)
    findings = pd.concat(found, ignore_index=True)
    warnings += (_warnings(tables) + finding_warnings(findings)
                 + area_warnings(tables.get("areas"), tables))
    quality = pd.concat(qualities, ignore_index=True)
    return Dataset(**{t: tables.get(t) for t in TABLES},
                   quality=quality.drop(columns="where", errors="ignore"), findings=findings,
                   files=files, warnings=warnings, extract_date=extract, date_order=date_order,
                   ascof=ascof, synthetic=synthetic.read_marker(data_dir),
                   exclusions=excluded_rows(quality))


def excluded_rows(quality: pd.DataFrame) -> pd.DataFrame:
    """Table, reason and where (row numbers) of each exclusion in `quality` that knows them."""
    if "where" not in quality:
        return pd.DataFrame(columns=["table", "reason", "where"])
    rows = quality[(quality["reason"] != "kept") & quality["where"].notna()]
    return rows[["table", "reason", "where"]].reset_index(drop=True)


# ----------------------------------------------------------------------------- cache
def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def checksums(files: dict[str, list[Path]]) -> dict[str, str]:
    """File path -> SHA-256 for every file read."""
    return {str(p): sha256(p) for paths in files.values() for p in paths}


def cache_key(data_dir: Path, files: dict[str, list[Path]], extract_date: pd.Timestamp,
              sums: dict[str, str] | None = None) -> str:
    """Names a cached dataset: the folder, each input file's checksum, the extract date and the
    evalkit version (a new loader may validate differently)."""
    from evalkit import __version__

    sums = checksums(files) if sums is None else sums
    ident = json.dumps([str(data_dir.resolve()), extract_date.isoformat(), __version__,
                        {t: [sums[str(p)] for p in ps] for t, ps in sorted(files.items())}])
    return hashlib.sha256(ident.encode()).hexdigest()[:32]


def save_cache(dataset: Dataset, data_dir: Path, folder: Path,
               sums: dict[str, str] | None = None) -> Path:
    """Write the validated tables (Parquet) and everything else `load` returns into
    `folder/<cache_key>/`, so `load` of the same inputs can reuse it; returns that folder."""
    target = folder / cache_key(Path(data_dir), dataset.files, dataset.extract_date, sums)
    target.mkdir(parents=True, exist_ok=True)
    dtypes = {}
    for table in (*TABLES, "quality", "findings", "ascof"):
        df = getattr(dataset, table)
        if df is not None:
            df.to_parquet(target / f"{table}.parquet", index=False)
            dtypes[table] = {str(c): str(t) for c, t in df.dtypes.items()}
    meta = {"dtypes": dtypes, "warnings": dataset.warnings,
            "extract_date": dataset.extract_date.isoformat(), "date_order": dataset.date_order}
    (target / "meta.json.tmp").write_text(json.dumps(meta))
    (target / "meta.json.tmp").replace(target / "meta.json")  # written last: marks it complete
    return target


#: The Dataset last read from a run's cache in this process, under what it was read for:
#: `_read_cache_once`.
_LAST_READ: dict[tuple, Dataset] = {}


def _read_cache_once(cache: Path, data_dir: Path, files: dict[str, list[Path]],
                     extract: pd.Timestamp, date_order: str | None) -> Dataset | None:
    """`read_cache` of the cache for these inputs in `cache`, or a copy of the Dataset this
    process read last, when it was read for the same inputs, unchanged since (each file's
    size and modification time), and the same cache. A national run's worker runs a council's
    three notebooks one after another, each loading the same data: the files are hashed and
    the tables read once, not three times (a fiftieth of the worker's time). The copy's
    tables are pandas' shallow copies, which copy on write: a notebook that changes its tables
    changes nothing the next one reads."""
    stats = tuple((str(p), st.st_size, st.st_mtime_ns)
                  for ps in files.values() for p in ps for st in [p.stat()])
    key = (str(cache), str(data_dir.resolve()), extract, date_order, stats)
    if key not in _LAST_READ:
        dataset = read_cache(cache / cache_key(data_dir, files, extract), files, date_order)
        _LAST_READ.clear()
        if dataset is None:
            return None
        _LAST_READ[key] = dataset
    last = _LAST_READ[key]
    return replace(last, **{f.name: getattr(last, f.name).copy(deep=False) for f in fields(last)
                            if isinstance(getattr(last, f.name), pd.DataFrame)},
                   files={t: list(ps) for t, ps in last.files.items()},
                   warnings=list(last.warnings))


def read_cache(target: Path, files: dict[str, list[Path]], date_order: str | None = None
               ) -> Dataset | None:
    """The Dataset saved by `save_cache` in `target` (with `files` as this call found them), or
    None when there is none, it predates findings, or it was validated with another date order
    than `date_order` (None takes the order the cache was validated with)."""
    if not (target / "meta.json").is_file():
        return None
    meta = json.loads((target / "meta.json").read_text())
    if "findings" not in meta["dtypes"] or date_order not in (None, meta["date_order"]):
        return None
    frames = {}
    for table, dtypes in meta["dtypes"].items():
        df = pd.read_parquet(target / f"{table}.parquet")
        changed = {c: t for c, t in dtypes.items() if str(df[c].dtype) != t}
        frames[table] = df.astype(changed) if changed else df
    return Dataset(**{t: frames.get(t) for t in TABLES}, quality=frames["quality"],
                   findings=frames["findings"], files=files, warnings=list(meta["warnings"]),
                   extract_date=pd.Timestamp(meta["extract_date"]),
                   date_order=meta["date_order"], ascof=frames.get("ascof"))


# ----------------------------------------------------------------------------- validate CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `evalkit validate`."""
    parser.add_argument("data_dir", type=Path, metavar="DATA_DIR",
                        help="folder with one file per table (CSV, Parquet or xlsx)")
    parser.add_argument("--extract-date", type=pd.Timestamp, default=None,
                        help="dates after this (YYYY-MM-DD) are excluded; default today")
    parser.add_argument("--date-order", choices=list(DATE_ORDERS), default=None,
                        help="how to read dates written with the day and month as numbers: "
                             "dmy (05/03/2022 is 5 March) or mdy (March 5); default dmy, and an "
                             "error if some dates can only be mdy")


#: Reasons that are not defects: rows kept, or merged because another row stands for them.
REASON_LABELS = {
    "kept": "kept",
    "duplicate_pa_listing": "merged, same PA listed by another agency (counted once)",
}


#: What an exclusion code's column part means, in words ("unknown_code:gender" -> "gender is
#: not a known code"); codes without a column are worded whole.
EXCLUSION_WORDS = {
    "blank_required": "{col} is blank, and it is required",
    "invalid_value": "{col} is not a valid value",
    "unknown_code": "{col} is not a known code",
    "future_date": "{col} is after the extract date",
    "end_before_start": "it ends before it starts",
    "duplicate_row": "the same as an earlier row (counted once)",
}


def reason_words(reason: str) -> str:
    """A data-quality reason code in words: 'kept', the named reasons as REASON_LABELS and
    CLD_REASONS word them, else 'excluded: <what was wrong>' from EXCLUSION_WORDS."""
    for labels in (REASON_LABELS, CLD_REASONS):
        if reason in labels:
            return labels[reason]
    code, _, col = str(reason).partition(":")
    words = EXCLUSION_WORDS.get(code, code.replace("_", " ") + (" ({col})" if col else ""))
    return f"excluded: {words.format(col=col)}"


def verdict(quality: pd.DataFrame) -> str:
    """The last line of `evalkit validate`: usable, and how many rows were set aside."""
    read, kept = int(quality["rows"].sum()), int(quality.loc[quality["reason"] == "kept",
                                                             "rows"].sum())
    aside = read - kept
    return (f"Verdict: usable. All {read:,} rows read are kept." if not aside else
            f"Verdict: usable, with {aside:,} of {read:,} rows set aside for the reasons above "
            "(fix them in the source system, or accept that they are left out).")


def format_quality(quality: pd.DataFrame, findings: pd.DataFrame | None = None,
                   exclusions: pd.DataFrame | None = None) -> str:
    """The data-quality table as readable text, with each table's total and, under each
    exclusion, the rows excluded (from `exclusions`) or, for an unknown_code reason, the
    unknown values from `findings` with their rows. No value of a person's row is quoted
    except an unknown code."""
    unknown = (findings[findings["finding"] == "unknown_code"] if findings is not None
               else pd.DataFrame(columns=FINDING_COLUMNS))
    where = ({} if exclusions is None else
             {(t, r): w for t, r, w in exclusions[["table", "reason", "where"]]
              .itertuples(index=False)})
    lines = []
    for table, rows in quality.groupby("table", sort=False):
        total = int(rows["rows"].sum())
        lines.append(f"{table}: {total:,} rows read")
        for reason, n in zip(rows["reason"], rows["rows"], strict=True):
            lines.append(f"  {reason_words(reason):<56} {n:>10,}")
            column = reason.partition("unknown_code:")[2]
            values = unknown[(unknown["table"] == table) & (unknown["column"] == column)]
            if (table, reason) in where and values.empty:
                lines.append(f"      {where[table, reason]}")
            lines += [f"      {v!r:<52} {k:>10,}  {w}" for v, k, w in
                      values[["value", "rows", "where"]].itertuples(index=False)]
    return "\n".join(lines)


def format_findings(findings: pd.DataFrame) -> str:
    """The findings on kept rows as readable text: what, where (table, column), rows."""
    kept = findings[findings["finding"] != "unknown_code"]
    return "\n".join(f"  {t}.{c}: {FINDINGS[f]}\n      {n:,} row{'s' if n > 1 else ''}: {w}"
                     for t, f, c, n, w in kept[["table", "finding", "column", "rows", "where"]]
                     .itertuples(index=False))


def main(args: argparse.Namespace) -> int:
    """Print the data-quality table, the findings and the warnings; 1 with the message on a
    ContractError."""
    try:
        data = load(args.data_dir, extract_date=args.extract_date, date_order=args.date_order)
    except ContractError as err:
        print(f"error: {err}", file=sys.stderr)
        print("Verdict: not usable: fix the problem above and run evalkit validate again.",
              file=sys.stderr)
        return 1
    print(f"Data folder {args.data_dir} (extract date {data.extract_date.date()})")
    print(format_quality(data.quality, data.findings, data.exclusions))
    found = format_findings(data.findings)
    if found:
        print(f"Findings (rows kept):\n{found}")
    listed = set(finding_warnings(data.findings))
    for warning in data.warnings:
        if warning not in listed:
            print(f"warning: {warning}")
    print(verdict(data.quality))
    return 0
