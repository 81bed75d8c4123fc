"""Raw CLD through `evalkit.load` and `evalkit ascof`, on the synthetic generator's raw CLD
(stacked submissions with planted problems, truth.json with the expected ASCOF 3D)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from evalkit import cohorts
from evalkit.cli import main as cli
from evalkit.data.cld.transform import ASCOF_COLUMNS
from evalkit.data.contract import ContractError
from evalkit.data.load import load, read_cache, save_cache
from evalkit.sdc import gate
from evalkit.synth.generator import synthesise
from tests.helpers.cld_reference import reference

EXTRACT = "2026-06-30"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesise(tmp_path_factory.mktemp("cld") / "leicester", scale=0.05, fmt="cld")


@pytest.fixture(scope="module")
def truth(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text())


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_ascof_is_the_planted_one_and_the_reference_agrees(folder: Path, truth: dict,
                                                           capsys: pytest.CaptureFixture
                                                           ) -> None:
    snap, by = truth["cld"]["snapshot"], truth["cld"]["submitted_by"]
    assert cli(["ascof", str(folder), "--period-end", snap, "--submitted-by", by,
                "--csv"]) == 0
    got = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), dtype={"la_code": str})
    assert list(got.columns) == ASCOF_COLUMNS
    want = pd.DataFrame(truth["ascof_3d"])[ASCOF_COLUMNS]
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    raw = pd.read_csv(folder / "cld.csv", dtype=str, keep_default_na=False)
    people = reference(raw, _day(snap), _day(by))
    counted = people.groupby("age_band").agg(den=("person", "size"), dp=("dp", "sum"))
    for r in got[got["measure"] == "3D2a"].itertuples(index=False):
        assert (r.denominator, r.numerator) == tuple(counted.loc[r.age_band])


def test_load_makes_the_cohort_the_support_episodes(folder: Path, truth: dict,
                                                   tmp_path: Path) -> None:
    data = load(folder, extract_date=EXTRACT, period_end=_day(truth["cld"]["snapshot"]))
    cld = data.quality[data.quality["table"] == "cld"]
    assert int(cld["rows"].sum()) == sum(truth["cld"]["rows_by_submission"].values())
    rows = cld.set_index("reason")["rows"]
    episodes = data.support_episodes
    assert len(episodes) == rows["kept"] + rows["history"]
    # the people open at the snapshot are the ASCOF 3D cohort (an episode ending on the day
    # is open), so the parts add up to the official total
    snap = cohorts.snapshot(episodes, truth["cld"]["snapshot"])
    official = data.ascof[(data.ascof["age_band"] == "18+") & (data.ascof["measure"] == "3D2a")]
    assert len(snap) == int(official["denominator"].iat[0])
    assert int(snap["has_dp"].sum()) == int(official["numerator"].iat[0])
    # the supplementary table reached the people it describes
    assert episodes["preferred_language"].notna().mean() > 0.5
    assert episodes["team_id"].notna().all()
    assert not [w for w in data.warnings if "matches no table" in w]
    # the load cache (evalkit run) keeps the ASCOF table
    cached = read_cache(save_cache(data, folder, tmp_path), data.files)
    pd.testing.assert_frame_equal(cached.ascof, data.ascof)


def _by_episode(episodes: pd.DataFrame) -> pd.DataFrame:
    """Per person and start date: the end and whether it was a DP (a part DP is two CLD
    rows, one DP and one commissioned)."""
    return (episodes.groupby(["person_id", "start_date"])
            .agg(end=("end_date", "max"), dp=("has_dp", "max")).sort_index())


def test_history_and_ids_are_those_of_the_contract_format(folder: Path, tmp_path: Path
                                                         ) -> None:
    """The same people written as raw CLD and as support_episodes load as the same episodes
    (start, end, DP: ended ones from earlier submissions, open ones the ASCOF cohort), keyed by
    the council's person id, so every PA request links as it does in the contract format."""
    contract = load(synthesise(tmp_path / "contract", scale=0.05), extract_date=EXTRACT)
    data = load(folder, extract_date=EXTRACT)
    pd.testing.assert_frame_equal(_by_episode(data.support_episodes),
                                  _by_episode(contract.support_episodes))
    linked = data.pa_requests["person_id"].isin(data.support_episodes["person_id"]).mean()
    want = contract.pa_requests["person_id"].isin(contract.support_episodes["person_id"]).mean()
    assert linked == want == 1.0
    assert data.support_episodes["nhs_number"].notna().mean() > 0.9
    # the privacy gate checks both the council's id and the NHS number
    ids = gate.identifiers({name: getattr(data, name) for name in gate.ID_COLUMNS})
    nhs = data.support_episodes["nhs_number"].dropna().iloc[0]
    assert ids.by_value[gate.normalise(nhs)] == "nhs_number"
    assert ids.by_value[gate.normalise(data.pa_requests["person_id"].iloc[0])] == "person_id"


