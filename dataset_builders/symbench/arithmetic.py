"""SymBench arithmetic and arrangement tasks.

Tasks: symbench/new_operator (evaluate expressions over newly defined binary operators),
symbench/number_multiply (exact products of signed integers), symbench/permutations_and_combinations
(shelve books under position constraints; any arrangement meeting every constraint scores 1),
symbench/synthesis_decomposition (cycle exchange methods until none applies).

Levels (`complexity_levels`, `level_description`) follow the published generators
(CodeSteer-v1.0 create_dataset/): new_operator goes from one application of one operator to three
operators in any bracketing; number_multiply from two 1-digit factors to two 16-digit ones (the
published digit patterns, including seven factors); shelving from 6 books / 7-8 constraints to
9 books / 10-11; synthesis_decomposition covers the three published variants (2 crops, 1 product,
2 methods; 3 crops, 1 product, 3 methods; 3 crops, 2 products, 4 methods), each with the
published method amounts and with drawn ones. The answer of synthesis_decomposition lists every
crop and product of its variant, so the shorter list of an easier variant scores 0.

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
from dataset_builders.task import GeneratedTask, PublishedDataError

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


class PermutationsAndCombinations(GeneratedTask):
    name = "symbench/permutations_and_combinations"
    description = "Arrange labelled books on a shelf so that every adjacency/order/position constraint holds."
    published_folders = ("permutations_and_combinations",)

    #: Level k shelves 5+k books under k+6 or k+7 constraints: the published generator's four
    #: configurations, 6 books / 7-8 constraints up to 9 books / 10-11 constraints.
    complexity_levels = 4

    @staticmethod
    def level_knobs(level: int) -> tuple[int, int, int]:
        """(books, fewest constraints, most constraints) at `level`."""
        return 5 + level, 6 + level, 7 + level

    def level_description(self, level: int) -> str:
        books, low, high = self.level_knobs(level)
        return f"{books} books, {low}-{high} constraints (adjacent / left / right / at / not at)"

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
        n, low, high = self.level_knobs(level)
        items = [chr(ord("A") + i) for i in range(n)]
        order = items[:]
        rng.shuffle(order)
        pos = {b: i + 1 for i, b in enumerate(order)}
        constraints: list[dict[str, Any]] = []
        target = rng.randint(low, high)
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

#: Resource letters in the order the answer lists them; crops first, then products.
_CROPS, _PRODUCTS = "ABC", "XY"

#: The published generator's three variants: (crops, products, methods as (inputs, outputs)).
_SYNTHESIS_VARIANTS: dict[str, tuple[str, str, list[tuple[dict[str, int], dict[str, int]]]]] = {
    "two_crops": ("AB", "X", [({"A": 1, "B": 1}, {"X": 1}), ({"A": 3}, {"X": 2})]),
    "three_crops": (
        "ABC",
        "X",
        [({"A": 1, "B": 1, "C": 1}, {"X": 1}), ({"A": 1, "B": 1}, {"C": 2}), ({"C": 2}, {"X": 1})],
    ),
    "two_products": (
        "ABC",
        "XY",
        [
            ({"A": 2, "B": 1, "C": 1}, {"X": 3}),
            ({"A": 1, "B": 1}, {"C": 2}),
            ({"C": 2, "X": 1}, {"Y": 1}),
            ({"A": 1, "X": 2}, {"Y": 1}),
        ],
    ),
}

_METHOD_LINE = re.compile(r"Method (\d+): (.+?) can be exchanged for (.+?), and this can be done only once per cycle")
_AMOUNT = re.compile(r"(\d+) units? of (?:crop|product) ([A-Z])\b")
_ANSWER_LAYOUT = re.compile(r"as a list showing \[((?:remaining|obtained)_[A-Z](?:, (?:remaining|obtained)_[A-Z])*)\]")
_INITIAL = re.compile(r"Initially there (?:are|is) (.+?)\.\s*\n")


def _amounts(text: str) -> dict[str, int]:
    found = _AMOUNT.findall(text)
    if not found or _AMOUNT.sub("", text).replace("and", "").replace(",", "").strip():
        raise ValueError(f"expected amounts like '2 units of crop A and 1 unit of product X', got {text[:80]!r}")
    amounts: dict[str, int] = {}
    for k, letter in found:
        amounts[letter] = amounts.get(letter, 0) + int(k)
    return amounts


class SynthesisDecomposition(GeneratedTask):
    name = "symbench/synthesis_decomposition"
    description = "Cycle crop/product exchange methods once per round until none applies; report what remains."
    published_folders = ("synthesis_decomposition_dataset",)
    #: level -> (variant, whether the method amounts are drawn instead of the published fixed ones)
    LEVELS: dict[int, tuple[str, bool]] = {
        1: ("two_crops", False),
        2: ("two_crops", True),
        3: ("three_crops", False),
        4: ("three_crops", True),
        5: ("two_products", False),
        6: ("two_products", True),
    }
    complexity_levels = len(LEVELS)
    #: Initial stock ranges per variant (published, then widened where the amounts are drawn).
    _STOCK: dict[tuple[str, bool], dict[str, tuple[int, int]]] = {
        ("two_crops", False): {"A": (3, 6), "B": (2, 4)},
        ("two_crops", True): {"A": (3, 10), "B": (2, 6)},
        ("three_crops", False): {"A": (4, 8), "B": (3, 6), "C": (2, 5)},
        ("three_crops", True): {"A": (4, 10), "B": (3, 8), "C": (2, 6)},
        ("two_products", False): {"A": (5, 8), "B": (2, 4), "C": (4, 7)},
        ("two_products", True): {"A": (5, 10), "B": (2, 6), "C": (4, 8)},
    }

    def level_description(self, level: int) -> str:
        variant, drawn = self.LEVELS[level]
        crops, products, methods = _SYNTHESIS_VARIANTS[variant]
        amounts = "drawn method amounts" if drawn else "the published method amounts"
        return f"{len(crops)} crops, {len(products)} product(s), {len(methods)} methods, {amounts}"

    @staticmethod
    def question(resources: list[str], initial: list[int], methods: list[list[list[int]]]) -> str:
        crops = [r for r in resources if r in _CROPS]
        products = [r for r in resources if r in _PRODUCTS]

        def amount(k: int, letter: str) -> str:
            return f"{k} unit{'s' if k != 1 else ''} of {'crop' if letter in _CROPS else 'product'} {letter}"

        def side(vector: list[int]) -> str:
            return " and ".join(amount(k, r) for r, k in zip(resources, vector, strict=True) if k)

        lines = [
            f"Method {i}: {side(inputs)} can be exchanged for {side(outputs)}, and this can be done only once per cycle."
            for i, (inputs, outputs) in enumerate(methods, 1)
        ]
        example = _synthesis_example(resources)
        layout = [f"remaining_{r}" for r in crops] + [f"obtained_{r}" for r in products]
        stock = ", ".join(amount(k, r) for r, k in zip(resources, initial, strict=True) if r in _CROPS)
        return (
            f"Xiao Li is a farm owner who grows {_listing(crops)}. He can exchange these crops for agricultural "
            f"product{'s' if len(products) > 1 else ''} {_listing(products)}. He has discovered the following methods "
            "to increase the farm's yield:\n\n" + "\n\n".join(lines) + "\n\n"
            "Xiao Li continuously cycles through these methods in the given order, executing one method at a time. "
            f"After Method {len(methods)}, start again from Method 1. Continue this cycle until no method can be "
            f"executed.\n\nInitially there are {stock}.\n\n"
            "First output the entire reasoning process step by step, showing each synthesis step's result. Then wrap "
            f"your final answer in <<<>>> format as a list showing [{', '.join(layout)}]. For example: "
            f"<<<[{', '.join(map(str, example))}]>>>"
        )

    @staticmethod
    def solve(resources: list[str], initial: list[int], methods: list[list[list[int]]]) -> list[int]:
        """The stock (in `resources` order) once no method applies; `methods` are [inputs, outputs] vectors."""
        as_dicts = tuple(
            (
                {r: k for r, k in zip(resources, inputs, strict=True) if k},
                {r: k for r, k in zip(resources, outputs, strict=True) if k},
            )
            for inputs, outputs in methods
        )
        final = run_cycles(dict(zip(resources, initial, strict=True)), as_dicts)
        return [final[r] for r in resources]

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        variant, drawn = self.LEVELS[level]
        crops, products, fixed = _SYNTHESIS_VARIANTS[variant]
        resources = list(crops + products)
        for _ in range(1000):
            stock = {r: rng.randint(*span) for r, span in self._STOCK[(variant, drawn)].items()}
            initial = [stock.get(r, 0) for r in resources]
            methods = []
            for needs, gives in fixed:
                # drawn amounts keep each method's shape (which resources it uses and makes): every
                # method still consumes a crop or a product made from crops, so the cycle always ends
                ins = [(rng.randint(1, needs[r] + 1) if drawn else needs[r]) if r in needs else 0 for r in resources]
                outs = [(rng.randint(1, gives[r] + 1) if drawn else gives[r]) if r in gives else 0 for r in resources]
                methods.append([ins, outs])
            final = self.solve(resources, initial, methods)
            # a completion that copies the question must not find the answer in its example
            if final != _synthesis_example(resources):
                break
        meta = {"resources": resources, "initial": initial, "methods": methods, "final": final}
        return self.question(resources, initial, methods), str(final), meta

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        final = entry["metadata"]["final"]
        values = parse_int_sequence(
            answer.replace('"', " ").replace("'", " "), max_chars=200, max_items=len(final) + 1, max_digits=9
        )
        return float(values == final)

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        meta = entry["metadata"]
        final = meta["final"]
        wrong = [
            [*final[:-1], final[-1] + 1],
            [final[1], final[0], *final[2:]],
            meta["initial"],
            final[:-1],  # the answer layout of an easier variant
            [*final, 0],
        ]
        return [str(w) for w in wrong if w != final]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path, qpath = sample / "solution.json", sample / "question.txt"
            inner = field(sol, "solution", path, dict)
            stored = field(inner, "answer", path, list)
            layout = _ANSWER_LAYOUT.search(question)
            initial_text = _INITIAL.search(question)
            method_lines = _METHOD_LINE.findall(question)
            if layout is None or initial_text is None or not method_lines:
                raise PublishedDataError(
                    f"{qpath}: expected 'Method N: ... can be exchanged for ...' lines, 'Initially there are ...' "
                    "and the answer layout '[remaining_A, ..., obtained_X]'"
                )
            resources = [name.split("_", 1)[1] for name in layout.group(1).split(", ")]
            if [int(n) for n, _, _ in method_lines] != list(range(1, len(method_lines) + 1)):
                raise PublishedDataError(f"{qpath}: methods are not numbered 1, 2, ... in order")
            try:
                stock = _amounts(initial_text.group(1))
                sides = [(_amounts(needs), _amounts(gives)) for _, needs, gives in method_lines]
            except ValueError as exc:
                raise PublishedDataError(f"{qpath}: {exc}") from None
            named = set(stock).union(*(set(ins) | set(outs) for ins, outs in sides))
            if named - set(resources):
                raise PublishedDataError(
                    f"{qpath}: the question names {sorted(named - set(resources))} outside the answer"
                )
            methods = [[[ins.get(r, 0) for r in resources], [outs.get(r, 0) for r in resources]] for ins, outs in sides]
            try:
                # the stored answer always lists A, B, C, X, Y (absent ones as 0)
                final = [int(stored["ABCXY".index(r)]) for r in resources]
            except (IndexError, TypeError, ValueError):
                raise PublishedDataError(f"{path}: expected solution.answer as [A, B, C, X, Y] integers") from None
            meta = {"resources": resources, "initial": [stock.get(r, 0) for r in resources], "methods": methods}
            # the verifier compares with `final`, so a stored answer the stated rules do not give is an error
            if self.solve(**meta) != final:
                raise PublishedDataError(f"{path}: the stored answer {final} is not what the question's methods give")
            return question, str(final), {**meta, "final": final}

        yield from iter_published(self, folder, build)


def _synthesis_example(resources: list[str]) -> list[int]:
    """The example answer the question shows for this variant's layout (crops, then products)."""
    crops = sum(r in _CROPS for r in resources)
    return [1, 0, 2][:crops] + [3, 1][: len(resources) - crops]


def _listing(letters: list[str]) -> str:
    """ "A", "A and B", "A, B, and C": the published question's way of listing names."""
    if len(letters) <= 2:
        return " and ".join(letters)
    return ", ".join(letters[:-1]) + f", and {letters[-1]}"


TASKS = [NewOperator(), NumberMultiply(), PermutationsAndCombinations(), SynthesisDecomposition()]
