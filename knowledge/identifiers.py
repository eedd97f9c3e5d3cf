"""Kazakhstan's 12-digit IIN/BIN: the official control-digit check.

The school form asks for an optional BIN; a typo there would look up the wrong school (or none),
so a number is accepted only if its 12th digit matches. The official check has a blind spot:
the 11th digit's weight is 11 ≡ 0 (mod 11), so most typos there still pass; a BIN that passes
but is not in the registry must be reported as "not found, please check the number", not as
"not connected". Returns reason codes, not sentences: the reply is worded by the dialogue layer
in the user's language.
"""

from __future__ import annotations

import re
from enum import Enum

_SEPARATORS = re.compile(r"[\s\-‐‑–—.]+")
_FIRST_WEIGHTS = tuple(range(1, 12))
_SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


class BinProblem(Enum):
    """Why a typed BIN is refused."""

    LENGTH = "length"
    NOT_DIGITS = "not_digits"
    CHECK_DIGIT = "check_digit"

    @property
    def label(self) -> str:
        """For maintainers' messages ("check digit"); users get translated text."""
        return self.value.replace("_", " ")


def normalise_bin(text: str) -> str:
    """Drop the spaces, dashes and dots people type between digit groups."""
    return _SEPARATORS.sub("", text.strip())


def control_digit(first_eleven: str) -> int | None:
    """The 12th digit for 11 given digits, or None when no digit is valid (such numbers are not issued).

    Weighted sum mod 11 with weights 1..11; if that gives 10, again with weights 3..11, 1, 2;
    a second 10 means the 11 digits cannot form a valid number.
    """
    digits = [int(d) for d in first_eleven]
    for weights in (_FIRST_WEIGHTS, _SECOND_WEIGHTS):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if remainder != 10:
            return remainder
    return None


def bin_problem(text: str) -> BinProblem | None:
    """None if ``text`` is a valid 12-digit IIN/BIN, else the first reason it is not."""
    value = normalise_bin(text)
    if not value.isascii() or not value.isdigit():
        return BinProblem.NOT_DIGITS
    if len(value) != 12:
        return BinProblem.LENGTH
    if control_digit(value[:11]) != int(value[11]):
        return BinProblem.CHECK_DIGIT
    return None
