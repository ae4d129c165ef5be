"""SymBench arithmetic tasks: reach a target with the given numbers, or compute a number exactly.

Tasks: symbench/game24 and symbench/combinatorial_calculation (combine the given numbers, in any
order or in the given one, with + - * / and brackets to hit a target: any such expression scores 1),
symbench/new_operator (evaluate an expression over newly defined binary operators) and
symbench/number_multiply (exact products of signed integers).

Levels (`complexity_levels`, `level_description`) follow the published generators (CodeSteer-v1.0
create_dataset_*.py), easiest first: game24 and combinatorial calculation add numbers (and other
targets); new_operator goes from one application of one operator to three operators in any
bracketing; number_multiply from two 1-digit factors to two 16-digit ones (the published digit
patterns, including seven factors).

Verification: an expression answer is parsed (a whitelisted AST evaluated exactly with Fractions,
never `eval`) and must use the given numbers and hit the target. Numbers are read with
`dataset_builders.answer_parsing.parse_number` (bounded, never evaluated); non-integer results
accept the exact value or a decimal rounded to at least two places (see
`number_answers.numbers_match`), integer results need the exact integer.

Published data (`load_published`): every reader yields one entry per good sample and, for a bad
sample (missing file, malformed JSON or CSV row, a missing field, a reference that breaks the
question's rules), a `PublishedDataError` instance instead of raising, so one bad sample never hides
the others; a missing or empty folder raises. See `published_layout` for the shared contract.
game24's published data is a CSV per target and count (`<target>_<count>_number.csv`); number_multiply's
is `number_multiply/<digits>/sample_<i>/{input_prompt_1.txt, target_answer.txt}` (its prompts carry no
answer format, so one sentence asking for <<<number>>> is appended).

Note on the published new_operator samples with three operators, written "(3~4)&5@6": their
stored solutions follow no single reading of the expression (some equal (3~4)&5, others 5@6), so
for published entries the verifier checks the stored value; generated questions are fully
parenthesised so they have one reading.
"""

from __future__ import annotations

import csv
import itertools
import random
import re
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

from dataset_builders.answer_parsing import AnswerParseError, evaluate_arithmetic, normalize_operators, parse_token_list
from dataset_builders.symbench.number_answers import (
    format_number,
    number_corruptions,
    numbers_match,
    read_number,
    target_from_float,
)
from dataset_builders.symbench.published_layout import (
    checked_entry,
    field,
    iter_published,
    read_json,
    read_sample,
    read_text,
    require_folder,
    sample_dirs,
    with_level,
)
from dataset_builders.task import MAX_DRAWS, Entry, GeneratedTask, PublishedDataError

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

    def verify(self, answer: str, entry: Entry) -> float:
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

    def corruptions(self, entry: Entry) -> list[str]:
        numbers = entry["metadata"]["numbers"]
        answer = entry["answer"]
        plus = "+".join(map(str, numbers))
        wrong_value = plus if sum(numbers) != entry["metadata"]["target"] else "*".join(map(str, numbers)) + "+1"
        missing = answer.replace(str(numbers[0]), "0", 1)
        return [wrong_value, missing, f"({answer})*1", f"{answer}+{numbers[0]}-{numbers[0]}", "__import__('os')", ""]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
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

    def verify(self, answer: str, entry: Entry) -> float:
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

    def corruptions(self, entry: Entry) -> list[str]:
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

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
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

        yield from iter_published(self, folder, with_level(self, build))


# -- new_operator -------------------------------------------------------------------------------

OPERATOR_SYMBOLS = "~&@#$%"
#: The answer the question shows as an example of the format; never a generated instance's answer.
_OPERATOR_EXAMPLE = "12.5"


def _definition(rng: random.Random) -> str:
    form = rng.randrange(4)
    if form == 0:
        return f"{rng.randint(1, 5)}*a*b"
    if form == 1:
        return f"{rng.randint(1, 5)}*a+{rng.randint(1, 5)}*b"
    if form == 2:
        return "(a + b)/b"
    return f"{rng.randint(2, 5)}*a-{rng.randint(1, 4)}*b"


_FORMS: list[tuple[re.Pattern[str], Callable[..., Callable[[Fraction, Fraction], Fraction]]]] = [
    (re.compile(r"(\d+)\*a\*b"), lambda k: lambda a, b: k * a * b),
    (re.compile(r"(\d+)\*a\+(\d+)\*b"), lambda k, m: lambda a, b: k * a + m * b),
    (re.compile(r"(\d+)\*a-(\d+)\*b"), lambda k, m: lambda a, b: k * a - m * b),
    (re.compile(r"\(a\+b\)/b"), lambda: lambda a, b: (a + b) / b),
]


