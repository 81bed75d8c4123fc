"""Chart labels checked against the input's identifiers: a PNG cannot be scanned once drawn, so
`evalkit.report.style` checks every label of a chart before drawing it. `evalkit run` writes
the identifiers hashed (`write_id_hashes`, the file named by ID_HASHES_ENV) for its kernels; a
label that is, or holds as a token, one of them refuses the chart.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from evalkit.sdc.embedded import without_images
from evalkit.sdc.gate import Identifiers, candidates

ID_HASHES_ENV = "EVALKIT_ID_HASHES"  # file of hashed identifiers for the chart-label check


def _hashes(values: Iterable[str]) -> np.ndarray:
    """The first 8 bytes of each normalised identifier's SHA-256, as unsigned 64-bit numbers."""
    return np.frombuffer(b"".join(hashlib.sha256(v.encode("utf-8")).digest()[:8]
                                  for v in values), dtype=">u8").astype(np.uint64)


def write_id_hashes(ids: Identifiers, path: Path) -> Path:
    """Write the checkable identifiers' hashes, sorted, as a NumPy file for ID_HASHES_ENV."""
    with path.open("wb") as f:
        np.save(f, np.sort(_hashes(ids.by_value)))
    return path


@functools.cache
def read_id_hashes(path: str) -> np.ndarray:
    """The sorted hashes written by `write_id_hashes`, mapped from the file (once a process)."""
    return np.load(path, mmap_mode="r")


def is_identifier_label(label: str, hashes: np.ndarray) -> bool:
    """True when a chart label is, or contains as a token, an identifier in `hashes`."""
    keys = _hashes(key for _, _, key in candidates(without_images(label)))
    return bool(len(hashes) and (hashes[np.minimum(np.searchsorted(hashes, keys),
                                                   len(hashes) - 1)] == keys).any())


def refuse_identifier_labels(labels: Mapping[str, Iterable[str]], where: str) -> None:
    """Raise ValueError when a label (by kind, e.g. "x tick labels") is an identifier in the
    hashes file named by ID_HASHES_ENV (set by `evalkit run`; unset, nothing is checked).
    The error names `where` and the kind of label, never the value."""
    path = os.environ.get(ID_HASHES_ENV)
    if not path:
        return
    hashes = read_id_hashes(path)
    for kind, texts in labels.items():
        if any(is_identifier_label(text, hashes) for text in texts):
            raise ValueError(f"{where}: {kind} include an identifier from the input data; "
                             "charts must not show identifiers")
