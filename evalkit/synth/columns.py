"""Coded arrays to contract columns: dates, text, identifiers, flags, area codes (vectorised)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evalkit.data import codes
from evalkit.synth import facts as F


def days(x: np.ndarray) -> pd.Series:
    """Int days since 1970 (-1 = missing) -> datetime64[ns] Series."""
    out = pd.Series(np.asarray(x, np.int64).astype("datetime64[D]").astype("datetime64[ns]"))
    return out.where(np.asarray(x) >= 0)


def text(values: tuple[str, ...] | list[str], idx: np.ndarray) -> pd.Series:
    """values[idx] as a pandas string Series (-1 = missing), built in Arrow without Python loops."""
    idx = np.asarray(idx)
    indices = pa.array(idx.astype(np.int32), mask=idx < 0)
    arr = pa.DictionaryArray.from_arrays(indices, pa.array(list(values), pa.string()))
    return pd.Series(pd.array(arr.cast(pa.string()), dtype="str"))


def ids(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    """Identifiers such as P00000042 from integers, vectorised in Arrow."""
    digits = pc.utf8_lpad(pa.array(np.asarray(numbers)).cast(pa.string()), width, "0")
    return pd.Series(pd.array(pc.binary_join_element_wise(prefix, digits, ""), dtype="str"))


def ethnicity_text(eth_rec: np.ndarray, rng: np.random.Generator) -> pd.Series:
    """Written ethnicity: NHS code for some rows, ONS 2021 label for the rest; Z/Not stated."""
    labels = [*F.ETHNIC_LABELS, codes.NOT_STATED]
    nhs = [F.NHS_CODE.get(lab, lab) for lab in F.ETHNIC_LABELS] + ["Z"]
    use_code = rng.random(len(eth_rec)) < F.NHS_CODE_SHARE
    return text(labels + nhs, np.where(use_code, len(labels), 0) + eth_rec % len(labels))


def flags(x: np.ndarray, keep: np.ndarray | None = None) -> pd.Series:
    """A nullable boolean column; blank where `keep` is False."""
    s = pd.Series(np.asarray(x, bool), dtype="boolean")
    return s if keep is None else s.where(keep)


def area_codes(council: np.ndarray, area: np.ndarray, n_councils: int) -> pd.Series:
    """Synthetic ward-like codes: E059 + council/area digits (real E05 codes stay below E0595)."""
    names = [f"E05{900_000 + k}" for k in range(n_councils * F.N_AREAS)]
    return text(names, council * F.N_AREAS + area)


def areas_table(used: pd.Series) -> pd.DataFrame:
    """The optional areas lookup for the `area_codes` in `used`: "Ward 3" for each council's
    third area, so the demo reports show names ("Ward 3 (E05900002)"); plainly not real names.
    Only codes the data use (a lookup with others would rightly draw a warning)."""
    codes = sorted(set(used.dropna().astype(str)))
    return pd.DataFrame({"area_code": codes,
                         "area_name": [f"Ward {(int(c[3:]) - 900_000) % F.N_AREAS + 1}"
                                       for c in codes]})