def operator_function(definition: str) -> Callable[[Fraction, Fraction], Fraction]:
    """The binary function of one definition string such as "3*a+2*b" or "(a + b)/b"."""
    text = definition.replace(" ", "")
    for pattern, make in _FORMS:
        m = pattern.fullmatch(text)
        if m:
            return make(*(int(g) for g in m.groups()))
    raise ValueError(f"unsupported operator definition {definition!r}")


class NewOperator(GeneratedTask):
    name = "symbench/new_operator"
    description = "Evaluate a parenthesised expression over newly defined binary operators."
    published_folders = ("new_operator_dataset",)

    complexity_levels = 5
    #: level -> (distinct operators, applications as (low, high), expression shape)
    LEVELS: dict[int, tuple[int, tuple[int, int], str]] = {
        1: (1, (1, 1), "chain"),
        2: (1, (2, 2), "chain"),
        3: (2, (2, 2), "chain"),
        4: (3, (3, 3), "chain"),
        5: (3, (3, 4), "tree"),
    }

    def __init__(self, max_operand: int = 10) -> None:
        """Operands are drawn from 1..`max_operand` (the published generator uses 1..10)."""
        self.max_operand = max_operand

    def level_description(self, level: int) -> str:
        distinct, (low, high), shape = self.LEVELS[level]
        apps = f"{low}" if low == high else f"{low}-{high}"
        form = "left-deep, e.g. ((3~4)&5)@6" if shape == "chain" else "any bracketing, e.g. (3~4)&(5@6)"
        return f"{distinct} operator(s), {apps} application(s), {form}; operands 1-{self.max_operand}"

    @staticmethod
    def question(definitions: dict[str, str], expression: str) -> str:
        lines = [f"Let a and b be numbers. Define a{s}b to be {d}." for s, d in definitions.items()]
        if len(definitions) > 1:
            names = ", ".join(list(definitions)[:-1]) + f" and {list(definitions)[-1]}"
            lines.insert(0, f"Let x and y represent two numbers. The new operations {names} are defined as follows:")
        return (
            "\n".join(lines) + f"\nCalculate {expression}.\n"
            "Return your answer with format <<<number>>> (an integer, or a decimal rounded to at least 2 places, or a "
            f"fraction), for example <<<{_OPERATOR_EXAMPLE}>>>."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        distinct, (low, high), shape = self.LEVELS[level]
        while True:  # redraw on division by zero or runaway values
            symbols = rng.sample(OPERATOR_SYMBOLS, distinct)
            definitions = {s: _definition(rng) for s in symbols}
            funcs = {s: operator_function(d) for s, d in definitions.items()}
            n_apps = rng.randint(low, high)
            # every chosen operator appears at least once, in a random order
            ops = symbols + [rng.choice(symbols) for _ in range(n_apps - distinct)]
            rng.shuffle(ops)
            try:
                text, value = self._build(rng, ops, funcs, shape)
            except ZeroDivisionError:
                continue
            # a completion that copies the question must not find the answer in its example
            if abs(value) <= 10**7 and value.denominator <= 10**4 and value != Fraction(_OPERATOR_EXAMPLE):
                break
        # the root application is the only unbracketed one: (3~4)&5, never 3~4&5
        expression = text[1:-1]
        defs = {s: definitions[s] for s in dict.fromkeys(ops)}
        meta = {"definitions": defs, "expression": expression, "solution": str(value)}
        return self.question(defs, expression), format_number(value), meta

    def _build(
        self, rng: random.Random, ops: list[str], funcs: dict[str, Callable[[Fraction, Fraction], Fraction]], shape: str
    ) -> tuple[str, Fraction]:
        """(fully bracketed text, exact value) of an expression applying `ops` in order, innermost first.

        "chain" nests to the left, ((a~b)&c)@d; "tree" splits the remaining applications at random
        between the two operands, so (a~b)&(c@d) and a~((b&c)@d) occur too.
        """
        if not ops:
            n = rng.randint(1, self.max_operand)
            return str(n), Fraction(n)
        *inner, op = ops
        split = len(inner) if shape == "chain" else rng.randint(0, len(inner))
        left_text, left = self._build(rng, inner[:split], funcs, shape)
        right_text, right = self._build(rng, inner[split:], funcs, shape)
        return f"({left_text}{op}{right_text})", funcs[op](left, right)

    def verify(self, answer: str, entry: Entry) -> float:
        value, decimals = read_number(answer)
        return float(numbers_match(value, decimals, Fraction(entry["metadata"]["solution"])))

    def corruptions(self, entry: Entry) -> list[str]:
        return number_corruptions(entry["answer"], Fraction(entry["metadata"]["solution"]))

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path = sample / "solution.json"
            target = target_from_float(field(sol, "solution", path, (int, float)))
            m = re.search(r"Calculate (.*)\.\s*\n", question)
            meta = {
                "definitions": field(sol, "operator_definitions", path, dict),
                "expression": m.group(1) if m else "",
                "solution": str(target),
            }
            return question, format_number(target), meta

        yield from iter_published(self, folder, build)


# -- number_multiply ----------------------------------------------------------------------------

_NUMBER_FORMAT = "Return your answer with the format <<<number>>>, for example <<<-1234>>>."


class NumberMultiply(GeneratedTask):
    name = "symbench/number_multiply"
    description = "Multiply several signed integers of given digit lengths exactly."
    published_folders = ("number_multiply",)
    complexity_levels = 10
    #: level -> the digit-count patterns drawn from (one per factor); the published generator's
    #: patterns, ordered by the length of the product, from two 1-digit factors to two 16-digit ones
    LEVELS: dict[int, tuple[tuple[int, ...], ...]] = {
        1: ((1, 1),),
        2: ((2, 2),),
        3: ((3, 3),),
        4: ((1, 2, 4), (3, 4)),
        5: ((4, 4), (1, 3, 4)),
        6: ((1, 2, 2, 4), (1, 1, 1, 1, 1, 1, 3)),
        7: ((5, 5),),
        8: ((6, 6),),
        9: ((8, 8),),
        10: ((12, 12), (16, 16)),
    }

    def __init__(self, negative_rate: float = 0.5) -> None:
        self.negative_rate = negative_rate

    def level_description(self, level: int) -> str:
        patterns = " or ".join("x".join(map(str, p)) for p in self.LEVELS[level])
        return f"factor digit counts {patterns}"

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        digits = rng.choice(self.LEVELS[level])
        factors = []
        for d in digits:
            # one-digit factors start at 2: multiplying by 1 (or 0) teaches nothing
            v = rng.randint(10 ** (d - 1) if d > 1 else 2, 10**d - 1)
            factors.append(-v if rng.random() < self.negative_rate else v)
        product = 1
        for v in factors:
            product *= v
        question = f"What is the result of {'*'.join(map(str, factors))}?\n{_NUMBER_FORMAT}"
        return question, str(product), {"factors": factors, "solution": str(product)}

    def verify(self, answer: str, entry: Entry) -> float:
        value, _ = read_number(answer)
        return float(value == int(entry["metadata"]["solution"]))

    def corruptions(self, entry: Entry) -> list[str]:
        return number_corruptions(entry["answer"], Fraction(int(entry["metadata"]["solution"])))

    def solve_with_code(self, question: str) -> tuple[str, str] | None:
        # ASCII digits only: \d also matches other scripts' digits, which are no Python literal
        m = re.search(r"result of (-?[0-9]+(?:\*-?[0-9]+)+)\?", question)
        return ("Multiply with code.", f"print({m.group(1)})") if m else None

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        # number_multiply/<digits>/sample_<i>/: two levels of folders
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            prompt = read_text(sample / "input_prompt_1.txt", "the question text").strip()
            target_path = sample / "target_answer.txt"
            target = read_text(target_path, "the integer product").strip()
            if not re.fullmatch(r"-?\d{1,60}", target):
                raise PublishedDataError(f"{target_path}: expected one integer, got {target[:40]!r}")
            factors = [int(v) for v in re.findall(r"-?\d+", prompt.split("of", 1)[-1])]
            return f"{prompt}\n{_NUMBER_FORMAT}", target, {"factors": factors, "solution": target}

        # sample names repeat across the digit folders, so the folder name is part of the id
        samples = sample_dirs(folder, depth=2)
        yield from iter_published(self, folder, build, samples, name=lambda s: f"{s.parent.name}-{s.name}")


TASKS = [Game24(), CombinatorialCalculation(), NewOperator(), NumberMultiply()]
