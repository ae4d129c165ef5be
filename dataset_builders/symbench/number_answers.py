"""Numeric answers of the SymBench tasks: reading, matching with a documented tolerance, formatting.

Nothing here is a task (there is no `TASKS`). Used by the grid, numeric and dataset-backed modules:
`read_number` reads a model's number (brackets, '$', \\boxed{}, thousands commas, LaTeX fractions and
"a \\times 10^{b}" allowed, never evaluated: "41+1" is not a number), `numbers_match` decides whether it
is the target, `format_number` writes reference answers, `number_corruptions` gives plausible wrong
numbers. (Not named `numbers.py`: the math-verify worker runs as a script from this folder, where that
name would shadow the standard library.)
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from dataset_builders.answer_parsing import AnswerParseError, parse_number

#: Longest number text a verifier will look at; real answers are far shorter.
MAX_NUMBER_CHARS = 80

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMALS = re.compile(r"\.(\d+)")
#: "\\frac{7}{3}", "-\\dfrac{7}{3}", "\\frac{-7}{3}": a LaTeX fraction of two integers.
_LATEX_FRACTION = re.compile(r"^([+-]?)\\[dt]?frac\s*\{\s*([+-]?)\s*(\d{1,40})\s*\}\s*\{\s*(\d{1,40})\s*\}$")
#: "1.5 \\times 10^{6}", "2*10^3": scientific notation written out (the exponent is bounded later).
_TIMES_TEN = re.compile(r"^([+-]?\d[\d.]*)\s*(?:\\times|\\cdot|\*|×|·)\s*10\s*\^\s*\{?\s*([+-]?\d{1,3})\s*\}?$")


def clean_number_text(text: str) -> str:
    """Strip the wrapping models put around a number: brackets, quotes, '$', LaTeX \\boxed{}, Markdown bold or
    code, a trailing full stop and thousands commas; LaTeX fractions and "a \\times 10^{b}" become "a/b" and "aeb".

    Only notation is rewritten, never arithmetic: "41+1" stays an expression and is not a number.
    """
    text = text.strip()
    if len(text) > MAX_NUMBER_CHARS:
        raise AnswerParseError("number text too long")
    for _ in range(3):  # a few layers at most: "[ '$1,000' ]"
        before = text
        if text.startswith("\\boxed{") and text.endswith("}"):
            text = text[7:-1]
        for wrap in ("**", "`"):
            if len(text) > 2 * len(wrap) and text.startswith(wrap) and text.endswith(wrap):
                text = text[len(wrap) : -len(wrap)]
        if len(text) >= 2 and text[0] + text[-1] in ("[]", "()", "{}", '""', "''", "$$"):
            text = text[1:-1]
        text = text.strip().removeprefix("\\$").removeprefix("$").strip()
        text = re.sub(r"(?<=\d)\.$", "", text)  # "42." at the end of a sentence
        if text == before:
            break
    text = text.replace("\\!", "").replace("\\,", "").replace("−", "-")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    if m := _LATEX_FRACTION.match(text):
        sign = "-" if (m.group(1) == "-") != (m.group(2) == "-") else ""
        text = f"{sign}{m.group(3)}/{m.group(4)}"
    elif m := _TIMES_TEN.match(text):
        text = f"{m.group(1)}e{m.group(2)}"
    return text


def read_number(text: str) -> tuple[Fraction, int | None]:
    """(value, decimals written) of a plain number; decimals is None for integers and ratios.

    In scientific notation the decimals count the places of the value: 3.05e-5 has 7.
    """
    text = clean_number_text(text)
    value = parse_number(text, max_chars=MAX_NUMBER_CHARS)
    if "/" in text:
        return value, None
    mantissa, _, exponent = text.lower().partition("e")
    m = _DECIMALS.search(mantissa)
    # "3.05e-5" is written to the 7th decimal place, "2.5e1" to the units
    decimals = (len(m.group(1)) if m else 0) - int(exponent or 0)
    return value, decimals if decimals > 0 else None


#: Relative difference below which two values are the same number written with float noise.
FLOAT_NOISE = Fraction(1, 10**12)


def numbers_match(value: Fraction, decimals: int | None, target: Fraction) -> bool:
    """Whether an answer `value` (written with `decimals` decimal places) is the number `target`.

    Integer targets need the exact integer (90, 90.0). Other targets accept the exact value, any
    value within a relative 1e-12 (float noise such as 1.4000000000000001, ratios of a stored
    float), or a decimal with at least 2 places that is the target rounded (either way at a tie)
    or truncated to those places and within 5% of it: 1.14 for 8/7 and 14053029.67 for
    14053029.666..., but not 1.15 for 8/7, nor 14053030, nor 0.00 or 0.01 for 0.00168.
    """
    if target.denominator == 1:
        return value == target
    diff = abs(value - target)
    if diff <= FLOAT_NOISE * max(1, abs(target)):
        return True
    if decimals is None or decimals < 2 or diff > abs(target) / 20:
        return False
    scaled, written = target * 10**decimals, value * 10**decimals
    if written.denominator != 1:
        return False
    half = Fraction(1, 2)
    rounded = {math.floor(scaled + half), math.ceil(scaled - half)}
    return written.numerator in rounded | {math.trunc(scaled)}


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
