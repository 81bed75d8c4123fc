"""Synthetic raw Client Level Data (CLD R1): `evalkit synth --format cld`.

The same people as the contract format (same seed, same planted effects) written as each
council's stacked quarterly CLD submissions: one year-end submission for each earlier financial
year since CLD began (2023-24), the four quarters of the last year (each stacking the year to
date, so earlier ones hold stale versions of events), and for some councils a resubmission
inside NHS England's window (the one the transformation must use) and a late one after it. The
problems real submissions have are planted by `evalkit.synth.cld_events`; `write_cld` counts
them for truth.json.

Column names come from `evalkit.data.cld.layout`: the pseudonymised extract by default (one
file `cld.csv|parquet`), or a council's own submission files (`cld/<council>_<date>.csv`,
the council's column names). Rows are generated and written one council at a time, so a
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
from evalkit.synth.people import DAY_END

LAYOUTS = ("extract", "council")
SUBMITTED_BY = np.datetime64("2026-04-30")  # NHS England's window: one month after the snapshot
#: CLD R1 began with 2023-24: the first financial year with submissions.
FIRST_YEAR = 2023
_ROLES = ("earlier", "superseded", "used", "late")
#: Councils (by position) with a resubmission inside the window, and with one after it.
RESUBMIT_EVERY, LATE_EVERY = 2, 3


def _day(text_date: str) -> int:
    return int(np.datetime64(text_date).astype(np.int64))


@dataclass(frozen=True)
class Submission:
    """One CLD submission: its reporting period, import date (days since 1970) and role:
    earlier (an earlier quarter or year), superseded (a first Q4 file later resubmitted),
    used (the latest inside the window) or late (imported after the window closed)."""

    start: int
    end: int
    imported: int
    role: str


def schedule(k: int) -> tuple[Submission, ...]:
    """The submissions of the council at position k (import dates vary a little by council)."""
    jitter = (k * 7) % 10
    subs = [Submission(_day(f"{y}-04-01"), _day(f"{y + 1}-03-31"),
                       _day(f"{y + 1}-04-20") + jitter, "earlier")
            for y in range(FIRST_YEAR, 2025)]
    subs += [Submission(_day("2025-04-01"), _day(end), _day(end) + 20 + jitter, "earlier")
             for end in ("2025-06-30", "2025-09-30", "2025-12-31")]
    first = _day("2026-04-08") + jitter
    resubmits = k % RESUBMIT_EVERY == 0
    subs.append(Submission(_day("2025-04-01"), DAY_END, first,
                           "superseded" if resubmits else "used"))
    if resubmits:
        subs.append(Submission(_day("2025-04-01"), DAY_END, first + 12, "used"))
    if k % LATE_EVERY == 0:
        subs.append(Submission(_day("2025-04-01"), DAY_END, _day("2026-06-15") + jitter, "late"))
    return tuple(subs)


def _shown(events: pd.DataFrame, sub: Submission) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows in the submission, event end and death as the submission shows them)."""
    end, death = events["end"].to_numpy(), events["death"].to_numpy()
    shown = np.where((end >= 0) & (end <= sub.end), end, -1)
    if sub.role == "superseded":
        shown = np.where(events["stale"].to_numpy(), -1, shown)
    if sub.role == "late":
        late = events["late_end"].to_numpy()
        shown = np.where(late >= 0, late, shown)
    rows = (events["start"].to_numpy() <= sub.end) & ((shown < 0) | (shown >= sub.start))
    return np.flatnonzero(rows), shown, np.where((death >= 0) & (death <= sub.end), death, -1)


