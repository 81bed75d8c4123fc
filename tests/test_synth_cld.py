"""Synthetic raw CLD (`evalkit synth --format cld`): the layout's columns, every planted problem
present and counted in truth.json, the same people and other tables as the contract format,
deterministic; and NHS England's transformation (evalkit.data.cld, and the plain pandas reading
in tests/helpers/cld_reference.py) giving back the synthetic cohort person by person."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.cld_reference import reference

import evalkit
from evalkit.data import codes
from evalkit.data.cld import layout as L
from evalkit.data.cld.transform import transform
from evalkit.synth import cld
from evalkit.synth.cld_events import PROBLEMS
from evalkit.synth.generator import add_arguments, main, synthesise

SEED, SCALE = 3, 0.2
SNAPSHOT, SUBMITTED_BY = dt.date(2026, 3, 31), dt.date(2026, 4, 30)
CLD_FILES = ("cld.csv", "cld_supplementary.csv")
#: truth.json's counts -> the transformation's reasons (evalkit.data.cld.sql.REASONS).
REASON = {"cohort": "kept", "dp_in_service_component_only": "kept",
          "dp_mechanism_spelling": "kept", "invalid_mechanism": "kept",
          "mechanism_not_expected": "kept", "ended_before_snapshot": "history",
          "no_usable_id": "no_usable_id", "two_settings": "lower_setting",
          "part_dp_second_row": "lower_setting", "died_before_snapshot": "history",
          "short_term_service": "not_long_term_service", "assessment": "not_long_term_service",
          "review": "not_long_term_service", "carer": "not_long_term_service",
          "carer_long_term_service": "carer", "no_birth_date": "no_birth_month"}
SUBMISSION_REASON = {"earlier": "outside_window", "late": "outside_window",
                     "superseded": "superseded_submission"}
#: Contract service types -> CLD's.
SETTING = dict(zip(codes.SERVICE_TYPES, (L.COMMUNITY, L.RESIDENTIAL, L.NURSING), strict=True))


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(contract folder, CLD folder) of the same profile, scale and seed."""
    root = tmp_path_factory.mktemp("synth_cld")
    return (synthesise(root / "contract", scale=SCALE, seed=SEED),
            synthesise(root / "cld", scale=SCALE, seed=SEED, fmt="cld"))


def _truth(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text())


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _cohort(contract: Path) -> pd.DataFrame:
    """The synthetic long-term cohort at the snapshot, read from the contract format's
    support_episodes as the SQL reads dates (open: start on or before, end on or after)."""
    ep = pd.read_csv(contract / "support_episodes.csv")
    end = pd.to_datetime(ep["end_date"])
    snap = pd.Timestamp(SNAPSHOT)
    ep = ep[(pd.to_datetime(ep["start_date"]) <= snap) & (end.isna() | (end >= snap))]
    mech = ep["delivery_mechanism"]
    return pd.DataFrame({
        "la_person_id": ep["person_id"], "service_type": ep["service_type"].map(SETTING),
        "dp": mech.isin(codes.DP_MECHANISMS),
        "sds": mech.isin(codes.DP_MECHANISMS) | (mech == codes.DELIVERY_MECHANISMS[2]),
    }).sort_values("la_person_id").reset_index(drop=True)


def _expected_reasons(truth: dict) -> dict[str, int]:
    """The transformation's rows per reason that truth.json's counts imply."""
    cld = truth["cld"]
    out: dict[str, int] = {}
    for role, rows in cld["rows_by_submission"].items():
        if role in SUBMISSION_REASON:
            out[SUBMISSION_REASON[role]] = out.get(SUBMISSION_REASON[role], 0) + rows
    for part in cld["used_submission"].values():
        for name, rows in part.items():
            out[REASON[name]] = out.get(REASON[name], 0) + rows
    # every ended row of the submission used is history (an event left open of a person who
    # died ends at the death); earlier submissions add the ended events they hold last
    # (a part DP's two rows are one episode: the other row is merged)
    history, merged = (cld["history_by_submission"][k] for k in ("episodes", "rows_merged"))
    assert out["history"] == history["used"] + merged["used"]
    out["history"] -= merged["used"]
    out["another_row_same_person"] = sum(merged.values())
    out["history"] += history["earlier"]
    out["outside_window"] -= history["earlier"] + merged["earlier"]
    return {k: v for k, v in out.items() if v}


def _ascof(truth: dict) -> pd.DataFrame:
    return pd.DataFrame(truth["ascof_3d"]).sort_values(["la_code", "age_band", "measure"]) \
        .reset_index(drop=True)


def _sorted(ascof: pd.DataFrame) -> pd.DataFrame:
    return ascof.sort_values(["la_code", "age_band", "measure"]).reset_index(drop=True)


