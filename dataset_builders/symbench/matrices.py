"""SymBench matrix tasks: compute a deterministic function of a letter or number matrix.

Tasks: symbench/matrix_transformation (rotate, transpose or mirror), symbench/pattern_recognition
(find the one square of equal letters), symbench/pooling (sliding-window max or average).

Each task draws a seeded instance at one of the published generator's complexity levels (the level
tables below follow the CodeSteer generators: matrix shapes and cell alphabets, grid and square
sizes, grid/window sizes and pooling kinds). Each question has exactly one correct answer (a
deterministic transformation, a square that the generator makes unique), so the verifiers compare
the parsed answer with the recomputed result; matrices are read with bounded parsers, never
evaluated.

Published data (`load_published`): every reader yields one entry per good sample and, for a bad
sample (missing file, malformed JSON or CSV row, a missing field, a reference that breaks the
question's rules), a `PublishedDataError` instance instead of raising, so one bad sample never hides
the others; a missing or empty folder raises. See `published_layout` for the shared contract.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

from dataset_builders.answer_parsing import AnswerParseError, parse_int_sequence
from dataset_builders.symbench.number_answers import format_number, numbers_match, read_number
from dataset_builders.symbench.published_layout import field, iter_published, read_sample
from dataset_builders.task import Entry, GeneratedTask, PublishedDataError

_SEPARATORS = re.compile(r"[\s,;\[\]()'\"]+")


def matrix_cells(answer: str, max_cells: int) -> list[str]:
    """Cells of a flattened matrix answer ("A,B,C", "[['A','B'],['C']]", rows on lines)."""
    if len(answer) > 20 * max_cells + 100:
        raise AnswerParseError("answer too long for this matrix")
    cells = [c for c in _SEPARATORS.split(answer) if c]
    if len(cells) > max_cells:
        raise AnswerParseError("too many cells")
    return cells


# -- matrix_transformation ----------------------------------------------------------------------

Matrix = list[list[str]]

TRANSFORMS: dict[str, str] = {
    "rotate90": "rotate this matrix 90 degrees clockwise",
    "rotate180": "rotate this matrix 180 degrees",
    "rotate270": "rotate this matrix 90 degrees counterclockwise",
    "transpose": "transpose this matrix (its rows become columns)",
    "flip_horizontal": "mirror this matrix horizontally (reverse the order of the values in every row)",
    "flip_vertical": "mirror this matrix vertically (reverse the order of the rows)",
}


def transform(m: Matrix, op: str) -> Matrix:
    """The matrix after one of `TRANSFORMS`."""
    if op == "rotate90":
        return [list(row) for row in zip(*m[::-1], strict=True)]
    if op == "rotate180":
        return [row[::-1] for row in m[::-1]]
    if op == "rotate270":
        return [list(row) for row in zip(*m, strict=True)][::-1]
    if op == "transpose":
        return [list(row) for row in zip(*m, strict=True)]
    if op == "flip_horizontal":
        return [row[::-1] for row in m]
    if op == "flip_vertical":
        return [list(row) for row in m[::-1]]
    raise ValueError(f"unknown transformation {op!r}")


#: Cell alphabets of the published generator (digits without 0).
ALPHABETS = {
    "letters": string.ascii_uppercase,
    "numbers": "123456789",
    "mixed": string.ascii_uppercase + "123456789",
    "symbols": "!@#$%^&*",
}
#: (rows, columns, alphabet) per level: the published generator's five configurations.
MATRIX_LEVELS = {
    1: (2, 2, "letters"),
    2: (2, 3, "numbers"),
    3: (3, 3, "letters"),
    4: (3, 4, "mixed"),
    5: (4, 4, "symbols"),
}


class MatrixTransformation(GeneratedTask):
    name = "symbench/matrix_transformation"
    description = "Rotate, transpose or mirror a matrix of letters, digits or symbols and write the result row by row."
    published_folders = ("matrix_transformation_dataset",)
    complexity_levels = len(MATRIX_LEVELS)

    def __init__(self, operations: tuple[str, ...] = tuple(TRANSFORMS)) -> None:
        """`operations`: the transformations to draw from (the published questions all rotate 90 degrees clockwise)."""
        unknown = set(operations) - set(TRANSFORMS)
        if unknown or not operations:
            raise ValueError(f"unknown transformations {sorted(unknown)}; choose from {sorted(TRANSFORMS)}")
        self.operations = operations

    def level_description(self, level: int) -> str:
        rows, cols, kind = MATRIX_LEVELS[level]
        return f"{rows}x{cols} (either orientation) of {kind}, one of {len(self.operations)} transformations"

    @staticmethod
    def question(m: Matrix, op: str) -> str:
        rows = "\n".join(" ".join(r) for r in m)
        return (
            f"Given a 2D array of strings, which represents a letter matrix. Your task is to {TRANSFORMS[op]} and "
            f"output the result.\nIf the matrix is \n{rows}.\nWhat is the result?\n"
            "Return your answer with format <<<list of values and symbols>>>, For example, <<<A,B,C,D>>> represents a "
            "2D array (the values of the resulting matrix row by row, separated by commas)."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        op = rng.choice(self.operations)
        rows, cols, kind = MATRIX_LEVELS[level]
        if rng.random() < 0.5:
            rows, cols = cols, rows
        while True:  # a result that spells the question's format example "A,B,C,D" is redrawn
            m = [[rng.choice(ALPHABETS[kind]) for _ in range(cols)] for _ in range(rows)]
            result = transform(m, op)
            if [c for r in result for c in r] != ["A", "B", "C", "D"]:
                break
        return (
            self.question(m, op),
            ",".join(c for r in result for c in r),
            {"matrix": m, "operation": op, "solution": result},
        )

    def verify(self, answer: str, entry: Entry) -> float:
        expected = [c for r in entry["metadata"]["solution"] for c in r]
        return float(matrix_cells(answer, len(expected) + 1) == expected)

    def corruptions(self, entry: Entry) -> list[str]:
        meta = entry["metadata"]
        expected = [c for r in meta["solution"] for c in r]
        wrong = [",".join(c for r in transform(meta["matrix"], op) for c in r) for op in TRANSFORMS]
        wrong += [",".join(c for r in meta["matrix"] for c in r), ",".join(expected[:-1])]
        return [w for w in dict.fromkeys(wrong) if w.split(",") != expected]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path = sample / "solution.json"
            solution = field(sol, "solution", path, list)
            matrix = field(sol, "matrix", path, list)
            if not all(isinstance(r, list) and all(isinstance(c, str) for c in r) for r in solution):
                raise PublishedDataError(f"{path}: expected 'solution' to be a list of rows of strings")
            meta = {"matrix": matrix, "operation": "rotate90", "solution": solution}
            return question, ",".join(c for r in solution for c in r), meta

        yield from iter_published(self, folder, build)


# -- pattern_recognition ------------------------------------------------------------------------


def square_sizes(grid: list[str]) -> list[list[int]]:
    """For every cell, the side of the largest one-character square whose bottom-right corner it is."""
    dp = [[1] * len(row) for row in grid]
    for i in range(1, len(grid)):
        for j in range(1, len(grid[i])):
            if grid[i][j] == grid[i - 1][j] == grid[i][j - 1] == grid[i - 1][j - 1]:
                dp[i][j] = 1 + min(dp[i - 1][j], dp[i][j - 1], dp[i - 1][j - 1])
    return dp


def unique_square(grid: list[str], min_side: int = 3) -> tuple[int, int, int] | None:
    """(row, col, side) of the only maximal square with side >= `min_side`, or None if there are 0 or several."""
    dp = square_sizes(grid)
    found = [(i, j, s) for i, row in enumerate(dp) for j, s in enumerate(row) if s >= min_side]
    if not found:
        return None
    r, c, side = max(found, key=lambda t: t[2])
    # every other square must lie inside the biggest one, or the question would have two answers
    for i, j, s in found:
        if not (r - side < i - s + 1 and i <= r and c - side < j - s + 1 and j <= c):
            return None
    return r, c, side


#: The longer grid side per level.
PATTERN_BANDS = {1: (6, 7), 2: (8, 9), 3: (10, 11), 4: (12, 13), 5: (14, 15)}


class PatternRecognition(GeneratedTask):
    name = "symbench/pattern_recognition"
    description = "Find the bottom-right corner of the one-letter square (side >= 3) hidden in a letter grid."
    published_folders = ("pattern_recognition",)
    #: Levels widen the grid: the longer side lies in one band of the published 6..15 range (the other
    #: side anywhere from 6 up to it), and the square's side is 3..shorter side // 2, as published.
    complexity_levels = len(PATTERN_BANDS)

    def level_description(self, level: int) -> str:
        low, high = PATTERN_BANDS[level]
        return f"longer side {low}-{high}, shorter side 6+, one square of side 3..shorter//2"

    @staticmethod
    def question(grid: list[str]) -> str:
        rows = "\n".join(" ".join(r) for r in grid)
        return (
            "Given a character matrix, your task is to identify the positions of all squares with a length of at least 3 "
            "and output the row and column numbers of the bottom-right corner of these squares. The squares are composed "
            "of the same character, and each side has a length of at least 3.\n\n"
            f"If the matrix is\n\n{rows}\n\n"
            "Please provide the row and column of the bottom-right vertex of the square in the character matrix with a "
            "side length of at least 3 (the answer is unique). Notice: All coordinates start from 0.  \n\n"
            "Your answer should be in the format <<<[row, column]>>>."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        while True:  # a random fill almost never forms a second square; the check makes sure
            longer = rng.randint(*PATTERN_BANDS[level])
            rows, cols = longer, rng.randint(6, longer)
            if rng.random() < 0.5:
                rows, cols = cols, rows
            side = rng.randint(3, min(rows, cols) // 2)
            grid = [[rng.choice(string.ascii_uppercase) for _ in range(cols)] for _ in range(rows)]
            top, left, ch = rng.randint(0, rows - side), rng.randint(0, cols - side), rng.choice(string.ascii_uppercase)
            for i in range(top, top + side):
                grid[i][left : left + side] = [ch] * side
            lines = ["".join(r) for r in grid]
            if unique_square(lines, 3) == (top + side - 1, left + side - 1, side):
                break
        r, c = top + side - 1, left + side - 1
        return self.question(lines), f"[{r}, {c}]", {"grid": lines, "row": r, "column": c}

    def verify(self, answer: str, entry: Entry) -> float:
        meta = entry["metadata"]
        return float(
            parse_int_sequence(answer, max_chars=60, max_items=3, max_digits=4) == [meta["row"], meta["column"]]
        )

    def corruptions(self, entry: Entry) -> list[str]:
        r, c = entry["metadata"]["row"], entry["metadata"]["column"]
        wrong = [(c, r), (r + 1, c + 1), (r - 1, c), (r, c - 2)]
        return [f"[{a}, {b}]" for a, b in dict.fromkeys(wrong) if (a, b) != (r, c)]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path = sample / "solution.json"
            row, column = field(sol, "row", path, int), field(sol, "column", path, int)
            m = re.search(r"If the matrix is\s*\n\n(.*?)\n\n", question, re.S)
            grid = ["".join(line.split()) for line in m.group(1).splitlines()] if m else []
            return question, f"[{row}, {column}]", {"grid": grid, "row": row, "column": column}

        yield from iter_published(self, folder, build)


# -- pooling ------------------------------------------------------------------------------------

_POOL = {"max": max, "min": min, "average": lambda xs: Fraction(sum(xs), len(xs))}


def pool(matrix: list[list[int]], k: int, kind: str) -> list[list[Fraction]]:
    """Stride-1 k*k pooling."""
    n = len(matrix)
    f = _POOL[kind]
    return [
        [Fraction(f([matrix[i + a][j + b] for a in range(k) for b in range(k)])) for j in range(n - k + 1)]
        for i in range(n - k + 1)
    ]


#: (grid side, window side, pooling) per level: the published generator's six configurations.
POOLING_LEVELS = {
    1: (3, 2, "max"),
    2: (4, 2, "max"),
    3: (4, 2, "average"),
    4: (5, 3, "max"),
    5: (5, 3, "average"),
    6: (6, 3, "average"),
}
#: Cell values, as published.
POOLING_VALUES = (-10, 20)


class Pooling(GeneratedTask):
    name = "symbench/pooling"
    description = "Apply stride-1 max or average pooling with an n*n window to a number grid."
    published_folders = ("pooling_dataset",)
    complexity_levels = len(POOLING_LEVELS)

    def level_description(self, level: int) -> str:
        n, k, kind = POOLING_LEVELS[level]
        return f"{n}x{n} grid of integers {POOLING_VALUES[0]}..{POOLING_VALUES[1]}, {k}x{k} window, {kind} pooling"

    @staticmethod
    def question(matrix: list[list[int]], k: int, kind: str) -> str:
        value = {"max": "maximum", "min": "minimum", "average": "average"}[kind]
        verb = "calculating" if kind == "average" else "finding"
        rows = "\n".join(", ".join(map(str, r)) for r in matrix)
        example = ",".join("0" * ((len(matrix) - k + 1) ** 2))
        precision = " Give values that are not whole numbers to at least 2 decimal places." if kind == "average" else ""
        return (
            "In an N*N grid, there are N^2 numbers, with numbers in the same row separated by commas. We define the "
            f'"{kind} pooling" operation: suppose that there is an n*n (n<N) sliding window, which slides from left to '
            f"right or from top to bottom in the matrix, {verb} the {value} value in each sliding window. Then, the "
            f"{value} values are arranged according to their original positions to form a new matrix for output.\n"
            f"Now, please perform {kind} pooling on the following matrix by using a {k}*{k} sliding window:\n{rows}\n"
            f"For example, <<<{example}>>> represents a 2D array (write the values row by row, separated by commas)."
            + precision
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        n, k, kind = POOLING_LEVELS[level]
        while True:
            matrix = [[rng.randint(*POOLING_VALUES) for _ in range(n)] for _ in range(n)]
            result = pool(matrix, k, kind)
            if any(v for row in result for v in row):  # all zeros is the question's format example
                break
        flat = [format_number(v) for r in result for v in r]
        meta = {
            "matrix": matrix,
            "window_size": k,
            "pooling_type": kind,
            "solution": [[str(v) for v in r] for r in result],
        }
        return self.question(matrix, k, kind), ",".join(flat), meta

    def verify(self, answer: str, entry: Entry) -> float:
        expected = [Fraction(v) for r in entry["metadata"]["solution"] for v in r]
        cells = matrix_cells(answer, len(expected) + 1)
        if len(cells) != len(expected):
            return 0.0
        for text, target in zip(cells, expected, strict=True):
            value, decimals = read_number(text)
            if not numbers_match(value, decimals, target):
                return 0.0
        return 1.0

    def corruptions(self, entry: Entry) -> list[str]:
        meta = entry["metadata"]
        expected = [Fraction(v) for r in meta["solution"] for v in r]
        others = [pool(meta["matrix"], meta["window_size"], kind) for kind in _POOL if kind != meta["pooling_type"]]
        wrong = [",".join(format_number(v) for r in o for v in r) for o in others]
        wrong += [
            ",".join(format_number(v + (i == 0)) for i, v in enumerate(expected)),
            ",".join(map(format_number, expected[:-1])),
        ]
        return [w for w in dict.fromkeys(wrong) if [Fraction(x) for x in w.split(",")] != expected]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path = sample / "solution.json"
            solution = field(sol, "solution", path, list)
            if not all(isinstance(r, list) and all(isinstance(v, (int, float)) for v in r) for r in solution):
                raise PublishedDataError(f"{path}: expected 'solution' to be a list of rows of numbers")
            meta = {
                "matrix": field(sol, "matrix", path, list),
                "window_size": field(sol, "window_size", path, int),
                "pooling_type": field(sol, "pooling_type", path, str),
                "solution": [[str(Fraction(str(v))) for v in r] for r in solution],
            }
            answer = ",".join(format_number(Fraction(str(v))) for r in solution for v in r)
            return question, answer, meta

        yield from iter_published(self, folder, build)


TASKS = [MatrixTransformation(), PatternRecognition(), Pooling()]
