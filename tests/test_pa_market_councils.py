"""Several councils in one data folder (the national run): la_code "all", None or one code.

Regression: with la_code="all" (what the national runner passes) every table was filtered to a
council called "all", so the report was empty ("no PA requests"); with one council's code the
PA register (which has no la_code) was not restricted, so that council's adults were compared
with every council's PAs (relative likelihood failed with x > n). Here a second council is made
by copying a small synthetic council under new codes, so each answer is known: "all" has twice
the people, requests and PAs, and either council alone equals the original.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import evalkit
from evalkit.analyses import pa_market as pm
from evalkit.synth.generator import synthesise

OTHER = "E09999999"


def _relabel(frame: pd.DataFrame, cols: dict[str, str]) -> pd.DataFrame:
    """A copy with each column in `cols` prefixed (ids, areas) or set (la_code)."""
    out = frame.copy()
    for col, prefix in cols.items():
        if col in out:
            out[col] = OTHER if col == "la_code" else prefix + out[col].astype("string")
    return out


@pytest.fixture(scope="module")
def one(tmp_path_factory):
    return evalkit.load(synthesise(tmp_path_factory.mktemp("councils") / "data", scale=0.2,
                                   seed=7))


@pytest.fixture(scope="module")
def two(one):
    """The council and a copy of it under another council code, other areas, ids and PAs."""
    ids = {"person_id": "B", "area_code": "B", "la_code": "", "pa_id": "B", "request_id": "B"}
    tables = {t: getattr(one, t) for t in ("support_episodes", "population", "pa_register",
                                           "pa_requests")}
    both = {t: pd.concat([f, _relabel(f, ids)], ignore_index=True) for t, f in tables.items()}
    return dataclasses.replace(one, **both)


def test_all_councils_means_every_council(one, two):
    single = pm.analyse(one, n_boot=20)
    for la_code in ("all", None):
        m = pm.analyse(two, la_code=la_code, n_boot=20)
        assert m.params["la_code"] == "all"
        assert len(m.durations) == 2 * len(single.durations) > 0
        assert len(m.recipients) == 2 * len(single.recipients) > 0
        assert len(m.pas) == 2 * len(single.pas) > 0
        assert not m.cox.empty and not m.coverage.empty and not m.match.empty
        assert not any("no PA requests" in n for n in pm.data_notes(pm.publish(m)))


def test_one_council_of_several_gets_only_its_own_pas(one, two):
    single = pm.analyse(one, n_boot=20)
    for la_code in (one.support_episodes["la_code"].iloc[0], OTHER):
        m = pm.analyse(two, la_code=la_code, n_boot=20)
        assert len(m.pas) == len(single.pas) and len(m.durations) == len(single.durations)
        assert (m.pas["area_code"].str.startswith("B") == (la_code == OTHER)).all()
        pd.testing.assert_frame_equal(m.cox.drop(columns="note"),
                                      single.cox.drop(columns="note"))
        rl = m.representation[m.representation["measure"] == "relative_likelihood"]
        assert (rl["x"] <= rl["n"]).all() and len(rl)


def test_unknown_council_is_a_clear_error(two):
    with pytest.raises(ValueError, match="la_code 'E00000000' is not in support_episodes"):
        pm.analyse(two, la_code="E00000000")