def test_reasons_cld_has_beyond_salt_are_kept_as_their_own_codes(tmp_path: Path) -> None:
    """CLD's primary support reasons `Unknown` and `Social Support: Support to Carer` are
    categories of their own, so the cohort is not cut below the official total."""
    _minimal(tmp_path / "a")
    raw = pd.read_csv(tmp_path / "a" / "cld.csv", dtype=str)
    pd.concat([raw.assign(Primary_Support_Reason="Unknown"),
               raw.assign(Der_NHS_Number_Traced_Pseudo="N2",
                          Der_LA_Person_Unique_Identifier_Pseudo="P2",
                          Primary_Support_Reason="Social Support: Support to Carer")]
              ).to_csv(tmp_path / "a" / "cld.csv", index=False)
    data = load(tmp_path / "a", extract_date=EXTRACT)
    assert sorted(data.support_episodes["primary_support_reason"]) == [
        "Social Support: Support to Carer", "Unknown"]
    assert data.quality.query("table == 'support_episodes'")["reason"].tolist() == ["kept"]


def test_council_submission_files_give_the_same_figures(tmp_path: Path, truth: dict) -> None:
    council = synthesise(tmp_path / "council", scale=0.05, fmt="cld", cld_layout="council")
    data = load(council, extract_date=EXTRACT, period_end=_day(truth["cld"]["snapshot"]))
    want = pd.DataFrame(truth["ascof_3d"])[ASCOF_COLUMNS]
    pd.testing.assert_frame_equal(data.ascof, want, check_dtype=False)


def _minimal(folder: Path) -> None:
    """A folder with one raw CLD row."""
    folder.mkdir()
    pd.DataFrame([{"LA_Code": "E06000016", "Reporting_Period_Start_Date": "2025-04-01",
                   "Reporting_Period_End_Date": "2026-03-31",
                   "Der_NHS_Number_Traced_Pseudo": "N1",
                   "Der_LA_Person_Unique_Identifier_Pseudo": "P1", "Der_Birth_Year": 1950,
                   "Der_Birth_Month": 2, "Date_of_Death": "", "Client_Type": "Service User",
                   "Event_Type": "Service", "Event_Start_Date": "2024-01-01",
                   "Event_End_Date": "", "Service_Type": "Long Term Support: Community",
                   "Service_Component": "", "Delivery_Mechanism": "Direct Payment",
                   "Gender": "Male", "Ethnicity": "White - Irish",
                   "Primary_Support_Reason": "Mental Health Support"}]
                 ).to_csv(folder / "cld.csv", index=False)


def test_clear_errors(tmp_path: Path) -> None:
    _minimal(tmp_path / "a")
    assert len(load(tmp_path / "a", extract_date=EXTRACT).support_episodes) == 1
    (tmp_path / "a" / "support_episodes.csv").write_text("person_id\nx\n")
    with pytest.raises(ContractError, match="both raw CLD"):
        load(tmp_path / "a", extract_date=EXTRACT)
    _minimal(tmp_path / "b")
    pd.DataFrame({"la_person_id": ["P1", "p1 "], "team_id": ["T1", "T2"]}).to_csv(
        tmp_path / "b" / "cld_supplementary.csv", index=False)
    with pytest.raises(ContractError, match="same person id is given more than once"):
        load(tmp_path / "b", extract_date=EXTRACT)
    _minimal(tmp_path / "c")
    raw = pd.read_csv(tmp_path / "c" / "cld.csv").drop(columns="Service_Type")
    raw.to_csv(tmp_path / "c" / "cld.csv", index=False)
    with pytest.raises(ContractError, match=r"cld.csv: no column Service_Type"):
        load(tmp_path / "c", extract_date=EXTRACT)


def test_folder_of_quarterly_files_any_format(tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    """cld/ with a CSV, an xlsx and a Parquet submission: stacked, every row accounted for."""
    _minimal(tmp_path / "one")
    raw = pd.read_csv(tmp_path / "one" / "cld.csv", dtype=str)
    folder = tmp_path / "data" / "cld"
    folder.mkdir(parents=True)
    raw.to_csv(folder / "q2.csv", index=False)
    raw.assign(Der_NHS_Number_Traced_Pseudo="N2").to_excel(folder / "q3.xlsx", index=False)
    raw.assign(Der_NHS_Number_Traced_Pseudo="N3", Reporting_Period_End_Date="2025-12-31"
               ).to_parquet(folder / "q1.parquet")
    assert cli(["ascof", str(tmp_path / "data"), "--period-end", "2026-03-31"]) == 0
    out = capsys.readouterr().out
    assert "Raw CLD rows: 3 read" in out
    assert "E06000016      18+    3D2a          2            2    100.0" in out


def test_unreadable_file_is_named_without_its_contents(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "cld.csv").write_bytes("LA_Code,Der_NHS_Number_Traced_Pseudo\nE06000016,Zo\xe9\n"
                                     .encode("cp1252"))
    with pytest.raises(ContractError) as err:
        load(folder, extract_date=EXTRACT)
    assert "cld.csv" in str(err.value) and "Zo" not in str(err.value)
