"""SymBench arithmetic tasks (dataset_builders/symbench/arithmetic.py): levels spanning the published generators,
verdicts (any expression that hits the target scores 1; computed values must be right), published data, hacks.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import re
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from dataset_builders.answer_parsing import evaluate_arithmetic
from dataset_builders.symbench import arithmetic
from dataset_builders.symbench.arithmetic import solve_any_order, solve_fixed_order, solve_fixed_order_one
from dataset_builders.task import GeneratedTask, PublishedDataError, Task
from tests.symbench_helpers import (
    SYMBENCH,
    assert_batch_spans_levels,
    assert_every_level_verifies,
    assert_hedges_score_zero,
    assert_levels_described,
    assert_published_within_levels,
    assert_question_copy_never_scores,
    assert_same_bytes_across_hash_seeds,
    assert_variants_read_back,
    needs_external,
    published_entries,
    wrap,
)

#: Every task of the module, by its full and its short name.
BY_NAME: dict[str, GeneratedTask] = {key: t for t in arithmetic.TASKS for key in (t.name, t.short_name)}


#: Levels per task, as in the published generators' configuration tables.
LEVELS = {"game24": 4, "combinatorial_calculation": 5}


@pytest.fixture(scope="module")
def batches() -> dict[str, list[dict[str, Any]]]:
    """200 seeded entries per task (levels drawn as `generate` draws them), by full and short name."""
    out = {}
    for task in arithmetic.TASKS:
        out[task.name] = out[task.short_name] = list(task.generate(200, seed=0))
    return out


@pytest.fixture(scope="module")
def spread() -> dict[str, list[dict[str, Any]]]:
    """200 entries per task with levels drawn as `generate` draws them by default."""
    return {name: list(BY_NAME[name].generate(200, seed=11)) for name in ["new_operator", "number_multiply"]}


@pytest.fixture(scope="module")
def entries() -> dict[str, list[dict[str, Any]]]:
    """40 seeded entries per task, by full name."""
    return {task.name: list(task.generate(40, seed=0)) for task in arithmetic.TASKS}


def published(name: str) -> list[dict[str, Any]]:
    return published_entries(BY_NAME[name])


def published_folder(task: Task, folder: Path) -> list[dict]:
    items = list(task.load_published(folder))
    errors = [str(i) for i in items if isinstance(i, PublishedDataError)]
    assert not errors, errors
    return items


def test_same_bytes_whatever_the_hash_seed() -> None:
    assert_same_bytes_across_hash_seeds("arithmetic")


# -- game24 and combinatorial calculation: levels and verdicts --------------------------------------


def test_levels_match_the_published_generators() -> None:
    names = ["combinatorial_calculation", "game24"]
    for name in names:
        assert_levels_described(BY_NAME[name], LEVELS[name])


@pytest.mark.parametrize(
    "task", [BY_NAME[n] for n in ["game24", "combinatorial_calculation"]], ids=lambda t: t.short_name
)
def test_every_level_verifies_and_corruptions_fail(task: GeneratedTask) -> None:
    assert_every_level_verifies(task)


@pytest.mark.parametrize("name", ["combinatorial_calculation", "game24"])
def test_two_hundred_entries_span_every_level(name: str, batches) -> None:
    assert_batch_spans_levels(batches[name], LEVELS[name])


def test_game24_spans_counts_and_the_published_range(batches) -> None:
    counts = Counter(len(e["metadata"]["numbers"]) for e in batches["game24"])
    assert sorted(counts) == [4, 5, 6]
    assert max(max(e["metadata"]["numbers"]) for e in batches["game24"]) >= 18  # the published range reaches 19
    for e in batches["game24"]:
        assert solve_any_order(e["metadata"]["numbers"], 24) is not None


def test_combinatorial_calculation_spans_the_five_configurations(batches) -> None:
    seen = {(len(e["metadata"]["numbers"]), e["metadata"]["target"]) for e in batches["combinatorial_calculation"]}
    assert seen == {(3, 10), (4, 24), (5, 69), (5, 78), (6, 100)}


def test_game24_accepts_any_valid_expression():
    task = BY_NAME["symbench/game24"]
    entry = task.entry("t", "q", "(7-8/8)*4", {"numbers": [4, 7, 8, 8], "target": 24})
    for answer in ("(7-8/8)*4", "4*(7-(8/8))", "(7 - 8 / 8) × 4 = 24", "4*(7-8/8)"):
        assert task.score(wrap(answer), entry) == 1.0, answer
    for answer in ("(7-8/8)*4 = 25", "-(8/8-7)*4", "(7-1)*4", "(7-8/8)*4*1", "78/8*4", "(7-8/8)*4+0"):
        assert task.score(wrap(answer), entry) == 0.0, answer


def test_game24_solver_finds_only_exact_solutions():
    assert solve_any_order([1, 1, 1, 1], 24) is None
    found = solve_any_order([3, 3, 8, 8], 24)  # needs fractions: 8/(3-8/3)
    assert found and evaluate_arithmetic(found).value == 24


def test_combinatorial_calculation_accepts_every_ordered_solution(entries):
    task = BY_NAME["symbench/combinatorial_calculation"]
    checked = 0
    for entry in entries["symbench/combinatorial_calculation"]:
        meta = entry["metadata"]
        for expr in solve_fixed_order(meta["numbers"], meta["target"])[:5]:
            tokens = re.findall(r"\d+|[-+*/()]", expr)
            assert task.score(wrap("[" + ", ".join(tokens) + "]"), entry) == 1.0, expr
            assert task.score(wrap(json.dumps(tokens)), entry) == 1.0  # quoted tokens
            checked += 1
    assert checked > len(entries["symbench/combinatorial_calculation"])


def test_fixed_order_search_agrees_with_full_enumeration() -> None:
    rng = random.Random(5)
    for _ in range(150):
        numbers = [rng.randint(1, 9) for _ in range(rng.randint(1, 5))]
        target = rng.choice([10, 24, 69, 78, 100, 0, 7])
        one = solve_fixed_order_one(numbers, target, rng)
        assert (one is None) == (not solve_fixed_order(numbers, target)), (numbers, target)
        if one:
            result = evaluate_arithmetic(one, allow_unary=False)
            assert result.value == target and [int(v) for v in result.literals] == numbers


def test_any_order_search_agrees_with_exact_brute_force() -> None:
    def reachable(values: list[Fraction], target: int) -> bool:
        if len(values) == 1:
            return values[0] == target
        for i, j in itertools.permutations(range(len(values)), 2):
            rest = [values[k] for k in range(len(values)) if k not in (i, j)]
            a, b = values[i], values[j]
            if any(reachable(rest + [v], target) for v in [a + b, a - b, a * b] + ([a / b] if b else [])):
                return True
        return False

    rng = random.Random(4)
    for _ in range(200):
        numbers = [rng.randint(1, 13) for _ in range(rng.randint(1, 4))]
        target = rng.choice([24, 10, 0, 1, 7])
        found = solve_any_order(numbers, target)
        assert (found is not None) == reachable([Fraction(n) for n in numbers], target), (numbers, target)
        if found:
            result = evaluate_arithmetic(found, allow_unary=False)
            assert result.value == target and sorted(result.literals) == sorted(map(Fraction, numbers))


def test_arithmetic_answers_resist_hedges_and_junk(batches) -> None:
    game = BY_NAME["game24"]
    for e in batches["game24"][:30]:
        ans, numbers = e["answer"], e["metadata"]["numbers"]
        for hack in (
            f"{ans} or 24",
            f"{ans}\n24",
            "24",
            f"{ans} = 24 = 25",
            f"({ans})**1",
            f"{ans}+0",
            f"-(-({ans}))",
            f"{ans}; {ans}",
            ans.replace(str(numbers[0]), str(numbers[0]) + "0", 1),
            f"{ans}//1",
            f"{ans} # 24",
        ):
            assert game.score(wrap(hack), e) == 0.0, hack
    combi = BY_NAME["combinatorial_calculation"]
    for e in batches["combinatorial_calculation"][:30]:
        tokens = [t.strip() for t in e["answer"].strip("[]").split(",")]
        numbers = e["metadata"]["numbers"]
        # the first two numbers written as one ("12" for 1 and 2), the rest added
        fused = [f"{numbers[0]}{numbers[1]}"] + [x for n in numbers[2:] for x in ("+", str(n))]
        hacks = [
            "[" + ", ".join(tokens) + "] or [1]",
            "[" + ", ".join(["-", "(", *tokens, ")", "*", "-", "1"]) + "]",
            "[" + ", ".join(tokens + ["*", "1"]) + "]",
            "[" + ", ".join(tokens + ["+", "0"]) + "]",
            "[" + ", ".join(fused) + "]",
            "[" + ", ".join(tokens) + ", #]",
        ]
        if "*" in tokens:
            hacks.append("[" + ", ".join(tokens).replace("*", "**") + "]")
        for hack in (
            *hacks,
            str(e["metadata"]["target"]),
        ):
            assert combi.score(wrap(hack), e) == 0.0, hack


# -- game24 and combinatorial calculation: published data -------------------------------------------


@needs_external
@pytest.mark.parametrize("name", ["combinatorial_calculation", "game24"])
def test_published_samples_fall_inside_the_levels(name: str) -> None:
    assert_published_within_levels(BY_NAME[name])


@pytest.mark.parametrize("name", ["combinatorial_calculation"])
def test_every_generated_variant_reads_back_from_the_published_layout(name: str, tmp_path: Path) -> None:
    assert_variants_read_back(BY_NAME[name], tmp_path)


def test_game24_reads_other_counts_and_the_target_from_the_file_name(tmp_path: Path) -> None:
    task = BY_NAME["game24"]
    (tmp_path / "24_6_number.csv").write_text("Rank,Puzzles,Solutions\n1,1 2 3 4 5 6,\n2,3 4 9 13 15 17,\n")
    (tmp_path / "10_4_number.csv").write_text("Rank,Puzzles,Solutions\n1,1 2 3 4,((1+2)+(3+4))\n")
    items = list(task.load_published(tmp_path))
    assert all(isinstance(i, dict) for i in items) and len(items) == 3
    assert Counter((i["metadata"]["target"], i["metadata"]["complexity"]) for i in items) == {(24, 4): 2, (10, 1): 1}
    ten = next(i for i in items if i["metadata"]["target"] == 10)
    assert "obtain 10" in ten["question"]
    assert task.score(wrap("1+2+3+4"), ten) == 1.0 and task.score(wrap("(1+2)*(3+4)-1*1"), ten) == 0.0
    for e in items:
        assert task.score(wrap(e["answer"]), e) == 1.0


def test_game24_reads_long_published_rows_without_searching_them(tmp_path: Path) -> None:
    """The published generator's count knob also makes rows of dozens of numbers up to 20000."""
    task = BY_NAME["game24"]
    rng = random.Random(0)
    pairs = [rng.randint(1, 20000) for _ in range(29)]
    numbers = [24, 1] + [n for n in pairs for _ in range(2)]
    solution = "24*1" + "".join(f"+({n}-{n})" for n in pairs)
    shown = " ".join(map(str, sorted(numbers)))
    (tmp_path / "24_60_number.csv").write_text(f"Rank,Puzzles,Solutions\n1,{shown},{solution}\n2,{shown},\n")
    start = time.perf_counter()
    good, missing = list(task.load_published(tmp_path))
    assert time.perf_counter() - start < 5
    assert task.score(wrap(solution), good) == 1.0 and good["metadata"]["complexity"] == 0  # beyond the levels
    assert task.score(wrap(solution.replace("24*1", "24+1", 1)), good) == 0.0
    assert isinstance(missing, PublishedDataError) and "none is searched" in str(missing)


