"""SymBench deduction puzzles (dataset_builders/symbench/deduction.py): levels spanning the published generators,
verdicts (any answer consistent with every clue scores 1), published data, hacks.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from dataset_builders.answer_parsing import parse_int_sequence
from dataset_builders.symbench import deduction
from dataset_builders.symbench.deduction import (
    count_assignments,
    duel_result,
    feedback_key,
    full_feedback,
    lock_feedback,
    parse_equation,
)
from dataset_builders.task import GeneratedTask
from tests.symbench_helpers import (
    assert_batch_spans_levels,
    assert_every_level_verifies,
    assert_levels_described,
    assert_published_within_levels,
    assert_same_bytes_across_hash_seeds,
    assert_variants_read_back,
    needs_external,
    published_entries,
    wrap,
)

#: Every task of the module, by its full and its short name.
BY_NAME: dict[str, GeneratedTask] = {key: t for t in deduction.TASKS for key in (t.name, t.short_name)}


#: Levels per task, as in the published generators' configuration tables.
LEVELS = {"logical_equation": 10, "cryptanalysis": 5, "constrained_linear_arrangement": 3}


@pytest.fixture(scope="module")
def batches() -> dict[str, list[dict[str, Any]]]:
    """200 seeded entries per task (levels drawn as `generate` draws them), by full and short name."""
    out = {}
    for task in deduction.TASKS:
        out[task.name] = out[task.short_name] = list(task.generate(200, seed=0))
    return out


@pytest.fixture(scope="module")
def entries() -> dict[str, list[dict[str, Any]]]:
    """40 seeded entries per task, by full name."""
    return {task.name: list(task.generate(40, seed=0)) for task in deduction.TASKS}


def published(name: str) -> list[dict[str, Any]]:
    return published_entries(BY_NAME[name])


def test_same_bytes_whatever_the_hash_seed() -> None:
    assert_same_bytes_across_hash_seeds("deduction")


# -- levels -----------------------------------------------------------------------------------------


def test_levels_match_the_published_generators() -> None:
    names = ["constrained_linear_arrangement", "cryptanalysis", "logical_equation"]
    for name in names:
        assert_levels_described(BY_NAME[name], LEVELS[name])


@pytest.mark.parametrize(
    "task",
    [BY_NAME[n] for n in ["logical_equation", "cryptanalysis", "constrained_linear_arrangement"]],
    ids=lambda t: t.short_name,
)
def test_every_level_verifies_and_corruptions_fail(task: GeneratedTask) -> None:
    assert_every_level_verifies(task)


@pytest.mark.parametrize("name", ["constrained_linear_arrangement", "cryptanalysis", "logical_equation"])
def test_two_hundred_entries_span_every_level(name: str, batches) -> None:
    assert_batch_spans_levels(batches[name], LEVELS[name])


def test_logical_equation_spans_letters_and_clue_kinds_with_one_solution(batches) -> None:
    batch = batches["logical_equation"]
    assert {len(e["metadata"]["letters"]) for e in batch} == {9, 11, 13, 15}
    kinds = Counter(parse_equation(eq)[0] for e in batch for eq in e["metadata"]["equations"])
    assert set(kinds) == {"+", "-", "*", ">"} and kinds[">"] < kinds["*"]
    floors = dict(enumerate([7, 8, 10, 11, 10, 11, 12, 12, 13, 14], 1))
    at_floor = 0
    for e in batch:
        meta = e["metadata"]
        assert len(meta["equations"]) >= floors[meta["complexity"]]
        at_floor += len(meta["equations"]) == floors[meta["complexity"]]
        equations = [parse_equation(eq) for eq in meta["equations"]]
        assert count_assignments(meta["letters"], meta["numbers"], equations, budget=10**7) == 1
    assert at_floor > len(batch) // 3


def test_cryptanalysis_spans_the_guess_counts_with_one_code(batches) -> None:
    batch = batches["cryptanalysis"]
    counts = Counter(len(e["metadata"]["guesses"]) for e in batch)
    assert min(counts) == 3 and max(counts) == 18
    clauses = " ".join(f for e in batch for f in e["metadata"]["feedback"])
    for clause in ("too large", "too small", "too early", "too late", "wrong position", "correct position"):
        assert clause in clauses
    # exactly one code fits every clue, checked on the clause text itself (number and letter clauses
    # name their half, so each half can be checked on its own)
    for e in sorted(batch, key=lambda e: len(e["metadata"]["guesses"]))[::10]:
        clues = [(g, f.split("; ")) for g, f in zip(e["metadata"]["guesses"], e["metadata"]["feedback"], strict=True)]
        digits = [
            p
            for p in deduction._DIGIT_PAIRS
            if all(deduction.lock_feedback(g[:2], p, "number") == [c for c in f if "number" in c] for g, f in clues)
        ]
        letters = [
            p
            for p in deduction._LETTER_PAIRS
            if all(deduction.lock_feedback(g[2:], p, "letter") == [c for c in f if "letter" in c] for g, f in clues)
        ]
        assert len(digits) == len(letters) == 1, e["id"]
        assert json.loads(e["answer"]) == list(digits[0] + letters[0])


def test_card_duels_span_games_and_rounds(batches) -> None:
    seen = {(e["metadata"]["game"], len(e["metadata"]["moves"])) for e in batches["constrained_linear_arrangement"]}
    published_configurations = {("elements", 3), ("elements", 4), ("elements", 5), ("stick_game", 4)}
    published_configurations |= {("animal", 3), ("animal", 4), ("animal", 5)}
    assert published_configurations <= seen


def test_uniqueness_count_matches_brute_force() -> None:
    rng = random.Random(2)
    for _ in range(300):
        n = rng.randint(2, 6)
        letters = [chr(65 + i) for i in range(n)]
        numbers = (
            sorted(rng.sample(range(1, 40), n)) if rng.random() < 0.7 else sorted(rng.randint(1, 6) for _ in range(n))
        )
        secret = dict(zip(letters, rng.sample(numbers, n), strict=True))
        texts = []
        for _ in range(rng.randint(0, n + 1)):
            x, y = rng.sample(letters, 2)
            a, b = secret[x], secret[y]
            kind = rng.choice("+-*>=")
            if kind == "*" and (10 * a) % b == 0:
                texts.append(f"{x} = {a / b}{y}")
            elif kind == "=" and a == b:
                texts.append(f"{x} = {y}")
            elif kind in "+-":
                texts.append(f"{x} {kind} {y} = {a + b if kind == '+' else a - b}")
            elif kind == ">" and a != b:
                texts.append(f"{x} > {y}" if a > b else f"{x} < {y}")
        equations = [parse_equation(t) for t in texts]
        brute = sum(
            all(deduction.equation_holds(eq, v[eq[1]], v[eq[2]]) for eq in equations)
            for v in (dict(zip(letters, p, strict=True)) for p in set(itertools.permutations(numbers)))
        )
        assert count_assignments(letters, numbers, equations, limit=3) == min(brute, 3), texts


# -- any consistent answer scores 1 -----------------------------------------------------------------


def test_logical_equation_accepts_any_consistent_assignment():
    task = BY_NAME["symbench/logical_equation"]
    meta = {"letters": ["A", "B", "C"], "numbers": [1, 2, 3], "equations": ["A > B", "C = 3.0B"]}
    entry = task.entry("t", "q", "[2, 1, 3]", meta)
    assert task.score(wrap("[2, 1, 3]"), entry) == 1.0
    meta2 = {"letters": ["A", "B", "C"], "numbers": [1, 2, 3], "equations": ["A > B"]}
    entry2 = task.entry("t", "q", "[2, 1, 3]", meta2)
    for answer, ok in (
        ("[2, 1, 3]", 1.0),
        ("[3, 1, 2]", 1.0),
        ("3, 2, 1", 1.0),
        ("[1, 2, 3]", 0.0),
        ("[3, 3, 1]", 0.0),
    ):
        assert task.score(wrap(answer), entry2) == ok, answer


def test_cryptanalysis_accepts_any_consistent_code():
    task = BY_NAME["symbench/cryptanalysis"]
    guesses = ["12AB"]
    entry = task.entry(
        "t", "q", '["3", "4", "C", "D"]', {"guesses": guesses, "feedback": [full_feedback("12AB", "34CD")]}
    )
    for answer in ('["3", "4", "C", "D"]', '["5", "6", "E", "F"]', "['9', '8', 'z', 'y']", "34CD"):
        assert task.score(wrap(answer), entry) == 1.0, answer
    for answer in ('["1", "4", "C", "D"]', '["3", "3", "C", "D"]', '["3", "4", "C"]', '["0", "4", "C", "D"]'):
        assert task.score(wrap(answer), entry) == 0.0, answer


def test_cryptanalysis_fast_key_agrees_with_the_clause_text():
    rng = random.Random(0)
    pairs = ["".join(p) for p in itertools.permutations("ABCDEFGH", 2)]
    for _ in range(3_000):
        guess, a, b = rng.choice(pairs), rng.choice(pairs), rng.choice(pairs)
        same_text = lock_feedback(guess, a, "letter") == lock_feedback(guess, b, "letter")
        assert (feedback_key(guess, a) == feedback_key(guess, b)) == same_text


def test_constrained_linear_arrangement_accepts_every_consistent_sequence(entries):
    task = BY_NAME["symbench/constrained_linear_arrangement"]
    several = 0
    for entry in entries["symbench/constrained_linear_arrangement"]:
        meta = entry["metadata"]
        cards = {"elements": "ABCDE", "animal": "ABCDEFGH", "stick_game": "ABCD"}[meta["game"]]
        consistent = 0
        for option in itertools.permutations(cards, len(meta["moves"])):
            ok = all(
                duel_result(meta["game"], m, t) == r
                for m, t, r in zip(meta["moves"], option, meta["results"], strict=True)
            )
            assert task.score(wrap(",".join(option)), entry) == float(ok)
            consistent += ok
        several += consistent > 1
    assert several > 0


def test_duel_rules_follow_the_published_examples():
    assert duel_result("elements", "B", "C") == "loss"  # B generates C
    assert duel_result("elements", "C", "B") == "draw"  # the opponent's card generating yours is a draw
    assert duel_result("elements", "C", "E") == "win"  # C overcomes E
    assert duel_result("animal", "H", "A") == "win" and duel_result("animal", "A", "H") == "loss"
    assert duel_result("stick_game", "A", "C") == "draw" and duel_result("stick_game", "D", "A") == "win"


# -- hacks ------------------------------------------------------------------------------------------


def test_deduction_answers_resist_hedges_and_partial_answers(batches) -> None:
    cases = {
        "logical_equation": lambda a: [a + " or " + a, a[:-1] + ", 1]", a.replace("[", "[A=").replace(", ", ", B=", 1)],
        "cryptanalysis": lambda a: [a + ' or ["1", "2", "A", "B"]', a.replace('"', "")[:-3] + "]", a + a],
        "constrained_linear_arrangement": lambda a: [a + " or " + a, a + ",A", a.replace(",", " ")],
    }
    for name, hacks in cases.items():
        task = BY_NAME[name]
        for e in batches[name][:25]:
            for hack in hacks(e["answer"]):
                assert task.score(wrap(hack), e) == 0.0, (name, hack)


def test_answers_that_skip_one_clue_score_zero(batches) -> None:
    """A policy that drops one clue finds another answer; the corruptions hold one, and it scores 0."""
    equation_task, lock_task = BY_NAME["logical_equation"], BY_NAME["cryptanalysis"]
    skipping = 0
    for e in batches["logical_equation"][:40]:
        meta = e["metadata"]
        equations = [parse_equation(t) for t in meta["equations"]]
        for wrong in equation_task.corruptions(e):
            values = parse_int_sequence(wrong) if wrong.strip("[]") else []
            if sorted(values) != sorted(meta["numbers"]):
                continue
            value = dict(zip(meta["letters"], values, strict=True))
            kept = sum(deduction.equation_holds(eq, value[eq[1]], value[eq[2]]) for eq in equations)
            if kept == len(equations) - 1:
                skipping += 1
                assert equation_task.score(wrap(wrong), e) == 0.0
                break
    assert skipping >= 30
    skipping = 0
    for e in batches["cryptanalysis"][:40]:
        meta = e["metadata"]
        for wrong in lock_task.corruptions(e):
            code = "".join(c for c in wrong if c.isalnum())
            if len(code) != 4:
                continue
            kept = sum(
                deduction.full_feedback(g, code) == f for g, f in zip(meta["guesses"], meta["feedback"], strict=True)
            )
            if kept == len(meta["guesses"]) - 1:
                skipping += 1
                assert lock_task.score(wrap(wrong), e) == 0.0
                break
    assert skipping >= 30


# -- published data ---------------------------------------------------------------------------------


@needs_external
@pytest.mark.parametrize("name", ["constrained_linear_arrangement", "cryptanalysis", "logical_equation"])
def test_published_samples_fall_inside_the_levels(name: str) -> None:
    assert_published_within_levels(BY_NAME[name])


@pytest.mark.parametrize("name", ["constrained_linear_arrangement", "cryptanalysis", "logical_equation"])
def test_every_generated_variant_reads_back_from_the_published_layout(name: str, tmp_path: Path) -> None:
    assert_variants_read_back(BY_NAME[name], tmp_path)


def test_logical_equation_reads_equality_clues_and_repeated_numbers(tmp_path: Path) -> None:
    """The published generator's default number set repeats a value and then emits 'A = C' clues."""
    task = BY_NAME["logical_equation"]
    folder = tmp_path / "sample_5_3_0"
    folder.mkdir()
    (folder / "question.txt").write_text(
        "Calculate the number for each letter. There are 5 letters A, B, C, D, E, each representing one of the "
        "numbers 1, 1, 3, 4, 5. The system of inequalities is satisfied as follows:\n1. A = C\n2. B - D = 1\n"
        "3. E = 3.0A\n4. B > E\n\nReturn your answer with the format <<<list of values>>>."
    )
    (folder / "solution.json").write_text("[1, 5, 1, 4, 3]")
    (e,) = task.load_published(tmp_path)
    assert task.score(wrap("[1, 5, 1, 4, 3]"), e) == 1.0
    for wrong in ("[1, 5, 3, 4, 1]", "[3, 5, 3, 4, 1]", "[1, 5, 1, 4]", "[1, 4, 1, 5, 3]"):
        assert task.score(wrap(wrong), e) == 0.0, wrong


def test_generated_duels_are_nearly_forced_and_the_format_example_is_no_guess(batches) -> None:
    """Red team F4: one duel had 18 right answers out of 24, and 'A,B,C' (the question's own example)
    scored 1 on 6 of 200. Now at most MAX_DUEL_ANSWERS sequences fit, and the example never does."""
    task = BY_NAME["symbench/constrained_linear_arrangement"]
    for entry in batches["constrained_linear_arrangement"]:
        meta = entry["metadata"]
        cards, n = deduction._GAMES[meta["game"]][0], len(meta["moves"])
        right = [p for p in itertools.permutations(cards, n) if task.score(wrap(",".join(p)), entry) == 1.0]
        assert 1 <= len(right) <= deduction.MAX_DUEL_ANSWERS, (entry["id"], right)
        assert task.score(wrap("A,B,C"), entry) == 0.0, entry["id"]
    assert deduction.count_duel_answers("animal", ["A", "B", "C"], ["win", "win", "win"], 100) > 2  # what is redrawn
