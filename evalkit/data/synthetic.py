"""The marker `evalkit synth` leaves in every folder it writes, so that reports made from made-up
data say so.

The signal is a file, not a guess from the data: `write_marker` writes `SYNTHETIC.json` (what
made the folder: generator, profile, seed, scale) and `read_marker` returns its content, or
None for a folder without one (real data). The loader records it as `Dataset.synthetic`; the run
puts it in manifest.json and a banner on every page and in key_findings.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MARKER = "SYNTHETIC.json"
GENERATOR = "evalkit synth"


def write_marker(folder: Path, **about: Any) -> Path:
    """Write the marker into `folder`, with `about` (e.g. profile, seed, scale); returns it."""
    path = Path(folder) / MARKER
    path.write_text(json.dumps({"generator": GENERATOR, **about}, indent=1, sort_keys=True)
                    + "\n")
    return path


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The marker's content when `folder` was written by `evalkit synth`, else None. A marker
    that is not a JSON object still marks the folder as synthetic (what made it is unknown)."""
    path = Path(folder) / MARKER
    if not path.is_file():
        return None
    try:
        about = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        about = None
    return about if isinstance(about, dict) else {"generator": "unknown"}
