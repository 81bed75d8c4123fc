"""What `evalkit run` records per council: the privacy gate's verdict on each notebook and
the council's manifest.json (fields documented in README "Scheduled runs")."""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit import __version__
from evalkit.data import load as loader
from evalkit.run.execute import BLOCKED, FAILED, SUCCEEDED, now
from evalkit.run.plan import Plan
from evalkit.sdc import gate as privacy

#: Why a notebook's outputs are not published, by its status (none when it succeeded).
WITHHELD = {FAILED: "not published: the notebook did not finish (its error is in the manifest)",
            BLOCKED: "not published: the privacy gate found something in its outputs (the "
                     "manifest says what and where)"}
LIBRARIES = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib", "pandera", "pyarrow",
             "papermill", "nbconvert", "nbformat", "nbclient", "ipykernel", "jupyter_client")


def input_files(files: Mapping[str, Iterable[Path]], data_dir: Path,
                sums: Mapping[str, str]) -> list[dict[str, Any]]:
    """One entry per file the loader read: table, path (relative to DATA_DIR), bytes, sha256
    (from `sums`, path -> checksum, computed once for this and the load cache)."""
    out = []
    for table, paths in sorted(files.items()):
        for path in sorted(Path(p) for p in paths):
            rel = path.resolve().relative_to(data_dir.resolve())
            out.append({"table": table, "path": rel.as_posix(), "bytes": path.stat().st_size,
                        "sha256": sums[str(path)]})
    return out


