"""The council list that names places in reports and seeds the england profile."""

from evalkit.data.councils import councils, place_name
from evalkit.run.index import council_label


def test_153_councils_with_upper_tier_codes():
    table = councils()
    assert len(table) == 153 and table["la_code"].is_unique  # N1
    assert table["la_code"].str.match(r"^E(06|08|09|10)\d{6}$").all()


def test_place_names_read_as_words():
    assert place_name("E06000016") == "Leicester"
    assert place_name("all") == place_name(None) == "all councils in the data"
    assert place_name("E06999999") == "E06999999"  # unknown codes are shown as given
    assert council_label("E06000016") == "Leicester (E06000016)"
    assert council_label("E06999999") == "E06999999"
