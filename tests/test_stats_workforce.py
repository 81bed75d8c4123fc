"""Notebook 02's workforce measures against the working-age population (issue 17): PAs are of
working age, so the WRES relative likelihood's denominator is adults aged 18-64."""

from __future__ import annotations

import pandas as pd
import pytest

from evalkit.analyses.pa_market import compute_workforce as wf


def test_working_age_keeps_the_share_of_each_band_aged_18_to_64():
    bands = ["18-64", "65-74", "85+", "Under 18", "60-69", "0-4", "15-19"]
    got = wf.working_age(pd.DataFrame({"age_band": bands, "population": 100.0}))
    assert got["population"].tolist() == pytest.approx([100, 0, 0, 0, 50, 0, 40])


def test_relative_likelihood_is_against_the_working_age_population():
    # Asian adults are younger: against all adults they look over-represented among PAs
    pop = pd.DataFrame({"ethnic_group_broad": ["White", "White", "Asian", "Asian"],
                        "age_band": ["18-64", "65-74", "18-64", "65-74"],
                        "population": [6000, 4000, 3000, 500]})
    pas = pd.DataFrame({"ethnic_group_broad": ["White"] * 60 + ["Asian"] * 30})
    recipients = pd.DataFrame({"ethnic_group_broad": ["White"] * 50 + ["Asian"] * 25})
    comp = wf.composition(pas, recipients, pop, "ethnic_group_broad")
    shown = comp[comp["source"] == wf.SOURCES["population"]].set_index("group")["count"]
    assert shown.to_dict() == {"Asian": 3000, "White": 6000}
    assert "18-64" in wf.SOURCES["population"]
    rl = wf.representation(comp).query("measure == 'relative_likelihood'").set_index("group")
    assert rl.loc["Asian", "value"] == pytest.approx(1.0)
