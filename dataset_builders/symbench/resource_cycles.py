"""SymBench resource cycles: apply exchange methods to a stock, in a fixed cycle, until none applies.

Tasks: symbench/string_splitting (machines dismantled into parts), symbench/string_synthesis (blocks
combined into others, each method as often as possible), symbench/synthesis_decomposition (crops
exchanged for products). All three are one simulation, `run_cycles`, over different stocks and
methods; the answer is the final stock, so the verifiers compare it with the recomputed one.

Levels follow the published generators (CodeSteer-v1.0 create_dataset_*.py): machine and block
counts, and synthesis_decomposition's three published variants (2 crops, 1 product, 2 methods;
3 crops, 1 product, 3 methods; 3 crops, 2 products, 4 methods), each with the published method
amounts and with drawn ones. The answer of synthesis_decomposition lists every crop and product of
its variant, so the shorter list of an easier variant scores 0.

Published data (`load_published`): every reader yields one entry per good sample and, for a bad
sample (missing file, malformed JSON or CSV row, a missing field, a reference that breaks the
question's rules), a `PublishedDataError` instance instead of raising, so one bad sample never hides
the others; a missing or empty folder raises. See `published_layout` for the shared contract.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dataset_builders.answer_parsing import AnswerParseError, parse_int_sequence
from dataset_builders.symbench.published_layout import field, iter_published, read_sample
from dataset_builders.symbench.strings import example_unlike
from dataset_builders.task import Entry, GeneratedTask, PublishedDataError


def _int_list(text: str, n: int) -> list[int]:
    """Exactly `n` integers written as '["1", "0"]', '[1, 0]' or '1 0' (quotes allowed)."""
    cleaned = text.replace('"', " ").replace("'", " ")
    values = parse_int_sequence(cleaned, max_chars=400, max_items=n + 1, max_digits=9)
    if len(values) != n:
        raise AnswerParseError(f"expected {n} integers, got {len(values)}")
    return values


# -- string_splitting ---------------------------------------------------------------------------

#: (inputs, outputs) of the five methods over the stock A, B, C (machines) and X, Y, Z (parts).
SPLIT_METHODS: tuple[tuple[dict[str, int], dict[str, int]], ...] = (
    ({"A": 1}, {"X": 2, "Y": 1}),
    ({"B": 2}, {"X": 1}),
    ({"C": 2}, {"Y": 1}),
    ({"B": 1, "C": 1}, {"A": 1}),
    ({"X": 1, "Y": 1}, {"Z": 1}),
)
_SPLIT_PHRASES = (
    ("Dismantling a single machine A yields two part X and one part Y each cycle.",
     "Each round, one machine A breaks down into two part X and one part Y.",
     "One unit of machine A can be dismantled into two units of part X and one unit of part Y per round."),
    ("Every round, dismantling two machines B results in one part X.",
     "Two units of machine B can be dismantled into one unit of part X per round.",
     "Dismantling two machine B units produces one part X each cycle."),
    ("Two units of machine C can be dismantled into one unit of part Y per round.",
     "Each round, two machines C break down into one part Y.",
     "Dismantling two machine C units yields one part Y each cycle."),
    ("One unit of machine B and one unit of machine C can be combined into one unit of machine A per round.",
     "Every round, merging one machine B with one machine C creates one machine A.",
     "Combining one machine B and one machine C results in one machine A each cycle."),
    ("One unit of part X and one unit of part Y can be combined into one unit of part Z per round.",
     "Combining one part X with one part Y produces one part Z each cycle.",
     "Each round, one part X and one part Y merge to form one part Z."),
)  # fmt: skip
_STOCK = ("A", "B", "C", "X", "Y", "Z")


def run_cycles(
    stock: dict[str, int], methods: tuple[tuple[dict[str, int], dict[str, int]], ...], greedy: bool = False
) -> dict[str, int]:
    """Cycle through `methods` in order, each once per pass (or as often as possible when `greedy`),
    until a whole pass changes nothing."""
    stock = dict(stock)
    for _ in range(10_000):
        changed = False
        for needs, gives in methods:
            times = min(stock[k] // v for k, v in needs.items())
            times = times if greedy else min(times, 1)
            if times:
                changed = True
                for k, v in needs.items():
                    stock[k] -= v * times
                for k, v in gives.items():
                    stock[k] = stock.get(k, 0) + v * times
        if not changed:
            return stock
    raise RuntimeError("resource cycle did not stop")  # unreachable: every method uses up stock


class StringSplitting(GeneratedTask):
    name = "symbench/string_splitting"
    description = (
        "Cycle through dismantling/combining methods on machines and parts until none applies; report the stock."
    )
    published_folders = ("string_splitting",)
    #: The published generator's five levels: each machine count drawn from this range.
    LEVEL_COUNTS = {1: (1, 3), 2: (2, 4), 3: (3, 6), 4: (4, 7), 5: (5, 10)}
    complexity_levels = len(LEVEL_COUNTS)

    def level_description(self, level: int) -> str:
        lo, hi = self.LEVEL_COUNTS[level]
        return f"{lo}-{hi} each of machines A, B, C; five methods, each phrased one of three ways"

    def question(
        self, a: int, b: int, c: int, phrases: list[str], example: tuple[int, ...] = (1, 0, 1, 1, 1, 1)
    ) -> str:
        methods = "\n".join(f"Method {i}: {p}" for i, p in enumerate(phrases, 1))
        units = [f"{n} unit" if n == 1 else f"{n} units" for n in example]
        return (
            "There is a dismantling engineer who has old machines A, B, and C. He discovered that he can obtain a batch "
            "of new parts X, Y, and Z through the following methods:\n"
            f"{methods}\n\n"
            "Xiao Li continuously cycles through these methods in the given order, executing one method at a time. "
            "After Method 5, start again from Method 1. Continue this cycle until no method can be executed. "
            f"Initially, there are {a} units of Machine A, {b} units of Machine B, and {c} units of Machine C. "
            "How many parts X, Y, and Z can Li ultimately obtain, and how many machines A, B, and C will remain?\n\n"
            "Generate the answer in the format <<<a string representing the outcome in the order of machines A, B, C, "
            f"parts X, Y, Z>>>. For example, if Machine A has {units[0]}, Machine B has {units[1]}, Machine C has "
            f"{units[2]}, Part X has {units[3]}, Part Y has {units[4]}, and Part Z has {units[5]}, it should be "
            f"represented as {self.format(list(example))}.\nYour answer:"
        )

    @staticmethod
    def solve(a: int, b: int, c: int) -> list[int]:
        final = run_cycles({"A": a, "B": b, "C": c, "X": 0, "Y": 0, "Z": 0}, SPLIT_METHODS)
        return [final[k] for k in _STOCK]

    @staticmethod
    def format(counts: list[int]) -> str:
        return "[" + ", ".join(f'"{v}"' for v in counts) + "]"

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        a, b, c = (rng.randint(*self.LEVEL_COUNTS[level]) for _ in range(3))
        phrases = [rng.choice(options) for options in _SPLIT_PHRASES]
        final = self.solve(a, b, c)
        example = example_unlike(rng, lambda: tuple(rng.randint(0, 2) for _ in range(6)), tuple(final))
        question = self.question(a, b, c, phrases, example)
        return question, self.format(final), {"initial": [a, b, c], "final": final}

    def verify(self, answer: str, entry: Entry) -> float:
        return float(_int_list(answer, 6) == entry["metadata"]["final"])

    def corruptions(self, entry: Entry) -> list[str]:
        final = entry["metadata"]["final"]
        a, b, c = entry["metadata"]["initial"]
        bumped = [final[:i] + [final[i] + 1] + final[i + 1 :] for i in (0, 3, 5)]
        wrong = [self.format(v) for v in [*bumped, [a, b, c, 0, 0, 0], final[3:] + final[:3]]]
        return [w for w in dict.fromkeys(wrong) if _int_list(w, 6) != final]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        pattern = re.compile(
            r"there are (\d+) units of Machine A, (\d+) units of Machine B, and (\d+) units of Machine C"
        )

        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path = sample / "solution.json"
            expected = field(sol, "expected_answer", path, list)
            m = pattern.search(question)
            if m is None or len(expected) != 6 or not all(str(v).lstrip("-").isdigit() for v in expected):
                raise PublishedDataError(
                    f"{path}: expected 'expected_answer' of 6 integers and a question with initial counts"
                )
            meta = {"initial": [int(g) for g in m.groups()], "final": [int(v) for v in expected]}
            return question, self.format(meta["final"]), meta

        yield from iter_published(self, folder, build)


# -- string_synthesis ---------------------------------------------------------------------------

BLOCKS = ("[A]", "[B]", "[C]", "{A}", "{B}", "{C}", "(A)", "(B)", "(C)")
SYNTHESIS_METHODS: tuple[tuple[dict[str, int], dict[str, int]], ...] = (
    ({"[A]": 1, "[B]": 1, "[C]": 1}, {"{A}": 1}),
    ({"[A]": 1, "[B]": 1}, {"{C}": 1}),
    ({"[B]": 1, "[C]": 1}, {"{B}": 1}),
    ({"[C]": 2}, {"{C}": 1}),
    ({"{A}": 1, "{C}": 1}, {"(A)": 1, "(B)": 1}),
    ({"{B}": 2}, {"(C)": 1}),
)


class StringSynthesis(GeneratedTask):
    name = "symbench/string_synthesis"
    description = (
        "Combine blocks by six synthesis rules, each applied as often as possible in turn, and count the result."
    )
    published_folders = ("string_synthesis",)
    #: Largest starting count of [A], [B], [C] per level (the smallest is 1). The published generator
    #: draws [A] from 1-5, [B] from 1-8 and [C] from 1-7 (level 4); level 5 goes past it.
    LEVEL_MAX = {1: (2, 3, 3), 2: (3, 5, 4), 3: (4, 6, 6), 4: (5, 8, 7), 5: (8, 12, 12)}
    complexity_levels = len(LEVEL_MAX)

    def level_description(self, level: int) -> str:
        a, b, c = self.LEVEL_MAX[level]
        return f"1-{a} [A], 1-{b} [B], 1-{c} [C]; six methods cycled until none applies"

    def question(self, a: int, b: int, c: int, example: tuple[int, ...] = (1, 0, 0, 0, 0, 0, 1, 1, 0)) -> str:
        return (
            "There are nine different blocks [A], [B], [C], {A}, {B}, {C}, (A), (B), (C) that satisfy:\n"
            "1. One [A], one [B], and one [C] can be combined to form one {A}.\n"
            "2. One [A] and one [B] can be combined to form one {C}.\n"
            "3. One [B] and one [C] can be combined to form one {B}.\n"
            "4. Two [C] can be combined to form one {C}.\n"
            "5. One {A} and one {C} can be combined to form one (A) and one (B).\n"
            "6. Two {B} can be combined to form one (C).\n\n"
            "Cycle through Methods 1..6 repeatedly until no more changes can be made (each method is applied as many "
            "times as possible before moving on to the next).\n\n"
            f"Question: If we now have {a} [A], {b} [B], and {c} [C], what will the synthesized block be?\n\n"
            "Return your final answer with the exact format:\n"
            "<<<a string of the number of certain block>>>\n"
            "listing the counts of [A], [B], [C], {A}, {B}, {C}, (A), (B), (C) in this order, separated by spaces, "
            f"for example <<<{' '.join(map(str, example))}>>>.\nYour answer:\n"
        )

    @staticmethod
    def solve(a: int, b: int, c: int) -> list[int]:
        start = dict.fromkeys(BLOCKS, 0) | {"[A]": a, "[B]": b, "[C]": c}
        final = run_cycles(start, SYNTHESIS_METHODS, greedy=True)
        return [final[k] for k in BLOCKS]

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        a, b, c = (rng.randint(1, most) for most in self.LEVEL_MAX[level])
        final = self.solve(a, b, c)
        example = example_unlike(rng, lambda: tuple(rng.randint(0, 2) for _ in range(9)), tuple(final))
        return self.question(a, b, c, example), " ".join(map(str, final)), {"initial": [a, b, c], "final": final}

    def verify(self, answer: str, entry: Entry) -> float:
        return float(_int_list(answer, 9) == entry["metadata"]["final"])

    def corruptions(self, entry: Entry) -> list[str]:
        final = entry["metadata"]["final"]
        a, b, c = entry["metadata"]["initial"]
        wrong = [[a, b, c, 0, 0, 0, 0, 0, 0], final[:8] + [final[8] + 1], [final[0] + 1, *final[1:]], final[::-1]]
        return [" ".join(map(str, w)) for w in wrong if w != final]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path = sample / "solution.json"
            final = field(sol, "final_counts", path, list)
            initial = [field(sol, k, path, int) for k in ("A_count", "B_count", "C_count")]
            if len(final) != 9 or not all(isinstance(v, int) for v in final):
                raise PublishedDataError(f"{path}: expected 'final_counts' to be a list of 9 integers")
            meta = {"initial": initial, "final": final}
            return question, " ".join(map(str, final)), meta

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

    def verify(self, answer: str, entry: Entry) -> float:
        final = entry["metadata"]["final"]
        values = parse_int_sequence(
            answer.replace('"', " ").replace("'", " "), max_chars=200, max_items=len(final) + 1, max_digits=9
        )
        return float(values == final)

    def corruptions(self, entry: Entry) -> list[str]:
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

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
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


TASKS = [StringSplitting(), StringSynthesis(), SynthesisDecomposition()]
