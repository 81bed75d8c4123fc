"""Key findings: plain sentences with uncertainty, too-few wording, and the terminology guard."""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.report import findings
from evalkit.report.findings import (
    check_wording,
    difference_sentence,
    fmt_difference,
    fmt_percent,
    fmt_ratio,
    fmt_share,
    key_findings,
    percent_sentence,
    ratio_sentence,
)


@pytest.fixture
def shown(monkeypatch):
    out = []
    monkeypatch.setattr(findings, "display", out.append)
    return out


def test_formats():
    assert fmt_ratio(0.7104, 0.6449, 0.7861) == "0.71 times as likely (95% CI 0.64 to 0.79)"
    assert fmt_percent(0.2349, 0.2012, 0.2651) == "23% (95% CI 20% to 27%)"
    assert fmt_percent(0.034, 0.0291, 0.04) == "3.4% (95% CI 2.9% to 4.0%)"  # as fmt_share
    assert fmt_percent(0.2349, 0.2012, 0.2651, conf=0.998, decimals=1) == \
        "23.5% (99.8% CI 20.1% to 26.5%)"
    assert fmt_difference(-3.21, -5.4, -1.04) == \
        "3.2 percentage points lower (95% CI -5.4 to -1.0)"
    assert fmt_difference(0.01, -2.0, 2.0, unit="points") == \
        "no different (+0.0 points) (95% CI -2.0 to 2.0)"


def test_ratio_sentence_and_chance():
    assert ratio_sentence("Asian people", 0.71, 0.64, 0.79, comparison="White people",
                          outcome="have a Direct Payment", n=1234) == (
        "Asian people were 0.71 times as likely as White people to have a Direct Payment "
        "(95% CI 0.64 to 0.79).")
    crossing = ratio_sentence("Mixed people", 1.1, 0.9, 1.3, comparison="White people",
                              outcome="have a Direct Payment")
    assert crossing.endswith("(95% CI 0.90 to 1.30). This could be due to chance.")


def test_percent_and_difference_sentences():
    assert percent_sentence("Asian people on long-term support", 0.23, 0.2, 0.26,
                            outcome="had a Direct Payment", n=800) == (
        "23% of Asian people on long-term support had a Direct Payment (95% CI 20% to 26%).")
    assert difference_sentence("Gujarati speakers", 1.24, 0.4, 2.08,
                               measure="the quality of life score", unit="points",
                               words=("higher after the change", "lower after the change")) == (
        "For Gujarati speakers, the quality of life score was 1.2 points higher after the change "
        "(95% CI 0.4 to 2.1).")


@pytest.mark.parametrize("value, lower, upper, n", [
    (0.5, 0.2, 0.8, 4),            # too few people
    (0.5, np.nan, 0.8, 100),        # CI missing
    ("[c]", "[c]", "[c]", 100),     # suppressed
    (0.5, 0.2, 0.8, "[c]"),         # n suppressed
    (None, None, None, None),
])
def test_too_few_people_to_say(value, lower, upper, n):
    s = ratio_sentence("Black people", value, lower, upper, comparison="White people",
                       outcome="have a Direct Payment", n=n)
    assert s == ("There were too few Black people in the data to say how likely they were to "
                 "have a Direct Payment.")
    assert percent_sentence("Somali speakers", value, lower, upper, outcome="had a PA",
                            n=n).startswith("There were too few Somali speakers")
    assert "to say how the wait differed" in difference_sentence(
        "Somali speakers", value, lower, upper, measure="the wait", n=n)


@pytest.mark.parametrize("bad", [
    "BAME people were less likely to have a DP.",
    "B.A.M.E. groups had longer waits.",
    "Non-White people waited longer.",
    "non white residents", "nonwhite", "BME communities",
    "Ethnic minorities were less likely to have a DP.",
    "ethnic minority people", "minority ethnic groups", "people of color",
])
def test_wording_guard_refuses_merged_groups(bad):
    with pytest.raises(ValueError, match="name the specific groups"):
        check_wording(bad)


@pytest.mark.parametrize("good", [
    "White Other people (White: Any other White background) waited longer.",
    "Asian people were less likely than White people to have a DP.",
    "Bamenda is a place; embame is not a word.",
])
def test_wording_guard_allows_specific_groups(good):
    assert check_wording(good) == good


def test_sentence_builders_apply_the_guard():
    with pytest.raises(ValueError, match="BAME"):
        ratio_sentence("BAME people", 0.7, 0.6, 0.8, comparison="White people",
                       outcome="have a Direct Payment")


def test_key_findings_displays_and_writes(shown, tmp_path):
    sentences = ["Asian people were 0.71 times as likely as White people to have a Direct Payment "
                 "(95% CI 0.64 to 0.79).",
                 "There were too few Black people in the data to say."]
    path = tmp_path / "nb" / "key_findings.md"
    assert key_findings(sentences) == sentences
    assert findings.write_key_findings(sentences, path) == path
    (md,) = shown
    assert md.data == "\n".join(f"- {s}" for s in sentences)
    assert path.read_text() == "# Key findings\n\n" + md.data + "\n"


