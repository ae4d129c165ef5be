"""SymBench arithmetic and deduction puzzles: game24, combinatorial calculation, logical equation,
cryptanalysis, constrained linear arrangement, logic puzzle, mahjong pattern.

Levels follow the configuration tables of the published generators (CodeSteer-v1.0
create_dataset_*.py), easiest first, and at the higher levels the question changes shape, not only
size: logic_puzzle goes from 2x2 grids with a row/column sum limit to 10x10 grids with negative numbers
and positive row/column products; mahjong adds the Chi rule from level 3; combinatorial calculation and
game24 add numbers (and other targets); logical equation, cryptanalysis and the card duels add letters,
guesses and rounds. Where a question names one answer (logical equation, cryptanalysis, mahjong) the
generator proves it is the only one; the others accept every answer that keeps the rules.

Verifiers check the question's rules, never one stored solution: an arithmetic answer is parsed
(a whitelisted AST evaluated exactly with Fractions, never `eval`) and must use the given numbers
and hit the target; a deduction answer must be consistent with every stated clue, so any other
consistent answer also scores 1. Mahjong has one determined result, found by simulating the rounds.

Published data (`load_published`): every reader yields one entry per good sample and, for a bad
sample (missing file, malformed JSON or CSV row, a reference that breaks the question's rules), a
`PublishedDataError` instance instead of raising, so one bad sample never hides the others; a
missing or empty folder raises. See `published_layout` for the shared contract.

Two tasks keep published samples whose stored reference breaks their own question's rules, since
the paper's checker accepted those references (`keeps_flawed_references`): logic_puzzle (11 of 20
stored selections exceed the row/column sum limit, and most of those questions have no valid
selection at all: the published generator caches its rule check by cell positions across grids, so
the product levels can be affected too) and mahjong_pattern (2 Peng/Pass-only questions store 2, the
Chi result; its Chi check also misses a run with a pair between the cards, e.g. A, B, B and a new C).
Such an entry is flagged in metadata (`published_reference_breaks_rules`, with the reason in
`published_reference_flaw`), and its verifier accepts the stored reference as well as any answer
that keeps the rules; every entry of these two tasks carries both keys (False and "" otherwise).
"""

from __future__ import annotations

import csv
import itertools
import random
import re
import string
from collections import Counter
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

from dataset_builders.answer_parsing import (
    AnswerParseError,
    evaluate_arithmetic,
    normalize_operators,
    parse_int_sequence,
    parse_pairs,
    parse_token_list,
)
from dataset_builders.symbench.published_layout import (
    Built,
    checked_entry,
    field,
    iter_published,
    read_json,
    read_text,
    require_folder,
)
from dataset_builders.task import FLAWED_REFERENCE, GeneratedTask, PublishedDataError

#: Rejection-sampling guard: knobs that admit (almost) no valid instance fail loudly instead of looping.
MAX_DRAWS = 10_000

# -- shared arithmetic search ------------------------------------------------------------------

_PREC = {"+": 1, "-": 1, "*": 2, "/": 2}


def _combine(op: str, a: Fraction, b: Fraction) -> Fraction | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a / b if b != 0 else None


def _wrap(expr: str, prec: int, need: int, strict: bool) -> str:
    return f"({expr})" if prec < need or (strict and prec == need) else expr


def solve_fixed_order(numbers: list[int], target: int) -> list[str]:
    """Every expression (minimal brackets) over `numbers` in the given order equal to `target`."""

    def build(lo: int, hi: int) -> list[tuple[Fraction, str, int]]:
        if hi - lo == 1:
            return [(Fraction(numbers[lo]), str(numbers[lo]), 3)]
        out = []
        for mid in range(lo + 1, hi):
            for av, ae, ap in build(lo, mid):
                for bv, be, bp in build(mid, hi):
                    for op in "+-*/":
                        value = _combine(op, av, bv)
                        if value is not None:
                            out.append((value, *_join(op, (ae, ap), (be, bp))))
        return out

    goal = Fraction(target)
    return sorted({e for v, e, _ in build(0, len(numbers)) if v == goal}, key=lambda e: (len(e), e))


def _join(op: str, left: tuple[str, int], right: tuple[str, int]) -> tuple[str, int]:
    (le, lp), (re_, rp) = left, right
    return f"{_wrap(le, lp, _PREC[op], False)}{op}{_wrap(re_, rp, _PREC[op], op in '-/')}", _PREC[op]


def _render(node: int | tuple[str, Any, Any]) -> tuple[str, int]:
    """(text with minimal brackets, precedence) of an expression tree of ints and (op, left, right)."""
    if isinstance(node, int):
        return str(node), 3
    op, left, right = node
    return _join(op, _render(left), _render(right))


def solve_any_order(numbers: list[int], target: int) -> str | None:
    """An expression over all `numbers` (any order, + - * / and brackets) equal to `target`, or None.

    Depth-first over pairs of remaining values with float arithmetic (fast), remembering value
    multisets known to fail; expressions stay trees until a hit, and three remaining values are
    settled by looking up what the last operation needs. A float hit is confirmed exactly before it
    is returned, so rounding can only cost a missed solution, never a wrong one.
    """
    failed: set[tuple[float, ...]] = set()

    def options(a: float, b: float, an: Any, bn: Any) -> list[tuple[float, Any]]:
        out = [(a + b, ("+", an, bn)), (a - b, ("-", an, bn)), (b - a, ("-", bn, an)), (a * b, ("*", an, bn))]
        if b:
            out.append((a / b, ("/", an, bn)))
        if a:
            out.append((b / a, ("/", bn, an)))
        return out

    def confirmed(node: Any) -> str | None:
        expr = _render(node)[0]
        try:
            exact = evaluate_arithmetic(expr, allow_unary=False).value
        except AnswerParseError:  # a float near 0 that is exactly 0: the expression divides by zero
            return None
        return expr if exact == target else None

    def last_three(values: list[float], nodes: list[Any]) -> str | None:
        # Three values: the last operation joins one of them, x, with what the other two make, so
        # look up the value the pair would need for each operation instead of trying every tree
        for k in range(3):
            x, xn = values[k], nodes[k]
            (a, b), (an, bn) = [values[i] for i in range(3) if i != k], [nodes[i] for i in range(3) if i != k]
            pair = {round(v, 9): node for v, node in options(a, b, an, bn)}
            needs = [(target - x, "+", False), (target + x, "-", False), (x - target, "-", True)]
            if x:
                needs += [(target / x, "*", False), (target * x, "/", False)]
            if target:
                needs.append((x / target, "/", True))
            for need, op, x_first in needs:
                p = pair.get(round(need, 9))
                if p is not None and (expr := confirmed((op, xn, p) if x_first else (op, p, xn))):
                    return expr
        return None

    def search(values: list[float], nodes: list[Any]) -> str | None:
        if len(values) == 3:
            return last_three(values, nodes)
        if len(values) == 2:
            return next(
                (e for v, n in options(*values, *nodes) if abs(v - target) < 1e-9 and (e := confirmed(n))), None
            )
        key = tuple(sorted(round(v, 9) for v in values))
        if key in failed:
            return None
        m = len(values)
        for i, j in itertools.combinations(range(m), 2):
            rest = [k for k in range(m) if k != i and k != j]
            for value, node in options(values[i], values[j], nodes[i], nodes[j]):
                found = search([values[k] for k in rest] + [value], [nodes[k] for k in rest] + [node])
                if found:
                    return found
        failed.add(key)
        return None

    if len(numbers) == 1:
        return str(numbers[0]) if numbers[0] == target else None
    return search([float(n) for n in numbers], list(numbers))


def solve_fixed_order_one(numbers: list[int], target: int, rng: random.Random | None = None) -> str | None:
    """One expression over `numbers` in the given order equal to `target`, or None; fast enough for six numbers.

    Every proper sub-range gets a table value -> one expression (floats keyed by rounding, which is
    fast); the whole range is never tabled: for each split and left value the needed right value is
    looked up. A float hit is confirmed exactly, so rounding can only cost a missed solution, never a
    wrong one. `rng` varies which solution is found (the split order); without it the search is fixed.
    """
    tables: dict[tuple[int, int], dict[float, tuple[float, Any]]] = {}

    def table(lo: int, hi: int) -> dict[float, tuple[float, Any]]:
        # value -> (value, expression tree); trees become text only for the one solution returned
        if (lo, hi) in tables:
            return tables[(lo, hi)]
        out: dict[float, tuple[float, Any]] = {}
        if hi - lo == 1:
            out[float(numbers[lo])] = (float(numbers[lo]), numbers[lo])
        for mid in range(lo + 1, hi):
            right = table(mid, hi)
            for av, an in table(lo, mid).values():
                for bv, bn in right.values():
                    for op in "+-*/":
                        if op == "/" and bv == 0:
                            continue
                        value = av + bv if op == "+" else av - bv if op == "-" else av * bv if op == "*" else av / bv
                        key = round(value, 9)
                        if key not in out:
                            out[key] = (value, (op, an, bn))
        tables[(lo, hi)] = out
        return out

    n = len(numbers)
    if n == 1:
        return str(numbers[0]) if numbers[0] == target else None
    splits = list(range(1, n))
    if rng is not None:
        rng.shuffle(splits)
    for mid in splits:
        left, right = table(0, mid), table(mid, n)
        nonzero = next((r for r in right.values() if r[0] != 0), None)
        for av, an in left.values():
            for op in "+-*/":
                if op == "*" and av == 0:
                    hit = next(iter(right.values())) if target == 0 else None  # 0 times anything
                elif op == "/" and target == 0:
                    hit = nonzero if av == 0 else None  # 0 divided by anything but 0
                elif op == "+":
                    hit = right.get(round(target - av, 9))
                elif op == "-":
                    hit = right.get(round(av - target, 9))
                else:
                    hit = right.get(round(target / av if op == "*" else av / target, 9))
                if hit is None:
                    continue
                expr = _render((op, an, hit[1]))[0]
                try:
                    exact = evaluate_arithmetic(expr, allow_unary=False).value
                except AnswerParseError:  # a float near 0 that is exactly 0: the expression divides by zero
                    continue
                if exact == target:
                    return expr
    return None


