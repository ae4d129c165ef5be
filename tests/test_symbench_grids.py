"""SymBench grid tasks (dataset_builders/symbench/grids.py): levels, verdicts, published data, hacks.

Matrix transformation, pattern recognition, Reversi and pooling. Every family is checked for: the
published generator's levels and structures in 200 seeded entries, references scoring 1 and
corruptions 0 at every level, seeded determinism, the published samples (and samples written in the
published schema at the hardest level) scoring 1, and hostile answers scoring 0.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from dataset_builders.symbench.matrices import (
    ALPHABETS,
    MATRIX_LEVELS,
    PATTERN_BANDS,
    POOLING_LEVELS,
    POOLING_VALUES,
    REVERSI_LEVELS,
    TASKS,
    TRANSFORMS,
    MatrixTransformation,
    flips,
    initial_board,
    pool,
    unique_square,
)
from dataset_builders.task import Task

SYMBENCH = Path(__file__).parents[1] / ".." / "shared" / "external" / "symbench"
BY_NAME: dict[str, Task] = {t.name: t for t in TASKS}
NAMES = sorted(BY_NAME)
LEVELS = {
    "symbench/matrix_transformation": 5,
    "symbench/pattern_recognition": 5,
    "symbench/reversi": 5,
    "symbench/pooling": 6,
}


def wrap(answer: str) -> str:
    return f"Let me work it out.\n<<<{answer}>>>"


@pytest.fixture(scope="module")
def batches() -> dict[str, list[dict]]:
    return {name: list(BY_NAME[name].generate(200, seed=0)) for name in NAMES}


# -- levels span the published range -------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_level_appears_and_is_described(name, batches):
    task = BY_NAME[name]
    assert task.complexity_levels == LEVELS[name]
    levels = {e["metadata"]["complexity"] for e in batches[name]}
    assert levels == set(range(1, task.complexity_levels + 1))
    descriptions = [task.level_description(level) for level in range(1, task.complexity_levels + 1)]
    assert all(descriptions) and len(set(descriptions)) == len(descriptions)


def test_matrix_levels_use_the_published_shapes_and_alphabets(batches):
    kinds, ops = Counter(), Counter()
    for e in batches["symbench/matrix_transformation"]:
        meta = e["metadata"]
        rows, cols, kind = MATRIX_LEVELS[meta["complexity"]]
        m = meta["matrix"]
        assert (len(m), len(m[0])) in ((rows, cols), (cols, rows))
        assert all(c in ALPHABETS[kind] for row in m for c in row)
        kinds[kind] += 1
        ops[meta["operation"]] += 1
    assert set(kinds) == {"letters", "numbers", "mixed", "symbols"}
    assert set(ops) == set(TRANSFORMS)
    symbols = [e for e in batches["symbench/matrix_transformation"] if e["metadata"]["complexity"] == 5]
    assert any(set("!@#$%^&*") & set(e["answer"]) for e in symbols)


def test_pattern_levels_widen_the_grid_and_keep_one_square(batches):
    sides, longest = Counter(), set()
    for e in batches["symbench/pattern_recognition"]:
        meta = e["metadata"]
        grid = meta["grid"]
        rows, cols = len(grid), len(grid[0])
        low, high = PATTERN_BANDS[meta["complexity"]]
        assert low <= max(rows, cols) <= high and min(rows, cols) >= 6
        r, c, side = unique_square(grid)
        assert (r, c) == (meta["row"], meta["column"]) and 3 <= side <= min(rows, cols) // 2
        sides[side] += 1
        longest.add(max(rows, cols))
    assert {6, 15} <= longest
    assert min(sides) == 3 and max(sides) >= 6  # squares up to the published shorter-side // 2


def test_reversi_levels_match_the_published_configurations(batches):
    seen = set()
    for e in batches["symbench/reversi"]:
        meta = e["metadata"]
        n, rounds = REVERSI_LEVELS[meta["complexity"]]
        assert meta["board_size"] == n and len(meta["moves"]) == rounds and len(meta["start"]) == n
        seen.add((n, rounds))
        # every stated move is legal where it is played, so the rules decide the board
        board, me = [list(row) for row in meta["start"]], meta["you"]
        for r, c in meta["moves"]:
            assert flips(board, r - 1, c - 1, me)
            for i, j in flips(board, r - 1, c - 1, me):
                board[i][j] = me
            board[r - 1][c - 1] = me
            me = "1" if me == "0" else "0"
        assert ",".join(c for row in board for c in row) == e["answer"]
    assert seen == set(REVERSI_LEVELS.values())
    openings = [
        e
        for e in batches["symbench/reversi"]
        if e["metadata"]["start"] == ["".join(r) for r in initial_board(e["metadata"]["board_size"])]
    ]
    assert openings  # some questions start from the opening position, as the published ones do


def test_pooling_levels_match_the_published_configurations(batches):
    fractional = 0
    for e in batches["symbench/pooling"]:
        meta = e["metadata"]
        n, k, kind = POOLING_LEVELS[meta["complexity"]]
        assert len(meta["matrix"]) == n and meta["window_size"] == k and meta["pooling_type"] == kind
        assert all(POOLING_VALUES[0] <= v <= POOLING_VALUES[1] for row in meta["matrix"] for v in row)
        fractional += any(Fraction(v).denominator > 1 for row in meta["solution"] for v in row)
        if kind == "average":
            assert "2 decimal places" in e["question"]
    assert fractional  # averages that are not whole numbers occur


# -- every level: references 1, corruptions 0, determinism ----------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_references_score_one_and_corruptions_zero_at_every_level(name):
    task = BY_NAME[name]
    for level in range(1, task.complexity_levels + 1):
        for e in task.generate(8, seed=level, complexity=level):
            assert e["metadata"]["complexity"] == level
            assert task.score(wrap(e["answer"]), e) == 1.0, e["id"]
            wrong = task.corruptions(e)
            assert wrong
            for answer in wrong:
                assert task.score(wrap(answer), e) == 0.0, (e["id"], answer)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_bytes(name):
    task = BY_NAME[name]
    first = json.dumps(list(task.generate(12, seed=7)), sort_keys=True)
    assert first == json.dumps(list(task.generate(12, seed=7)), sort_keys=True)
    assert first != json.dumps(list(task.generate(12, seed=8)), sort_keys=True)
    assert json.loads(first)[:5] == list(task.generate(5, seed=7))


# -- hostile answers ------------------------------------------------------------------------------


def _lookalike(text: str) -> str:
    return text.translate(str.maketrans({"A": "А", "B": "В", "C": "С", "E": "Е", "O": "О", "1": "l", "0": "O"}))


#: Lenient but correct spellings accepted on purpose: full-width digits in numeric answers (pattern
#: coordinates, pooled values); matrix and Reversi cells are compared as the exact symbols.
LENIENT = {"fullwidth digits": lambda a: a.translate({ord(str(d)): chr(0xFF10 + d) for d in range(10)})}


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
            "lower": a.lower(),
        }
        for label, hack in hacks.items():
            if hack != a:
                assert task.score(wrap(hack), e) == 0.0, (label, e["id"], hack[:80])
        if name in ("symbench/pattern_recognition", "symbench/pooling"):  # numbers; matrix/Reversi cells are symbols
            for label, lenient in LENIENT.items():
                assert task.score(wrap(lenient(a)), e) == 1.0, (label, e["id"])


def test_pooling_accepts_rounded_averages_but_not_coarser_ones():
    task = BY_NAME["symbench/pooling"]
    e = next(e for e in task.generate(50, seed=2, complexity=5) if "." in e["answer"])
    exact = [Fraction(v) for row in e["metadata"]["solution"] for v in row]
    two = ",".join(f"{float(v):.2f}" for v in exact)
    assert task.score(wrap(two), e) == 1.0
    assert task.score(wrap(",".join(str(v) for v in exact)), e) == 1.0  # exact fractions
    one = ",".join(f"{float(v):.1f}" for v in exact)
    if one.split(",") != two.split(","):
        assert task.score(wrap(one), e) == 0.0
    off = ",".join(f"{float(v) + (0.05 if i == 0 else 0):.2f}" for i, v in enumerate(exact))
    assert task.score(wrap(off), e) == 0.0


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


def _published_form(name: str, e: dict) -> dict:
    """`e` written as the published generator stores it in solution.json."""
    meta = e["metadata"]
    if name == "symbench/matrix_transformation":
        return {"matrix": meta["matrix"], "solution": meta["solution"], "formatted_solution": e["answer"]}
    if name == "symbench/pattern_recognition":
        return {"row": meta["row"], "column": meta["column"], "complexity": 5}
    if name == "symbench/reversi":
        moves = meta["moves"]
        return {"board_size": meta["board_size"], "moves": moves, "solution": e["answer"], "complexity": len(moves)}
    # the published pooling solution holds floats (averages such as 5.111111111111111)
    solution = [[float(Fraction(v)) for v in row] for row in meta["solution"]]
    return {
        "matrix": meta["matrix"],
        "window_size": meta["window_size"],
        "pooling_type": meta["pooling_type"],
        "solution": solution,
        "complexity": 5,
    }


@pytest.mark.parametrize("name", NAMES)
def test_every_level_in_the_published_schema_loads_and_scores(name, tmp_path):
    """The local published subset holds only the easiest levels; the readers must take every level's shape."""
    task = BY_NAME[name]
    if name == "symbench/matrix_transformation":
        task = MatrixTransformation(operations=("rotate90",))  # the only published transformation
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
        for wrong in task.corruptions(e):
            assert task.score(wrap(wrong), e) == 0.0


def test_pooling_reference_is_the_exact_pooling(batches):
    for e in batches["symbench/pooling"][:40]:
        meta = e["metadata"]
        expected = pool(meta["matrix"], meta["window_size"], meta["pooling_type"])
        assert [[Fraction(v) for v in row] for row in meta["solution"]] == expected


@pytest.mark.parametrize("name", NAMES)
def test_stored_metadata_and_hostile_input_at_the_hardest_level(name):
    task = BY_NAME[name]
    e = next(iter(task.generate(1, seed=9, complexity=task.complexity_levels)))
    stored = {**e, "metadata": json.dumps(e["metadata"])}  # the form a datasets column holds
    assert task.score(wrap(e["answer"]), stored) == 1.0
    for hostile in ("0 0, " * 799, "[" * 3_999, "9" * 3_999, "1,\n" * 1_333, "*," * 1_999, "x" * 100_000):
        start = time.perf_counter()
        assert task.score(wrap(hostile), e) == 0.0
        assert time.perf_counter() - start < 1.0


def test_same_bytes_whatever_the_hash_seed():

    script = (
        "import hashlib, json\n"
        "from dataset_builders.symbench.matrices import TASKS\n"
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
