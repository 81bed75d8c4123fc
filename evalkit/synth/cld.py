"""Synthetic raw Client Level Data (CLD R1): `evalkit synth --format cld`.

The same people as the contract format (same seed, same planted effects) written as each
council's stacked quarterly CLD submissions: one year-end submission for each earlier financial
year of the synthetic period (from 2021-22, so the loaded history covers the whole period the
notebooks' time series span; real CLD R1 began with 2023-24), the four quarters of the last
year (each stacking the year to date, so earlier ones hold stale versions of events), and
for some councils a resubmission inside NHS England's window (the one the transformation must
use) and a late one after it. The problems real submissions have are planted by
`evalkit.synth.cld_events`; `write_cld` counts them for truth.json.

Column names come from `evalkit.data.cld.layout`: the pseudonymised extract by default (one
file `cld.csv|parquet`), or a council's own submission files (`cld/<council>_<date>.csv`,
the council's column names). Rows are generated and written a chunk of councils at a time, so a
national file streams to Parquet without holding every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evalkit.data.cld import layout as L
from evalkit.synth import cld_events as E
from evalkit.synth.columns import days, text
from evalkit.synth.facts import PERIOD_START
from evalkit.synth.people import DAY_END

LAYOUTS = ("extract", "council")
#: Parquet timestamps in microseconds: Spark cannot read nanosecond ones (pyarrow's default).
TIMESTAMPS = "us"
SUBMITTED_BY = np.datetime64("2026-04-30")  # NHS England's window: one month after the snapshot
#: The first financial year with a (year-end) submission: the synthetic period's first
#: (facts.PERIOD_START), so every ended episode is in some submission. Real CLD R1 began with
#: 2023-24; earlier years stand for a council's own history in the CLD layout.
FIRST_YEAR = int(str(PERIOD_START)[:4])
#: Councils (by position) with a resubmission inside the window, and with one after it.
RESUBMIT_EVERY, LATE_EVERY = 2, 3
#: People per chunk of councils generated and written together (bounds the memory used).
CHUNK_PEOPLE = 50_000
ROLES = ("earlier", "superseded", "used", "late")
EARLIER, SUPERSEDED, USED, LATE = range(4)


def _day(text_date: str) -> int:
    return int(np.datetime64(text_date).astype(np.int64))


@dataclass(frozen=True)
class Slot:
    """A submission councils make: its reporting period, import day (days since 1970, before
    each council's few days of difference) and kind: earlier (an earlier quarter or year),
    first (the first Q4 file), resubmission (inside the window) or late (after it)."""

    start: int
    end: int
    imported: int
    kind: str


_LAST_YEAR = _day("2025-04-01")
SLOTS: tuple[Slot, ...] = (
    *(Slot(_day(f"{y}-04-01"), _day(f"{y + 1}-03-31"), _day(f"{y + 1}-04-20"), "earlier")
      for y in range(FIRST_YEAR, 2025)),
    *(Slot(_LAST_YEAR, _day(end), _day(end) + 20, "earlier")
      for end in ("2025-06-30", "2025-09-30", "2025-12-31")),
    Slot(_LAST_YEAR, int(DAY_END), _day("2026-04-08"), "first"),
    Slot(_LAST_YEAR, int(DAY_END), _day("2026-04-20"), "resubmission"),
    Slot(_LAST_YEAR, int(DAY_END), _day("2026-06-15"), "late"),
)


def plan(council: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per council position: days its imports come after the slot's, whether it resubmits
    inside the window, whether it resubmits late."""
    k = np.asarray(council)
    return (k * 7) % 10, k % RESUBMIT_EVERY == 0, k % LATE_EVERY == 0


def _slot_rows(events: pd.DataFrame, council: np.ndarray, slot: Slot) -> pd.DataFrame:
    """The rows of one slot's submissions: event, end and death as shown, role, import day."""
    jitter, resubmits, late = plan(council)
    end, death = events["end"].to_numpy(), events["death"].to_numpy()
    shown = np.where((end >= 0) & (end <= slot.end), end, -1)
    exists, role = np.ones(len(events), bool), np.full(len(events), EARLIER)
    if slot.kind == "first":
        role = np.where(resubmits, SUPERSEDED, USED)
        shown = np.where(resubmits & events["stale"].to_numpy(), -1, shown)
    elif slot.kind == "resubmission":
        exists, role = resubmits, np.full(len(events), USED)
    elif slot.kind == "late":
        exists, role = late, np.full(len(events), LATE)
        late_end = events["late_end"].to_numpy()
        shown = np.where(late_end >= 0, late_end, shown)
    rows = np.flatnonzero(exists & (events["start"].to_numpy() <= slot.end)
                          & ((shown < 0) | (shown >= slot.start)))
    return pd.DataFrame({
        "event": rows, "end": shown[rows],
        "death": np.where((death >= 0) & (death <= slot.end), death, -1)[rows],
        "role": role[rows], "imported": slot.imported + jitter[rows],
        "period_start": slot.start, "period_end": slot.end})


def _frame(persons: pd.DataFrame, events: pd.DataFrame, written: pd.DataFrame,
           councils: tuple[list[str], list[str]], first_id: int) -> pd.DataFrame:
    """The raw CLD rows in the layout's columns (extract names)."""
    e = events.iloc[written["event"].to_numpy()]
    who = persons.iloc[e["person"].to_numpy()]
    council = who["council"].to_numpy()
    birth = who["birth"].to_numpy()
    known = birth >= 0
    nhs = pd.Series(who["nhs"].to_numpy()).where(~e["nhs_blank"].to_numpy())
    return pd.DataFrame({
        L.LA_CODE: text(councils[0], council), L.LA_NAME: text(councils[1], council),
        L.IMPORT_DATE: days(written["imported"].to_numpy()),
        L.PERIOD_START: days(written["period_start"].to_numpy()),
        L.PERIOD_END: days(written["period_end"].to_numpy()),
        L.RECORD_ID: first_id + np.arange(len(e)),
        L.NHS_NUMBER: nhs.astype("str"),
        L.LA_PERSON_ID: pd.Series(who["la_id"].to_numpy(), dtype="str"),
        L.BIRTH_YEAR: pd.Series(np.where(known, birth // 12, 0), dtype="Int64").where(known),
        L.BIRTH_MONTH: pd.Series(np.where(known, birth % 12 + 1, 0), dtype="Int64").where(known),
        L.DATE_OF_DEATH: days(written["death"].to_numpy()),
        L.CLIENT_TYPE: text(L.CLIENT_TYPES, e["client"].to_numpy()),
        L.EVENT_TYPE: text(E.EVENT_TYPES, e["etype"].to_numpy()),
        L.EVENT_START: days(e["start"].to_numpy()),
        L.EVENT_END: days(written["end"].to_numpy()),
        L.EVENT_OUTCOME: text(E.OUTCOMES, e["outcome"].to_numpy()),
        L.SERVICE_TYPE: text(E.SERVICE_TYPES, e["stype"].to_numpy()),
        L.SERVICE_COMPONENT: text(E.COMPONENTS, e["comp"].to_numpy()),
        L.DELIVERY_MECHANISM: text(E.MECHANISMS, e["mech"].to_numpy()),
        L.GENDER: text(("Male", "Female"), who["female"].to_numpy(int)),
        L.ETHNICITY: text(E.CLD_ETHNICITY, who["eth"].to_numpy()),
        L.PRIMARY_SUPPORT_REASON: text(E.CLD_PSR, who["psr"].to_numpy()),
        L.HAS_UNPAID_CARER: text(E.YES_NO, who["carer"].to_numpy()),
        L.LSOA: pd.Series(pd.array([None] * len(e), dtype="str")),
    }, columns=list(L.COLUMNS))


def history_rows(persons: pd.DataFrame, events: pd.DataFrame, written: pd.DataFrame
                 ) -> np.ndarray:
    """Which written rows the loader should use as ended episodes (docs/cld.md): rows of a
    long-term service event of a service user with a birth month, in the latest accepted
    submission holding the event (an earlier one or the one used; the superseded first Q4
    file's events are all in the resubmission), showing it ended, or the person dead, before
    the snapshot."""
    role, event = written["role"].to_numpy(), written["event"].to_numpy()
    e = events.iloc[event]
    birth = persons["birth"].to_numpy()[e["person"].to_numpy()]
    eligible = (np.isin(e["stype"].to_numpy(), (E.COMMUNITY, E.RESIDENTIAL, E.NURSING))
                & (e["client"].to_numpy() == E.SERVICE_USER) & (birth >= 0))
    accepted = np.isin(role, (EARLIER, USED))
    imported = np.where(accepted, written["imported"].to_numpy(), -1)
    latest = imported == pd.Series(imported).groupby(event).transform("max").to_numpy()
    end, death = written["end"].to_numpy(), written["death"].to_numpy()
    ended = np.where((death >= 0) & ((end < 0) | (death < end)), death, end)
    return accepted & eligible & latest & (ended >= 0) & (ended < DAY_END)


def merged_rows(events: pd.DataFrame, written: pd.DataFrame, history: np.ndarray
                ) -> np.ndarray:
    """Of the `history` rows, those another row of the same event stands for (a part Direct
    Payment's two rows: same person, service type and start, in one submission)."""
    e = events.iloc[written["event"].to_numpy()]
    key = pd.DataFrame({"p": e["person"].to_numpy(), "s": e["stype"].to_numpy(),
                        "d": e["start"].to_numpy(), "i": written["imported"].to_numpy()})
    return history & key.duplicated().to_numpy() & pd.Series(history).groupby(
        [key["p"], key["s"], key["d"], key["i"]]).transform("sum").gt(1).to_numpy()


class Counts:
    """What was written, for truth.json: rows by submission role; the rows of the submission
    used, by what the transformation should do with them (kept: the cohort's own rows and the
    problems it resolves; set aside: by reason); the ended episodes (history) and the rows
    merged into them, by submission role; and the planted changes only other submissions
    show."""

    def __init__(self) -> None:
        self.rows = dict.fromkeys(ROLES, 0)
        self.kept = dict.fromkeys(("cohort", *E.RESOLVED), 0)
        self.set_aside = dict.fromkeys(("ended_before_snapshot", *E.SET_ASIDE), 0)
        self.history = dict.fromkeys(("earlier", "used"), 0)
        self.merged = dict.fromkeys(("earlier", "used"), 0)
        self.people_without_nhs_number = 0
        self.stale_open_in_superseded = 0
        self.closed_only_in_late = 0

    def add(self, persons: pd.DataFrame, events: pd.DataFrame, written: pd.DataFrame) -> None:
        """Count one chunk's rows."""
        role = written["role"].to_numpy()
        for k, name in enumerate(ROLES):
            self.rows[name] += int((role == k).sum())
        history = history_rows(persons, events, written)
        merged = merged_rows(events, written, history)
        for name in self.history:
            mine = role == ROLES.index(name)
            self.history[name] += int((history & ~merged & mine).sum())
            self.merged[name] += int((merged & mine).sum())
        event = written["event"].to_numpy()
        self.stale_open_in_superseded += int(events["stale"].to_numpy()[event[role == SUPERSEDED]]
                                             .sum())
        self.closed_only_in_late += int((events["late_end"].to_numpy()[event[role == LATE]] >= 0)
                                        .sum())
        used = event[role == USED]
        shown = written["end"].to_numpy()[role == USED]
        problem = events["problem"].to_numpy()[used]
        # problem -1 (none) indexes the last name: the cohort's own rows
        name = np.array((*E.PROBLEMS, "cohort"), dtype=object)[problem]
        ended = ((shown >= 0) & (shown < DAY_END)
                 & ((problem < 0) | np.isin(name, E.ENDED_FIRST)))
        name[ended] = "ended_before_snapshot"
        labels, n = np.unique(name, return_counts=True)
        for label, count in zip(labels, n, strict=True):
            target = self.kept if label in self.kept else self.set_aside
            target[label] += int(count)
        person = events["person"].to_numpy()[used][np.isin(name, list(self.kept))]
        self.people_without_nhs_number += int(persons["nhs"].isna().to_numpy()[person].sum())

    def as_dict(self) -> dict:
        return {"rows_by_submission": self.rows,
                "used_submission": {"kept": self.kept, "set_aside": self.set_aside},
                "history_by_submission": {"episodes": self.history,
                                          "rows_merged": self.merged},
                "people_without_nhs_number_at_snapshot": self.people_without_nhs_number,
                "stale_open_events_in_superseded_submission": self.stale_open_in_superseded,
                "events_closed_only_in_late_submission": self.closed_only_in_late}


class _Sink:
    """Writes chunks of rows: one CSV or Parquet file (extract), or a file per council and
    submission (council layout, CSV or Parquet)."""

    def __init__(self, out: Path, layout: str, parquet: bool) -> None:
        self.out, self.layout, self.parquet = out, layout, parquet
        self.writer: pq.ParquetWriter | None = None
        self.header = True
        if layout == "council":
            (out / L.CLD_NAME).mkdir(exist_ok=True)

    def write(self, frame: pd.DataFrame) -> None:
        if self.layout == "council":
            frame = frame.drop(columns=L.RECORD_ID).rename(
                columns={k: v[0] for k, v in L.COUNCIL_ALIASES.items()})
            imported = L.COUNCIL_ALIASES[L.IMPORT_DATE][0]
            for (la, day), part in frame.groupby([L.COUNCIL_ALIASES[L.LA_CODE][0], imported]):
                self._one(part, self.out / L.CLD_NAME / f"{la}_{day:%Y-%m-%d}")
            return
        if not self.parquet:
            frame.to_csv(self.out / f"{L.CLD_NAME}.csv", mode="w" if self.header else "a",
                         header=self.header, index=False, date_format="%Y-%m-%d")
            self.header = False
            return
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.out / f"{L.CLD_NAME}.parquet", table.schema,
                                           coerce_timestamps=TIMESTAMPS)
        self.writer.write_table(table.cast(self.writer.schema))

    def _one(self, frame: pd.DataFrame, stem: Path) -> None:
        if self.parquet:
            frame.to_parquet(stem.with_suffix(".parquet"), index=False,
                             coerce_timestamps=TIMESTAMPS)
        else:
            frame.to_csv(stem.with_suffix(".csv"), index=False, date_format="%Y-%m-%d")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def chunks(council: np.ndarray, n_councils: int) -> list[tuple[int, int]]:
    """Row ranges of people (sorted by council) holding whole councils, each of about
    CHUNK_PEOPLE people or one council."""
    bounds = np.searchsorted(council, np.arange(n_councils + 1))
    out, lo = [], 0
    for hi in bounds[1:]:
        if hi - lo >= CHUNK_PEOPLE or hi == bounds[-1]:
            out.append((lo, int(hi)))
            lo = int(hi)
    return [(lo, hi) for lo, hi in out if hi > lo]


def write_cld(out: Path, people: pd.DataFrame, episodes: pd.DataFrame, table: pd.DataFrame,
              names: dict[str, str], rng: np.random.Generator, *, layout: str = "extract",
              parquet: bool = False) -> dict:
    """Write raw CLD for every council, a chunk of councils at a time; returns truth.json's
    "cld"."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown CLD layout {layout!r}; use one of {LAYOUTS}")
    codes = table["la_code"].tolist()
    councils = (codes, [names.get(c, c) for c in codes])
    sink, counts, next_id = _Sink(Path(out), layout, parquet), Counts(), 1
    try:
        for lo, hi in chunks(people["council"].to_numpy(), len(table)):
            persons, events = E.chunk_events(people.iloc[lo:hi], episodes.iloc[lo:hi], lo,
                                               len(people), rng)
            council = persons["council"].to_numpy()[events["person"].to_numpy()]
            written = pd.concat([_slot_rows(events, council, slot) for slot in SLOTS],
                                ignore_index=True)
            counts.add(persons, events, written)
            frame = _frame(persons, events, written, councils, next_id)
            next_id += len(frame)
            sink.write(frame)
    finally:
        sink.close()
    return {"layout": layout, "snapshot": str(DAY_END.astype("datetime64[D]")),
            "submitted_by": str(SUBMITTED_BY), "problems": list(E.PROBLEMS),
            **counts.as_dict()}
