"""SymBench puzzle levels (dataset_builders/symbench/puzzles.py): every published level and variant is generated,
verifies by rule, reads back from the published layout, and resists the answers a reward-hungry policy tries.

The shared checks over many modules (contract, hostile inputs, the published samples in general) live in
test_symbench_puzzles.py; this file checks what each generator produces per level against the published
generators' settings (CodeSteer-v1.0 create_dataset_*.py) and the published samples.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from dataset_builders.answer_parsing import evaluate_arithmetic
from dataset_builders.symbench import deduction as puzzles
from dataset_builders.symbench.deduction import (
    PRODUCT_RULE,
    SUM_RULE,
    count_assignments,
    mahjong_final,
    parse_equation,
    solve_any_order,
    solve_fixed_order,
    solve_fixed_order_one,
)
from dataset_builders.task import FLAWED_REFERENCE, FLAWED_REFERENCE_REASON, GeneratedTask, PublishedDataError

ROOT = Path(__file__).parents[1]
SYMBENCH = ROOT / ".." / "shared" / "external" / "symbench"
needs_external = pytest.mark.skipif(
    not SYMBENCH.is_dir(), reason="shared/external/symbench (the paper's published data) is absent"
)
BY_NAME: dict[str, GeneratedTask] = {t.short_name: t for t in puzzles.TASKS}
#: Levels per family, as in the published generators' configuration tables.
LEVELS = {
    "game24": 4,
    "combinatorial_calculation": 5,
    "logical_equation": 10,
    "cryptanalysis": 5,
    "constrained_linear_arrangement": 3,
    "logic_puzzle": 10,
    "mahjong_pattern": 5,
}


def wrap(answer: str) -> str:
    return f"Working it out.\n<<<{answer}>>>"


@pytest.fixture(scope="module")
def batches() -> dict[str, list[dict[str, Any]]]:
    return {name: list(task.generate(200, seed=0)) for name, task in BY_NAME.items()}


def published(name: str) -> list[dict[str, Any]]:
    task = BY_NAME[name]
    items = [item for folder in task.published_folders for item in task.load_published(SYMBENCH / folder)]
    assert items and not [i for i in items if isinstance(i, PublishedDataError)]
    return items


# -- every family, every level ------------------------------------------------------------------


def test_levels_match_the_published_generators() -> None:
    assert {name: task.complexity_levels for name, task in BY_NAME.items()} == LEVELS
    for task in BY_NAME.values():
        described = [task.level_description(level) for level in range(1, task.complexity_levels + 1)]
        assert all(described) and len(set(described)) == len(described), task.name


@pytest.mark.parametrize("task", puzzles.TASKS, ids=lambda t: t.short_name)
def test_every_level_verifies_and_corruptions_fail(task: GeneratedTask) -> None:
    for level in range(1, task.complexity_levels + 1):
        for e in task.generate(6, seed=level, complexity=level):
            assert e["metadata"]["complexity"] == level
            assert task.score(wrap(e["answer"]), e) == 1.0, (level, e["answer"])
            wrong = task.corruptions(e)
            assert len(wrong) >= 4
            for w in wrong:
                assert task.score(wrap(w), e) == 0.0, (level, w, e["answer"])


@pytest.mark.parametrize("name", sorted(LEVELS))
def test_two_hundred_entries_span_every_level(name: str, batches) -> None:
    levels = Counter(e["metadata"]["complexity"] for e in batches[name])
    assert sorted(levels) == list(range(1, LEVELS[name] + 1))
    assert min(levels.values()) >= 200 // LEVELS[name] // 3  # drawn uniformly, not piled on one level


def test_same_seed_gives_the_same_bytes_whatever_the_hash_seed() -> None:
    script = (
        "import hashlib, json\n"
        "from dataset_builders.symbench.deduction import TASKS\n"
        "h = hashlib.sha256()\n"
        "for t in TASKS:\n"
        "    h.update(json.dumps(list(t.generate(25, seed=3)), sort_keys=True).encode())\n"
        "print(h.hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-2000:]
        digests.add(run.stdout.strip())
    here = hashlib.sha256()
    for t in puzzles.TASKS:
        here.update(json.dumps(list(t.generate(25, seed=3)), sort_keys=True).encode())
    assert digests == {here.hexdigest()}


# -- structural variants in 200 seeded entries ------------------------------------------------


def test_game24_spans_counts_and_the_published_range(batches) -> None:
    counts = Counter(len(e["metadata"]["numbers"]) for e in batches["game24"])
    assert sorted(counts) == [4, 5, 6]
    assert max(max(e["metadata"]["numbers"]) for e in batches["game24"]) >= 18  # the published range reaches 19
    for e in batches["game24"]:
        assert solve_any_order(e["metadata"]["numbers"], 24) is not None


def test_combinatorial_calculation_spans_the_five_configurations(batches) -> None:
    seen = {(len(e["metadata"]["numbers"]), e["metadata"]["target"]) for e in batches["combinatorial_calculation"]}
    assert seen == {(3, 10), (4, 24), (5, 69), (5, 78), (6, 100)}


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
            for p in puzzles._DIGIT_PAIRS
            if all(puzzles.lock_feedback(g[:2], p, "number") == [c for c in f if "number" in c] for g, f in clues)
        ]
        letters = [
            p
            for p in puzzles._LETTER_PAIRS
            if all(puzzles.lock_feedback(g[2:], p, "letter") == [c for c in f if "letter" in c] for g, f in clues)
        ]
        assert len(digits) == len(letters) == 1, e["id"]
        assert json.loads(e["answer"]) == list(digits[0] + letters[0])


def test_card_duels_span_games_and_rounds(batches) -> None:
    seen = {(e["metadata"]["game"], len(e["metadata"]["moves"])) for e in batches["constrained_linear_arrangement"]}
    published_configurations = {("elements", 3), ("elements", 4), ("elements", 5), ("stick_game", 4)}
    published_configurations |= {("animal", 3), ("animal", 4), ("animal", 5)}
    assert published_configurations <= seen


def test_logic_puzzle_spans_sizes_and_both_rules(batches) -> None:
    batch = batches["logic_puzzle"]
    sizes = {(len(e["metadata"]["grid"]), e["metadata"]["pick"], e["metadata"]["rule"]) for e in batch}
    assert sizes == {
        (2, 3, SUM_RULE),
        (3, 4, SUM_RULE),
        (4, 6, PRODUCT_RULE),
        (5, 9, PRODUCT_RULE),
        (5, 10, PRODUCT_RULE),
        (6, 12, PRODUCT_RULE),
        (7, 16, PRODUCT_RULE),
        (8, 18, PRODUCT_RULE),
        (9, 20, PRODUCT_RULE),
        (10, 25, PRODUCT_RULE),
    }
    negative_picks = 0
    for e in batch:
        meta = e["metadata"]
        cells = [tuple(map(int, pair.split())) for pair in e["answer"].split(", ")]
        values = [meta["grid"][r][c] for r, c in cells]
        negative_picks += any(v < 0 for v in values)
        if meta["rule"] == SUM_RULE:
            assert min(map(min, meta["grid"])) >= 1
        assert "product" in e["question"] if meta["rule"] == PRODUCT_RULE else "sum" in e["question"]
    assert negative_picks > len(batch) // 3


def test_mahjong_spans_rounds_rules_and_verdicts(batches) -> None:
    batch = batches["mahjong_pattern"]
    assert {(len(e["metadata"]["adds"]), e["metadata"]["chi"]) for e in batch} == {
        (1, False),
        (2, False),
        (3, True),
        (4, True),
        (5, True),
    }
    assert {e["answer"] for e in batch if e["metadata"]["chi"]} == {"0", "1", "2"}
    assert {e["answer"] for e in batch if not e["metadata"]["chi"]} == {"0", "1"}
    for e in batch:
        assert max(Counter(e["metadata"]["initial"]).values()) <= 2  # as in the published hands


# -- verifiers against brute force --------------------------------------------------------------


def test_logic_puzzle_product_rule_matches_brute_force() -> None:
    task = BY_NAME["logic_puzzle"]
    for e in task.generate(2, seed=9, complexity=3):
        grid, pick, first = e["metadata"]["grid"], e["metadata"]["pick"], tuple(e["metadata"]["first"])
        cells = [(r, c) for r in range(4) for c in range(4)]
        valid = 0
        for chosen in itertools.combinations(cells, pick):
            products: dict[tuple[str, int], int] = {}
            for r, c in chosen:
                products[("r", r)] = products.get(("r", r), 1) * grid[r][c]
                products[("c", c)] = products.get(("c", c), 1) * grid[r][c]
            distinct = len({grid[r][c] for r, c in chosen}) == pick
            ok = first in chosen and distinct and min(products.values()) > 0
            assert task.score(wrap(", ".join(f"{r} {c}" for r, c in chosen)), e) == float(ok)
            valid += ok
        assert valid >= 1


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
            all(puzzles.equation_holds(eq, v[eq[1]], v[eq[2]]) for eq in equations)
            for v in (dict(zip(letters, p, strict=True)) for p in set(itertools.permutations(numbers)))
        )
        assert count_assignments(letters, numbers, equations, limit=3) == min(brute, 3), texts


# -- published layout: the shared samples and every variant of the published generators ----------


@needs_external
@pytest.mark.parametrize("name", sorted(LEVELS))
def test_published_samples_fall_inside_the_levels(name: str) -> None:
    """Each shared published sample matches one generator level, recorded as its complexity; where the
    published generator stores its own level with the same meaning, the two agree."""
    for e in published(name):
        assert 1 <= e["metadata"]["complexity"] <= LEVELS[name], (e["id"], e["metadata"])
        if name in ("logic_puzzle", "mahjong_pattern"):
            folder = SYMBENCH / BY_NAME[name].published_folders[0] / e["id"].split("-pub-")[1]
            stored = json.loads((folder / "solution.json").read_text())["complexity"]
            assert e["metadata"]["complexity"] == stored, e["id"]


def _published_logic_question(grid: list[list[int]], pick: int, rule: str) -> str:
    """A question in the published generator's wording (the reader must parse that text, not ours)."""
    low, high = min(map(min, grid)), max(map(max, grid))
    kept = (
        "The sum of the selected numbers in each row and each column should be less than or equal to 4. "
        if rule == SUM_RULE
        else "The product of each row and column of the selected number must be greater than 0. "
    )
    n = len(grid)
    rows = "\n".join(", ".join(map(str, row)) for row in grid)
    return (
        f"Given a {n}*{n} grid where each cell contains a number (between {low} to {high}), you must select {pick} "
        f"different numbers from these cells. {kept}The numbers in the same row are separated by ','.\n"
        f"Using the number {grid[0][n - 1]} in the top-rightmost square (0,{n - 1}) as the first selected number\n"
        f"{rows}\n\nReturn your answer with the format <<<list of selected number positions>>>."
    )


