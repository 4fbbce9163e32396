"""Codes: random, readable, long enough; entered any way; discount arithmetic."""

import math
import re

import pytest

from offers.models import OfferCode
from offers.services import CODE_ALPHABET, CODE_RANDOM_LENGTH, discount_for, generate_code, normalise_code


def test_alphabet_has_no_ambiguous_characters():
    assert not set("0O1IL") & set(CODE_ALPHABET)
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET)


def test_codes_carry_at_least_40_random_bits():
    assert CODE_RANDOM_LENGTH * math.log2(len(CODE_ALPHABET)) >= 40


def test_generated_codes_are_distinct_and_use_the_alphabet():
    codes = {generate_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert re.fullmatch(rf"FIRST[{CODE_ALPHABET}]{{{CODE_RANDOM_LENGTH}}}", code)


def test_display_form_groups_in_fours():
    code = OfferCode(code="FIRST7KQ9M2XDW4HN")
    assert code.display_code == "FIRST-7KQ9-M2XD-W4HN"


@pytest.mark.parametrize(
    "typed",
    ["FIRST-7KQ9-M2XD-W4HN", "first-7kq9-m2xd-w4hn", " First 7kq9 M2xd w4hn ", "FIRST7KQ9M2XDW4HN", "first—7kq9_m2xd.w4hn"],
)
def test_codes_are_entered_in_any_case_with_or_without_dashes(typed):
    assert normalise_code(typed) == "FIRST7KQ9M2XDW4HN"


def test_look_alike_letters_from_other_scripts_are_not_accepted():
    # Cyrillic 'К' looks like K but must not match a code.
    assert normalise_code("FIRST-7\u041aQ9") == "FIRST7Q9"


@pytest.mark.parametrize(
    "price, percent, discount",
    [
        (7500, 20, 1500),
        (6250, 20, 1250),
        (1234, 20, 247),  # 246.8
        (1232, 20, 246),  # 246.4
        (1237, 20, 247),  # 247.4
        (1238, 20, 248),  # 247.6
        (1, 50, 1),  # exactly half a penny rounds up
        (3, 50, 2),  # 1.5
        (0, 20, 0),
        (7500, 100, 7500),
    ],
)
def test_discount_is_rounded_half_up_to_the_penny(price, percent, discount):
    assert discount_for(price, percent) == discount
    assert isinstance(discount_for(price, percent), int)