def _expression_tokens(expr: str) -> list[str]:
    return re.findall(r"\d+|[-+*/()]", expr)


class _LevelReader(Protocol):
    def level_of(self, metadata: dict[str, Any]) -> int: ...


def _with_level(task: _LevelReader, build: Callable[[Path], Built]) -> Callable[[Path], Built]:
    """`build` for a published sample, with the generator level its structure matches (0 if none) recorded
    as metadata["complexity"], so published and generated entries share one difficulty scale."""

    def built(sample: Path) -> Built:
        question, answer, metadata = build(sample)
        return question, answer, {**metadata, "complexity": task.level_of(metadata)}

    return built


# -- game 24 -----------------------------------------------------------------------------------


GAME24_TARGET = 24
#: (how many numbers, lowest, highest), easiest first: the classic card deck, then the published range
#: (numbers up to 20); the published generator's count knob gives the longer lists.
_GAME24_LEVELS: tuple[tuple[int, int, int], ...] = ((4, 1, 13), (4, 1, 20), (5, 1, 20), (6, 1, 20))
#: Published rows without a stored solution get one searched for up to this many numbers.
_SOLVE_AT_MOST = 6
#: Published CSVs are named "<target>_<count>_number.csv".
_GAME24_FILE = re.compile(r"(\d+)_(\d+)_number\.csv")