def _write_published(root: Path, name: str, e: dict[str, Any], sample: str) -> None:
    """`e` (a generated entry) stored the way the published generator of its family stores a sample."""
    meta, folder = e["metadata"], root / sample
    folder.mkdir(parents=True)
    question = e["question"]
    if name == "logic_puzzle":
        cells = [list(map(int, pair.split())) for pair in e["answer"].split(", ")]
        kind = "sum_le_4" if meta["rule"] == SUM_RULE else "product_gt_0"
        data: Any = {
            "grid": meta["grid"],
            "solution": cells,
            "complexity": meta["complexity"],
            "constraints": {"type": kind},
        }
        question = _published_logic_question(meta["grid"], meta["pick"], meta["rule"])
    elif name == "combinatorial_calculation":
        tokens = [t.strip() for t in e["answer"].strip("[]").split(",")]
        data = {"numbers": meta["numbers"], "target": meta["target"], "solution": tokens, "complexity": 5}
    elif name == "logical_equation":
        data = json.loads(e["answer"])
    elif name == "cryptanalysis":
        data = {"answer": json.loads(e["answer"])}
    elif name == "constrained_linear_arrangement":
        data = {
            "game_type": meta["game"],
            "player_moves": meta["moves"],
            "solution": e["answer"].split(","),
            "results": meta["results"],
            "complexity": 5,
        }
    else:  # mahjong: the published file also stores a removal for the last round
        removes = meta["removes"] + [meta["initial"][0]]
        rounds = [{"add": a, "remove": r} for a, r in zip(meta["adds"], removes, strict=True)]
        data = {"initial_cards": meta["initial"], "rounds": rounds, "solution": int(e["answer"]), "complexity": 5}
    (folder / "question.txt").write_text(question)
    (folder / "solution.json").write_text(json.dumps(data, indent=2))


