"""Record a notebook's key estimates in `results.json`, and read them back.

Tests and later runs read this file, never the HTML. The shape is fixed by DESIGN.md
("results.json and truth.json speak the same names") and docs/interfaces.md:
`{"notebook": ..., "parameters": {...}, "estimates": [{"name", "group", "reference", "value",
"lower", "upper", "conf", "n", ...extra keys}]}`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import pandas as pd

ESTIMATE_KEYS = ("name", "group", "reference", "value", "lower", "upper", "conf", "n")
#: Published outputs are readable by everyone who can read the report folder.
PUBLISHED_MODE = 0o644


def to_json_value(obj: Any) -> Any:
    """Turn numpy/pandas scalars, containers, paths and dates into plain JSON values.

    NaN, NA, NaT and infinities become None (null): JSON has no NaN, and a missing limit must read
    as missing, not as a number.
    """
    if isinstance(obj, Mapping):
        return {str(k): to_json_value(v) for k, v in obj.items()}
    if isinstance(obj, pd.Series | pd.Index):
        return [to_json_value(v) for v in obj.tolist()]
    if isinstance(obj, np.ndarray):
        return [to_json_value(v) for v in obj.tolist()]
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_json_value(v) for v in obj]
    if isinstance(obj, np.datetime64):
        obj = pd.Timestamp(obj)
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, pd.Timestamp | dt.datetime | dt.date):
        return obj.isoformat()
    if isinstance(obj, PurePath):
        return str(obj)
    raise TypeError(f"record: cannot write a {type(obj).__name__} to JSON: {obj!r}")


def _estimate_rows(estimates: pd.DataFrame | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Estimates as a list of dicts with every standard key present (missing ones as None)."""
    if isinstance(estimates, pd.DataFrame):
        rows = estimates.reset_index(drop=True).to_dict("records")
    else:
        rows = [dict(r) for r in estimates]
    out = []
    for i, row in enumerate(rows):
        name = row.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"record: each estimate needs a non-empty string 'name'; estimate {i} "
                             f"has name={name!r} (keys: {sorted(map(str, row))})")
        standard = {k: row.get(k) for k in ESTIMATE_KEYS}
        extra = {k: v for k, v in row.items() if k not in ESTIMATE_KEYS}
        out.append(to_json_value({**standard, **extra}))
    return out


def record(estimates: pd.DataFrame | Sequence[Mapping[str, Any]], *, notebook: str,
           parameters: Mapping[str, Any], path: str | os.PathLike[str] = "results.json") -> Path:
    """Write (overwrite) `path` with the notebook's key estimates; return the path written.

    `estimates` is a DataFrame or a list of dicts with keys name, group, reference, value, lower,
    upper, conf, n; extra keys are kept. NaN becomes null and numpy types plain Python. The file is
    written as `write_published` writes (whole, mode 644).
    """
    if not isinstance(notebook, str) or not notebook.strip():
        raise ValueError(f"record: notebook must be a non-empty name such as '01_uptake', "
                         f"not {notebook!r}")
    doc = {"notebook": notebook, "parameters": to_json_value(dict(parameters)),
           "estimates": _estimate_rows(estimates)}
    text = json.dumps(doc, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    return write_published(path, text)


def write_published(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` to `path` (folders made as needed) readable by everyone (mode 644), as a
    published output is: written to a temporary name first and then moved into place, so a
    reader never sees half a file. Returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, PUBLISHED_MODE)  # mkstemp makes the file readable by its owner only
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def read_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a results.json written by `record`: a dict with notebook, parameters, estimates.

    Raises ValueError naming the file when a required top-level key is missing.
    """
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    missing = [k for k in ("notebook", "parameters", "estimates") if k not in doc]
    if missing:
        raise ValueError(f"read_results: {path} is not a results.json; missing key(s) {missing}")
    return doc