def test_cld_has_the_layout_columns_and_the_supplementary_table(folders: tuple[Path, Path]
                                                                 ) -> None:
    contract, cld = folders
    raw = pd.read_csv(cld / "cld.csv", dtype=str)
    assert list(raw.columns) == list(L.COLUMNS)
    assert raw[L.RECORD_ID].is_unique
    assert not (cld / "support_episodes.csv").exists()
    supp = pd.read_csv(cld / "cld_supplementary.csv", dtype=str)
    assert list(supp.columns) == [L.SUPPLEMENTARY_KEY, L.SUPPLEMENTARY_LA,
                                  *L.SUPPLEMENTARY_COLUMNS]
    episodes = pd.read_csv(contract / "support_episodes.csv", dtype=str)
    same = episodes.rename(columns={"person_id": L.SUPPLEMENTARY_KEY})[supp.columns]
    pd.testing.assert_frame_equal(supp, same)  # the same people, the same values


def test_other_tables_and_planted_effects_are_those_of_the_contract_format(
        folders: tuple[Path, Path]) -> None:
    contract, cld = folders
    a = {k: v for k, v in _files(contract).items() if k != "support_episodes.csv"}
    b = _files(cld)
    assert a.keys() - {"truth.json"} == b.keys() - {"truth.json", *CLD_FILES}
    for name in a.keys() - {"truth.json"}:
        assert a[name] == b[name], name
    assert _truth(contract)["effects"] == _truth(cld)["effects"]


def test_same_seed_same_bytes_other_seed_differs(folders: tuple[Path, Path],
                                                 tmp_path: Path) -> None:
    again = _files(synthesise(tmp_path / "a", scale=SCALE, seed=SEED, fmt="cld"))
    assert again == _files(folders[1])
    other = _files(synthesise(tmp_path / "b", scale=SCALE, seed=SEED + 1, fmt="cld"))
    assert other["cld.csv"] != again["cld.csv"]


def test_every_planted_problem_is_written_and_counted(folders: tuple[Path, Path]) -> None:
    cld = _truth(folders[1])["cld"]
    used = cld["used_submission"]
    counted = {**used["kept"], **used["set_aside"]}
    assert set(PROBLEMS) <= counted.keys()
    assert all(counted[p] > 0 for p in PROBLEMS), counted
    assert all(cld["rows_by_submission"][r] > 0 for r in ("earlier", "superseded", "late"))
    assert cld["people_without_nhs_number_at_snapshot"] > 0
    assert cld["stale_open_events_in_superseded_submission"] > 0
    assert cld["events_closed_only_in_late_submission"] > 0
    assert sum(counted.values()) == cld["rows_by_submission"]["used"]
    raw = pd.read_csv(folders[1] / "cld.csv", dtype=str)
    assert sum(cld["rows_by_submission"].values()) == len(raw)
    # Written as counted (people, as a row without an id may repeat a person's row): odd
    # spellings of "Direct Payment", and the DP shown only as a service component.
    last = raw[raw[L.IMPORT_DATE] == raw.loc[raw[L.IMPORT_DATE] <= str(SUBMITTED_BY),
                                             L.IMPORT_DATE].max()]
    open_ = last[L.EVENT_END].isna() | (last[L.EVENT_END] >= str(SNAPSHOT))
    alive = last[L.DATE_OF_DEATH].isna() | (last[L.DATE_OF_DEATH] >= str(SNAPSHOT))
    last = last[open_ & alive & (last[L.CLIENT_TYPE] == L.SERVICE_USER)]
    mech = last[L.DELIVERY_MECHANISM].fillna("")
    odd = mech.str.rstrip(" ").str.upper().eq("DIRECT PAYMENT") & mech.ne(L.DIRECT_PAYMENT)
    assert last[odd][L.LA_PERSON_ID].nunique() == used["kept"]["dp_mechanism_spelling"]
    component = (last[L.SERVICE_COMPONENT] == L.DP_SERVICE_COMPONENT) & mech.eq("")
    assert last[component][L.LA_PERSON_ID].nunique() == \
        used["kept"]["dp_in_service_component_only"]


def test_plain_reading_of_the_sql_gives_back_the_synthetic_cohort(folders: tuple[Path, Path]
                                                                   ) -> None:
    """Independent of evalkit's SQL: the people counted, their DP (2a) and self-directed
    support (1a) flags, and the ASCOF numbers truth.json gives."""
    contract, cld = folders
    raw = pd.read_csv(cld / "cld.csv", dtype=str, keep_default_na=False)
    counted = reference(raw, SNAPSHOT, SUBMITTED_BY)
    ids = raw.drop_duplicates(L.NHS_NUMBER).set_index(L.NHS_NUMBER)[L.LA_PERSON_ID]
    counted["la_person_id"] = counted["person"].map(ids).fillna(counted["person"])
    both = counted[counted["age_band"] == "18+"].sort_values("la_person_id")
    cohort = _cohort(contract)
    community = cohort[cohort["service_type"] == L.COMMUNITY]
    assert both["la_person_id"].tolist() == community["la_person_id"].tolist()
    assert both["dp"].tolist() == community["dp"].tolist()
    assert both["sds"].tolist() == community["sds"].tolist()
    sizes = counted.groupby(["la_code", "age_band"]).size()
    truth = _ascof(_truth(cld))
    for row in truth.itertuples():
        assert sizes.get((row.la_code, row.age_band), 0) == row.denominator