def test_bad_game24_rows_are_yielded_as_errors(tmp_path):
    task = BY_NAME["symbench/game24"]
    (tmp_path / "24.csv").write_text(
        "Rank,Puzzles,Solutions\n1,4 7 8 8,(7-8/8)*4\n2,1 1 x 1,\n3,1 1 1 1,\n4,3 3 8 8,\n5,1 2 3 4,1+2+3+4\n"
    )
    items = list(task.load_published(tmp_path))
    good = [i for i in items if isinstance(i, dict)]
    assert [e["id"] for e in good] == ["game24-pub-1", "game24-pub-4"]  # row 4's answer is solved here
    errors = [str(i) for i in items if isinstance(i, PublishedDataError)]
    assert len(errors) == 3 and "row 2" in errors[0] and "row 3" in errors[1] and "row 5" in errors[2]


# -- new operator and number multiply: levels and verdicts ------------------------------------------


@pytest.mark.parametrize("name", ["new_operator", "number_multiply"])
def test_two_hundred_entries_span_every_level_with_one_schema(name: str, spread: dict[str, list[dict]]) -> None:
    task = BY_NAME[name]
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
    for e in BY_NAME["number_multiply"].generate(200, seed=3, complexity=1):
        a, b = e["metadata"]["factors"]
        assert 2 <= abs(a) <= 9 and 2 <= abs(b) <= 9 and len(e["answer"].lstrip("-")) <= 2
    assert {e["answer"].startswith("-") for e in entries} == {True, False}