@pytest.mark.parametrize("name", sorted(set(LEVELS) - {"game24"}))
def test_every_generated_variant_reads_back_from_the_published_layout(name: str, tmp_path: Path) -> None:
    task = BY_NAME[name]
    originals = {}
    for level in range(1, task.complexity_levels + 1):
        for i, e in enumerate(task.generate(2, seed=level, complexity=level)):
            originals[f"sample_{level}_{i}"] = e
            _write_published(tmp_path, name, e, f"sample_{level}_{i}")
    items = list(task.load_published(tmp_path))
    assert not [str(i) for i in items if isinstance(i, PublishedDataError)]
    assert len(items) == len(originals)
    for e in items:
        original = originals[e["id"].split("-pub-")[1]]
        assert e["metadata"].get(FLAWED_REFERENCE, False) is False
        read, made = dict(e["metadata"]), dict(original["metadata"])
        if name == "logical_equation":
            # the levels of one letter count differ only in their clue floor, and clues added past a
            # floor for uniqueness can reach the next level's: the structure reads at least as hard
            assert read.pop("complexity") >= made.pop("complexity")
        assert read == made  # the level too, read off the structure
        assert task.score(wrap(e["answer"]), e) == 1.0
        for w in task.corruptions(e):
            assert task.score(wrap(w), e) == 0.0, (e["id"], w)


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


