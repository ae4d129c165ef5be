"""SymBench numeric tasks (dataset_builders/symbench/numeric.py): levels spanning the published
generators, verdicts by rule at every level, every published variant read and scored, reward hacks."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from dataset_builders.symbench import arithmetic as numeric
from dataset_builders.task import PublishedDataError, Task

SYMBENCH = Path(__file__).resolve().parents[1].parent / "shared" / "external" / "symbench"
TASKS: dict[str, Task] = {t.short_name: t for t in numeric.TASKS}
NAMES = sorted(TASKS)


def wrap(answer: str) -> str:
    return f"Let me work through it.\n<<<{answer}>>>"


@pytest.fixture(scope="module")
def spread() -> dict[str, list[dict]]:
    """200 entries per task with levels drawn as `generate` draws them by default."""
    return {name: list(task.generate(200, seed=11)) for name, task in TASKS.items()}


def published(task: Task, folder: Path) -> list[dict]:
    items = list(task.load_published(folder))
    errors = [str(i) for i in items if isinstance(i, PublishedDataError)]
    assert not errors, errors
    return items


# -- levels and variants ------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_two_hundred_entries_span_every_level(name: str, spread: dict[str, list[dict]]) -> None:
    task = TASKS[name]
    levels = Counter(e["metadata"]["complexity"] for e in spread[name])
    assert task.complexity_levels >= 4
    assert set(levels) == set(range(1, task.complexity_levels + 1)), levels
    assert all(task.level_description(level) for level in levels)
    assert len({json.dumps(sorted(e["metadata"])) for e in spread[name]}) == 1, "one metadata schema per task"


def test_new_operator_spans_operator_counts_and_bracketings(spread: dict[str, list[dict]]) -> None:
    entries = spread["new_operator"]
    operators = Counter(len(e["metadata"]["definitions"]) for e in entries)
    applications = Counter(sum(e["metadata"]["expression"].count(s) for s in "~&@#$%") for e in entries)
    assert set(operators) == {1, 2, 3} and set(applications) == {1, 2, 3, 4}
    # a bracketed right operand, (3~4)&(5@6) or 3~(4&5), appears only at the top level
    right_nested = [e for e in entries if re.search(r"[~&@#$%]\(", e["metadata"]["expression"])]
    assert right_nested and {e["metadata"]["complexity"] for e in right_nested} == {5}
    single = [e for e in entries if e["metadata"]["complexity"] == 1]
    assert all(re.fullmatch(r"\d+[~&@#$%]\d+", e["metadata"]["expression"]) for e in single)


def test_number_multiply_spans_digits_and_factor_counts(spread: dict[str, list[dict]]) -> None:
    entries = spread["number_multiply"]
    factor_counts = Counter(len(e["metadata"]["factors"]) for e in entries)
    assert set(factor_counts) == {2, 3, 4, 7}
    digits = {len(str(abs(v))) for e in entries for v in e["metadata"]["factors"]}
    assert {1, 16} <= digits
    # the easiest level stays easy: two one-digit factors, never 0 or +-1, a product of at most 2 digits
    for e in TASKS["number_multiply"].generate(200, seed=3, complexity=1):
        a, b = e["metadata"]["factors"]
        assert 2 <= abs(a) <= 9 and 2 <= abs(b) <= 9 and len(e["answer"].lstrip("-")) <= 2
    assert {e["answer"].startswith("-") for e in entries} == {True, False}


def test_shelving_spans_books_constraints_and_kinds(spread: dict[str, list[dict]]) -> None:
    entries = spread["permutations_and_combinations"]
    books = Counter(len(e["metadata"]["items"]) for e in entries)
    constraints = Counter(len(e["metadata"]["constraints"]) for e in entries)
    assert set(books) == {6, 7, 8, 9}
    assert min(constraints) == 7 and max(constraints) == 11
    kinds = {c["type"] for e in entries for c in e["metadata"]["constraints"]}
    assert kinds == {"adjacent", "left", "right", "at", "not_at"}


def test_synthesis_spans_the_three_published_variants(spread: dict[str, list[dict]]) -> None:
    entries = spread["synthesis_decomposition"]
    shapes = Counter((len(e["metadata"]["resources"]), len(e["metadata"]["methods"])) for e in entries)
    assert set(shapes) == {(3, 2), (4, 3), (5, 4)}
    hardest = next(e for e in entries if len(e["metadata"]["resources"]) == 5)
    assert hardest["metadata"]["resources"] == ["A", "B", "C", "X", "Y"]
    assert "grows A, B, and C" in hardest["question"] and "products X and Y" in hardest["question"]
    assert "Method 4:" in hardest["question"] and "obtained_Y]" in hardest["question"]
    # the drawn-amount levels really vary the methods; the published-amount levels never do
    for drawn in (False, True):
        methods = {
            json.dumps(e["metadata"]["methods"]) for e in entries if (e["metadata"]["complexity"] % 2 == 0) == drawn
        }
        assert (len(methods) > 3) == drawn


# -- verdicts at every level --------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_references_score_one_and_corruptions_zero_at_every_level(name: str) -> None:
    task = TASKS[name]
    for level in range(1, task.complexity_levels + 1):
        for e in task.generate(12, seed=level, complexity=level):
            assert e["metadata"]["complexity"] == level
            assert "<<<" in e["question"]
            assert task.score(wrap(e["answer"]), e) == 1.0, (level, e["answer"])
            # a dataset row stores metadata as a JSON string
            assert task.score(wrap(e["answer"]), {**e, "metadata": json.dumps(e["metadata"])}) == 1.0
            wrong = task.corruptions(e)
            assert wrong
            for w in wrong:
                assert task.score(wrap(w), e) == 0.0, (level, w, e["answer"])


def _evaluate(expression: str, definitions: dict[str, str]) -> Fraction:
    """An independent reading of a fully bracketed expression: operand op operand, operands bracketed."""
    pos = 0

    def operand() -> Fraction:
        nonlocal pos
        if expression[pos] == "(":
            pos += 1
            value = application()
            assert expression[pos] == ")"
            pos += 1
            return value
        digits = re.match(r"\d+", expression[pos:]).group()
        pos += len(digits)
        return Fraction(int(digits))

    def application() -> Fraction:
        nonlocal pos
        left = operand()
        op = expression[pos]
        pos += 1
        right = operand()
        formula = definitions[op].replace(" ", "")
        return eval(formula, {}, {"a": left, "b": right})  # our own generator's formula, not model text

    value = application()
    assert pos == len(expression)
    return value


def _published_cycle(stock: dict[str, int], methods: list[tuple[dict[str, int], dict[str, int]]]) -> dict[str, int]:
    """The published rule as its generator runs it: try the methods in turn, stop once none applies."""
    stock, i = dict(stock), 0

    def applies(method: tuple[dict[str, int], dict[str, int]]) -> bool:
        return all(stock.get(r, 0) >= k for r, k in method[0].items())

    while True:
        if applies(methods[i]):
            for r, k in methods[i][0].items():
                stock[r] -= k
            for r, k in methods[i][1].items():
                stock[r] = stock.get(r, 0) + k
        i = (i + 1) % len(methods)
        if not any(applies(m) for m in methods):
            return stock


def test_references_agree_with_independent_solvers() -> None:
    for e in TASKS["new_operator"].generate(60, seed=2):
        m = e["metadata"]
        assert _evaluate(m["expression"], m["definitions"]) == Fraction(m["solution"]), m["expression"]
    for e in TASKS["number_multiply"].generate(40, seed=2):
        product = 1
        for v in map(int, re.findall(r"-?\d+", e["question"].split("of", 1)[1].split("?")[0])):
            product *= v
        assert str(product) == e["answer"]
    for e in TASKS["synthesis_decomposition"].generate(60, seed=2):
        m = e["metadata"]
        methods = [
            (
                {r: k for r, k in zip(m["resources"], ins, strict=True) if k},
                {r: k for r, k in zip(m["resources"], outs, strict=True) if k},
            )
            for ins, outs in m["methods"]
        ]
        final = _published_cycle(dict(zip(m["resources"], m["initial"], strict=True)), methods)
        assert [final[r] for r in m["resources"]] == m["final"]


def test_other_valid_shelvings_score_one() -> None:
    task = TASKS["permutations_and_combinations"]
    others = 0
    for e in task.generate(20, seed=4, complexity=4):
        order = e["metadata"]["solution"]
        for i in range(len(order) - 1):
            swapped = order[:i] + [order[i + 1], order[i]] + order[i + 2 :]
            pos = {b: k + 1 for k, b in enumerate(swapped)}
            valid = all(numeric.constraint_holds(c, pos) for c in e["metadata"]["constraints"])
            assert task.score(wrap(json.dumps(swapped)), e) == float(valid)
            others += valid
    assert others > 0, "some 9-book shelves admit a second arrangement, and it scores 1"


# -- reward hacks -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_hedged_padded_and_partial_answers_score_zero(name: str) -> None:
    task = TASKS[name]
    for level in (1, task.complexity_levels):
        e = next(iter(task.generate(1, seed=21, complexity=level)))
        right, wrong = e["answer"], task.corruptions(e)[0]
        for hack in (
            f"{right} or {wrong}",
            f"{wrong} or {right}",
            f"{right}, {right}",
            f"{right} (approximately)",
            f"maybe {right}",
            # a prefix of a decimal can be a valid rounding of it, so partial answers are lists here
            right[: len(right) // 2] if name != "new_operator" else f"{right}, {wrong}",
            e["question"],
            right.replace("A", "\u0410").replace("1", "l") if re.search("[A1]", right) else "",
        ):
            assert task.score(wrap(hack), e) == 0.0, (level, hack)


def test_synthesis_answer_of_an_easier_variant_scores_zero() -> None:
    task = TASKS["synthesis_decomposition"]
    e = next(iter(task.generate(1, seed=5, complexity=5)))
    final = e["metadata"]["final"]
    resources = e["metadata"]["resources"]
    keep_ab_x = [final[resources.index(r)] for r in "ABX"]  # the 3-number layout of the 2-crop variant
    for hack in (keep_ab_x, final[:4], [*final, 0]):
        assert task.score(wrap(str(hack)), e) == 0.0, hack
    for ok in (str(final), " ".join(map(str, final)), json.dumps([str(v) for v in final]), str([final])):
        assert task.score(wrap(ok), e) == 1.0, ok


def test_new_operator_needs_the_value_not_an_expression() -> None:
    task = TASKS["new_operator"]
    for e in task.generate(20, seed=8, complexity=5):
        value = Fraction(e["metadata"]["solution"])
        for hack in (e["metadata"]["expression"], f"{value.numerator}/{value.denominator}+0", f"{value}=={value}"):
            assert task.score(wrap(hack), e) == 0.0, hack


@pytest.mark.parametrize("name", NAMES)
def test_a_copy_of_the_question_never_scores(name: str) -> None:
    """The question shows an example answer in <<<>>>; no generated instance may have it as a valid answer."""
    task = TASKS[name]
    # the example fits the smallest instances; the larger shapes cannot match it, so fewer entries do there
    per_level = {}.get(name, 300)
    for level in range(1, task.complexity_levels + 1):
        for e in task.generate(per_level, seed=1, complexity=level):
            assert task.score(e["question"], e) == 0.0, (level, e["answer"])


# -- determinism --------------------------------------------------------------------------------

_DIGEST = (
    "import hashlib, json\n"
    "from dataset_builders.symbench import arithmetic as numeric\n"
    "print(hashlib.sha256(json.dumps([list(t.generate(40, seed=4)) for t in numeric.TASKS]).encode()).hexdigest())\n"
)


def test_same_seed_same_bytes_across_processes_and_hash_seeds() -> None:
    here = hashlib.sha256(json.dumps([list(t.generate(40, seed=4)) for t in numeric.TASKS]).encode()).hexdigest()
    root = Path(__file__).resolve().parents[1]
    for hash_seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", _DIGEST], cwd=root, env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.strip() == here
    assert [e["question"] for e in TASKS["new_operator"].generate(5, seed=4)] != [
        e["question"] for e in TASKS["new_operator"].generate(5, seed=5)
    ]


# -- published data -----------------------------------------------------------------------------

needs_external = pytest.mark.skipif(not SYMBENCH.is_dir(), reason="shared/external/symbench is absent")


@needs_external
@pytest.mark.parametrize("name", NAMES)
def test_local_published_samples_score_one(name: str) -> None:
    task = TASKS[name]
    entries = [e for folder in task.published_folders for e in published(task, SYMBENCH / folder)]
    assert len(entries) >= 20
    for e in entries:
        assert task.score(wrap(e["answer"]), e) == 1.0, e["id"]
        for w in task.corruptions(e):
            assert task.score(wrap(w), e) == 0.0, (e["id"], w)


def _units(k: int, kind: str, letter: str, *, plural_always: bool = False) -> str:
    return f"{k} unit{'s' if plural_always or k > 1 else ''} of {kind} {letter}"


def _published_synthesis_sample(root: Path, name: str, complexity: int, stock: dict[str, int]) -> list[int]:
    """A sample written the way the published generator writes its three variants (its wording quirks
    included: every method output is called a "product", the initial stock always says "units")."""
    variants = {
        1: ("AB", "X", [({"A": 1, "B": 1}, {"X": 1}), ({"A": 3}, {"X": 2})]),
        3: ("ABC", "X", [({"A": 1, "B": 1, "C": 1}, {"X": 1}), ({"A": 1, "B": 1}, {"C": 2}), ({"C": 2}, {"X": 1})]),
        5: (
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
    crops, products, methods = variants[complexity]
    lines = []
    for i, (needs, gives) in enumerate(methods, 1):
        ins = " and ".join(_units(k, "crop" if r in "ABC" else "product", r) for r, k in needs.items())
        outs = " and ".join(_units(k, "product", r) for r, k in gives.items())
        lines.append(f"Method {i}: {ins} can be exchanged for {outs}, and this can be done only once per cycle.")
    layout = [f"remaining_{c}" for c in crops] + [f"obtained_{p}" for p in products]
    grows = "A, B, and C" if len(crops) == 3 else "A and B"
    question = (
        f"Xiao Li is a farm owner who grows {grows}. He can exchange these crops for agricultural "
        f"product{'s' if len(products) > 1 else ''} {' and '.join(products)}. He has discovered the following "
        "methods to increase the farm's yield:\n\n" + "\n\n".join(lines) + "\n\n"
        "Xiao Li continuously cycles through these methods in the given order, executing one method at a time. "
        f"After Method {len(methods)}, start again from Method 1. Continue this cycle until no method can be "
        "executed.\n\nInitially there are "
        + ", ".join(_units(k, "crop", r, plural_always=True) for r, k in stock.items())
        + ".\n\nFirst output the entire reasoning process step by step, showing each synthesis step's result. "
        f"Then wrap your final answer in <<<>>> format as a list showing [{', '.join(layout)}]. For example, if "
        "there are 1 unit of crop A, 0 units of crop B, and 3 units of product X remaining, output: <<<[1, 0, 3]>>>"
    )
    final = _published_cycle(stock, methods)
    stored = [str(final.get(r, 0)) for r in "ABCXY"]
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "question.txt").write_text(question)
    solution = {"initial_state": stock, "solution": {"answer": stored, "process": []}, "complexity": complexity}
    (folder / "solution.json").write_text(json.dumps(solution, indent=2))
    return [final.get(r, 0) for r in crops + products]


def test_every_published_synthesis_variant_is_read_and_scored(tmp_path: Path) -> None:
    task = TASKS["synthesis_decomposition"]
    expected = {
        "sample_0": _published_synthesis_sample(tmp_path, "sample_0", 1, {"A": 5, "B": 3}),
        "sample_1": _published_synthesis_sample(tmp_path, "sample_1", 3, {"A": 7, "B": 5, "C": 4}),
        "sample_2": _published_synthesis_sample(tmp_path, "sample_2", 5, {"A": 8, "B": 3, "C": 6}),
    }
    entries = published(task, tmp_path)
    assert [len(e["metadata"]["resources"]) for e in entries] == [3, 4, 5]
    for e in entries:
        final = expected[e["id"].rsplit("-", 1)[1]]
        assert e["metadata"]["final"] == final
        assert task.score(wrap(str(final)), e) == 1.0
        assert (
            numeric.SynthesisDecomposition.solve(**{k: e["metadata"][k] for k in ("resources", "initial", "methods")})
            == final
        )
        for w in task.corruptions(e):
            assert task.score(wrap(w), e) == 0.0, w
    two_products = entries[2]["metadata"]
    # "2 units of product C" in the published text is crop C: method 2 turns A and B into C
    assert two_products["methods"][1] == [[1, 1, 0, 0, 0], [0, 0, 2, 0, 0]]


def test_malformed_synthesis_samples_are_reported(tmp_path: Path) -> None:
    task = TASKS["synthesis_decomposition"]
    _published_synthesis_sample(tmp_path, "sample_0", 5, {"A": 6, "B": 2, "C": 5})
    bad = tmp_path / "sample_1"
    bad.mkdir()
    (bad / "question.txt").write_text(
        (tmp_path / "sample_0" / "question.txt").read_text().replace("Method 3", "Method 7")
    )
    (bad / "solution.json").write_text((tmp_path / "sample_0" / "solution.json").read_text())
    wrong = tmp_path / "sample_2"
    wrong.mkdir()
    (wrong / "question.txt").write_text((tmp_path / "sample_0" / "question.txt").read_text())
    solution = json.loads((tmp_path / "sample_0" / "solution.json").read_text())
    solution["solution"]["answer"][4] = str(int(solution["solution"]["answer"][4]) + 1)
    (wrong / "solution.json").write_text(json.dumps(solution))
    items = list(task.load_published(tmp_path))
    assert isinstance(items[0], dict)
    assert isinstance(items[1], PublishedDataError) and "numbered" in str(items[1])
    assert isinstance(items[2], PublishedDataError) and "not what the question's methods give" in str(items[2])


def test_published_new_operator_multiply_and_shelving_variants(tmp_path: Path) -> None:
    # new_operator: the published single application (level 1) and the chained one, stored as floats
    ops = tmp_path / "new_operator_dataset"
    for i, (text, defs, value) in enumerate(
        [("Calculate 3~7.", {"~": "(a + b)/b"}, 10 / 7), ("Calculate (2#5)#9.", {"#": "4*a+1*b"}, 61.0)]
    ):
        sample = ops / f"sample_{i}"
        sample.mkdir(parents=True)
        lines = [f"Let a and b be numbers. Define a{s}b to be {d}." for s, d in defs.items()]
        sample.joinpath("question.txt").write_text(
            "\n".join(lines) + f"\n{text}\nReturn your answer with format <<<list of values and symbols>>>"
        )
        sample.joinpath("solution.json").write_text(json.dumps({"solution": value, "operator_definitions": defs}))
    task = TASKS["new_operator"]
    first, second = published(task, ops)
    assert task.score(wrap("10/7"), first) == 1.0 and task.score(wrap("1.43"), first) == 1.0
    assert task.score(wrap("1.44"), first) == 0.0
    assert task.score(wrap("61"), second) == 1.0 and task.score(wrap("62"), second) == 0.0

    # number_multiply: other digit folders of the published layout
    mult = tmp_path / "number_multiply"
    for folder, factors in (("digit_16_16", [-8342749102938475, 1029384756473829]), ("digit_1_1", [7, -3])):
        sample = mult / folder / "sample_0"
        sample.mkdir(parents=True)
        product = factors[0] * factors[1]
        sample.joinpath("input_prompt_1.txt").write_text(f"What is the result of {factors[0]}*{factors[1]}?")
        sample.joinpath("target_answer.txt").write_text(str(product))
    task = TASKS["number_multiply"]
    small, big = published(task, mult)
    assert big["id"] != small["id"]
    assert task.score(wrap(big["answer"]), big) == 1.0 and task.score(wrap("-21"), small) == 1.0
    assert task.score(wrap(str(int(big["answer"]) + 1)), big) == 0.0

    # permutations_and_combinations: the published hardest configuration, 9 books under 11 constraints
    shelf = tmp_path / "permutations_and_combinations" / "sample_0"
    shelf.mkdir(parents=True)
    items = list("ABCDEFGHI")
    solution = list("DABCEFGHI")
    constraints = [
        "Book D must be placed in position 1.",
        "Book A must be adjacent to book D.",
        "Book B must be to the right of book A.",
        "Book C must be to the left of book E.",
        "Book I cannot be placed in position 1.",
        "Book H must be adjacent to book I.",
        "Book G must be to the left of book H.",
        "Book F must be to the right of book E.",
        "Book E cannot be placed in position 9.",
        "Book B must be adjacent to book C.",
        "Book I must be to the right of book F.",
    ]
    text = "\n".join(f"{i}. {c}" for i, c in enumerate(constraints, 1))
    shelf.joinpath("question.txt").write_text(f"Shelve 9 books.\n\nThe constraints are:\n{text}\n<<<[...]>>>")
    shelf.joinpath("solution.json").write_text(
        json.dumps({"items": items, "constraints_text": text, "correct_solution": solution, "complexity": 10})
    )
    task = TASKS["permutations_and_combinations"]
    (entry,) = published(task, shelf.parent)
    assert len(entry["metadata"]["constraints"]) == 11
    assert task.score(wrap(json.dumps(solution)), entry) == 1.0
    assert task.score(wrap(json.dumps(list("DABCEFGIH"))), entry) == 1.0  # H and I swapped: still valid
    assert task.score(wrap(json.dumps(list("ADBCEFGHI"))), entry) == 0.0