def row_counts(quality: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Rows read, kept and excluded per table (with the reasons) from `dataset.quality`."""
    out: dict[str, dict[str, Any]] = {}
    for table, part in quality.groupby("table", sort=True):
        by_reason = part.groupby("reason")["rows"].sum()
        kept = int(by_reason.get("kept", 0))
        read = int(by_reason.sum())
        out[str(table)] = {"read": read, "kept": kept, "excluded": read - kept,
                           "excluded_by_reason": {str(k): int(v) for k, v in by_reason.items()
                                                  if k != "kept"}}
    return out


def data_periods(episodes: pd.DataFrame, las: list[str]) -> dict[str, dict[str, str | None]]:
    """First and last date in each council's support episodes (start or end dates; "all": every
    council's), read in one pass however many councils a run has."""
    dates = episodes.melt(id_vars=[c for c in ["la_code"] if c in episodes],
                          value_vars=["start_date", "end_date"], value_name="date")
    dates = dates.dropna(subset=["date"])
    spans = {}
    if "la_code" in dates:
        spans = {la: (first, last) for la, first, last
                 in dates.groupby(dates["la_code"].astype(str))["date"].agg(["min", "max"])
                 .itertuples()}
    if not dates.empty:
        spans["all"] = (dates["date"].min(), dates["date"].max())
    return {la: {"start": spans[la][0].date().isoformat(), "end": spans[la][1].date().isoformat()}
            if la in spans else {"start": None, "end": None} for la in las}


def versions() -> dict[str, str | None]:
    """Python, evalkit and key library versions."""
    found: dict[str, str | None] = {"python": platform.python_version(), "evalkit": __version__}
    for lib in LIBRARIES:
        try:
            found[lib] = version(lib)
        except PackageNotFoundError:
            found[lib] = None
    return found


def describe_data(p: Plan, dataset: loader.Dataset, sums: Mapping[str, str]) -> dict[str, Any]:
    """What the manifest says about the input (per council: "period"), taken before the
    notebooks run so the runner need not hold the tables while they do; "synthetic" is the
    marker of `evalkit synth` (None for real data)."""
    return {"data_dir": str(p.data_dir), "extract_date": dataset.extract_date.date(),
            "synthetic": dataset.synthetic,
            "periods": data_periods(dataset.support_episodes, p.las),
            "inputs": input_files(dataset.files, p.data_dir, sums),
            "rows": row_counts(dataset.quality), "warnings": list(dataset.warnings)}


def gate(council: Path, entries: list[dict[str, Any]], ids: privacy.Identifiers,
         min_cell: int) -> None:
    """Scan everything under a council's staging folder (`privacy.scan_folder`) once all its
    notebooks have run; a notebook with a finding in its folder is blocked. Only the folders of
    notebooks that succeeded and passed are kept: a failed or blocked notebook's files are
    removed (its entry says it was withheld; `outputs` are all None), as is anything else a
    notebook wrote in the council folder. Each entry's `privacy` lists its findings, which never
    quote an identifier."""
    council.mkdir(parents=True, exist_ok=True)  # a worker may have ended before making it
    findings = privacy.scan_folder(council, ids, min_cell)
    passed = set()
    for entry in entries:
        own = privacy.blocked(findings, f"{privacy.redact(entry['notebook'], ids)}/")
        entry["privacy"] = [f.as_dict() for f in own]
        if own and entry["status"] == SUCCEEDED:
            kinds = ", ".join(sorted({f.kind for f in own}))
            entry["status"] = BLOCKED
            entry["error"] = (f"privacy gate: {len(own)} finding(s) ({kinds}), e.g. "
                              f"{own[0].file}: {own[0].where}")
        entry["withheld"] = WITHHELD.get(entry["status"])
        if entry["withheld"]:
            entry["outputs"] = dict.fromkeys(entry["outputs"])
        else:
            passed.add(entry["notebook"])
    for path in council.iterdir():
        if path.name not in passed:
            _remove(path)


def _remove(path: Path) -> None:
    """Remove a file, link or folder."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def publishable(path: Path, man: dict[str, Any], ids: privacy.Identifiers,
                min_cell: int) -> list[privacy.Finding]:
    """Write a council's manifest to `path` and scan it like every published file; returns the
    findings (none: the council may be published)."""
    write_json(path, man)
    return privacy.scan([path], ids, min_cell, path.parent)


def overall(entries: list[dict[str, Any]]) -> str:
    """A council's status: succeeded, blocked by privacy gate (if any was), else failed."""
    statuses = {e["status"] for e in entries}
    if statuses == {SUCCEEDED}:
        return SUCCEEDED
    return BLOCKED if BLOCKED in statuses else FAILED


def manifest(p: Plan, la: str, data: dict[str, Any], entries: list[dict[str, Any]],
             ids: privacy.Identifiers, started: str, t0: float) -> dict[str, Any]:
    """The council's manifest.json content (fields documented in README "Scheduled runs"),
    every key and text redacted (`privacy.redact_object`): no identifier from the input, e.g.
    in a cell's error, reaches it; an error or warning holding a person's row is withheld."""
    order = {nb.stem: i for i, nb in enumerate(p.notebooks)}
    entries = [messages(e, ids) for e in sorted(entries, key=lambda e: order[e["notebook"]])]
    return privacy.redact_object({
        "evalkit_version": __version__,
        "status": overall(entries),
        "la_code": la,
        "parameters": {**p.params, "data_dir": str(p.data_dir), "la_code": la,
                       "min_cell": p.min_cell},
        "run": {"id": p.run_id, "started_at": started, "finished_at": now(),
                "duration_s": round(time.perf_counter() - t0, 3), "jobs": p.jobs,
                "argv": sys.argv[1:],
                "machine": {"platform": platform.platform(), "processor": platform.machine(),
                            "cpus": os.cpu_count()}},
        "versions": versions(),
        "data": {**{k: v for k, v in data.items() if k != "periods"},
                 "period": data["periods"][la],
                 "warnings": [privacy.message(w, ids) for w in data["warnings"]]},
        "privacy_gate": {"min_cell": p.min_cell,
                         "identifiers_scanned": len(ids.by_value)},
        "notebooks": [{k: v for k, v in e.items() if k != "la"} for e in entries],
    }, ids)


def messages(entry: dict[str, Any], ids: privacy.Identifiers) -> dict[str, Any]:
    """A notebook's entry with its error and warnings as they may be written
    (`privacy.message`)."""
    error = entry["error"] and privacy.message(entry["error"], ids)
    return {**entry, "error": error,
            "warnings": [privacy.message(w, ids) for w in entry["warnings"]]}


def write_json(path: Path, obj: Any) -> None:
    """Indented, key-sorted JSON (stable diffs between runs)."""
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