class Game24(GeneratedTask):
    name = "symbench/game24"
    description = "Combine the given numbers with + - * / and brackets, each exactly once, to reach 24."
    published_folders = ("game24_dataset",)
    # the published generator's count knob also reaches dozens of numbers up to 20000 per row
    max_answer_chars = 4000
    complexity_levels = len(_GAME24_LEVELS)

    def level_description(self, level: int) -> str:
        count, low, high = _GAME24_LEVELS[level - 1]
        return f"{count} numbers from {low}..{high}, target {GAME24_TARGET}"

    def level_of(self, metadata: dict[str, Any]) -> int:
        """The easiest level whose count and number range fit `metadata` (a published entry), 0 if none."""
        numbers = metadata["numbers"]
        return next(
            (
                i
                for i, (count, low, high) in enumerate(_GAME24_LEVELS, 1)
                if len(numbers) == count and low <= min(numbers) and max(numbers) <= high
            ),
            0,
        )

    def question(self, numbers: list[int], target: int) -> str:
        shown = " ".join(map(str, numbers))
        return (
            f"Use the numbers {shown} and basic arithmetic operations (+ - * /) to obtain {target}. Each number must "
            "be used exactly once, in any order, and you may use parentheses; no other numbers, no concatenation "
            "of digits and no other operations are allowed.\n"
            f"Input: {shown}\n"
            "Return your answer as one arithmetic expression in the format <<<expression>>>, for example "
            "<<<(1+2+3)*4>>> for the numbers 1 2 3 4 and the target 24."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        count, low, high = _GAME24_LEVELS[level - 1]
        for _ in range(MAX_DRAWS):
            numbers = sorted(rng.randint(low, high) for _ in range(count))
            solution = solve_any_order(numbers, GAME24_TARGET)
            if solution:
                return self.question(numbers, GAME24_TARGET), solution, {"numbers": numbers, "target": GAME24_TARGET}
        raise RuntimeError(f"{self.name}: no valid instance in {MAX_DRAWS} draws; loosen the knobs")

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        meta = entry["metadata"]
        expr = normalize_operators(answer)
        # models often restate the result ("(3+5)*3 = 24"); the part after '=' must then be the target
        if "=" in expr:
            expr, _, rhs = expr.partition("=")
            if rhs.strip() != str(meta["target"]):
                return 0.0
        # plain decimal numbers, operators and brackets only: Python would also read a "# or ..." comment,
        # a line continuation, "1_0" or "0x10", none of which the question allows
        if not re.fullmatch(r"[0-9+\-*/() ]+", expr.strip()):
            return 0.0
        result = evaluate_arithmetic(expr, allow_unary=False, max_digits=6)
        used = sorted(result.literals)
        return float(used == sorted(Fraction(n) for n in meta["numbers"]) and result.value == meta["target"])

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        numbers = entry["metadata"]["numbers"]
        answer = entry["answer"]
        plus = "+".join(map(str, numbers))
        wrong_value = plus if sum(numbers) != entry["metadata"]["target"] else "*".join(map(str, numbers)) + "+1"
        missing = answer.replace(str(numbers[0]), "0", 1)
        return [wrong_value, missing, f"({answer})*1", f"{answer}+{numbers[0]}-{numbers[0]}", "__import__('os')", ""]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        folder = require_folder(folder)
        files = sorted(folder.glob("*.csv"))
        if not files:
            raise PublishedDataError(f"{folder}: expected a CSV file with columns Rank, Puzzles, Solutions")
        for path in files:
            named = _GAME24_FILE.fullmatch(path.name)
            target = int(named.group(1)) if named else GAME24_TARGET
            text = read_text(path)
            rows = list(csv.DictReader(text.splitlines()))
            if not rows or "Puzzles" not in rows[0]:
                yield PublishedDataError(f"{path}: expected a header with columns Rank, Puzzles, Solutions")
                continue
            for index, row in enumerate(rows, 1):
                where = f"{path} row {index}"
                try:
                    numbers = [int(tok) for tok in (row.get("Puzzles") or "").split()]
                except ValueError:
                    yield PublishedDataError(
                        f"{where}: Puzzles should be integers separated by spaces, got {row.get('Puzzles')!r}"
                    )
                    continue
                if len(numbers) < 2:
                    yield PublishedDataError(f"{where}: Puzzles should hold at least two numbers")
                    continue
                # the search is exponential in the count: only short rows get a solution found here
                stored = (row.get("Solutions") or "").strip()
                answer = stored or (solve_any_order(numbers, target) if len(numbers) <= _SOLVE_AT_MOST else None)
                if not answer:
                    found = (
                        "none exists"
                        if len(numbers) <= _SOLVE_AT_MOST
                        else f"over {_SOLVE_AT_MOST} numbers none is searched"
                    )
                    yield PublishedDataError(f"{where}: no solution given and {found} for {numbers[:8]}")
                    continue
                name = (row.get("Rank") or str(index)).strip()
                meta = {"numbers": sorted(numbers), "target": target}
                built = (self.question(numbers, target), answer, {**meta, "complexity": self.level_of(meta)})
                yield checked_entry(self, name, built, Path(where))


# -- combinatorial calculation -----------------------------------------------------------------


def _format_tokens(tokens: list[str]) -> str:
    return "[" + ", ".join(tokens) + "]"


#: The published configurations, easiest first: (how many numbers, target).
_COMBINATION_LEVELS: tuple[tuple[int, int], ...] = ((3, 10), (4, 24), (5, 69), (5, 78), (6, 100))


class CombinatorialCalculation(GeneratedTask):
    name = "symbench/combinatorial_calculation"
    description = "Insert + - * / and brackets between numbers kept in their given order to reach a target."
    published_folders = ("combinatorial_calculation",)
    max_answer_chars = 400
    complexity_levels = len(_COMBINATION_LEVELS)

    def level_description(self, level: int) -> str:
        count, target = _COMBINATION_LEVELS[level - 1]
        return f"{count} numbers from 1..9 in a fixed order, target {target}"

    def level_of(self, metadata: dict[str, Any]) -> int:
        """The level of `metadata`'s (count, target) configuration (a published entry), 0 if none."""
        config = (len(metadata["numbers"]), metadata["target"])
        return _COMBINATION_LEVELS.index(config) + 1 if config in _COMBINATION_LEVELS else 0

    @staticmethod
    def question(numbers: list[int], target: int) -> str:
        return (
            f"Given {len(numbers)} integers between 1 and 9, perform arithmetic operations (addition, subtraction, "
            "multiplication, division, and parentheses) between these integers. Each number must be used exactly once "
            f"and only once, and the final result should be {target}. Note: The order of the numbers is determined by "
            "the input, and you cannot change the order of the numbers. You can only insert arithmetic operations or "
            "parentheses between the numbers.\n"
            "Return the answer with a list of values and calculation symbols. Return your answer with the format "
            "<<<list of values and symbols>>>, like <<<[1, +, 3]>>> means 1+3, <<<[4, -, (, 6, *, 9, )]>>> means "
            f"4-(6*9). Now the input numbers are: {', '.join(map(str, numbers))}, the target values is: {target}\n"
            " Your answer:"
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        count, target = _COMBINATION_LEVELS[level - 1]
        for _ in range(MAX_DRAWS):
            numbers = [rng.randint(1, 9) for _ in range(count)]
            solution = solve_fixed_order_one(numbers, target, rng)
            if solution:
                answer = _format_tokens(_expression_tokens(solution))
                return self.question(numbers, target), answer, {"numbers": numbers, "target": target}
        raise RuntimeError(f"{self.name}: no valid instance in {MAX_DRAWS} draws; loosen the knobs")

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        meta = entry["metadata"]
        tokens = [
            normalize_operators(t).replace("x", "*").replace("X", "*") for t in parse_token_list(answer, max_items=60)
        ]
        if any(not re.fullmatch(r"\d{1,3}|[-+*/()]", t) for t in tokens):
            return 0.0
        if [int(t) for t in tokens if t.isdigit()] != meta["numbers"]:
            return 0.0
        # spaces keep two adjacent numbers from fusing into one literal ("6 2" is a syntax error, not 62)
        result = evaluate_arithmetic(" ".join(tokens), allow_unary=False, max_digits=3)
        return float(result.value == meta["target"])

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        numbers, target = entry["metadata"]["numbers"], entry["metadata"]["target"]
        out = [_format_tokens([str(n) for n in reversed(numbers)]), _format_tokens([str(numbers[0])])]
        for ops in itertools.product("+-*", repeat=len(numbers) - 1):
            tokens = [str(numbers[0])]
            for op, n in zip(ops, numbers[1:], strict=False):
                tokens += [op, str(n)]
            if evaluate_arithmetic(" ".join(tokens)).value != target:
                out.append(_format_tokens(tokens))
                break
        swapped = list(reversed(numbers))
        reordered = solve_fixed_order_one(swapped, target) if swapped != numbers else None
        if reordered:
            # a correct value with the numbers out of order breaks the "keep the order" rule
            out.append(_format_tokens(_expression_tokens(reordered)))
        return out + ["", "[]"]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            path = sample / "solution.json"
            data = read_json(path, "an object with numbers, target and solution tokens")
            numbers = [int(n) for n in field(data, "numbers", path, list, "a list of integers")]
            target = field(data, "target", path, int, "an integer")
            tokens = [str(t) for t in field(data, "solution", path, list, "a list of number and symbol tokens")]
            return (
                read_text(sample / "question.txt").strip(),
                _format_tokens(tokens),
                {"numbers": numbers, "target": target},
            )

        yield from iter_published(self, folder, _with_level(self, build))


# -- logical equation --------------------------------------------------------------------------

_EQ_SUM = re.compile(r"^([A-Z])\s*([+-])\s*([A-Z])\s*=\s*(-?\d+)$")
_EQ_RATIO = re.compile(r"^([A-Z])\s*=\s*(\d+(?:\.\d+)?)\s*\*?\s*([A-Z])$")
_EQ_ORDER = re.compile(r"^([A-Z])\s*([<>=])\s*([A-Z])$")

#: A parsed equation: (kind, x, y, constant) with kind one of "+", "-", "*" (x = c*y), ">", "<" and "=".
Equation = tuple[str, str, str, Fraction]


def parse_equation(text: str) -> Equation:
    """'C + J = 186', 'C - B = -44', 'H = 3.0F', 'J > E', 'A = C' (an optional 'n. ' prefix is ignored)."""
    body = re.sub(r"^\s*\d+\.\s*", "", text).strip()
    if m := _EQ_SUM.match(body):
        return m.group(2), m.group(1), m.group(3), Fraction(int(m.group(4)))
    if m := _EQ_RATIO.match(body):
        return "*", m.group(1), m.group(3), Fraction(m.group(2))
    if m := _EQ_ORDER.match(body):
        return m.group(2), m.group(1), m.group(3), Fraction(0)
    raise ValueError(f"unrecognised equation {text!r}")


def equation_holds(eq: Equation, x: int, y: int) -> bool:
    kind, _, _, k = eq
    if kind == "+":
        return x + y == k
    if kind == "-":
        return x - y == k
    if kind == "*":
        return x * k.denominator == k.numerator * y
    if kind == "=":
        return x == y
    return x > y if kind == ">" else x < y


class _SearchBudgetSpent(Exception):
    pass


def _partner_value(eq: Equation, v: str, other: int) -> int | None:
    """The value `v` must take in the pinning equation `eq` ("+", "-", "*" or "=") when its partner is
    `other`; None when no integer fits (integer arithmetic: this runs in the generator's inner loop)."""
    kind, x, _, k = eq
    if kind == "=":
        return other
    if kind == "+":
        return k.numerator - other
    if kind == "-":
        return other + k.numerator if x == v else other - k.numerator
    if kind == "*":
        top, bottom = (k.numerator * other, k.denominator) if x == v else (other * k.denominator, k.numerator)
        return top // bottom if top % bottom == 0 else None
    return None


def count_assignments(
    letters: list[str], numbers: list[int], equations: list[Equation], limit: int = 2, budget: int = 20_000
) -> int:
    """How many one-to-one letter->number assignments satisfy `equations` (stops counting at `limit`).

    After `budget` search steps the answer is `limit`, i.e. "not shown to be unique", which callers
    treat like several (see `find_assignments`).
    """
    found = find_assignments(letters, numbers, equations, limit, budget)
    return limit if found is None else len(found)


def find_assignments(
    letters: list[str], numbers: list[int], equations: list[Equation], limit: int = 2, budget: int = 20_000
) -> list[dict[str, int]] | None:
    """Up to `limit` one-to-one letter->number assignments that satisfy `equations`; None when the
    search spends `budget` steps first.

    Sums, differences, ratios and equalities pin a letter once its partner is known, so each group of
    letters they connect has only a few placements (one per value of its first letter that keeps every
    value among the numbers). Groups are combined fewest placements first, keeping the numbers used at
    most as often as given and checking order clues across groups as soon as both letters are placed.
    """
    links: dict[str, list[Equation]] = {v: [] for v in letters}
    for eq in equations:
        links[eq[1]].append(eq)
        links[eq[2]].append(eq)
    available = Counter(numbers)
    groups: list[list[tuple[dict[str, int], Counter[int]]]] = []
    seen: set[str] = set()
    for root in letters:
        if root in seen:
            continue
        members, queue = [root], [root]
        seen.add(root)
        tree: dict[str, tuple[str, Equation]] = {}
        while queue:
            v = queue.pop(0)
            for eq in links[v]:
                other = eq[2] if eq[1] == v else eq[1]
                if eq[0] in "+-*=" and other not in seen:
                    seen.add(other)
                    tree[other] = (v, eq)
                    members.append(other)
                    queue.append(other)
        inside = [eq for eq in equations if eq[1] in tree or eq[1] == root]
        placements = []
        for start in sorted(available):
            value = {root: start}
            for v in members[1:]:
                parent, eq = tree[v]
                got = _partner_value(eq, v, value[parent])
                if got is None:
                    break
                value[v] = got
            else:
                used = Counter(value.values())
                if all(available[n] >= c for n, c in used.items()) and all(
                    equation_holds(eq, value[eq[1]], value[eq[2]]) for eq in inside if eq[2] in value
                ):
                    placements.append((value, used))
        groups.append(placements)
    groups.sort(key=len)
    value: dict[str, int] = {}
    free = Counter(numbers)
    found: list[dict[str, int]] = []
    steps = 0

    def extend(i: int) -> None:
        nonlocal steps
        steps += 1
        if steps > budget:
            raise _SearchBudgetSpent
        if len(found) >= limit:
            return
        if i == len(groups):
            found.append(dict(value))
            return
        for placement, used in groups[i]:
            if any(free[n] < c for n, c in used.items()):
                continue
            value.update(placement)
            if all(
                equation_holds(eq, value[eq[1]], value[eq[2]])
                for v in placement
                for eq in links[v]
                if eq[1] in value and eq[2] in value
            ):
                for n, c in used.items():
                    free[n] -= c
                extend(i + 1)
                for n, c in used.items():
                    free[n] += c
            for v in placement:
                del value[v]

    try:
        extend(0)
    except _SearchBudgetSpent:
        return None
    return found


#: The published configurations, easiest first: (letters, clues). The clue count is a floor: clues are
#: added past it until the assignment is unique.
_EQUATION_LEVELS: tuple[tuple[int, int], ...] = (
    (9, 7),
    (9, 8),
    (11, 10),
    (11, 11),
    (13, 10),
    (13, 11),
    (13, 12),
    (15, 12),
    (15, 13),
    (15, 14),
)
_EQUATION_MAX_VALUE = 250
#: Factors that turn a drawn number into another one, so that "X = 2.5Y" clues exist as in the published sets.
_EQUATION_FACTORS = (Fraction(3, 2), Fraction(2), Fraction(5, 2), Fraction(3), Fraction(4), Fraction(4, 3))


def _equation_numbers(rng: random.Random, n: int) -> list[int]:
    """`n` distinct numbers in 1.._EQUATION_MAX_VALUE, about half of them a small multiple of another."""
    numbers: list[int] = []
    while len(numbers) < n:
        value = rng.randint(1, 150)
        if numbers and rng.random() < 0.5:
            scaled = rng.choice(numbers) * rng.choice(_EQUATION_FACTORS)
            value = int(scaled) if scaled.denominator == 1 and scaled <= _EQUATION_MAX_VALUE else value
        if value not in numbers:
            numbers.append(value)
    return sorted(numbers)


def _ratio_clue_fits(a: int, b: int) -> bool:
    """Whether a = m * b for a multiplier m in 1.1..4.9 with one decimal (the published clue form)."""
    return (10 * a) % b == 0 and 11 * b <= 10 * a <= 49 * b


def _format_equation(kind: str, x: str, y: str, a: int, b: int) -> str:
    if kind == "+":
        return f"{x} + {y} = {a + b}"
    if kind == "-":
        return f"{x} - {y} = {a - b}"
    if kind == "*":
        return f"{x} = {float(Fraction(a, b))}{y}"
    return f"{x} > {y}" if a > b else f"{y} > {x}"


class LogicalEquation(GeneratedTask):
    name = "symbench/logical_equation"
    description = "Assign distinct given numbers to letters so that a system of equations and inequalities holds."
    published_folders = ("logical_equation",)
    complexity_levels = len(_EQUATION_LEVELS)

    def level_description(self, level: int) -> str:
        n, clues = _EQUATION_LEVELS[level - 1]
        return f"{n} letters, at least {clues} clues (sums, differences, multiples, order), one solution"

    def level_of(self, metadata: dict[str, Any]) -> int:
        """The hardest level with `metadata`'s letter count whose clue floor it meets, 0 if none."""
        n, clues = len(metadata["letters"]), len(metadata["equations"])
        return max((i for i, (k, floor) in enumerate(_EQUATION_LEVELS, 1) if k == n and floor <= clues), default=0)

    @staticmethod
    def _clue(
        rng: random.Random,
        secret: dict[str, int],
        mentioned: set[str],
        pairs: list[tuple[str, str]],
        ratio_pairs: list[tuple[str, str]],
    ) -> str:
        """One true clue about `secret`, in the published mix: mostly sums, differences and multiples.

        `pairs` are all ordered letter pairs and `ratio_pairs` those whose values fit a multiple clue."""
        kind = ">" if rng.random() < 0.08 else rng.choice("+-*")
        pool = ratio_pairs if kind == "*" else pairs
        if not pool:
            kind, pool = "-", pairs
        # favour a letter no clue names yet, so that fewer clues reach a unique assignment
        if len(mentioned) < len(secret) and rng.random() < 0.7:
            pool = [(x, y) for x, y in pool if x not in mentioned or y not in mentioned] or pool
        x, y = rng.choice(pool)
        return _format_equation(kind, x, y, secret[x], secret[y])

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        n, floor = _EQUATION_LEVELS[level - 1]
        letters = list(string.ascii_uppercase[:n])
        numbers = _equation_numbers(rng, n)
        shuffled = numbers[:]
        rng.shuffle(shuffled)
        secret = dict(zip(letters, shuffled, strict=True))
        pairs = list(itertools.permutations(letters, 2))
        ratio_pairs = [(x, y) for x, y in pairs if _ratio_clue_fits(secret[x], secret[y])]
        texts: list[str] = []
        parsed: list[Equation] = []
        mentioned: set[str] = set()

        def add(text: str) -> None:
            texts.append(text)
            parsed.append(parse_equation(text))
            mentioned.update(parsed[-1][1:3])

        while len(texts) < floor or count_assignments(letters, numbers, parsed) > 1:
            if len(texts) >= floor + n:
                # a chain of differences fixes every value up to one shift, and no shift maps a finite
                # set of numbers onto itself: these clues always end the search
                for x, y in itertools.pairwise(letters):
                    text = _format_equation("-", x, y, secret[x], secret[y])
                    if text not in texts:
                        add(text)
                        if count_assignments(letters, numbers, parsed) == 1:
                            break
                break
            for _ in range(MAX_DRAWS):
                text = self._clue(rng, secret, mentioned, pairs, ratio_pairs)
                if text not in texts:
                    add(text)
                    break
            else:
                raise RuntimeError(f"{self.name}: no new clue in {MAX_DRAWS} draws")
        answer = "[" + ", ".join(str(secret[v]) for v in letters) + "]"
        return (
            self.question(letters, numbers, texts),
            answer,
            {"letters": letters, "numbers": numbers, "equations": texts},
        )

    @staticmethod
    def question(letters: list[str], numbers: list[int], equations: list[str]) -> str:
        listed = "\n".join(f"{i}. {eq}" for i, eq in enumerate(equations, 1))
        return (
            "Calculate the number for each letter based on the range and set of inequalities that the given letter "
            f"represents. There are {len(letters)} letters {', '.join(letters)}, each representing one of the numbers "
            f"{', '.join(map(str, numbers))}. Different letters represent different numbers. The system of equations "
            f"and inequalities is satisfied as follows:\n{listed}\n\n"
            "Return the answers in alphabetical order starting with A, and each element in the list represents the "
            "value of the corresponding letter. Return your answer with the format <<<list of values>>>, like "
            "<<<[1, 2, 3]>>> means that A represents 1, B represents 2, and C represents 3."
        )

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        meta = entry["metadata"]
        letters, numbers = meta["letters"], meta["numbers"]
        values = parse_int_sequence(answer, max_items=len(letters), max_digits=9)
        if len(values) != len(letters) or sorted(values) != sorted(numbers):
            return 0.0
        value = dict(zip(letters, values, strict=True))
        return float(
            all(equation_holds(eq, value[eq[1]], value[eq[2]]) for eq in map(parse_equation, meta["equations"]))
        )

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        values = parse_int_sequence(entry["answer"])
        swapped = values[:]
        swapped[0], swapped[1] = swapped[1], swapped[0]
        out = [str(values[:-1]), str([values[0] + 1] + values[1:])]
        meta = entry["metadata"]
        equations = [parse_equation(e) for e in meta["equations"]]
        if count_assignments(meta["letters"], meta["numbers"], equations) == 1:
            out.append(str(swapped))
        # an assignment that keeps every clue but one: the answer of a policy that skips a clue
        for i in range(len(equations) - 1, -1, -1):
            others = find_assignments(meta["letters"], meta["numbers"], equations[:i] + equations[i + 1 :], 3)
            _, x, y, _ = equations[i]
            broken = [a for a in others or [] if not equation_holds(equations[i], a[x], a[y])]
            if broken:
                out.append(str([broken[0][v] for v in meta["letters"]]))
                break
        return out + ["", "[]"]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question = read_text(sample / "question.txt").strip()
            head = re.search(
                r"There are (\d+) letters ([A-Z](?:, [A-Z])*), each representing one of the numbers ([\d, ]+)\.",
                question,
            )
            equations = re.findall(r"^\d+\.\s*(.+?)\s*$", question, re.M)
            if not head or not equations:
                raise PublishedDataError(
                    f"{sample / 'question.txt'}: expected 'There are N letters ..., each representing one of the numbers ...' and numbered equations"
                )
            letters = head.group(2).split(", ")
            numbers = [int(n) for n in head.group(3).replace(",", " ").split()]
            try:
                [parse_equation(e) for e in equations]
            except ValueError as exc:
                raise PublishedDataError(f"{sample / 'question.txt'}: {exc}") from None
            solution = read_json(sample / "solution.json", "a list of the letters' values in alphabetical order")
            if not isinstance(solution, list):
                raise PublishedDataError(f"{sample / 'solution.json'}: expected a list of integers")
            answer = "[" + ", ".join(str(int(v)) for v in solution) + "]"
            return question, answer, {"letters": letters, "numbers": numbers, "equations": equations}

        yield from iter_published(self, folder, _with_level(self, build))


# -- cryptanalysis -----------------------------------------------------------------------------

_KINDS = {
    "number": ("numbers", "too large", "too small"),
    "letter": ("letters", "too late in the alphabet", "too early in the alphabet"),
}


def lock_feedback(guess: str, secret: str, noun: str) -> list[str]:
    """Feedback clauses for one two-symbol half of a guess, in the published wording.

    An incorrect symbol is "too large"/"too late" when it exceeds both secret symbols and "too
    small"/"too early" when below both; two incorrect symbols get a direction only when they share it.
    """
    plural, high, low = _KINDS[noun]
    status = []
    for i, g in enumerate(guess):
        if g == secret[i]:
            status.append("pos")
        elif g in secret:
            status.append("wrong")
        else:
            status.append(high if g > max(secret) else low if g < min(secret) else "incorrect")
    if status[0] == status[1]:
        s = status[0]
        if s == "pos":
            return [f"both {plural} are correct and in the correct positions"]
        if s == "wrong":
            return [f"both {plural} are correct but in the wrong positions"]
        return [f"both {plural} are incorrect" + ("" if s == "incorrect" else f" and {s}")]
    if status[0] not in ("pos", "wrong") and status[1] not in ("pos", "wrong"):
        return [f"both {plural} are incorrect"]
    clauses = []
    for s in sorted(status, key=lambda s: {"pos": 0, "wrong": 1}.get(s, 2)):
        if s == "pos":
            clauses.append(f"one {noun} is correct and in the correct position")
        elif s == "wrong":
            clauses.append(f"one {noun} is correct but in the wrong position")
        else:
            clauses.append(f"one {noun} is incorrect and {s}")
    return clauses


def feedback_key(guess: str, secret: str) -> int:
    """A small integer that is equal for two secrets exactly when `lock_feedback` gives them the same
    clauses for this two-symbol half of a guess; the generator filters hundreds of candidates with it."""
    s0, s1 = secret
    hi, lo = (s0, s1) if s0 > s1 else (s1, s0)
    g0, g1 = guess
    k0 = 0 if g0 == s0 else 1 if g0 == s1 else 2 if g0 > hi else 3 if g0 < lo else 4
    k1 = 0 if g1 == s1 else 1 if g1 == s0 else 2 if g1 > hi else 3 if g1 < lo else 4
    if k0 == k1:
        return k0
    if k0 >= 2 and k1 >= 2:
        return 4  # mixed directions read "both ... are incorrect", like two plain misses
    return 5 + min(k0, k1) * 5 + max(k0, k1)


def full_feedback(guess: str, secret: str) -> str:
    return "; ".join(lock_feedback(guess[:2], secret[:2], "number") + lock_feedback(guess[2:], secret[2:], "letter"))


def _normalize_feedback(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().rstrip(".").lower())


_DIGIT_PAIRS = ["".join(p) for p in itertools.permutations(string.digits, 2)]
_LETTER_PAIRS = ["".join(p) for p in itertools.permutations(string.ascii_uppercase, 2)]


#: Guess counts of the published configurations, easiest first (the published generator stops at the
#: first guess that leaves one code, so its first level also holds 3-guess puzzles).
_LOCK_LEVELS: tuple[tuple[int, int], ...] = ((3, 6), (7, 9), (10, 12), (13, 15), (16, 18))
_LOCK_HINT_RATE = 0.35
#: Random tries for a last guess that settles the code before falling back to a constructed one.
_LOCK_FINAL_TRIES = 400


class Cryptanalysis(GeneratedTask):
    name = "symbench/cryptanalysis"
    description = "Deduce a two-digit, two-letter lock code from guesses and their feedback."
    published_folders = ("cryptanalysis",)
    max_answer_chars = 200

    complexity_levels = len(_LOCK_LEVELS)

    def level_description(self, level: int) -> str:
        low, high = _LOCK_LEVELS[level - 1]
        return f"{low}-{high} guesses with feedback, one consistent code"

    def level_of(self, metadata: dict[str, Any]) -> int:
        """The level whose guess-count range holds `metadata`'s guesses, 0 if none."""
        count = len(metadata["guesses"])
        return next((i for i, (low, high) in enumerate(_LOCK_LEVELS, 1) if low <= count <= high), 0)

    @staticmethod
    def _draw_guess(rng: random.Random, digits: str, letters: str) -> str | None:
        """A random guess; each half reuses a symbol of the code with probability _LOCK_HINT_RATE, which
        makes "correct" clues as common as in the published set. None for a repeated symbol or the code."""
        d = "".join(rng.sample(string.digits, 2))
        lt = "".join(rng.sample(string.ascii_uppercase, 2))
        if rng.random() < _LOCK_HINT_RATE:
            d = rng.choice([d[0] + digits[rng.randrange(2)], digits[rng.randrange(2)] + d[1]])
        if rng.random() < _LOCK_HINT_RATE:
            lt = rng.choice([lt[0] + letters[rng.randrange(2)], letters[rng.randrange(2)] + lt[1]])
        if d[0] == d[1] or lt[0] == lt[1] or d + lt == digits + letters:
            return None
        return d + lt

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        low, high = _LOCK_LEVELS[level - 1]
        count = rng.randint(low, high)
        digits = "".join(rng.sample(string.digits, 2))
        letters = "".join(rng.sample(string.ascii_uppercase, 2))
        secret = digits + letters
        pools = (list(_DIGIT_PAIRS), list(_LETTER_PAIRS))

        def narrowed(guess: str) -> tuple[list[str], list[str]]:
            kd, kl = feedback_key(guess[:2], digits), feedback_key(guess[2:], letters)
            return (
                [p for p in pools[0] if feedback_key(guess[:2], p) == kd],
                [p for p in pools[1] if feedback_key(guess[2:], p) == kl],
            )

        guesses: list[str] = []
        # every guess but the last leaves more than one code open; on short levels each is the most
        # informative of a few tries, so that the last guess can usually settle the code by itself
        tries = max(1, 4 - level) if count > 3 else 6
        for _ in range(MAX_DRAWS):
            if len(guesses) == count - 1:
                break
            best: tuple[int, str, tuple[list[str], list[str]]] | None = None
            for _ in range(tries if guesses else 1):
                guess = self._draw_guess(rng, digits, letters)
                if guess is None or guess in guesses:
                    continue
                kept = narrowed(guess)
                size = len(kept[0]) * len(kept[1])
                if size > 1 and (best is None or size < best[0]):
                    best = (size, guess, kept)
            if best is not None:
                guesses.append(best[1])
                pools = best[2]

        def settles(guess: str) -> bool:
            # like narrowed(guess) == one code each, but stops at the second match (most tries fail early)
            for pool, part, code in ((pools[0], guess[:2], digits), (pools[1], guess[2:], letters)):
                key = feedback_key(part, code)
                if sum(1 for p in pool if feedback_key(part, p) == key) != 1:
                    return False
            return True

        last = None
        for _ in range(_LOCK_FINAL_TRIES):
            guess = self._draw_guess(rng, digits, letters)
            if guess and guess not in guesses and settles(guess):
                last = guess
                break
        # both halves reversed: "correct but in the wrong positions" twice names exactly one code
        guesses.append(last or digits[::-1] + letters[::-1])
        feedback = [full_feedback(g, secret) for g in guesses]
        answer = "[" + ", ".join(f'"{c}"' for c in secret) + "]"
        return self.question(guesses, feedback), answer, {"guesses": guesses, "feedback": feedback}

    @staticmethod
    def question(guesses: list[str], feedback: list[str]) -> str:
        conditions = "\n".join(
            f"{i}. Guess: {g}, Feedback: {f}." for i, (g, f) in enumerate(zip(guesses, feedback, strict=True), 1)
        )
        return (
            f"Please deduce the correct password based on the following {len(guesses)} known conditions:\n"
            "A certain combination lock consists of two numbers and two letters, with neither the numbers nor the "
            "letters repeating. A wrong number is 'too large' when it is larger than both numbers of the password "
            "(and 'too small' when smaller than both); wrong letters are compared with both password letters in the "
            f"same way.\n{conditions}\n"
            'Please provide your answer in the format <<< ["X", "Y", "Z", "W"] >>> where X and Y are the numbers and '
            "Z and W are the letters of the password."
        )

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        tokens = parse_token_list(answer, max_items=4)
        code = "".join(tokens) if len(tokens) == 4 else (tokens[0] if len(tokens) == 1 else "")
        code = code.upper()
        if not re.fullmatch(r"\d\d[A-Z][A-Z]", code) or code[0] == code[1] or code[2] == code[3]:
            return 0.0
        meta = entry["metadata"]
        return float(
            all(
                _normalize_feedback(full_feedback(g, code)) == _normalize_feedback(f)
                for g, f in zip(meta["guesses"], meta["feedback"], strict=True)
            )
        )

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        code = "".join(parse_token_list(entry["answer"]))
        meta = entry["metadata"]
        out = ['["1", "1", "A", "A"]', '["1", "2", "A"]']
        for other in (code[1] + code[0] + code[2:], code[:2] + code[3] + code[2]):
            consistent = all(
                full_feedback(g, other) == f for g, f in zip(meta["guesses"], meta["feedback"], strict=True)
            )
            if not consistent:
                out.append("[" + ", ".join(f'"{c}"' for c in other) + "]")
        # a code that keeps every clue but the last: the answer of a policy that skips a clue
        pools = [list(_DIGIT_PAIRS), list(_LETTER_PAIRS)]
        for guess in meta["guesses"][:-1]:
            for half, (part, known) in enumerate(((guess[:2], code[:2]), (guess[2:], code[2:]))):
                key = feedback_key(part, known)
                pools[half] = [p for p in pools[half] if feedback_key(part, p) == key]
        last_guess, last_feedback = meta["guesses"][-1], _normalize_feedback(meta["feedback"][-1])
        skipped = next(
            (
                d + lt
                for d in pools[0]
                for lt in pools[1]
                if _normalize_feedback(full_feedback(last_guess, d + lt)) != last_feedback
            ),
            None,
        )
        if skipped:
            out.append("[" + ", ".join(f'"{c}"' for c in skipped) + "]")
        return out + [""]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question = read_text(sample / "question.txt").strip()
            found = re.findall(r"Guess: (\d\d[A-Z][A-Z]), Feedback: (.+?)\.?\s*$", question, re.M)
            count = re.search(r"following (\d+) known conditions", question)
            if not found or (count and int(count.group(1)) != len(found)):
                raise PublishedDataError(
                    f"{sample / 'question.txt'}: expected numbered 'Guess: 12AB, Feedback: ...' conditions"
                )
            data = read_json(sample / "solution.json", 'an object {"answer": ["X", "Y", "Z", "W"]}')
            code = field(data, "answer", sample / "solution.json", list, "four symbols")
            answer = "[" + ", ".join(f'"{c}"' for c in code) + "]"
            return question, answer, {"guesses": [g for g, _ in found], "feedback": [f for _, f in found]}

        yield from iter_published(self, folder, _with_level(self, build))


# -- constrained linear arrangement (card duels) -----------------------------------------------

#: Each game: (cards, question preamble). `duel_result` holds the rules.
_GAMES: dict[str, tuple[str, str]] = {
    "elements": (
        "ABCDE",
        "Both parties, A and B, each have a set of five-element flags, with each person holding five cards representing "
        "Metal, Wood, Water, Fire, and Earth. Each card can only be used once. Both players play their cards "
        "simultaneously without seeing the opponent's card, and the referee announces the result of each round.\n"
        "Rules:\n1. When card 1 generates card 2, the holder of card 1 loses;\n"
        "2. When card 1 overcomes card 2, the holder of card 1 wins;\n"
        "3. When both cards are the same or no card generates or overcomes each other, it is a draw.\n"
        "Here card 1 is always your card and card 2 your opponent's: every other pairing (including the opponent's "
        "card generating or overcoming yours) is a draw.\n"
        "Known:\n1. Generation: Wood A generates Fire B, Fire B generates Earth C, Earth C generates Metal D, Metal D "
        "generates Water E, Water E generates Wood A.\n"
        "2. Overcoming: Wood A overcomes Earth C, Earth C overcomes Water E, Water E overcomes Fire B, Fire B overcomes "
        "Metal D, Metal D overcomes Wood A.",
    ),
    "animal": (
        "ABCDEFGH",
        "Both parties, A and B, play a game similar to Jungle Chess. Each player has 8 animal pieces, ranked from "
        "largest to smallest: Elephant (A), Lion (B), Tiger (C), Leopard (D), Wolf (E), Dog (F), Cat (G), and Mouse (H). "
        "Both players reveal their pieces simultaneously, but cannot see the opponent's piece. The referee announces "
        "the result of the match.\n\nRules:\n"
        "1. When a smaller piece encounters a larger piece, the smaller piece is captured, and the player with the "
        "larger piece wins.\n"
        "2. Mutual capture: When pieces of the same type encounter each other, they mutually capture and the result is "
        "a draw.\n"
        "3. Mouse captures Elephant: Apart from the size hierarchy, the Mouse can capture the Elephant, but the "
        "Elephant cannot capture the Mouse.\n4. Each piece can only be used once.",
    ),
    "stick_game": (
        "ABCD",
        'Both parties, A and B, are playing a game called "Stick, Tiger, Chicken." Each person has four cards: Stick '
        "(A), Tiger (B), Chicken (C), and Worm (D). Each card can only be used once. Both players play their cards "
        "simultaneously without seeing the other's card, and a referee announces the result of each round.\n\nRules:\n"
        "1. Stick beats Tiger, Tiger eats Chicken, Chicken eats Worm, Worm beats Stick, and so on in a cycle.\n"
        "2. If both players play the same card, or cards that are two steps apart in the cycle (so neither beats the "
        "other), it is considered a draw.",
    ),
}
_GENERATES = dict(zip("ABCDE", "BCDEA", strict=True))
_OVERCOMES = dict(zip("ABCDE", "CDEAB", strict=True))
_STICK_BEATS = dict(zip("ABCD", "BCDA", strict=True))


def duel_result(game: str, mine: str, theirs: str) -> str:
    """ "win", "loss" or "draw" from the player's side, following the published references."""
    if game == "elements":
        # only relations *from* the player's card count; the published answers treat the reverse as a draw
        if _GENERATES[mine] == theirs:
            return "loss"
        return "win" if _OVERCOMES[mine] == theirs else "draw"
    if game == "animal":
        if mine == theirs:
            return "draw"
        if {mine, theirs} == {"A", "H"}:
            return "win" if mine == "H" else "loss"
        return "win" if mine < theirs else "loss"
    if _STICK_BEATS[mine] == theirs:
        return "win"
    return "loss" if _STICK_BEATS[theirs] == mine else "draw"


#: Rounds per level, as in the published configurations (3 to 5; a game is drawn among those with
#: enough cards, so the four-card stick game stops at level 2).
_DUEL_ROUNDS = (3, 4, 5)


class ConstrainedLinearArrangement(GeneratedTask):
    name = "symbench/constrained_linear_arrangement"
    description = "Deduce the opponent's card sequence in a card duel from your cards and the round results."
    published_folders = ("constrained_linear_arrangement",)
    max_answer_chars = 200

    complexity_levels = len(_DUEL_ROUNDS)

    def level_description(self, level: int) -> str:
        rounds = _DUEL_ROUNDS[level - 1]
        games = ", ".join(g for g in _GAMES if len(_GAMES[g][0]) >= rounds)
        return f"{rounds} rounds; game one of {games}"

    def level_of(self, metadata: dict[str, Any]) -> int:
        """The level with `metadata`'s number of rounds, 0 if none."""
        rounds = len(metadata["moves"])
        return _DUEL_ROUNDS.index(rounds) + 1 if rounds in _DUEL_ROUNDS else 0

    @staticmethod
    def question(game: str, moves: list[str], results: list[str]) -> str:
        rounds = "\n".join(f"Round {i}: {m}, {r}." for i, (m, r) in enumerate(zip(moves, results, strict=True), 1))
        return (
            f"{_GAMES[game][1]}\n\nAssuming you are one of the players, deduce what cards your opponent played each "
            f"round based on the cards you played and the results of each round.\n\nRounds:\n{rounds}\n\n"
            "Use a list of letters to show your answer. For example, <<<A,B,C>>>."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        n = _DUEL_ROUNDS[level - 1]
        game = rng.choice([g for g in _GAMES if len(_GAMES[g][0]) >= n])
        cards = _GAMES[game][0]
        moves, theirs = rng.sample(cards, n), rng.sample(cards, n)
        results = [duel_result(game, m, t) for m, t in zip(moves, theirs, strict=True)]
        meta = {"game": game, "moves": moves, "results": results}
        return self.question(game, moves, results), ",".join(theirs), meta

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        meta = entry["metadata"]
        cards = _GAMES[meta["game"]][0]
        theirs = [t.upper() for t in parse_token_list(answer, max_items=len(meta["moves"]))]
        if (
            len(theirs) != len(meta["moves"])
            or len(set(theirs)) != len(theirs)
            or any(t not in cards or len(t) != 1 for t in theirs)
        ):
            return 0.0
        return float(
            all(
                duel_result(meta["game"], m, t) == r
                for m, t, r in zip(meta["moves"], theirs, meta["results"], strict=True)
            )
        )

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        meta = entry["metadata"]
        cards = _GAMES[meta["game"]][0]
        theirs = parse_token_list(entry["answer"])
        out = [",".join(theirs[:-1]), ",".join([theirs[0]] * len(theirs))]
        for option in itertools.permutations(cards, len(theirs)):
            if any(
                duel_result(meta["game"], m, t) != r
                for m, t, r in zip(meta["moves"], option, meta["results"], strict=True)
            ):
                out.append(",".join(option))
                break
        return out + ["", "Z,Z,Z"]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            path = sample / "solution.json"
            data = read_json(path, "an object with game_type, player_moves, results, solution")
            game = field(data, "game_type", path, str, f"one of {sorted(_GAMES)}")
            if game not in _GAMES:
                raise PublishedDataError(f"{path}: game_type {game!r} should be one of {sorted(_GAMES)}")
            moves = [str(m) for m in field(data, "player_moves", path, list, "a list of card letters")]
            results = [str(r) for r in field(data, "results", path, list, "win/loss/draw per round")]
            solution = [str(s) for s in field(data, "solution", path, list, "the opponent's card letters")]
            if any(m not in _GAMES[game][0] for m in moves) or any(r not in ("win", "loss", "draw") for r in results):
                raise PublishedDataError(f"{path}: moves must be cards of {game} and results win/loss/draw")
            meta = {"game": game, "moves": moves, "results": results}
            return read_text(sample / "question.txt").strip(), ",".join(solution), meta

        yield from iter_published(self, folder, _with_level(self, build))


# -- logic puzzle (number selection) -----------------------------------------------------------

SUM_RULE, PRODUCT_RULE = "sum_at_most", "product_above"

#: The published levels: (grid side, cells to select, lowest value, highest value, rule, bound).
#: Levels 1-2 cap every row and column sum; from level 3 on the grid holds negative numbers and
#: every row and column product of the selection must stay positive.
_SELECTION_LEVELS: tuple[tuple[int, int, int, int, str, int], ...] = (
    (2, 3, 1, 3, SUM_RULE, 4),
    (3, 4, 1, 4, SUM_RULE, 4),
    (4, 6, -5, 8, PRODUCT_RULE, 0),
    (5, 9, -8, 8, PRODUCT_RULE, 0),
    (5, 10, -10, 10, PRODUCT_RULE, 0),
    (6, 12, -12, 12, PRODUCT_RULE, 0),
    (7, 16, -14, 14, PRODUCT_RULE, 0),
    (8, 18, -16, 16, PRODUCT_RULE, 0),
    (9, 20, -18, 18, PRODUCT_RULE, 0),
    (10, 25, -20, 20, PRODUCT_RULE, 0),
)
#: Share of negative numbers in the unselected cells of a product-rule grid (the published ratio).
_NEGATIVE_SHARE = 0.3

_SELECT_COUNT = re.compile(r"select (\d+) different numbers")
_SUM_BOUND = re.compile(r"\bsum\b[^.]*?less than or equal to (-?\d+)")
_PRODUCT_BOUND = re.compile(r"\bproduct\b[^.]*?greater than (-?\d+)")
_FIRST_CELL = re.compile(r"square \((\d+),\s*(\d+)\) as the first selected number")


def _even_negative_signs(cells: list[tuple[int, int]], rng: random.Random, share: float) -> list[bool]:
    """A random choice of negative cells among `cells` with an even count in every row and column.

    Rows and columns are the two sides of a bipartite graph whose edges are the cells; a sign
    pattern keeps every product positive exactly when each vertex touches an even number of
    negative edges. Edges outside a spanning forest are drawn freely; each forest edge is then the
    one choice that evens out its child vertex (leaves first), and each root comes out even because
    every negative edge is counted at both of its ends.
    """
    nodes = sorted({("r", r) for r, _ in cells} | {("c", c) for _, c in cells})
    adjacent: dict[tuple[str, int], list[int]] = {v: [] for v in nodes}
    for index, (r, c) in enumerate(cells):
        adjacent[("r", r)].append(index)
        adjacent[("c", c)].append(index)
    parent_edge: dict[tuple[str, int], int | None] = {}
    order: list[tuple[str, int]] = []
    for root in nodes:
        if root in parent_edge:
            continue
        parent_edge[root] = None
        queue = [root]
        while queue:
            node = queue.pop(0)
            order.append(node)
            for index in adjacent[node]:
                r, c = cells[index]
                other = ("c", c) if node[0] == "r" else ("r", r)
                if other not in parent_edge:
                    parent_edge[other] = index
                    queue.append(other)
    tree = {index for index in parent_edge.values() if index is not None}
    negative = [index not in tree and rng.random() < share for index in range(len(cells))]
    for node in reversed(order):
        edge = parent_edge[node]
        if edge is not None:
            odd = sum(negative[i] for i in adjacent[node] if i != edge) % 2 == 1
            negative[edge] = odd
    return negative


class LogicPuzzle(GeneratedTask):
    name = "symbench/logic_puzzle"
    description = (
        "Select cells with distinct numbers from a grid so that every row and column keeps a sum limit "
        "or a positive product."
    )
    published_folders = ("logic_puzzle_dataset",)
    max_answer_chars = 400
    # 11 of the 20 published selections break their own question's sum rule (see the module docstring)
    keeps_flawed_references = True
    complexity_levels = len(_SELECTION_LEVELS)

    def level_description(self, level: int) -> str:
        n, pick, low, high, rule, bound = _SELECTION_LEVELS[level - 1]
        kept = f"row/col sums <= {bound}" if rule == SUM_RULE else f"row/col products > {bound}"
        return f"grid {n}x{n} of {low}..{high}, select {pick} distinct numbers, {kept}"

    def level_of(self, metadata: dict[str, Any]) -> int:
        """The level with `metadata`'s grid side, selection size and rule, 0 if none."""
        shape = (len(metadata["grid"]), metadata["pick"], metadata.get("rule", SUM_RULE))
        return next((i for i, lv in enumerate(_SELECTION_LEVELS, 1) if (lv[0], lv[1], lv[4]) == shape), 0)

    @staticmethod
    def question(grid: list[list[int]], pick: int, rule: str, limit: int, first: list[int]) -> str:
        n = len(grid)
        rows = "\n".join(", ".join(map(str, row)) for row in grid)
        low, high = min(map(min, grid)), max(map(max, grid))
        if rule == SUM_RULE:
            kept = (
                f"The sum of the selected numbers in each row and each column should be less than or equal to {limit}."
            )
        else:
            kept = (
                "The product of the selected numbers in each row and in each column (counting only rows and columns "
                f"that hold a selected number) must be greater than {limit}."
            )
        r, c = first
        return (
            f"Given a {n}*{n} grid where each cell contains a number (between {low} to {high}), you must select {pick} "
            f"different numbers from these cells (no two selected cells may hold the same number). {kept} The numbers "
            "in the same row are separated by ','; positions are (row, column), counted from 0 at the top-left cell.\n"
            f"Using the number {grid[r][c]} in the top-rightmost square ({r},{c}) as the first selected number\n"
            f"{rows}\n\n"
            "Return your answer with the format <<<list of selected number positions>>>, where each position is given "
            "as row column (0-based indices). For example, <<<0 3, 1 0, 2 4>>> means numbers selected are at "
            "positions (0,3), (1,0), and (2,4)."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        n, pick, low, high, rule, limit = _SELECTION_LEVELS[level - 1]
        first = (0, n - 1)
        others = [(r, c) for r in range(n) for c in range(n) if (r, c) != first]
        # plant a valid selection, then fill the other cells at random
        for _ in range(MAX_DRAWS):
            cells = [first] + rng.sample(others, pick - 1)
            if rule == SUM_RULE:
                values = rng.sample(range(low, high + 1), pick)
            else:
                negative = _even_negative_signs(cells, rng, _NEGATIVE_SHARE)
                count = sum(negative)
                if count > -low or pick - count > high:
                    continue  # more negative (or positive) numbers than the range holds
                minus, plus = rng.sample(range(low, 0), count), rng.sample(range(1, high + 1), pick - count)
                values = [minus.pop() if neg else plus.pop() for neg in negative]
            meta = {
                "grid": [[1] * n for _ in range(n)],
                "pick": pick,
                "rule": rule,
                "limit": limit,
                "first": list(first),
            }
            for (r, c), v in zip(cells, values, strict=True):
                meta["grid"][r][c] = v
            if self.broken_rule(cells, meta) is None:
                break
        else:
            raise RuntimeError(f"{self.name}: no valid instance in {MAX_DRAWS} draws; loosen the knobs")
        chosen = set(cells)
        for r, c in others:
            if (r, c) not in chosen:
                positive = low > 0 or rng.random() >= _NEGATIVE_SHARE
                meta["grid"][r][c] = rng.randint(max(low, 1), high) if positive else rng.randint(low, -1)
        answer = ", ".join(f"{r} {c}" for r, c in [first] + sorted(cells[1:]))
        return self.question(meta["grid"], pick, rule, limit, list(first)), answer, meta

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        meta = entry["metadata"]
        cells = parse_pairs(answer, max_pairs=meta["pick"])
        if meta.get(FLAWED_REFERENCE) and sorted(cells) == sorted(parse_pairs(entry["answer"], max_pairs=meta["pick"])):
            return 1.0  # the paper's stored selection of a flagged published entry (order does not matter)
        return float(self.broken_rule(cells, meta) is None)

    @staticmethod
    def broken_rule(cells: list[tuple[int, int]], meta: dict[str, Any]) -> str | None:
        """The first of the question's rules that the selection `cells` breaks, or None if it keeps them all."""
        grid, pick, limit = meta["grid"], meta["pick"], meta["limit"]
        # entries built before the product rule existed carry no "rule": they are all sum-limit questions
        rule = meta.get("rule", SUM_RULE)
        n = len(grid)
        if len(cells) != pick or len(set(cells)) != pick:
            return f"it does not select {pick} different cells"
        if tuple(meta["first"]) not in cells:
            return f"it does not include the given first cell {tuple(meta['first'])}"
        if any(not (0 <= r < n and 0 <= c < n) for r, c in cells):
            return "it selects a cell outside the grid"
        if len({grid[r][c] for r, c in cells}) != pick:
            return "two selected cells hold the same number"
        lines: dict[tuple[str, int], list[int]] = {}
        for r, c in cells:
            lines.setdefault(("row", r), []).append(grid[r][c])
            lines.setdefault(("column", c), []).append(grid[r][c])
        for (kind, index), values in sorted(lines.items()):
            if rule == SUM_RULE and sum(values) > limit:
                return f"{kind} {index} sums to {sum(values)} > {limit}"
            if rule == PRODUCT_RULE:
                product = 1
                for v in values:
                    product *= v
                if product <= limit:
                    return f"the product of {kind} {index} is {product}, not > {limit}"
        return None

    def reference_flaw(self, entry: dict[str, Any]) -> str:
        meta = entry["metadata"]
        broken = self.broken_rule(parse_pairs(entry["answer"], max_pairs=meta["pick"]), meta)
        if broken is None:
            return ""
        n, pick = len(meta["grid"]), meta["pick"]
        cells = [(r, c) for r in range(n) for c in range(n)]
        # small published grids only: say whether the question can be answered by its rules at all
        if len(cells) <= 16 and not any(
            self.broken_rule(list(sel), meta) is None for sel in itertools.combinations(cells, pick)
        ):
            broken += "; no selection meets every rule"
        return f"the stored selection breaks the question's rules: {broken}"

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        meta = entry["metadata"]
        cells = parse_pairs(entry["answer"])
        n = len(meta["grid"])
        out = [", ".join(f"{r} {c}" for r, c in cells[:-1]), ", ".join(f"{r} {c}" for r, c in cells + [cells[-1]])]
        out.append(", ".join(f"{r} {c}" for r, c in cells[1:] + [(n, n)]))
        # one cell swapped for another that keeps the count, the first cell and distinct numbers but breaks
        # the sum or product rule: the answer a policy gets by ignoring that rule
        taken = {meta["grid"][r][c] for r, c in cells}
        for i, (r, c) in enumerate(cells[1:], 1):
            for rr, cc in itertools.product(range(n), repeat=2):
                if (rr, cc) in cells or meta["grid"][rr][cc] in taken - {meta["grid"][r][c]}:
                    continue
                swapped = cells[:i] + [(rr, cc)] + cells[i + 1 :]
                if self.broken_rule(swapped, meta):
                    out.append(", ".join(f"{a} {b}" for a, b in swapped))
                    break
            else:
                continue
            break
        return out + ["", "0 0"]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question = read_text(sample / "question.txt").strip()
            pick, first = _SELECT_COUNT.search(question), _FIRST_CELL.search(question)
            bound_sum, bound_product = _SUM_BOUND.search(question), _PRODUCT_BOUND.search(question)
            if not (pick and first) or bool(bound_sum) == bool(bound_product):
                raise PublishedDataError(
                    f"{sample / 'question.txt'}: expected 'select K different numbers', the first cell and exactly "
                    "one rule (a row/column sum limit or a row/column product bound)"
                )
            rule, bound = (SUM_RULE, bound_sum) if bound_sum else (PRODUCT_RULE, bound_product)
            path = sample / "solution.json"
            data = read_json(path, "an object with grid and solution")
            grid = [[int(v) for v in row] for row in field(data, "grid", path, list, "a square grid of integers")]
            if not grid or any(len(row) != len(grid) for row in grid):
                raise PublishedDataError(f"{path}: 'grid' should be a square grid of integers")
            solution = field(data, "solution", path, list, "[[row, col], ...]")
            meta = {
                "grid": grid,
                "pick": int(pick.group(1)),
                "rule": rule,
                "limit": int(bound.group(1)),
                "first": [int(first.group(1)), int(first.group(2))],
            }
            return question, ", ".join(f"{int(r)} {int(c)}" for r, c in solution), meta

        yield from iter_published(self, folder, _with_level(self, build))


# -- mahjong pattern ---------------------------------------------------------------------------

_MAHJONG_RULES = {
    False: (
        "3. When there are two identical cards in hand, and the newly added card is the same as these two cards, the "
        'result is determined as "Peng," represented by the number 1.\n'
        '4. If the newly added card does not meet the condition in rule 3, the result is determined as "Pass," '
        "represented by the number 0.\n5. The removed card does not affect the result determination.",
        "0 for Pass, 1 for Peng",
    ),
    True: (
        "3. When there are two identical cards in hand, and the newly added card is the same as these two cards, the "
        'result is determined as "Peng," represented by the number 1.\n'
        "4. If two cards in hand and the new card can form a consecutive letter sequence, the result is determined as "
        '"Chi," represented by the number 2. For example, ABC, OPQ, etc.\n'
        '5. If the new card does not meet the conditions of 3 and 4, the result is determined as "Pass," represented '
        'by the number 0.\n6. "Peng" takes precedence over "Chi."\n7. The card that is removed does not affect the '
        "result determination.",
        "0 for Pass, 1 for Peng, or 2 for Chi",
    ),
}
_MAHJONG_WORDS = {"pass": 0, "peng": 1, "chi": 2}


def mahjong_judge(hand: list[str], card: str, chi: bool) -> int:
    """1 (Peng) when the hand holds two of `card`; else 2 (Chi) when two hand cards and `card` are
    three consecutive letters and Chi is in play; else 0 (Pass)."""
    count = Counter(hand)
    if count[card] >= 2:
        return 1
    if chi:
        o = ord(card)
        for a, b in ((o - 2, o - 1), (o - 1, o + 1), (o + 1, o + 2)):
            if count[chr(a)] and count[chr(b)]:
                return 2
    return 0


def mahjong_final(initial: str, adds: list[str], removes: list[str], chi: bool) -> int:
    """The result of the last round; every round but the last removes a card after judging."""
    hand = list(initial)
    for i, card in enumerate(adds):
        result = mahjong_judge(hand, card, chi)
        hand.append(card)
        if i < len(removes):
            if removes[i] not in hand:
                raise ValueError(f"round {i + 1} removes {removes[i]!r}, which is not in the hand")
            hand.remove(removes[i])
    return result


class MahjongPattern(GeneratedTask):
    name = "symbench/mahjong_pattern"
    description = "Track a hand of letter cards through add/remove rounds and judge Peng, Chi or Pass."
    published_folders = ("mahjong_pattern_dataset",)
    max_answer_chars = 50
    # 2 published Peng/Pass-only questions store 2 (Chi) as the answer (see the module docstring)
    keeps_flawed_references = True

    # the published levels: level k plays k rounds, and the Chi rule joins from level 3
    complexity_levels = 5

    def level_description(self, level: int) -> str:
        return f"{level} round(s); " + ("Peng, Chi or Pass" if level > 2 else "Peng or Pass")

    def level_of(self, metadata: dict[str, Any]) -> int:
        """The level with `metadata`'s number of rounds and rule set, 0 if none."""
        rounds = len(metadata["adds"])
        return rounds if 1 <= rounds <= self.complexity_levels and metadata["chi"] == (rounds > 2) else 0

    @staticmethod
    def question(initial: str, adds: list[str], removes: list[str], chi: bool) -> str:
        rules, legend = _MAHJONG_RULES[chi]
        lines = []
        for i, card in enumerate(adds):
            tail = f" and remove a {removes[i]} card." if i < len(removes) else ""
            lines.append(f"Round {i + 1}: Add a {card} card{tail}")
        rounds = "\n".join(lines)
        return (
            "There are several letter cards, and the game rules are as follows:\n1. Initially, there are 13 cards.\n"
            "2. Each time, a new card is added, and a result is determined. Then, one card is removed.\n"
            f"{rules}\nGiven the initial cards:{initial}\n\n{rounds}\n\n"
            "Based on the above information, determine the number judged in the final round.\n"
            f"Return your answer with the format <<<x>>>, where x is {legend}."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        letters = string.ascii_uppercase
        chi = level > 2
        want = rng.choice([0, 1, 2] if chi else [0, 1])
        for _ in range(MAX_DRAWS):
            # as in the published hands, no letter starts more than twice
            hand = rng.sample(sorted(letters * 2), 13)
            initial = "".join(hand)
            adds, removes = [], []
            for _ in range(level - 1):
                # from level 2 on, earlier rounds often add a card that makes a pattern, so the hand
                # must be tracked round by round rather than read off the initial cards
                patterned = [c for c in letters if mahjong_judge(hand, c, chi)]
                pool = patterned if level > 1 and patterned and rng.random() < 0.5 else letters
                adds.append(rng.choice(pool))
                hand.append(adds[-1])
                removes.append(rng.choice(hand))
                hand.remove(removes[-1])
            # pick the last card to give the wanted verdict, so the answers are not mostly "Pass"
            finals = [c for c in letters if mahjong_judge(hand, c, chi) == want]
            if finals:
                adds.append(rng.choice(finals))
                break
        else:
            raise RuntimeError(f"{self.name}: no valid instance in {MAX_DRAWS} draws; loosen the knobs")
        meta = {"initial": initial, "adds": adds, "removes": removes, "chi": chi}
        return self.question(initial, adds, removes, chi), str(mahjong_final(initial, adds, removes, chi)), meta

    @staticmethod
    def read_result(answer: str) -> int:
        """0, 1 or 2 from the digit or the word (Pass, Peng, Chi); AnswerParseError otherwise."""
        text = answer.strip().strip("\"'").strip().lower()
        value = _MAHJONG_WORDS.get(text)
        if value is None:
            if not re.fullmatch(r"[0-2]", text):
                raise AnswerParseError(f"expected 0, 1 or 2, got {text[:20]!r}")
            value = int(text)
        return value

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        value = self.read_result(answer)
        meta = entry["metadata"]
        if meta.get(FLAWED_REFERENCE) and value == self.read_result(entry["answer"]):
            return 1.0  # the paper's stored answer of a flagged published entry
        return float(value == mahjong_final(meta["initial"], meta["adds"], meta["removes"], meta["chi"]))

    def reference_flaw(self, entry: dict[str, Any]) -> str:
        meta = entry["metadata"]
        stored = self.read_result(entry["answer"])
        result = mahjong_final(meta["initial"], meta["adds"], meta["removes"], meta["chi"])
        if stored == result:
            return ""
        reason = f"the stored answer is {stored} but by the question's rules the final round is {result}"
        if not meta["chi"] and stored == 2:
            with_chi = mahjong_final(meta["initial"], meta["adds"], meta["removes"], True)
            reason = (
                "the stored answer is 2 (Chi), but the question states only Peng (1) and Pass (0), "
                f"by which the final round is {result}"
            )
            if with_chi == 2:
                reason += "; 2 is the result under the Chi rule of the other questions"
        return reason

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        return [str(v) for v in range(3) if self.verify(str(v), entry) == 0.0] + ["", "3", "1 or 2"]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question = read_text(sample / "question.txt").strip()
            path = sample / "solution.json"
            data = read_json(path, "an object with initial_cards, rounds [{add, remove}] and solution")
            initial = field(data, "initial_cards", path, str, "the initial hand as a string")
            rounds = field(data, "rounds", path, list, "a list of {add, remove}")
            if not rounds or any(not isinstance(r, dict) or "add" not in r for r in rounds):
                raise PublishedDataError(
                    f"{path}: rounds should be a non-empty list of objects with 'add' (and 'remove')"
                )
            adds = [str(r["add"]) for r in rounds]
            removes = [str(r["remove"]) for r in rounds[:-1]]
            solution = field(data, "solution", path, int, "0, 1 or 2")
            meta = {"initial": initial, "adds": adds, "removes": removes, "chi": "Chi" in question}
            return question, str(solution), meta

        yield from iter_published(self, folder, _with_level(self, build))


TASKS = [
    Game24(),
    CombinatorialCalculation(),
    LogicalEquation(),
    Cryptanalysis(),
    ConstrainedLinearArrangement(),
    LogicPuzzle(),
    MahjongPattern(),
]