@pytest.mark.parametrize("name", ["new_operator", "number_multiply"])
def test_references_and_stored_rows_score_one_and_corruptions_zero(name: str) -> None:
    task = BY_NAME[name]
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


def test_references_agree_with_independent_solvers() -> None:
    for e in BY_NAME["new_operator"].generate(60, seed=2):
        m = e["metadata"]
        assert _evaluate(m["expression"], m["definitions"]) == Fraction(m["solution"]), m["expression"]
    for e in BY_NAME["number_multiply"].generate(40, seed=2):
        product = 1
        for v in map(int, re.findall(r"-?\d+", e["question"].split("of", 1)[1].split("?")[0])):
            product *= v
        assert str(product) == e["answer"]


def test_exact_fractions_and_two_decimals_score_one() -> None:
    """Where more than one spelling of the value is right, each scores 1."""
    new_op = BY_NAME["symbench/new_operator"]
    checked = 0
    for e in new_op.generate(60, seed=4):
        exact = e["metadata"]["solution"]
        assert new_op.score(wrap(exact), e) == 1.0  # the exact fraction, e.g. 11/6
        if "/" in exact:
            value = float(eval_fraction(exact))
            assert new_op.score(wrap(f"{value:.2f}"), e) == 1.0
            if abs(round(value, 1) - value) > 1e-9:
                assert new_op.score(wrap(f"{value:.1f}"), e) == 0.0, "one decimal place is not enough"
            checked += 1
    assert checked > 3