@pytest.mark.parametrize("sentences, message", [
    ([], "give 1 to 6 findings, not 0"),
    (["A finding."] * 7, "not 7"),
    ([" "], "non-empty sentence"),
    (["word " * 46], "to 45 words or fewer"),
    (["Ethnic minorities waited longer."], "name the specific groups"),
])
def test_key_findings_rejects(shown, sentences, message):
    with pytest.raises(ValueError, match=message):
        key_findings(sentences)
    assert shown == []


def test_odds_and_hazard_ratio_formats():
    assert findings.fmt_odds_ratio(0.6612, 0.5488, 0.7966) == \
        "odds ratio 0.66 (95% CI 0.55 to 0.80)"
    assert findings.fmt_hazard_ratio(0.62, 0.5, 0.771, conf=0.9, decimals=1) == \
        "hazard ratio 0.6 (90% CI 0.5 to 0.8)"


def test_odds_ratio_sentence_says_odds_not_likely():
    low = findings.odds_ratio_sentence("Asian people", 0.6612, 0.5488, 0.7966,
                                       comparison="White people",
                                       outcome="having a Direct Payment", n=900)
    assert low == ("Asian people had lower odds than White people of having a Direct Payment: "
                   "odds ratio 0.66 (95% CI 0.55 to 0.80).")
    assert "times as likely" not in low
    high = findings.odds_ratio_sentence("people who need an interpreter", 1.4, 0.9, 2.1,
                                        comparison="people who do not",
                                        outcome="having a Direct Payment")
    assert high == ("People who need an interpreter had higher odds than people who do not of "
                    "having a Direct Payment: odds ratio 1.40 (95% CI 0.90 to 2.10). This could "
                    "be due to chance.")
    same = findings.odds_ratio_sentence("Mixed people", 1.001, 0.8, 1.2,
                                        comparison="White people", outcome="having a DP")
    assert same.startswith("Mixed people had similar odds to White people of having a DP: ")


def test_hazard_ratio_sentence_says_how_quickly():
    slow = findings.hazard_ratio_sentence(
        "requests for a PA who speaks the person's language", 0.62, 0.5, 0.77,
        comparison="requests without that preference", event="were filled", n=300)
    assert slow == ("Requests for a PA who speaks the person's language were filled more slowly "
                    "than requests without that preference: hazard ratio 0.62 "
                    "(95% CI 0.50 to 0.77).")
    fast = findings.hazard_ratio_sentence("Older people", 1.3, 1.1, 1.6, comparison="others",
                                          event="left hospital", words=("sooner", "later"))
    assert fast == ("Older people left hospital sooner than others: hazard ratio 1.30 "
                    "(95% CI 1.10 to 1.60).")
    same = findings.hazard_ratio_sentence("Requests", 0.998, 0.7, 1.4, comparison="others",
                                          event="were filled")
    assert same.startswith("Requests were filled at about the same rate as others: ")
    assert same.endswith("This could be due to chance.")


@pytest.mark.parametrize("value, lower, upper, n", [
    (0.5, 0.2, 0.8, 4), (0.5, np.nan, 0.8, 100), ("[c]", "[c]", "[c]", 100)])
def test_odds_and_hazard_sentences_say_too_few(value, lower, upper, n):
    assert findings.odds_ratio_sentence(
        "Black people", value, lower, upper, comparison="White people",
        outcome="having a Direct Payment", n=n) == (
        "There were too few Black people in the data to say how their odds of having a Direct "
        "Payment compared.")
    assert findings.hazard_ratio_sentence(
        "requests for a Somali-speaking PA", value, lower, upper, comparison="others",
        event="were filled", n=n) == (
        "There were too few requests for a Somali-speaking PA in the data to say how quickly "
        "they were filled.")


def test_odds_and_hazard_sentences_apply_the_guard():
    with pytest.raises(ValueError, match="name the specific groups"):
        findings.odds_ratio_sentence("BME people", 0.7, 0.6, 0.8, comparison="White people",
                                     outcome="having a DP")
    with pytest.raises(ValueError, match="name the specific groups"):
        findings.hazard_ratio_sentence("Requests", 0.7, 0.6, 0.8, event="were filled",
                                       comparison="requests from non-White people")


@pytest.mark.parametrize("value, text", [(0.314, "31%"), (0.034, "3.4%"), (0.1, "10%"),
                                         (0.0, "0.0%"), (1.0, "100%"), (0.0999, "10%"),
                                         (None, "n/a"),
                                         (float("nan"), "n/a"), ("[c]", "n/a")])
def test_fmt_share_keeps_a_decimal_only_below_ten_percent(value, text):
    assert fmt_share(value) == text
