"""IIN/BIN control digit: valid numbers pass, any single-digit typo or a wrong length is refused."""

from __future__ import annotations

import random

import pytest

from knowledge.identifiers import BinProblem, bin_problem, control_digit, normalise_bin


def make_valid(rng: random.Random) -> str:
    """A number whose 12th digit is right (test data only: no real BIN is shipped)."""
    while True:
        first = "".join(rng.choices("0123456789", k=11))
        digit = control_digit(first)
        if digit is not None:
            return first + str(digit)


def test_first_weights_give_the_digit() -> None:
    # 1*1 + 2*2 + … + 11*0: the weighted sum of 12345678901 is 1+4+9+16+25+36+49+64+81+0+11 = 296,
    # 296 mod 11 = 10, so the second weights apply: 3+8+15+24+35+48+63+80+99+0+2 = 377 → 377 mod 11 = 3
    assert control_digit("12345678901") == 3
    assert bin_problem("123456789013") is None


def test_number_whose_both_sums_give_ten_is_never_valid() -> None:
    rng = random.Random(7)
    impossible = next(
        first
        for first in ("".join(rng.choices("0123456789", k=11)) for _ in range(100_000))
        if control_digit(first) is None
    )
    for last in "0123456789":
        assert bin_problem(impossible + last) is BinProblem.CHECK_DIGIT


def test_valid_numbers_pass_and_typos_are_caught_as_well_as_the_algorithm_can() -> None:
    """The official check catches a wrong 12th digit always and digits 1-10 ~98% of the time;
    the 11th digit has weight 11 ≡ 0 (mod 11), so a typo there is mostly invisible to it."""
    rng = random.Random(42)
    caught = {position: 0 for position in range(12)}
    trials = 300
    for _ in range(trials):
        number = make_valid(rng)
        assert bin_problem(number) is None
        for position in range(12):
            wrong = str((int(number[position]) + rng.randrange(1, 10)) % 10)
            caught[position] += bin_problem(number[:position] + wrong + number[position + 1 :]) is not None
    assert caught[11] == trials
    assert all(caught[p] / trials >= 0.95 for p in range(10)), caught
    assert caught[10] / trials < 0.3  # documents the algorithm's blind spot, see the module docstring


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("12345678901", BinProblem.LENGTH),
        ("1234567890134", BinProblem.LENGTH),
        ("", BinProblem.NOT_DIGITS),
        ("12345678901O", BinProblem.NOT_DIGITS),  # a letter O typed for a zero
        ("BIN 123456789013", BinProblem.NOT_DIGITS),
        ("١٢٣٤٥٦٧٨٩٠١٣", BinProblem.NOT_DIGITS),  # Arabic-Indic digits are not accepted
    ],
)
def test_refusals_say_why(text: str, problem: BinProblem) -> None:
    assert bin_problem(text) is problem


@pytest.mark.parametrize("typed", ["1234 5678 9013", "1234-5678-9013", " 123456789013 ", "123.456.789.013"])
def test_separators_people_type_are_ignored(typed: str) -> None:
    assert normalise_bin(typed) == "123456789013"
    assert bin_problem(typed) is None
