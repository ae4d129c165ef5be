"""Helpers shared by the string, grid, numeric and dataset-backed SymBench task modules.

Nothing here is a task (there is no `TASKS`): number matching with a documented tolerance,
number formatting for reference answers, and the reader for the published `sample_<i>/` layout
that turns every bad sample into a `PublishedDataError` instead of raising.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

from dataset_builders.answer_parsing import AnswerParseError, parse_number
from dataset_builders.task import PublishedDataError, Task

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


# -- the published layout -----------------------------------------------------------------------


class PublishedReader(Task):
    """A task whose `load_published` re-scores every published reference before yielding it.

    Subclasses implement `_read_published`; a sample whose stored answer does not score 1 under the
    task's own verifier is yielded as a `PublishedDataError` instead of a silently wrong entry.
    """

    def _read_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        raise NotImplementedError

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:  # type: ignore[override]
        for item in self._read_published(Path(folder)):
            if isinstance(item, dict) and self.score(f"<<<{item['answer']}>>>", item) != 1.0:
                item = PublishedDataError(
                    f"{folder}: the stored reference of {item['id']} ({item['answer'][:60]!r}) does not verify"
                )
            yield item


def _natural_key(path: Path) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name))


def iter_sample_dirs(folder: Path) -> Iterator[Path | PublishedDataError]:
    """The sample directories of a published folder in natural order (sample_2 before sample_10)."""
    folder = Path(folder)
    if not folder.is_dir():
        yield PublishedDataError(f"{folder}: expected a folder of sample_<i>/ directories, found none")
        return
    dirs = sorted((p for p in folder.iterdir() if p.is_dir()), key=_natural_key)
    if not dirs:
        yield PublishedDataError(f"{folder}: expected sample_<i>/ directories, the folder has none")
    yield from dirs


def read_text(path: Path, what: str) -> str:
    """The text of `path`; PublishedDataError (naming the file and `what` it should hold) if unreadable."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PublishedDataError(f"{path}: expected {what}, could not read it ({exc.__class__.__name__})") from None


def read_json(path: Path, what: str) -> Any:
    """The JSON value of `path`; PublishedDataError if missing or malformed."""
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PublishedDataError(f"{path}: expected JSON with {what}, got malformed JSON ({exc.msg})") from None


def require(solution: Any, path: Path, key: str, kind: type | tuple[type, ...]) -> Any:
    """`solution[key]` checked to be of `kind`; PublishedDataError otherwise."""
    if not isinstance(solution, dict) or key not in solution or not isinstance(solution[key], kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise PublishedDataError(f"{path}: expected a JSON object with key {key!r} holding a {names}")
    return solution[key]


def read_sample(
    sample: Path, question_file: str = "question.txt", solution_file: str = "solution.json"
) -> tuple[str, Any]:
    """(question text, solution JSON) of one `sample_<i>/` directory."""
    question = read_text(sample / question_file, "the question text")
    solution = read_json(sample / solution_file, "the reference solution")
    return question, solution
