"""Numeric answers of the SymBench tasks: reading, matching with a documented tolerance, formatting.

Nothing here is a task (there is no `TASKS`). Used by the grid, numeric and dataset-backed modules:
`read_number` reads a model's number (brackets, '$', \\boxed{} and thousands commas allowed, never
evaluated), `numbers_match` decides whether it is the target, `format_number` writes reference
answers, `number_corruptions` gives plausible wrong numbers. (Not named `numbers.py`: the math-verify
worker runs as a script from this folder, where that name would shadow the standard library.)
"""

from __future__ import annotations

import re
from fractions import Fraction

from dataset_builders.answer_parsing import AnswerParseError, parse_number

#: Longest number text a verifier will look at; real answers are far shorter.
MAX_NUMBER_CHARS = 80

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMALS = re.compile(r"\.(\d+)")


def clean_number_text(text: str) -> str:
    """Strip the wrapping models put around a number: brackets, quotes, '$', LaTeX \\boxed{} and thousands commas."""
    text = text.strip()
    if len(text) > MAX_NUMBER_CHARS:
        raise AnswerParseError("number text too long")
    for _ in range(3):  # a few layers at most: "[ '$1,000' ]"
        before = text
        if text.startswith("\\boxed{") and text.endswith("}"):
            text = text[7:-1]
        if len(text) >= 2 and text[0] + text[-1] in ("[]", "()", "{}", '""', "''", "$$"):
            text = text[1:-1]
        text = text.strip().removeprefix("\\$").removeprefix("$").strip()
        if text == before:
            break
    text = text.replace("\\!", "").replace("\\,", "")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    return text


def read_number(text: str) -> tuple[Fraction, int | None]:
    """(value, decimals written) of a plain number; decimals is None for integers and ratios."""
    text = clean_number_text(text)
    value = parse_number(text, max_chars=MAX_NUMBER_CHARS)
    m = _DECIMALS.search(text)
    decimals = len(m.group(1)) if m and "e" not in text.lower() and "/" not in text else None
    return value, decimals


def numbers_match(value: Fraction, decimals: int | None, target: Fraction) -> bool:
    """Whether an answer `value` (written with `decimals` decimal places) is the number `target`.

    Integer targets need the exact integer (90, 90.0). Other targets accept the exact value, any
    value within a relative 1e-9 (float noise such as 1.4000000000000001, long decimals, ratios),
    or a decimal with at least 2 places that is within one unit of its last place (rounded or
    truncated) and within 5% of the target: 1.14 for 8/7 and 14053029.67 for 14053029.666...,
    but neither 14053030 nor 0.00 or 0.01 for 0.00168.
    """
    if target.denominator == 1:
        return value == target
    diff = abs(value - target)
    if diff <= Fraction(1, 10**9) * max(1, abs(target)):
        return True
    return decimals is not None and decimals >= 2 and diff <= Fraction(1, 10**decimals) and diff <= abs(target) / 20


def target_from_float(x: float) -> Fraction:
    """A stored float solution as an exact target; integral floats become integers."""
    return Fraction(int(x)) if float(x).is_integer() else Fraction(repr(float(x)))


def format_number(value: Fraction, places: int = 6) -> str:
    """A reference answer: the integer, the exact short decimal, or the value rounded to `places` decimals."""
    if value.denominator == 1:
        return str(value.numerator)
    scaled = value * 10**places
    if scaled.denominator == 1:
        text = f"{'-' if value < 0 else ''}{abs(scaled.numerator) // 10**places}.{abs(scaled.numerator) % 10**places:0{places}d}"
    else:
        rounded = round(scaled)
        sign = "-" if rounded < 0 else ""
        text = f"{sign}{abs(rounded) // 10**places}.{abs(rounded) % 10**places:0{places}d}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def number_corruptions(answer: str, target: Fraction) -> list[str]:
    """Plausible wrong numbers: off by one, a sign slip, a factor of ten, a dropped fraction."""
    out = [format_number(target + 1), format_number(target - 1), format_number(target * 10)]
    if target != 0:
        out.append(format_number(-target))
    if target.denominator != 1:
        out.append(str(int(target)))
    return [a for a in dict.fromkeys(out) if a != answer]
