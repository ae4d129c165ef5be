"""SymBench constraint puzzles (dataset_builders/symbench/constraint_puzzles.py): levels spanning the published
generators, verdicts (any answer that keeps the rules scores 1), published data, hacks.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from dataset_builders.answer_parsing import parse_grid, parse_pairs
from dataset_builders.symbench import constraint_puzzles
from dataset_builders.symbench.constraint_puzzles import (
    PRODUCT_RULE,
    QUEENS_MAX_BLOCKED,
    QUEENS_MAX_PLACED,
    SUDOKU_HOLES,
    SUM_RULE,
    queens_attack_free,
    queens_level,
    sudoku_fill,
    unique_sudoku,
)
from dataset_builders.symbench.published_layout import checked_entry
from dataset_builders.task import FLAWED_REFERENCE, FLAWED_REFERENCE_REASON, GeneratedTask, PublishedDataError, Task
from tests.symbench_helpers import (
    SYMBENCH,
    assert_batch_spans_levels,
    assert_board_hacks_score_zero,
    assert_every_level_verifies,
    assert_hardest_level_reads_stored_metadata,
    assert_hedges_score_zero,
    assert_levels_appear_and_are_described,
    assert_levels_described,
    assert_published_folder_verifies,
    assert_published_within_levels,
    assert_question_copy_never_scores,
    assert_same_bytes_across_hash_seeds,
    assert_same_seed_same_bytes,
    assert_variants_read_back,
    needs_external,
    published_entries,
    published_logic_question,
    published_solution,
    wrap,
)

#: Every task of the module, by its full and its short name.
BY_NAME: dict[str, GeneratedTask] = {key: t for t in constraint_puzzles.TASKS for key in (t.name, t.short_name)}


#: The grid puzzles (queens, sudoku, letter logic) share one battery of checks below.
GRID_PUZZLES = ["symbench/eight_queens", "symbench/letter_logic_diagram", "symbench/standard_sudoku"]


#: Levels per task (by the name each section below uses): the published generators' complexity scales.
LEVELS = {
    "symbench/eight_queens": 5,
    "symbench/standard_sudoku": 5,
    "symbench/letter_logic_diagram": 4,
    "logic_puzzle": 10,
}


@pytest.fixture(scope="module")
def batches() -> dict[str, list[dict[str, Any]]]:
    """200 seeded entries per task (levels drawn as `generate` draws them), by full and short name."""
    out = {}
    for task in constraint_puzzles.TASKS:
        out[task.name] = out[task.short_name] = list(task.generate(200, seed=0))
    return out


@pytest.fixture(scope="module")
def spread() -> dict[str, list[dict[str, Any]]]:
    """200 entries per task with levels drawn as `generate` draws them by default."""
    return {name: list(BY_NAME[name].generate(200, seed=11)) for name in ["permutations_and_combinations"]}


@pytest.fixture(scope="module")
def entries() -> dict[str, list[dict[str, Any]]]:
    """40 seeded entries per task, by full name."""
    return {task.name: list(task.generate(40, seed=0)) for task in constraint_puzzles.TASKS}


def published(name: str) -> list[dict[str, Any]]:
    return published_entries(BY_NAME[name])


def published_folder(task: Task, folder: Path) -> list[dict]:
    items = list(task.load_published(folder))
    errors = [str(i) for i in items if isinstance(i, PublishedDataError)]
    assert not errors, errors
    return items


def test_same_bytes_whatever_the_hash_seed() -> None:
    assert_same_bytes_across_hash_seeds("constraint_puzzles")


# -- eight queens, sudoku, letter logic diagram: levels ---------------------------------------------


def _levels(batch: list[dict]) -> Counter:
    return Counter(e["metadata"]["complexity"] for e in batch)


@pytest.mark.parametrize("name", GRID_PUZZLES)
def test_every_level_appears_and_is_described(name, batches):
    assert_levels_appear_and_are_described(BY_NAME[name], batches[name], LEVELS[name])


def test_queens_levels_follow_the_published_formula(batches):
    shapes = Counter()
    for e in batches["symbench/eight_queens"]:
        meta = e["metadata"]
        placed, blocked = len(meta["placed"]), len(meta["blocked"])
        assert queens_level(placed, blocked) == meta["complexity"]
        assert placed <= QUEENS_MAX_PLACED and blocked <= QUEENS_MAX_BLOCKED
        shapes[placed, blocked] += 1
        board = meta["board"]
        assert sum(row.count("1") for row in board) == placed and sum(row.count("X") for row in board) == blocked
    # the empty board (dataset level 1) and the hardest published shapes (eight_queens_dataset_hard) occur
    assert shapes[0, 0] and shapes[3, 4] and shapes[2, 4] and shapes[3, 2]
    assert len(shapes) == (QUEENS_MAX_PLACED + 1) * (QUEENS_MAX_BLOCKED + 1)


def test_sudoku_levels_have_their_hole_counts_and_one_solution(batches):
    for e in batches["symbench/standard_sudoku"]:
        puzzle = e["metadata"]["puzzle"]
        low, high = SUDOKU_HOLES[e["metadata"]["complexity"]]
        assert low <= sum(not v for row in puzzle for v in row) <= high
    hardest = [e for e in batches["symbench/standard_sudoku"] if e["metadata"]["complexity"] == 5][:3]
    for e in hardest:
        flat = [v for row in e["metadata"]["puzzle"] for v in row]
        solution = [v for row in parse_grid(e["answer"], int) for v in row]
        for i, v in enumerate(flat):
            if not v:  # no completion puts any other digit in any empty cell
                assert not sudoku_fill(flat[:], forbid=(i, solution[i])), (e["id"], i)


def test_sudoku_uniqueness_check_finds_a_second_solution():
    puzzle, solution = unique_sudoku(random.Random(4), 55)
    flat = [v for row in puzzle for v in row]
    filled = flat[:]
    assert sudoku_fill(filled) and filled == [v for row in solution for v in row]
    # empty a "deadly rectangle" (x y / y x over two boxes): swapping it gives a second valid grid
    grid = solution
    box = lambda r, c: (r // 3, c // 3)  # noqa: E731
    r1, r2, c1, c2 = next(
        (r1, r2, c1, c2)
        for r1 in range(9)
        for r2 in range(r1 + 1, 9)
        for c1 in range(9)
        for c2 in range(c1 + 1, 9)
        if grid[r1][c1] == grid[r2][c2]
        and grid[r1][c2] == grid[r2][c1]
        and len({box(r1, c1), box(r1, c2), box(r2, c1), box(r2, c2)}) == 2
    )
    flat = [v for row in grid for v in row]
    for r, c in ((r1, c1), (r1, c2), (r2, c1), (r2, c2)):
        flat[r * 9 + c] = 0
    other = flat[:]
    assert sudoku_fill(other, forbid=(r1 * 9 + c1, grid[r1][c1]))
    assert other[r1 * 9 + c1] == grid[r1][c2]


def test_letter_logic_levels_blank_the_published_counts(batches):
    blanks = Counter()
    for e in batches["symbench/letter_logic_diagram"]:
        grid = e["metadata"]["grid"]
        count = sum(c is None for row in grid for c in row)
        assert count == 10 + 5 * e["metadata"]["complexity"]
        blanks[count] += 1
    assert sorted(blanks) == [15, 20, 25, 30]


# -- eight queens, sudoku, letter logic diagram: verdicts -------------------------------------------


@pytest.mark.parametrize("name", GRID_PUZZLES)
def test_references_score_one_and_corruptions_zero_at_every_level(name):
    assert_every_level_verifies(BY_NAME[name], per_level=8, min_corruptions=3)


@pytest.mark.parametrize("name", GRID_PUZZLES)
def test_same_seed_same_bytes(name):
    assert_same_seed_same_bytes(BY_NAME[name])


def test_queens_rejects_doubled_and_padded_lists(batches):
    task = BY_NAME["symbench/eight_queens"]
    for e in batches["symbench/eight_queens"][:20]:
        cells = parse_pairs(e["answer"])
        listed = ", ".join(f"{r} {c}" for r, c in cells)
        assert task.score(wrap(listed), e) == 1.0
        assert task.score(wrap(f"{listed}, {listed}"), e) == 0.0  # every queen twice
        assert task.score(wrap(f"{listed}, {cells[0][0]} {cells[0][1]}"), e) == 0.0
        assert task.score(wrap(f"[{listed}]"), e) == 1.0
        assert task.score(wrap(f"{listed} or 0 0"), e) == 0.0


@pytest.mark.parametrize("name", GRID_PUZZLES)
def test_generic_hacks_score_zero(name, batches):
    assert_board_hacks_score_zero(BY_NAME[name], batches[name][::10])


def test_letter_logic_accepts_upper_case_only_as_a_spelling(batches):
    task = BY_NAME["symbench/letter_logic_diagram"]
    e = batches["symbench/letter_logic_diagram"][0]
    assert task.score(wrap(e["answer"].upper()), e) == 1.0
    assert task.score(wrap(e["answer"].replace("a", "а")), e) == 0.0  # Cyrillic a


def test_eight_queens_accepts_every_completion(entries):
    task = BY_NAME["symbench/eight_queens"]
    empty = task.entry("t", "q", "", {"n": 8, "board": ["0" * 8] * 8, "placed": [], "blocked": []})
    solutions = [
        [(r, c) for r, c in enumerate(cols)]
        for cols in itertools.permutations(range(8))
        if queens_attack_free(set(enumerate(cols)))
    ]
    assert len(solutions) == 92
    assert all(task.score(wrap(", ".join(f"{r} {c}" for r, c in s)), empty) == 1.0 for s in solutions)
    for entry in entries["symbench/eight_queens"][:10]:
        meta = entry["metadata"]
        placed, blocked = {tuple(p) for p in meta["placed"]}, {tuple(b) for b in meta["blocked"]}
        for s in solutions:
            ok = placed <= set(s) and not blocked & set(s)
            own = [cell for cell in s if cell not in placed]  # listing only the added queens is fine too
            assert task.score(wrap(", ".join(f"({r},{c})" for r, c in own)), entry) == float(ok)


def test_sudoku_accepts_another_valid_completion(entries):
    task = BY_NAME["symbench/standard_sudoku"]
    entry = entries["symbench/standard_sudoku"][0]
    solution = parse_grid(entry["answer"], int)
    diagonal_only = [[solution[r][c] if r == c else 0 for c in range(9)] for r in range(9)]
    custom = task.entry("t", "q", entry["answer"], {"box": 3, "puzzle": diagonal_only})
    transposed = [list(col) for col in zip(*solution, strict=True)]
    assert transposed != solution
    assert task.score(wrap("\n".join(" ".join(map(str, row)) for row in transposed)), custom) == 1.0
    assert task.score(wrap(json.dumps(transposed)), custom) == 1.0
    assert task.score(wrap(json.dumps(transposed)), entry) == 0.0  # the clues of the real puzzle forbid it


def test_letter_logic_accepts_another_valid_square(entries):
    task = BY_NAME["symbench/letter_logic_diagram"]
    entry = entries["symbench/letter_logic_diagram"][0]
    square = parse_grid(entry["answer"], str)
    n = len(square)
    # reflect across the minor diagonal: still Latin, and the minor diagonal stays where it is
    mirrored = [[square[n - 1 - j][n - 1 - i] for j in range(n)] for i in range(n)]
    assert mirrored != square
    diagonal_only = [[square[i][j] if i + j == n - 1 else None for j in range(n)] for i in range(n)]
    custom = task.entry("t", "q", entry["answer"], {"grid": diagonal_only})
    assert task.score(wrap("\n".join(",".join(row) for row in mirrored)), custom) == 1.0
    assert task.score(wrap("\n".join(", ".join(row).upper() for row in mirrored)), custom) == 1.0


def test_queens_reference_is_a_full_attack_free_board(batches):
    for e in batches["symbench/eight_queens"]:
        queens = set(parse_pairs(e["answer"]))
        assert len(queens) == 8 and queens_attack_free(queens)
        assert {tuple(p) for p in e["metadata"]["placed"]} <= queens
        assert not {tuple(b) for b in e["metadata"]["blocked"]} & queens


@pytest.mark.parametrize("name", GRID_PUZZLES)
def test_stored_metadata_and_hostile_input_at_the_hardest_level(name):
    assert_hardest_level_reads_stored_metadata(BY_NAME[name])


# -- eight queens, sudoku, letter logic diagram: published data -------------------------------------


PUBLISHED = [(name, folder) for name in GRID_PUZZLES for folder in BY_NAME[name].published_folders]


@pytest.mark.parametrize(("name", "folder"), PUBLISHED, ids=[f for _, f in PUBLISHED])
def test_published_samples_score_one_and_corruptions_zero(name, folder):
    assert_published_folder_verifies(BY_NAME[name], folder)


def test_published_queens_folders_hold_the_levels_we_generate():
    """The three published folders are one generator's levels 1-3 and 4-5; ours spans all of them."""
    if not (SYMBENCH / "eight_queens_dataset_hard").is_dir():
        pytest.skip("published eight-queens samples are absent")
    task = BY_NAME["symbench/eight_queens"]
    levels = {}
    for folder in task.published_folders:
        stored = [json.loads(p.read_text()) for p in sorted((SYMBENCH / folder).glob("sample_*/solution.json"))]
        for data in stored:
            assert queens_level(len(data["placed_queens"]), len(data["blocked_positions"])) == data["complexity"]
        levels[folder] = {d["complexity"] for d in stored}
    assert max(levels["eight_queens_dataset"]) <= 3 and min(levels["eight_queens_dataset_hard"]) >= 4
    generated = {e["metadata"]["complexity"] for e in task.generate(60, seed=1)}
    assert set().union(*levels.values()) <= generated