def _frame(persons: pd.DataFrame, events: pd.DataFrame, parts: list[tuple], la: tuple[str, str],
           first_id: int) -> pd.DataFrame:
    """The raw CLD rows of one council in the layout's columns (extract names)."""
    sub_of = np.concatenate([np.full(len(rows), j) for j, (rows, _, _, _) in enumerate(parts)])
    ev = np.concatenate([rows for rows, _, _, _ in parts])
    end = np.concatenate([shown[rows] for rows, shown, _, _ in parts])
    death = np.concatenate([d[rows] for rows, _, d, _ in parts])
    subs = [sub for _, _, _, sub in parts]
    e = events.iloc[ev]
    who = persons.iloc[e["person"].to_numpy()]
    birth = who["birth"].to_numpy()
    known = birth >= 0
    nhs = pd.Series(who["nhs"].to_numpy()).where(~e["nhs_blank"].to_numpy())
    return pd.DataFrame({
        L.LA_CODE: la[0], L.LA_NAME: la[1],
        L.IMPORT_DATE: days(np.array([s.imported for s in subs])[sub_of]),
        L.PERIOD_START: days(np.array([s.start for s in subs])[sub_of]),
        L.PERIOD_END: days(np.array([s.end for s in subs])[sub_of]),
        L.RECORD_ID: first_id + np.arange(len(ev)),
        L.NHS_NUMBER: nhs.astype("str"),
        L.LA_PERSON_ID: pd.Series(who["la_id"].to_numpy(), dtype="str"),
        L.BIRTH_YEAR: pd.Series(np.where(known, birth // 12, 0), dtype="Int64").where(known),
        L.BIRTH_MONTH: pd.Series(np.where(known, birth % 12 + 1, 0), dtype="Int64").where(known),
        L.DATE_OF_DEATH: days(death),
        L.CLIENT_TYPE: text(L.CLIENT_TYPES, e["client"].to_numpy()),
        L.EVENT_TYPE: text(E.EVENT_TYPES, e["etype"].to_numpy()),
        L.EVENT_START: days(e["start"].to_numpy()),
        L.EVENT_END: days(end),
        L.EVENT_OUTCOME: text(E.OUTCOMES, e["outcome"].to_numpy()),
        L.SERVICE_TYPE: text(E.SERVICE_TYPES, e["stype"].to_numpy()),
        L.SERVICE_COMPONENT: text(E.COMPONENTS, e["comp"].to_numpy()),
        L.DELIVERY_MECHANISM: text(E.MECHANISMS, e["mech"].to_numpy()),
        L.GENDER: text(("Male", "Female"), who["female"].to_numpy(int)),
        L.ETHNICITY: text(E.CLD_ETHNICITY, who["eth"].to_numpy()),
        L.PRIMARY_SUPPORT_REASON: text(E.CLD_PSR, who["psr"].to_numpy()),
        L.HAS_UNPAID_CARER: text(E.YES_NO, who["carer"].to_numpy()),
        L.LSOA: pd.Series(pd.array([None] * len(ev), dtype="str")),
    }, columns=list(L.COLUMNS))


class Counts:
    """What was written, for truth.json: rows by submission role; the rows of the submission
    used, by what the transformation should do with them (kept: the cohort's own rows and the
    problems it resolves; set aside: by reason); and the planted changes only other
    submissions show."""

    def __init__(self) -> None:
        self.rows = dict.fromkeys(_ROLES, 0)
        self.kept = dict.fromkeys(("cohort", *E.RESOLVED), 0)
        self.set_aside = dict.fromkeys(("ended_before_snapshot", *E.SET_ASIDE), 0)
        self.people_without_nhs_number = 0
        self.stale_open_in_superseded = 0
        self.closed_only_in_late = 0

    def add(self, persons: pd.DataFrame, events: pd.DataFrame, parts: list[tuple]) -> None:
        """Count one council's submissions."""
        for rows, shown, _, sub in parts:
            self.rows[sub.role] += len(rows)
            if sub.role == "used":
                self._used(persons, events, rows, shown[rows])
            if sub.role == "superseded":
                self.stale_open_in_superseded += int(events["stale"].to_numpy()[rows].sum())
            if sub.role == "late":
                self.closed_only_in_late += int((events["late_end"].to_numpy()[rows] >= 0).sum())

    def _used(self, persons: pd.DataFrame, events: pd.DataFrame, rows: np.ndarray,
              shown: np.ndarray) -> None:
        problem = events["problem"].to_numpy()[rows]
        name = np.array(E.PROBLEMS + ("cohort",), dtype=object)[problem]
        ended = ((shown >= 0) & (shown < DAY_END)
                 & ((problem < 0) | np.isin(name, E.ENDED_FIRST)))
        name[ended] = "ended_before_snapshot"
        labels, n = np.unique(name, return_counts=True)
        for label, count in zip(labels, n, strict=True):
            target = self.kept if label in self.kept else self.set_aside
            target[label] += int(count)
        person = events["person"].to_numpy()[rows][np.isin(name, list(self.kept))]
        self.people_without_nhs_number += int(persons["nhs"].isna().to_numpy()[person].sum())

    def as_dict(self) -> dict:
        return {"rows_by_submission": self.rows,
                "used_submission": {"kept": self.kept, "set_aside": self.set_aside},
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
            self.writer = pq.ParquetWriter(self.out / f"{L.CLD_NAME}.parquet", table.schema)
        self.writer.write_table(table.cast(self.writer.schema))

    def _one(self, frame: pd.DataFrame, stem: Path) -> None:
        if self.parquet:
            frame.to_parquet(stem.with_suffix(".parquet"), index=False)
        else:
            frame.to_csv(stem.with_suffix(".csv"), index=False, date_format="%Y-%m-%d")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def write_cld(out: Path, people: pd.DataFrame, episodes: pd.DataFrame, table: pd.DataFrame,
              names: dict[str, str], rng: np.random.Generator, *, layout: str = "extract",
              parquet: bool = False) -> dict:
    """Write raw CLD for every council, one council at a time; returns truth.json's "cld"."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown CLD layout {layout!r}; use one of {LAYOUTS}")
    council = people["council"].to_numpy()
    bounds = np.searchsorted(council, np.arange(len(table) + 1))
    sink, counts, next_id = _Sink(Path(out), layout, parquet), Counts(), 1
    try:
        for k, code in enumerate(table["la_code"]):
            lo, hi = bounds[k], bounds[k + 1]
            persons, events = E.council_events(people.iloc[lo:hi], episodes.iloc[lo:hi], int(lo),
                                               len(people), rng)
            parts = [(*_shown(events, sub), sub) for sub in schedule(k)]
            counts.add(persons, events, parts)
            frame = _frame(persons, events, parts, (code, names.get(code, code)), next_id)
            next_id += len(frame)
            sink.write(frame)
    finally:
        sink.close()
    return {"layout": layout, "snapshot": str(DAY_END.astype("datetime64[D]")),
            "submitted_by": str(SUBMITTED_BY), "problems": list(E.PROBLEMS),
            **counts.as_dict()}
