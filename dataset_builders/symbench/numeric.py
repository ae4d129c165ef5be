"""SymBench arithmetic and arrangement tasks.

Tasks: symbench/new_operator (evaluate expressions over newly defined binary operators),
symbench/number_multiply (exact products of signed integers), symbench/permutations_and_combinations
(shelve books under position constraints; any arrangement meeting every constraint scores 1),
symbench/synthesis_decomposition (cycle two exchange methods until none applies).

Numbers are read with `dataset_builders.answer_parsing.parse_number` (bounded, never evaluated).
Non-integer results accept the exact value or a decimal rounded to at least two places (see
`number_answers.numbers_match`); integer results need the exact integer.

Published data (`load_published`): `sample_<i>/question.txt` + `solution.json` folders, and for
number_multiply `number_multiply/<digits>/sample_<i>/{input_prompt_1.txt, target_answer.txt}`
(its prompts carry no answer format, so one sentence asking for <<<number>>> is appended). A
sample that cannot be read or whose stored reference does not score 1 under the task's own
verifier is yielded as a `PublishedDataError` naming the file, and reading goes on; a missing or
empty folder raises. See `published_layout`.

Note on the published new_operator samples with three operators, written "(3~4)&5@6": their
stored solutions follow no single reading of the expression (some equal (3~4)&5, others 5@6), so
for published entries the verifier checks the stored value; generated questions are fully
parenthesised so they have one reading.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

from dataset_builders.answer_parsing import parse_int_sequence, parse_token_list
from dataset_builders.symbench.number_answers import (
    format_number,
    number_corruptions,
    numbers_match,
    read_number,
    target_from_float,
)
from dataset_builders.symbench.published_layout import field, iter_published, read_sample, read_text, sample_dirs
from dataset_builders.symbench.strings import run_cycles
from dataset_builders.task import PublishedDataError, Task

# -- new_operator -------------------------------------------------------------------------------

OPERATOR_SYMBOLS = "~&@#$%"


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


class NewOperator(Task):
    name = "symbench/new_operator"
    description = "Evaluate a parenthesised expression over newly defined binary operators."
    published_folders = ("new_operator_dataset",)

    def __init__(self, min_ops: int = 2, max_ops: int = 3, max_operand: int = 9, max_distinct_operators: int = 3):
        self.min_ops, self.max_ops, self.max_operand = min_ops, max_ops, max_operand
        self.max_distinct_operators = max_distinct_operators

    @staticmethod
    def question(definitions: dict[str, str], expression: str) -> str:
        lines = [f"Let a and b be numbers. Define a{s}b to be {d}." for s, d in definitions.items()]
        if len(definitions) > 1:
            names = ", ".join(list(definitions)[:-1]) + f" and {list(definitions)[-1]}"
            lines.insert(0, f"Let x and y represent two numbers. The new operations {names} are defined as follows:")
        return (
            "\n".join(lines) + f"\nCalculate {expression}.\n"
            "Return your answer with format <<<number>>> (an integer, or a decimal rounded to at least 2 places, or a "
            "fraction), for example <<<12.5>>>."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        while True:  # redraw on division by zero or runaway values
            n_symbols = rng.randint(1, self.max_distinct_operators)
            symbols = rng.sample(OPERATOR_SYMBOLS, n_symbols)
            definitions = {s: _definition(rng) for s in symbols}
            funcs = {s: operator_function(d) for s, d in definitions.items()}
            ops = [rng.choice(symbols) for _ in range(rng.randint(self.min_ops, self.max_ops))]
            used = list(dict.fromkeys(ops))
            # left-deep and fully bracketed, ((3~4)&5)@6, so the expression has a single reading
            text, value = None, None
            try:
                for op in ops:
                    if text is None:
                        a, b = rng.randint(1, self.max_operand), rng.randint(1, self.max_operand)
                        text, value = f"({a}{op}{b})", funcs[op](Fraction(a), Fraction(b))
                        continue
                    b_val = Fraction(rng.randint(1, self.max_operand))
                    text, value = f"({text}{op}{b_val})", funcs[op](value, b_val)
            except ZeroDivisionError:
                continue
            if value is not None and abs(value) <= 10**7 and value.denominator <= 10**4:
                break
        expression = text[1:-1]
        defs = {s: definitions[s] for s in used}
        meta = {"definitions": defs, "expression": expression, "solution": str(value)}
        return self.question(defs, expression), format_number(value), meta

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        value, decimals = read_number(answer)
        return float(numbers_match(value, decimals, Fraction(entry["metadata"]["solution"])))

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        return number_corruptions(entry["answer"], Fraction(entry["metadata"]["solution"]))

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
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


class NumberMultiply(Task):
    name = "symbench/number_multiply"
    description = "Multiply several signed integers of given digit lengths exactly."
    published_folders = ("number_multiply",)

    def __init__(self, digit_patterns: tuple[tuple[int, ...], ...] = ((1, 2, 2, 4),), negative_rate: float = 0.5):
        self.digit_patterns, self.negative_rate = digit_patterns, negative_rate

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        digits = rng.choice(self.digit_patterns)
        factors = []
        for d in digits:
            v = rng.randint(10 ** (d - 1) if d > 1 else 1, 10**d - 1)
            factors.append(-v if rng.random() < self.negative_rate else v)
        product = 1
        for v in factors:
            product *= v
        question = f"What is the result of {'*'.join(map(str, factors))}?\n{_NUMBER_FORMAT}"
        return question, str(product), {"factors": factors, "solution": str(product)}

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        value, _ = read_number(answer)
        return float(value == int(entry["metadata"]["solution"]))

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        return number_corruptions(entry["answer"], Fraction(int(entry["metadata"]["solution"])))

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
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


# -- permutations_and_combinations --------------------------------------------------------------

_CONSTRAINT_TEXT = {
    "adjacent": "Book {book} must be adjacent to book {other}.",
    "left": "Book {book} must be to the left of book {other}.",
    "right": "Book {book} must be to the right of book {other}.",
    "at": "Book {book} must be placed in position {position}.",
    "not_at": "Book {book} cannot be placed in position {position}.",
}
_CONSTRAINT_PATTERNS = [
    (re.compile(r"Book (\w+) must be adjacent to book (\w+)\."), "adjacent"),
    (re.compile(r"Book (\w+) must be to the left of book (\w+)\."), "left"),
    (re.compile(r"Book (\w+) must be to the right of book (\w+)\."), "right"),
    (re.compile(r"Book (\w+) must be placed in position (\d+)\."), "at"),
    (re.compile(r"Book (\w+) cannot be placed in position (\d+)\."), "not_at"),
]


def constraint_holds(c: dict[str, Any], pos: dict[str, int]) -> bool:
    """Whether one constraint holds for `pos` (book -> 1-based position)."""
    kind, p = c["type"], pos[c["book"]]
    if kind == "adjacent":
        return abs(p - pos[c["other"]]) == 1
    if kind == "left":
        return p < pos[c["other"]]
    if kind == "right":
        return p > pos[c["other"]]
    if kind == "at":
        return p == c["position"]
    if kind == "not_at":
        return p != c["position"]
    raise ValueError(f"unknown constraint type {kind!r}")


def parse_constraint(line: str) -> dict[str, Any] | None:
    """A constraint from its sentence (numbering allowed), or None."""
    for pattern, kind in _CONSTRAINT_PATTERNS:
        m = pattern.search(line)
        if m:
            a, b = m.groups()
            if kind in ("at", "not_at"):
                return {"type": kind, "book": a, "other": "", "position": int(b)}
            return {"type": kind, "book": a, "other": b, "position": 0}
    return None


class PermutationsAndCombinations(Task):
    name = "symbench/permutations_and_combinations"
    description = "Arrange labelled books on a shelf so that every adjacency/order/position constraint holds."
    published_folders = ("permutations_and_combinations",)

    def __init__(self, min_books: int = 6, max_books: int = 6, min_constraints: int = 6, max_constraints: int = 8):
        self.min_books, self.max_books = min_books, max_books
        self.min_constraints, self.max_constraints = min_constraints, max_constraints

    @staticmethod
    def question(items: list[str], constraints: list[dict[str, Any]]) -> str:
        n = len(items)
        listed = "\n".join(f"{i}. {_CONSTRAINT_TEXT[c['type']].format(**c)}" for i, c in enumerate(constraints, 1))
        return (
            f"Xiao Wang is a librarian responsible for shelving {n} books labeled {', '.join(items)} on a shelf with "
            f"positions 1 to {n}.\n\nThe constraints are:\n{listed}\n\nQuestion:\n"
            f"Based on the above conditions, please arrange the {n} books from left to right on the bookshelf, i.e. "
            f"positions 1 through {n}. Return your answer with the format <<< a list of strings >>>, one solution is "
            'enough.for example:\n<<<["A", "B", "C"]>>>\nYour answer:\n'
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        n = rng.randint(self.min_books, self.max_books)
        items = [chr(ord("A") + i) for i in range(n)]
        order = items[:]
        rng.shuffle(order)
        pos = {b: i + 1 for i, b in enumerate(order)}
        constraints: list[dict[str, Any]] = []
        target = max(1, rng.randint(self.min_constraints, self.max_constraints))
        while len(constraints) < target:
            kind = rng.choice(("adjacent", "left", "right", "at", "not_at", "not_at"))
            book = rng.choice(items)
            if kind == "adjacent":
                other = (
                    order[pos[book] - 2]
                    if pos[book] == n or (pos[book] > 1 and rng.random() < 0.5)
                    else order[pos[book]]
                )
                c = {"type": kind, "book": book, "other": other, "position": 0}
            elif kind in ("left", "right"):
                candidates = [
                    o for o in items if o != book and constraint_holds({"type": kind, "book": book, "other": o}, pos)
                ]
                if not candidates:
                    continue
                c = {"type": kind, "book": book, "other": rng.choice(candidates), "position": 0}
            elif kind == "at":
                c = {"type": kind, "book": book, "other": "", "position": pos[book]}
            else:
                c = {
                    "type": kind,
                    "book": book,
                    "other": "",
                    "position": rng.choice([p for p in range(1, n + 1) if p != pos[book]]),
                }
            constraints.append(c)
        answer = "[" + ", ".join(f'"{b}"' for b in order) + "]"
        return (
            self.question(items, constraints),
            answer,
            {"items": items, "constraints": constraints, "solution": order},
        )

    @staticmethod
    def arrangement(answer: str) -> list[str]:
        tokens = parse_token_list(answer, max_items=30, max_chars=400)
        if len(tokens) == 1:
            tokens = tokens[0].split()
        return tokens

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        meta = entry["metadata"]
        order = self.arrangement(answer)
        if sorted(order) != sorted(meta["items"]):
            return 0.0
        pos = {b: i + 1 for i, b in enumerate(order)}
        return float(all(constraint_holds(c, pos) for c in meta["constraints"]))

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        meta = entry["metadata"]
        order = meta["solution"]
        fmt = lambda o: "[" + ", ".join(f'"{b}"' for b in o) + "]"  # noqa: E731
        wrong = [fmt(order[:-1]), fmt(order[:-1] + order[:1])]
        for i, j in itertools.combinations(range(len(order)), 2):
            swapped = order[:]
            swapped[i], swapped[j] = swapped[j], swapped[i]
            pos = {b: k + 1 for k, b in enumerate(swapped)}
            if not all(constraint_holds(c, pos) for c in meta["constraints"]):
                wrong.append(fmt(swapped))
            if len(wrong) >= 5:
                break
        return wrong

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path = sample / "solution.json"
            items = field(sol, "items", path, list)
            text = field(sol, "constraints_text", path, str)
            solution = field(sol, "correct_solution", path, list)
            constraints = [parse_constraint(line) for line in text.splitlines() if line.strip()]
            if any(c is None for c in constraints):
                raise PublishedDataError(f"{path}: expected every line of 'constraints_text' to be a known constraint")
            meta = {"items": items, "constraints": constraints, "solution": solution}
            return question, "[" + ", ".join(f'"{b}"' for b in solution) + "]", meta

        yield from iter_published(self, folder, build)


# -- synthesis_decomposition --------------------------------------------------------------------


_METHOD1 = re.compile(
    r"Method 1: (\d+) units? of crop A and (\d+) units? of crop B can be exchanged for (\d+) units? of product X"
)
_METHOD2 = re.compile(r"Method 2: (\d+) units? of crop A can be exchanged for (\d+) units? of product X")


class SynthesisDecomposition(Task):
    name = "symbench/synthesis_decomposition"
    description = "Cycle two crop-exchange methods once per round until neither applies; report what remains."
    published_folders = ("synthesis_decomposition_dataset",)

    def __init__(self, min_a: int = 3, max_a: int = 8, min_b: int = 2, max_b: int = 6, vary_methods: bool = False):
        self.min_a, self.max_a, self.min_b, self.max_b, self.vary_methods = min_a, max_a, min_b, max_b, vary_methods

    @staticmethod
    def question(a: int, b: int, m1: list[int], m2: list[int]) -> str:
        def units(k: int, what: str) -> str:
            return f"{k} unit{'s' if k > 1 else ''} of {what}"

        return (
            "Xiao Li is a farm owner who grows A and B. He can exchange these crops for agricultural product X. He has "
            "discovered the following methods to increase the farm's yield:\n\n"
            f"Method 1: {units(m1[0], 'crop A')} and {units(m1[1], 'crop B')} can be exchanged for "
            f"{units(m1[2], 'product X')}, and this can be done only once per cycle.\n\n"
            f"Method 2: {units(m2[0], 'crop A')} can be exchanged for {units(m2[1], 'product X')}, and this can be done "
            "only once per cycle.\n\n"
            "Xiao Li continuously cycles through these methods in the given order, executing one method at a time. After "
            "Method 2, start again from Method 1. Continue this cycle until no method can be executed.\n\n"
            f"Initially there are {a} units of crop A, {b} units of crop B.\n\n"
            "First output the entire reasoning process step by step, showing each synthesis step's result. Then wrap "
            "your final answer in <<<>>> format as a list showing [remaining_A, remaining_B, obtained_X]. For example, "
            "if there are 1 unit of crop A, 0 units of crop B, and 3 units of product X remaining, output: <<<[1, 0, 3]>>>"
        )

    @staticmethod
    def solve(a: int, b: int, m1: list[int], m2: list[int]) -> list[int]:
        methods = (({"A": m1[0], "B": m1[1]}, {"X": m1[2]}), ({"A": m2[0]}, {"X": m2[1]}))
        final = run_cycles({"A": a, "B": b, "X": 0}, methods)
        return [final["A"], final["B"], final["X"]]

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        a, b = rng.randint(self.min_a, self.max_a), rng.randint(self.min_b, self.max_b)
        if self.vary_methods:
            m1 = [rng.randint(1, 2), rng.randint(1, 2), rng.randint(1, 2)]
            m2 = [rng.randint(2, 4), rng.randint(1, 3)]
        else:
            m1, m2 = [1, 1, 1], [3, 2]
        final = self.solve(a, b, m1, m2)
        meta = {"initial": [a, b], "method1": m1, "method2": m2, "final": final}
        return self.question(a, b, m1, m2), str(final), meta

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        values = parse_int_sequence(
            answer.replace('"', " ").replace("'", " "), max_chars=200, max_items=4, max_digits=9
        )
        return float(values == entry["metadata"]["final"])

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        final = entry["metadata"]["final"]
        wrong = [
            [final[0], final[1], final[2] + 1],
            [final[1], final[0], final[2]],
            [*entry["metadata"]["initial"], 0],
            final[:2],
        ]
        return [str(w) for w in wrong if w != final]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path = sample / "solution.json"
            inner = field(sol, "solution", path, dict)
            answer = field(inner, "answer", path, list)
            initial = field(sol, "initial_state", path, dict)
            try:
                final = [int(answer[0]), int(answer[1]), int(answer[3])]  # stored as [A, B, -, X, -]
                start = [int(initial["A"]), int(initial["B"])]
            except (IndexError, KeyError, TypeError, ValueError):
                raise PublishedDataError(
                    f"{path}: expected solution.answer as [A, B, _, X, _] and initial_state A, B"
                ) from None
            m1 = _METHOD1.search(question)
            m2 = _METHOD2.search(question)
            if m1 is None or m2 is None:
                raise PublishedDataError(
                    f"{sample / 'question.txt'}: expected the two exchange methods in the question"
                )
            meta = {
                "initial": start,
                "method1": [int(g) for g in m1.groups()],
                "method2": [int(g) for g in m2.groups()],
                "final": final,
            }
            return question, str(final), meta

        yield from iter_published(self, folder, build)


TASKS = [NewOperator(), NumberMultiply(), PermutationsAndCombinations(), SynthesisDecomposition()]