@pytest.mark.parametrize("name", GRID_PUZZLES)
def test_every_level_in_the_published_schema_loads_and_scores(name, tmp_path):
    """The local published subset holds only some levels; the readers must take every level's shape."""
    task = BY_NAME[name]
    generated = [
        e for level in range(1, task.complexity_levels + 1) for e in task.generate(2, seed=3, complexity=level)
    ]
    for i, e in enumerate(generated):
        sample = tmp_path / f"sample_{i}"
        sample.mkdir()
        (sample / "question.txt").write_text(e["question"])
        (sample / "solution.json").write_text(json.dumps(published_solution(name, e), indent=2))
    loaded = list(task.load_published(tmp_path))
    assert len(loaded) == len(generated) and all(isinstance(x, dict) for x in loaded), loaded
    for e, original in zip(loaded, generated, strict=True):
        assert task.score(wrap(original["answer"]), e) == 1.0
        for wrong in task.corruptions(original):
            assert task.score(wrap(wrong), e) == 0.0


def _sample(root: Path, name: str, question: str | None, solution: str | None) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    if question is not None:
        (folder / "question.txt").write_text(question)
    if solution is not None:
        (folder / "solution.json").write_text(solution)


def test_bad_published_samples_are_yielded_as_errors_without_hiding_good_ones(tmp_path):
    task = BY_NAME["symbench/standard_sudoku"]
    solution = [[(3 * (r % 3) + r // 3 + c) % 9 + 1 for c in range(9)] for r in range(9)]
    puzzle = [[v if (r + c) % 2 else 0 for c, v in enumerate(row)] for r, row in enumerate(solution)]
    good = json.dumps({"puzzle": puzzle, "solution": solution})
    _sample(tmp_path, "sample_0", "Fill the sudoku. <<<a 9*9 matrix>>>", good)
    _sample(tmp_path, "sample_1", None, good)  # question.txt missing
    _sample(tmp_path, "sample_2", "q <<<>>>", "{not json")
    _sample(tmp_path, "sample_3", "q <<<>>>", json.dumps({"puzzle": puzzle}))  # no solution field
    wrong = [row[:] for row in solution]
    wrong[0][0], wrong[0][1] = wrong[0][1], wrong[0][0]
    _sample(tmp_path, "sample_10", "q <<<>>>", json.dumps({"puzzle": puzzle, "solution": wrong}))
    items = list(task.load_published(tmp_path))
    assert [i["id"] for i in items if isinstance(i, dict)] == ["standard_sudoku-pub-sample_0"]
    errors = [str(i) for i in items if isinstance(i, PublishedDataError)]
    assert len(errors) == 4
    assert "sample_1/question.txt" in errors[0] and "missing" in errors[0]
    assert "sample_2/solution.json" in errors[1] and "malformed JSON" in errors[1]
    assert "sample_3/solution.json" in errors[2] and "'solution'" in errors[2]
    assert "sample_10" in errors[3] and "does not verify" in errors[3]
    # nothing to read at all: raised, not yielded
    with pytest.raises(PublishedDataError, match="expected a folder"):
        list(task.load_published(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(PublishedDataError, match="has none"):
        list(task.load_published(tmp_path / "empty"))


# -- logic puzzle (number selection) ----------------------------------------------------------------


def test_levels_match_the_published_generators() -> None:
    names = ["logic_puzzle"]
    for name in names:
        assert_levels_described(BY_NAME[name], LEVELS[name])


@pytest.mark.parametrize("task", [BY_NAME[n] for n in ["logic_puzzle"]], ids=lambda t: t.short_name)
def test_every_level_verifies_and_corruptions_fail(task: GeneratedTask) -> None:
    assert_every_level_verifies(task)


@pytest.mark.parametrize("name", ["logic_puzzle"])
def test_two_hundred_entries_span_every_level(name: str, batches) -> None:
    assert_batch_spans_levels(batches[name], LEVELS[name])


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


def test_logic_puzzle_verifier_matches_brute_force(entries):
    task = BY_NAME["symbench/logic_puzzle"]
    # the small sum-limit levels only: the next test covers the product rule
    for entry in [e for e in entries["symbench/logic_puzzle"] if e["metadata"]["rule"] == "sum_at_most"][:15]:
        meta = entry["metadata"]
        grid, pick, limit, first = meta["grid"], meta["pick"], meta["limit"], tuple(meta["first"])
        n = len(grid)
        cells = [(r, c) for r in range(n) for c in range(n)]
        valid = 0
        for chosen in itertools.combinations(cells, pick):
            rows = [sum(grid[r][c] for r, c in chosen if r == i) for i in range(n)]
            cols = [sum(grid[r][c] for r, c in chosen if c == i) for i in range(n)]
            ok = first in chosen and len({grid[r][c] for r, c in chosen}) == pick and max(rows + cols) <= limit
            answer = ", ".join(f"{r} {c}" for r, c in reversed(chosen))
            assert task.score(wrap(answer), entry) == float(ok), answer
            valid += ok
        assert valid >= 1


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


def test_a_selection_for_the_sum_rule_is_wrong_under_the_product_rule() -> None:
    """A selection that keeps a sum limit but not the product rule is wrong for the harder variant's question."""
    logic = BY_NAME["logic_puzzle"]
    grid = [[1, 2, 3], [-1, 4, -2], [5, 6, 7]]
    meta = {"grid": grid, "pick": 3, "rule": PRODUCT_RULE, "limit": 0, "first": [0, 2]}
    e = logic.entry("t", "q", "0 2, 1 1, 2 0", meta)
    assert logic.score(wrap("0 2, 1 1, 2 0"), e) == 1.0
    assert logic.score(wrap("0 2, 1 0, 2 1"), e) == 0.0  # row 1 holds only -1: its product is negative
    assert logic.score(wrap("0 2, 1 0, 0 0"), e) == 0.0  # column 0: 1 * -1 < 0


def test_logic_puzzle_answers_resist_hedges_and_partial_answers(batches) -> None:
    cases = {
        "logic_puzzle": lambda a: [a + " or " + a, a + ", " + a.split(", ")[-1], a.replace(",", "") + " 0"],
    }
    for name, hacks in cases.items():
        task = BY_NAME[name]
        for e in batches[name][:25]:
            for hack in hacks(e["answer"]):
                assert task.score(wrap(hack), e) == 0.0, (name, hack)


def test_flagging_needs_the_task_to_opt_in():
    """Flagged entries keep the metadata schema of generated ones; a task that does not opt in rejects."""
    logic = BY_NAME["symbench/logic_puzzle"]
    generated = next(iter(logic.generate(1, seed=0)))
    assert generated["metadata"][FLAWED_REFERENCE] is False and generated["metadata"][FLAWED_REFERENCE_REASON] == ""
    meta = {"grid": [[3, 1], [2, 3]], "pick": 3, "rule": "sum_at_most", "limit": 4, "first": [0, 1]}
    entry = checked_entry(logic, "x", ("q <<<>>>", "0 1, 1 0, 0 0", meta), Path("sample_x"))
    assert isinstance(entry, dict) and entry["metadata"][FLAWED_REFERENCE] is True
    assert set(entry["metadata"]) == set(generated["metadata"])
    assert logic.score(wrap("0 1, 1 0, 0 0"), entry) == 1.0
    assert logic.score(wrap("0 1, 1 0, 1 1"), entry) == 0.0
    # a reference that cannot be read at all is still an error, flagging or not
    assert isinstance(checked_entry(logic, "y", ("q", "0 1, 1", meta), Path("sample_y")), PublishedDataError)
    queens = BY_NAME["symbench/eight_queens"]
    assert not queens.keeps_flawed_references
    assert FLAWED_REFERENCE not in next(iter(queens.generate(1, seed=0)))["metadata"]


@needs_external
@pytest.mark.parametrize("name", ["logic_puzzle"])
def test_published_samples_fall_inside_the_levels(name: str) -> None:
    assert_published_within_levels(BY_NAME[name])


@pytest.mark.parametrize("name", ["logic_puzzle"])
def test_every_generated_variant_reads_back_from_the_published_layout(name: str, tmp_path: Path) -> None:
    assert_variants_read_back(BY_NAME[name], tmp_path)


def test_logic_puzzle_published_product_reference_that_breaks_the_rule_is_flagged(tmp_path: Path) -> None:
    """The published generator caches its rule check by cell positions across grids, so a stored
    selection can break its own grid's rule; such a sample is kept, flagged and explained."""
    task = BY_NAME["logic_puzzle"]
    grid = [[2, 3, -1, 4], [5, -2, 6, 1], [7, 8, -3, 2], [1, -4, 3, 9]]
    stored = [[0, 3], [1, 0], [2, 1], [3, 2], [0, 2], [1, 1]]  # row 0: 4 * -1 < 0
    folder = tmp_path / "sample_0"
    folder.mkdir()
    (folder / "question.txt").write_text(published_logic_question(grid, 6, PRODUCT_RULE))
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


# -- permutations and combinations (shelving) -------------------------------------------------------


@pytest.mark.parametrize("name", ["permutations_and_combinations"])
def test_two_hundred_entries_span_every_level_with_one_schema(name: str, spread: dict[str, list[dict]]) -> None:
    task = BY_NAME[name]
    levels = Counter(e["metadata"]["complexity"] for e in spread[name])
    assert task.complexity_levels >= 4
    assert set(levels) == set(range(1, task.complexity_levels + 1)), levels
    assert all(task.level_description(level) for level in levels)
    assert len({json.dumps(sorted(e["metadata"])) for e in spread[name]}) == 1, "one metadata schema per task"


def test_shelving_spans_books_constraints_and_kinds(spread: dict[str, list[dict]]) -> None:
    entries = spread["permutations_and_combinations"]
    books = Counter(len(e["metadata"]["items"]) for e in entries)
    constraints = Counter(len(e["metadata"]["constraints"]) for e in entries)
    assert set(books) == {6, 7, 8, 9}
    assert min(constraints) == 7 and max(constraints) == 11
    kinds = {c["type"] for e in entries for c in e["metadata"]["constraints"]}
    assert kinds == {"adjacent", "left", "right", "at", "not_at"}


@pytest.mark.parametrize("name", ["permutations_and_combinations"])
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


def test_other_valid_shelvings_score_one() -> None:
    task = BY_NAME["permutations_and_combinations"]
    others = 0
    for e in task.generate(20, seed=4, complexity=4):
        order = e["metadata"]["solution"]
        for i in range(len(order) - 1):
            swapped = order[:i] + [order[i + 1], order[i]] + order[i + 2 :]
            pos = {b: k + 1 for k, b in enumerate(swapped)}
            valid = all(constraint_puzzles.constraint_holds(c, pos) for c in e["metadata"]["constraints"])
            assert task.score(wrap(json.dumps(swapped)), e) == float(valid)
            others += valid
    assert others > 0, "some 9-book shelves admit a second arrangement, and it scores 1"


def test_another_valid_arrangement_of_six_books_scores_one() -> None:
    """Where more than one arrangement is right, each scores 1, in either spelling."""
    perm = BY_NAME["symbench/permutations_and_combinations"]
    found_other = 0
    for e in perm.generate(30, seed=1, complexity=1):  # 6 books: every arrangement can be enumerated
        items, ref = e["metadata"]["items"], e["metadata"]["solution"]
        for order in itertools.permutations(items):
            if list(order) == ref:
                continue
            pos = {b: i + 1 for i, b in enumerate(order)}
            if all(constraint_puzzles.constraint_holds(c, pos) for c in e["metadata"]["constraints"]):
                assert perm.score(wrap(json.dumps(list(order))), e) == 1.0
                assert perm.score(wrap(", ".join(order)), e) == 1.0
                found_other += 1
                break
    assert found_other > 5, "several generated shelves admit another valid arrangement"


@pytest.mark.parametrize("name", ["permutations_and_combinations"])
def test_hedged_padded_and_partial_answers_score_zero(name: str) -> None:
    assert_hedges_score_zero(BY_NAME[name])


@pytest.mark.parametrize("name", ["permutations_and_combinations"])
def test_a_copy_of_the_question_never_scores(name: str) -> None:
    assert_question_copy_never_scores(BY_NAME[name])


@needs_external
@pytest.mark.parametrize("name", ["permutations_and_combinations"])
def test_local_published_samples_score_one(name: str) -> None:
    task = BY_NAME[name]
    entries = [e for folder in task.published_folders for e in published_folder(task, SYMBENCH / folder)]
    assert len(entries) >= 20
    for e in entries:
        assert task.score(wrap(e["answer"]), e) == 1.0, e["id"]
        for w in task.corruptions(e):
            assert task.score(wrap(w), e) == 0.0, (e["id"], w)


@needs_external
def test_published_shelvings_keep_every_constraint() -> None:
    """The rules as implemented accept the paper's stored arrangements."""

    def published(name: str) -> list[dict]:
        task = BY_NAME[name]
        return [e for f in task.published_folders for e in task.load_published(SYMBENCH / f)]

    for e in published("symbench/permutations_and_combinations"):
        pos = {b: i + 1 for i, b in enumerate(e["metadata"]["solution"])}
        assert all(constraint_puzzles.constraint_holds(c, pos) for c in e["metadata"]["constraints"])


def test_published_shelving_of_the_hardest_configuration(tmp_path: Path) -> None:
    # permutations_and_combinations: the published_folder hardest configuration, 9 books under 11 constraints
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
    task = BY_NAME["permutations_and_combinations"]
    (entry,) = published_folder(task, shelf.parent)
    assert len(entry["metadata"]["constraints"]) == 11
    assert task.score(wrap(json.dumps(solution)), entry) == 1.0
    assert task.score(wrap(json.dumps(list("DABCEFGIH"))), entry) == 1.0  # H and I swapped: still valid
    assert task.score(wrap(json.dumps(list("ADBCEFGHI"))), entry) == 0.0