def test_transformation_gives_back_the_cohort_and_sets_aside_each_problem(
        folders: tuple[Path, Path]) -> None:
    contract, cld = folders
    truth = _truth(cld)
    done = transform([cld / "cld.csv"], SNAPSHOT, SUBMITTED_BY)
    assert dict(zip(done.reasons["reason"], done.reasons["rows"], strict=True)) == \
        _expected_reasons(truth)
    expected = _ascof(truth)
    pd.testing.assert_frame_equal(_sorted(done.ascof), expected, check_dtype=False)
    kept = done.episodes[done.episodes["reason"] == "kept"]
    got = pd.DataFrame({"la_person_id": kept["la_person_id"],
                        "service_type": kept["service_type"],
                        "dp": kept["is_dp"].astype(bool),
                        "sds": kept["is_sds"].astype(bool)})
    got = got.sort_values("la_person_id").reset_index(drop=True)
    cohort = _cohort(contract)
    pd.testing.assert_frame_equal(got[["la_person_id", "dp"]], cohort[["la_person_id", "dp"]])
    assert got["service_type"].str.upper().tolist() == cohort["service_type"].str.upper().tolist()
    community = cohort["service_type"] == L.COMMUNITY
    assert got["sds"][community].tolist() == cohort["sds"][community].tolist()


def test_loading_the_cld_folder_gives_back_the_contract_episodes_of_the_cohort(
        folders: tuple[Path, Path]) -> None:
    """The real path (`evalkit.load`): the cohort's episodes with the supplementary table's
    fields are the contract format's, person by person (keyed by the council's id)."""
    contract, cld = folders
    got = evalkit.load(cld).support_episodes
    snap = pd.Timestamp(SNAPSHOT)
    got = got[(got["start_date"] <= snap) & ~(got["end_date"] < snap)]
    want = evalkit.load(contract).support_episodes
    want = want[want["person_id"].isin(_cohort(contract)["la_person_id"])]
    fields = ["person_id", "service_type", "has_dp", "preferred_language", "interpreter_required",
              "dp_offered", "dp_first_payment_date", "team_id", "area_code", "ethnic_group",
              "birth_year_month"]
    pd.testing.assert_frame_equal(
        got[fields].sort_values("person_id").reset_index(drop=True),
        want[fields].sort_values("person_id").reset_index(drop=True), check_dtype=False)


def test_council_layout_and_parquet_give_the_same_ascof(folders: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    expected = _ascof(_truth(folders[1]))
    council = synthesise(tmp_path / "council", scale=SCALE, seed=SEED, fmt="cld",
                         cld_layout="council")
    files = sorted((council / "cld").glob("*.csv"))
    assert len(files) == sum(1 for _ in files) > 4 and not (council / "cld.csv").exists()
    head = pd.read_csv(files[0], nrows=0).columns
    assert L.COUNCIL_ALIASES[L.NHS_NUMBER][0] in head and L.NHS_NUMBER not in head
    done = transform(files, SNAPSHOT, SUBMITTED_BY)
    pd.testing.assert_frame_equal(_sorted(done.ascof), expected, check_dtype=False)
    parquet = synthesise(tmp_path / "parquet", scale=SCALE, seed=SEED, fmt="cld",
                         file_format="parquet")
    assert not list(parquet.glob("*.csv"))
    done = transform([parquet / "cld.parquet"], SNAPSHOT, SUBMITTED_BY)
    pd.testing.assert_frame_equal(_sorted(done.ascof), expected, check_dtype=False)


def test_england_is_written_in_chunks_of_councils_and_each_council_agrees(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cld, "CHUNK_PEOPLE", 500)  # several chunks at a small scale
    people = np.repeat(np.arange(4), [300, 300, 100, 700])
    assert cld.chunks(people, 4) == [(0, 600), (600, 1400)]
    folder = synthesise(tmp_path, profile="england", scale=0.004, seed=2, fmt="cld")
    truth = _truth(folder)
    raw = pd.read_parquet(folder / "cld.parquet", columns=[L.LA_CODE, L.RECORD_ID])
    assert raw[L.LA_CODE].nunique() == len(truth["la_codes"])
    assert raw[L.RECORD_ID].is_monotonic_increasing and raw[L.RECORD_ID].is_unique
    done = transform([folder / "cld.parquet"], SNAPSHOT, SUBMITTED_BY)
    pd.testing.assert_frame_equal(_sorted(done.ascof), _ascof(truth), check_dtype=False)
    assert dict(zip(done.reasons["reason"], done.reasons["rows"], strict=True)) == \
        _expected_reasons(truth)


def test_command_line_writes_cld_and_dirty_is_for_the_contract_format_only(
        tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--out", str(tmp_path / "a"), "--scale", "0.05", "--format", "cld",
                              "--file-format", "parquet", "--cld-layout", "council"])
    assert main(args) == 0
    assert list((tmp_path / "a" / "cld").glob("*.parquet"))
    assert (tmp_path / "a" / "cld_supplementary.parquet").exists()
    with pytest.raises(ValueError, match="contract format only"):
        synthesise(tmp_path / "b", scale=SCALE, fmt="cld", dirty=True)