def eval_fraction(text: str) -> float:
    num, den = text.split("/")
    return int(num) / int(den)


def test_other_spellings_score_one() -> None:
    spellings = {
        "symbench/number_multiply": lambda a: f"{int(a):,}",
    }
    for name, respell in spellings.items():
        task = BY_NAME[name]
        for e in task.generate(5, seed=2):
            assert task.score(wrap(respell(e["answer"])), e) == 1.0, (name, respell(e["answer"]))


def test_numbers_in_latex_and_sentence_punctuation_are_read() -> None:
    new_op = BY_NAME["symbench/new_operator"]
    for e in new_op.generate(40, seed=5):
        value = Fraction(e["metadata"]["solution"])
        latex = f"\\frac{{{value.numerator}}}{{{value.denominator}}}"
        for ok in (latex, f"{e['answer']}.", f"**{e['answer']}**", f"`{e['answer']}`"):
            assert new_op.score(wrap(ok), e) == 1.0, ok


# -- new operator and number multiply: hacks --------------------------------------------------------


@pytest.mark.parametrize("name", ["new_operator", "number_multiply"])
def test_hedged_padded_and_partial_answers_score_zero(name: str) -> None:
    assert_hedges_score_zero(BY_NAME[name])


def test_new_operator_needs_the_value_not_an_expression() -> None:
    task = BY_NAME["new_operator"]
    for e in task.generate(20, seed=8, complexity=5):
        value = Fraction(e["metadata"]["solution"])
        for hack in (e["metadata"]["expression"], f"{value.numerator}/{value.denominator}+0", f"{value}=={value}"):
            assert task.score(wrap(hack), e) == 0.0, hack


def test_rounded_decimals_must_round_or_truncate_the_value() -> None:
    new_op = BY_NAME["symbench/new_operator"]
    checked = 0
    for e in new_op.generate(60, seed=4):
        value = Fraction(e["metadata"]["solution"])
        if value.denominator == 1 or (value * 100).denominator == 1:
            continue
        above = format(math.ceil(value * 100) / 100 + 0.01, ".2f")
        assert new_op.score(wrap(above), e) == 0.0, (value, above)
        checked += 1
    assert checked > 3


@pytest.mark.parametrize("name", ["new_operator", "number_multiply"])
def test_a_copy_of_the_question_never_scores(name: str) -> None:
    assert_question_copy_never_scores(BY_NAME[name])


# -- new operator and number multiply: published data -----------------------------------------------


@needs_external
@pytest.mark.parametrize("name", ["new_operator", "number_multiply"])
def test_local_published_samples_score_one(name: str) -> None:
    task = BY_NAME[name]
    entries = [e for folder in task.published_folders for e in published_folder(task, SYMBENCH / folder)]
    assert len(entries) >= 20
    for e in entries:
        assert task.score(wrap(e["answer"]), e) == 1.0, e["id"]
        for w in task.corruptions(e):
            assert task.score(wrap(w), e) == 0.0, (e["id"], w)


def test_published_new_operator_and_multiply_variants(tmp_path: Path) -> None:
    # new_operator: the published_folder single application (level 1) and the chained one, stored as floats
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
    task = BY_NAME["new_operator"]
    first, second = published_folder(task, ops)
    assert task.score(wrap("10/7"), first) == 1.0 and task.score(wrap("1.43"), first) == 1.0
    assert task.score(wrap("1.44"), first) == 0.0
    assert task.score(wrap("61"), second) == 1.0 and task.score(wrap("62"), second) == 0.0

    # number_multiply: other digit folders of the published_folder layout
    mult = tmp_path / "number_multiply"
    for folder, factors in (("digit_16_16", [-8342749102938475, 1029384756473829]), ("digit_1_1", [7, -3])):
        sample = mult / folder / "sample_0"
        sample.mkdir(parents=True)
        product = factors[0] * factors[1]
        sample.joinpath("input_prompt_1.txt").write_text(f"What is the result of {factors[0]}*{factors[1]}?")
        sample.joinpath("target_answer.txt").write_text(str(product))
    task = BY_NAME["number_multiply"]
    small, big = published_folder(task, mult)
    assert big["id"] != small["id"]
    assert task.score(wrap(big["answer"]), big) == 1.0 and task.score(wrap("-21"), small) == 1.0
    assert task.score(wrap(str(int(big["answer"]) + 1)), big) == 0.0
