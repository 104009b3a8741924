"""The recipient's country codes are exactly ISO 3166-1 alpha-2, as the iso3166 package lists them."""

import iso3166

from orders.countries import ALPHA_2


def test_the_country_codes_are_iso_3166_1_alpha_2():
    assert sorted(ALPHA_2) == list(ALPHA_2)
    assert set(ALPHA_2) == {country.alpha2 for country in iso3166.countries}
