"""SymBench board tasks (dataset_builders/symbench/boards.py): levels, verdicts, published data, hacks.

Eight queens, standard sudoku, 2048, letter logic diagram and light puzzles. Every family is checked
for: the published generator's levels and structures in 200 seeded entries, references scoring 1
and corruptions 0 at every level, seeded determinism, the published samples (and samples written
in the published schema at the hardest level) scoring 1, and hostile answers scoring 0.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from dataset_builders.answer_parsing import parse_grid, parse_int_sequence, parse_pairs
from dataset_builders.symbench.constraint_puzzles import (
    GAME2048_LEVELS,
    LIGHT_LEVELS,
    QUEENS_MAX_BLOCKED,
    QUEENS_MAX_PLACED,
    SUDOKU_HOLES,
    TASKS,
    queens_attack_free,
    queens_level,
    sudoku_fill,
    unique_sudoku,
)
from dataset_builders.task import Task

SYMBENCH = Path(__file__).parents[1] / ".." / "shared" / "external" / "symbench"
BY_NAME: dict[str, Task] = {t.name: t for t in TASKS}
NAMES = sorted(BY_NAME)
#: Levels per family: the published generators' complexity scales.
LEVELS = {
    "symbench/eight_queens": 5,
    "symbench/standard_sudoku": 5,
    "symbench/2048": 5,
    "symbench/letter_logic_diagram": 4,
    "symbench/light_puzzles": 5,
}


def wrap(answer: str) -> str:
    return f"Working through the board step by step.\n<<<{answer}>>>"


@pytest.fixture(scope="module")
def batches() -> dict[str, list[dict]]:
    """200 seeded entries per family, levels drawn as `generate` does by default."""
    return {name: list(BY_NAME[name].generate(200, seed=0)) for name in NAMES}


def _levels(batch: list[dict]) -> Counter:
    return Counter(e["metadata"]["complexity"] for e in batch)


# -- levels span the published range -------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_level_appears_and_is_described(name, batches):
    task = BY_NAME[name]
    assert task.complexity_levels == LEVELS[name]
    assert set(_levels(batches[name])) == set(range(1, task.complexity_levels + 1))
    descriptions = [task.level_description(level) for level in range(1, task.complexity_levels + 1)]
    assert all(descriptions) and len(set(descriptions)) == len(descriptions)


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


def test_2048_levels_match_the_published_configurations(batches):
    for e in batches["symbench/2048"]:
        meta = e["metadata"]
        n, moves = GAME2048_LEVELS[meta["complexity"]]
        assert len(meta["grid"]) == n and len(meta["moves"]) == moves
        assert meta["grid"][meta["start"][0]][meta["start"][1]] != 0  # the moving number is a tile
        tiles = sum(v > 0 for row in meta["grid"] for v in row)
        assert n <= tiles <= 2 * n + 1  # one more when a merge partner was seeded on an empty cell
    sizes = {len(e["metadata"]["grid"]) for e in batches["symbench/2048"]}
    assert sizes == {2, 3, 4, 5}
    merged = [e for e in batches["symbench/2048"] if max(map(max, parse_grid(e["answer"], int))) > 32]
    assert merged  # merges beyond the largest starting tile happen


def test_letter_logic_levels_blank_the_published_counts(batches):
    blanks = Counter()
    for e in batches["symbench/letter_logic_diagram"]:
        grid = e["metadata"]["grid"]
        count = sum(c is None for row in grid for c in row)
        assert count == 10 + 5 * e["metadata"]["complexity"]
        blanks[count] += 1
    assert sorted(blanks) == [15, 20, 25, 30]


def test_light_levels_match_the_published_configurations(batches):
    for e in batches["symbench/light_puzzles"]:
        meta = e["metadata"]
        n, buttons, rounds = LIGHT_LEVELS[meta["complexity"]]
        assert len(meta["state"]) == n and len(meta["button_names"]) == buttons
        assert len(meta["operations"]) == rounds
        assert all(2 <= len(cells) <= max(2, n * n // 2) for cells in meta["button_cells"])
        assert "1" in e["answer"]  # never the all-dark format example


# -- every level: references 1, corruptions 0, determinism ----------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_references_score_one_and_corruptions_zero_at_every_level(name):
    task = BY_NAME[name]
    for level in range(1, task.complexity_levels + 1):
        for e in task.generate(8, seed=level, complexity=level):
            assert e["metadata"]["complexity"] == level
            assert task.score(wrap(e["answer"]), e) == 1.0, e["id"]
            wrong = task.corruptions(e)
            assert len(wrong) >= 3
            for answer in wrong:
                assert task.score(wrap(answer), e) == 0.0, (e["id"], answer)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_bytes(name):
    task = BY_NAME[name]
    first = json.dumps(list(task.generate(12, seed=7)), sort_keys=True)
    assert first == json.dumps(list(task.generate(12, seed=7)), sort_keys=True)
    assert first != json.dumps(list(task.generate(12, seed=8)), sort_keys=True)
    assert json.loads(first)[:5] == list(task.generate(5, seed=7))  # entry i does not depend on n


# -- other valid answers, hostile answers ------------------------------------------------------------


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


def _lookalike(text: str) -> str:
    return text.translate(str.maketrans({"a": "а", "c": "с", "e": "е", "o": "о", "1": "l", "0": "O"}))


#: Lenient but correct spellings every board verifier accepts on purpose (documented here, so a
#: generic hack battery can tell them from hacks): full-width digits, and for letter grids upper case.
LENIENT = {
    "fullwidth digits": lambda a: a.translate({ord(str(d)): chr(0xFF10 + d) for d in range(10)}),
}


@pytest.mark.parametrize("name", NAMES)
def test_generic_hacks_score_zero(name, batches):
    task = BY_NAME[name]
    for e in batches[name][::10]:
        a = e["answer"]
        hacks = {
            "empty": "",
            "hedge": f"{a} or {a[::-1]}",
            "two lines": f"{a}\n{a[::-1]}",
            "junk after": f"{a} (I am not sure)",
            "junk before": f"maybe {a}",
            "doubled": f"{a}, {a}",
            "half": a[: len(a) // 2],
            "lookalike": _lookalike(a),
            "question": e["question"],
            "code only": f"```python\nprint({a!r})\n```",
        }
        for label, hack in hacks.items():
            if hack != a:
                assert task.score(wrap(hack), e) == 0.0, (label, e["id"])
        for label, lenient in LENIENT.items():
            assert task.score(wrap(lenient(a)), e) == 1.0, (label, e["id"])


def test_letter_logic_accepts_upper_case_only_as_a_spelling(batches):
    task = BY_NAME["symbench/letter_logic_diagram"]
    e = batches["symbench/letter_logic_diagram"][0]
    assert task.score(wrap(e["answer"].upper()), e) == 1.0
    assert task.score(wrap(e["answer"].replace("a", "а")), e) == 0.0  # Cyrillic a


def test_light_puzzles_and_2048_accept_other_layouts(batches):
    lights = BY_NAME["symbench/light_puzzles"]
    for e in batches["symbench/light_puzzles"][:20]:
        values = parse_int_sequence(e["answer"])
        n = len(e["metadata"]["state"])
        rows = "\n".join(",".join(map(str, values[r * n : r * n + n])) for r in range(n))
        assert lights.score(wrap(rows), e) == 1.0
        assert lights.score(wrap(json.dumps(values)), e) == 1.0
    game = BY_NAME["symbench/2048"]
    for e in batches["symbench/2048"][:20]:
        assert game.score(wrap(json.dumps(parse_grid(e["answer"], int))), e) == 1.0


# -- published data -----------------------------------------------------------------------------

PUBLISHED = [(name, folder) for name in NAMES for folder in BY_NAME[name].published_folders]


@pytest.mark.parametrize(("name", "folder"), PUBLISHED, ids=[f for _, f in PUBLISHED])
def test_published_samples_score_one_and_corruptions_zero(name, folder):
    path = SYMBENCH / folder
    if not path.is_dir():
        pytest.skip(f"published SymBench samples {path} are absent (only in the shared workspace)")
    task = BY_NAME[name]
    items = list(task.load_published(path))
    assert items and all(isinstance(i, dict) for i in items), [str(i) for i in items if not isinstance(i, dict)]
    for e in items:
        assert task.score(wrap(e["answer"]), e) == 1.0, e["id"]
        for wrong in task.corruptions(e):
            assert task.score(wrap(wrong), e) == 0.0, (e["id"], wrong)


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


def _published_form(name: str, e: dict) -> dict:
    """`e` written as the published generator stores it in solution.json."""
    meta = e["metadata"]
    if name == "symbench/eight_queens":
        return {
            "initial_board": meta["board"],
            "blocked_positions": meta["blocked"],
            "placed_queens": meta["placed"],
            "solution": [list(p) for p in parse_pairs(e["answer"])],
            "complexity": meta["complexity"],
        }
    if name == "symbench/standard_sudoku":
        return {"puzzle": meta["puzzle"], "solution": parse_grid(e["answer"], int), "complexity": 5}
    if name == "symbench/2048":
        return {
            "grid": meta["grid"],
            "moves": meta["moves"],
            "start_pos": meta["start"],
            "solution": e["answer"],
            "complexity": 5,
        }
    if name == "symbench/letter_logic_diagram":
        return {"grid": meta["grid"], "solution": parse_grid(e["answer"], str), "complexity": 4}
    return {
        "n": len(meta["state"]),
        "initial_state": meta["state"],
        "buttons": dict(zip(meta["button_names"], meta["button_cells"], strict=True)),
        "operations": meta["operations"],
        "solution": parse_int_sequence(e["answer"]),
        "complexity": 4,
    }


@pytest.mark.parametrize("name", NAMES)
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
        (sample / "solution.json").write_text(json.dumps(_published_form(name, e), indent=2))
    loaded = list(task.load_published(tmp_path))
    assert len(loaded) == len(generated) and all(isinstance(x, dict) for x in loaded), loaded
    for e, original in zip(loaded, generated, strict=True):
        assert task.score(wrap(original["answer"]), e) == 1.0
        for wrong in task.corruptions(original):
            assert task.score(wrap(wrong), e) == 0.0


def test_queens_reference_is_a_full_attack_free_board(batches):
    for e in batches["symbench/eight_queens"]:
        queens = set(parse_pairs(e["answer"]))
        assert len(queens) == 8 and queens_attack_free(queens)
        assert {tuple(p) for p in e["metadata"]["placed"]} <= queens
        assert not {tuple(b) for b in e["metadata"]["blocked"]} & queens


@pytest.mark.parametrize("name", NAMES)
def test_stored_metadata_and_hostile_input_at_the_hardest_level(name):
    task = BY_NAME[name]
    e = next(iter(task.generate(1, seed=9, complexity=task.complexity_levels)))
    stored = {**e, "metadata": json.dumps(e["metadata"])}  # the form a datasets column holds
    assert task.score(wrap(e["answer"]), stored) == 1.0
    for hostile in ("0 0, " * 799, "[" * 3_999, "9" * 3_999, "1,\n" * 1_333, "a," * 1_999, "x" * 100_000):
        start = time.perf_counter()
        assert task.score(wrap(hostile), e) == 0.0
        assert time.perf_counter() - start < 1.0


def test_same_bytes_whatever_the_hash_seed():

    script = (
        "import hashlib, json\n"
        "from dataset_builders.symbench.constraint_puzzles import TASKS\n"
        "h = hashlib.sha256()\n"
        "for t in TASKS:\n"
        "    h.update(json.dumps(list(t.generate(15, seed=3)), sort_keys=True).encode())\n"
        "print(h.hexdigest())\n"
    )
    root = Path(__file__).parents[1]
    digests = set()
    for hash_seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-2000:]
        digests.add(run.stdout.strip())
    here = hashlib.sha256()
    for t in TASKS:
        here.update(json.dumps(list(t.generate(15, seed=3)), sort_keys=True).encode())
    assert digests == {here.hexdigest()}


def test_published_2048_whose_start_cell_is_empty_keeps_the_grid(tmp_path):
    """The published generator may pick an empty start cell; nothing moves and the stored grid is the answer."""
    task = BY_NAME["symbench/2048"]
    grid = [[0, 4, 0], [8, 0, 2], [0, 0, 16]]
    data = {
        "grid": grid,
        "moves": "rdl",
        "start_pos": [0, 0],
        "solution": "0, 4, 0\n8, 0, 2\n0, 0, 16",
        "complexity": 2,
    }
    (tmp_path / "sample_0").mkdir()
    (tmp_path / "sample_0" / "question.txt").write_text(task.question(grid, [0, 0], "rdl"))
    (tmp_path / "sample_0" / "solution.json").write_text(json.dumps(data))
    (e,) = task.load_published(tmp_path)
    assert isinstance(e, dict) and task.score(wrap("0, 4, 0\n8, 0, 2\n0, 0, 16"), e) == 1.0
    assert task.score(wrap("0, 4, 0\n8, 0, 2\n0, 0, 0"), e) == 0.0