def test_logic_puzzle_published_product_reference_that_breaks_the_rule_is_flagged(tmp_path: Path) -> None:
    """The published generator caches its rule check by cell positions across grids, so a stored
    selection can break its own grid's rule; such a sample is kept, flagged and explained."""
    task = BY_NAME["logic_puzzle"]
    grid = [[2, 3, -1, 4], [5, -2, 6, 1], [7, 8, -3, 2], [1, -4, 3, 9]]
    stored = [[0, 3], [1, 0], [2, 1], [3, 2], [0, 2], [1, 1]]  # row 0: 4 * -1 < 0
    folder = tmp_path / "sample_0"
    folder.mkdir()
    (folder / "question.txt").write_text(_published_logic_question(grid, 6, PRODUCT_RULE))
    (folder / "solution.json").write_text(json.dumps({"grid": grid, "solution": stored, "complexity": 3}))
    (e,) = task.load_published(tmp_path)
    assert e["metadata"][FLAWED_REFERENCE] is True
    assert "the product of column 1 is -16, not > 0" in e["metadata"][FLAWED_REFERENCE_REASON]
    assert task.score(wrap(e["answer"]), e) == 1.0
    assert task.score(wrap("0 3, 1 0, 2 1, 3 2, 1 2, 2 3"), e) == 1.0  # keeps the rules
    assert task.score(wrap("0 3, 1 0, 2 1, 3 1, 1 2, 2 3"), e) == 0.0  # column 1: 8 * -4 < 0


def test_logic_puzzle_question_without_a_rule_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "sample_0"
    folder.mkdir()
    (folder / "question.txt").write_text(
        "Given a 2*2 grid, select 3 different numbers. square (0,1) as the first selected number"
    )
    (folder / "solution.json").write_text(json.dumps({"grid": [[1, 2], [3, 1]], "solution": [[0, 1]]}))
    (error,) = BY_NAME["logic_puzzle"].load_published(tmp_path)
    assert isinstance(error, PublishedDataError) and "exactly one rule" in str(error)


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


def test_mahjong_published_chi_miss_is_flagged(tmp_path: Path) -> None:
    """The published Chi check looks at three sorted neighbours, so a pair between the run's cards hides a
    Chi (hand A, B, B and a new C); the stored 0 breaks the stated rule and is kept as flagged."""
    task = BY_NAME["mahjong_pattern"]
    initial = "ABBDFHJLNPRTV"
    assert mahjong_final(initial, ["C"], [], chi=True) == 2
    question = (
        "Rules: Peng (1), Chi (2) when two cards in hand and the new card form a consecutive letter sequence, "
        f"else Pass (0).\nGiven the initial cards:{initial}\n\nRound 1: Add a C card\n\n"
        "Return your answer with the format <<<x>>>, where x is 0 for Pass, 1 for Peng, or 2 for Chi."
    )
    folder = tmp_path / "sample_0"
    folder.mkdir()
    (folder / "question.txt").write_text(question)
    rounds = [{"add": "C", "remove": "A"}]
    (folder / "solution.json").write_text(json.dumps({"initial_cards": initial, "rounds": rounds, "solution": 0}))
    (entry,) = task.load_published(tmp_path)
    assert entry["metadata"][FLAWED_REFERENCE] and "final round is 2" in entry["metadata"][FLAWED_REFERENCE_REASON]
    assert [task.score(wrap(a), entry) for a in ("0", "2", "Chi", "1")] == [1.0, 1.0, 1.0, 0.0]


