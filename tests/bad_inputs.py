"""Inputs that are not questions, or are questions wrapped in noise: shared by the unit and
end-to-end bad-input tests so both layers face the same cases."""

from __future__ import annotations

WORDLESS = {
    "empty": "",
    "whitespace": " \n\t  ",
    "nul": "\x00\x00",
    "zero-width": "\u200b\u200d\u200f\ufeff",
    "emoji": "😀🚀🛰️",
    "lone surrogate": "\ud800",
    "punctuation": "?!…",
}
QUESTION_RU = "Почему Starlink официально не продаётся в Казахстане?"
ODD_QUESTIONS = {
    "nul inside": "Почему Starlink\x00 официально не\x00 продаётся в Казахстане?",
    "lone surrogate": "\ud800Почему Starlink официально не продаётся в Казахстане?\udfff",
    "rtl override": "\u202eПочему Starlink официально не продаётся в Казахстане?\u202c",
    "rtl marks": "\u200fПочему\u200f Starlink официально не продаётся в Казахстане?",
    "zero-width joiners": "По\u200dчему Star\u200blink официально не продаётся в Казах\u2060стане?",
}
