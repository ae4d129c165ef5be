"""Generic properties over many SymBench tasks at once: registration, references and corruptions, seeding,
JSON entries, hostile answers, speed. Each module's own file (tests/test_symbench_<module>.py) checks its
tasks in depth; the two batteries here were written for two groups of tasks (see symbench_helpers).
"""

from __future__ import annotations

import json
import time

import pytest

from dataset_builders.symbench import TASKS as ALL_SYMBENCH
from dataset_builders.symbench import math_data
from dataset_builders.task import Task
from tests.symbench_helpers import PROCEDURAL_TASK_NAMES, PUZZLE_TASK_NAMES, assert_rejected_quickly, wrap

#: The puzzle, board and planning tasks, by name.
PUZZLES: dict[str, Task] = {t.name: t for t in ALL_SYMBENCH if t.name in PUZZLE_TASK_NAMES}
#: The string, matrix and numeric tasks.
PROCEDURAL: list[Task] = [t for t in ALL_SYMBENCH if t.name in PROCEDURAL_TASK_NAMES]
BY_NAME = {t.name: t for t in PROCEDURAL}


EXPECTED_NAMES = {
    "symbench/matrix_transformation",
    "symbench/new_operator",
    "symbench/number_multiply",
    "symbench/pattern_recognition",
    "symbench/permutations_and_combinations",
    "symbench/pooling",
    "symbench/reversi",
    "symbench/statistical_counting",
    "symbench/string_deletion_and_modification",
    "symbench/string_insertion",
    "symbench/string_splitting",
    "symbench/string_synthesis",
    "symbench/synthesis_decomposition",
    "symbench/letters",
    "symbench/gsm_hard",
    "symbench/math_counting_and_probability",
    "symbench/math_geometry",
}


HOSTILE = [
    "__import__('os').system('echo pwned')",
    "9" * 3_900,
    "(" * 2_000 + "1" + ")" * 1_500,
    "[" * 3_900,
    "1e999999",
    "9**9**9**9",
    "2^9999999",
    "[" + ",".join(["1"] * 1_900) + "]",
    "\n".join(["1,2,3"] * 1_300),
    "{'a': " * 600,
    "0 0, " * 790,
    "lambda: 1",
    "[(1, [0])]*99999999",
    "x" * 1_000_000,
]


@pytest.fixture(scope="module")
def entries() -> dict[str, list[dict]]:
    return {name: list(task.generate(40, seed=0)) for name, task in PUZZLES.items()}


# -- the puzzle, board and planning tasks -----------------------------------------------------------


def test_all_sixteen_tasks_are_registered():
    assert sorted(PUZZLES) == sorted(PUZZLE_TASK_NAMES)
    for task in PUZZLES.values():
        assert task.description and task.source == "symbench"


@pytest.mark.parametrize("name", PUZZLE_TASK_NAMES)
def test_reference_answers_score_one(name, entries):
    task = PUZZLES[name]
    for entry in entries[name]:
        assert task.score(wrap(entry["answer"]), entry) == 1.0, (entry["id"], entry["answer"])


@pytest.mark.parametrize("name", PUZZLE_TASK_NAMES)
def test_corruptions_score_zero(name, entries):
    task = PUZZLES[name]
    for entry in entries[name]:
        wrong = task.corruptions(entry)
        assert len(wrong) >= 3
        for answer in wrong:
            assert answer != entry["answer"]
            assert task.score(wrap(answer), entry) == 0.0, (entry["id"], answer)


@pytest.mark.parametrize("name", PUZZLE_TASK_NAMES)
def test_generation_is_deterministic_and_prefix_stable(name):
    task = PUZZLES[name]
    first = list(task.generate(6, seed=11))
    assert first == list(task.generate(6, seed=11))
    assert first[:3] == list(task.generate(3, seed=11))
    assert [e["question"] for e in first] != [e["question"] for e in task.generate(6, seed=12)]
    assert len({e["id"] for e in first}) == 6


@pytest.mark.parametrize("name", PUZZLE_TASK_NAMES)
def test_entries_are_json_with_uniform_metadata(name, entries):
    batch = entries[name]
    assert json.loads(json.dumps(batch)) == batch
    assert len({tuple(sorted(e["metadata"])) for e in batch}) == 1
    for entry in batch:
        assert entry["task"] == name and "<<<" in entry["question"]
        assert len(entry["answer"]) <= PUZZLES[name].max_answer_chars


@pytest.mark.parametrize("name", PUZZLE_TASK_NAMES)
def test_hostile_answers_are_rejected_quickly(name, entries):
    task = PUZZLES[name]
    entry = entries[name][0]
    for answer in HOSTILE:
        start = time.perf_counter()
        assert task.score(wrap(answer), entry) == 0.0
        assert time.perf_counter() - start < 0.5, answer[:40]
    assert task.score("no answer block at all", entry) == 0.0


@pytest.mark.parametrize("name", PUZZLE_TASK_NAMES)
def test_two_hundred_entries_generate_and_verify_fast(name):
    task = PUZZLES[name]
    start = time.perf_counter()
    batch = list(task.generate(200, seed=5))
    assert all(task.score(wrap(e["answer"]), e) == 1.0 for e in batch)
    # a generous bound: the machine is shared; typical runs take well under half a second
    assert time.perf_counter() - start < 4.0


# -- the string, matrix and numeric tasks -----------------------------------------------------------


def test_task_names_and_descriptions() -> None:
    tasks = PROCEDURAL + math_data.TASKS
    assert {t.name for t in tasks} == EXPECTED_NAMES
    assert len(tasks) == len(EXPECTED_NAMES)
    assert all(t.description and "\n" not in t.description for t in tasks)


@pytest.mark.parametrize("task", PROCEDURAL, ids=lambda t: t.short_name)
def test_references_score_one_and_corruptions_zero(task: Task) -> None:
    entries = list(task.generate(40, seed=0))
    keys = {tuple(sorted(e["metadata"])) for e in entries}
    assert len(keys) == 1, "every entry of a task carries the same metadata keys"
    for e in entries:
        json.dumps(e)  # entries go into HF datasets
        assert "<<<" in e["question"], "the question shows the answer format"
        assert task.score(wrap(e["answer"]), e) == 1.0, (e["id"], e["answer"])
        wrong = task.corruptions(e)
        assert wrong
        for w in wrong:
            assert task.score(wrap(w), e) == 0.0, (e["id"], w, e["answer"])
        assert task.score("no final answer here", e) == 0.0


@pytest.mark.parametrize("task", PROCEDURAL, ids=lambda t: t.short_name)
def test_generation_is_seeded(task: Task) -> None:
    first = list(task.generate(12, seed=7))
    assert first == list(task.generate(12, seed=7))
    assert first[:5] == list(task.generate(5, seed=7)), "entry i does not depend on n"
    assert [e["question"] for e in first] != [e["question"] for e in task.generate(12, seed=8)]
    assert len({e["question"] for e in first}) > 1


@pytest.mark.parametrize("task", PROCEDURAL, ids=lambda t: t.short_name)
def test_parser_bombs_are_rejected_quickly(task: Task) -> None:
    assert_rejected_quickly(task, next(iter(task.generate(1, seed=0))))


def test_generation_is_fast() -> None:
    start = time.perf_counter()
    for task in PROCEDURAL:
        for e in task.generate(200, seed=3):
            assert task.score(wrap(e["answer"]), e) == 1.0
    assert time.perf_counter() - start < 8.0  # about 0.5 s on a laptop core for all 14 tasks