# -- reward hacks, per verifier -------------------------------------------------------------------


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


def test_deduction_answers_resist_hedges_and_partial_answers(batches) -> None:
    cases = {
        "logical_equation": lambda a: [a + " or " + a, a[:-1] + ", 1]", a.replace("[", "[A=").replace(", ", ", B=", 1)],
        "cryptanalysis": lambda a: [a + ' or ["1", "2", "A", "B"]', a.replace('"', "")[:-3] + "]", a + a],
        "constrained_linear_arrangement": lambda a: [a + " or " + a, a + ",A", a.replace(",", " ")],
        "logic_puzzle": lambda a: [a + " or " + a, a + ", " + a.split(", ")[-1], a.replace(",", "") + " 0"],
        "mahjong_pattern": lambda a: [a + " or 0", "0, 1, 2", f"{a}{a}", "１" if a != "1" else "２", "Peng or Chi"],
    }
    for name, hacks in cases.items():
        task = BY_NAME[name]
        for e in batches[name][:25]:
            for hack in hacks(e["answer"]):
                assert task.score(wrap(hack), e) == 0.0, (name, hack)


def test_answers_valid_for_an_easier_variant_score_zero() -> None:
    """A selection that keeps a sum limit but not the product rule, and a Chi answer where only Peng/Pass
    are in play, are wrong for the harder variant's question."""
    logic = BY_NAME["logic_puzzle"]
    grid = [[1, 2, 3], [-1, 4, -2], [5, 6, 7]]
    meta = {"grid": grid, "pick": 3, "rule": PRODUCT_RULE, "limit": 0, "first": [0, 2]}
    e = logic.entry("t", "q", "0 2, 1 1, 2 0", meta)
    assert logic.score(wrap("0 2, 1 1, 2 0"), e) == 1.0
    assert logic.score(wrap("0 2, 1 0, 2 1"), e) == 0.0  # row 1 holds only -1: its product is negative
    assert logic.score(wrap("0 2, 1 0, 0 0"), e) == 0.0  # column 0: 1 * -1 < 0
    mahjong = BY_NAME["mahjong_pattern"]
    meta = {"initial": "ABDFHJLNPRTVX", "adds": ["C"], "removes": [], "chi": False}
    e = mahjong.entry("t", "q", "0", meta)
    assert mahjong_final(meta["initial"], ["C"], [], chi=True) == 2
    assert [mahjong.score(wrap(a), e) for a in ("0", "2", "Chi")] == [1.0, 0.0, 0.0]


def test_answers_that_skip_one_clue_score_zero(batches) -> None:
    """A policy that drops one clue finds another answer; the corruptions hold one, and it scores 0."""
    equation_task, lock_task = BY_NAME["logical_equation"], BY_NAME["cryptanalysis"]
    skipping = 0
    for e in batches["logical_equation"][:40]:
        meta = e["metadata"]
        equations = [parse_equation(t) for t in meta["equations"]]
        for wrong in equation_task.corruptions(e):
            values = puzzles.parse_int_sequence(wrong) if wrong.strip("[]") else []
            if sorted(values) != sorted(meta["numbers"]):
                continue
            value = dict(zip(meta["letters"], values, strict=True))
            kept = sum(puzzles.equation_holds(eq, value[eq[1]], value[eq[2]]) for eq in equations)
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
                puzzles.full_feedback(g, code) == f for g, f in zip(meta["guesses"], meta["feedback"], strict=True)
            )
            if kept == len(meta["guesses"]) - 1:
                skipping += 1
                assert lock_task.score(wrap(wrong), e) == 0.0
                break
    assert skipping >= 30
