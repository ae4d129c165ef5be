"""SymBench matrix tasks (dataset_builders/symbench/matrices.py): levels spanning the published generators,
verdicts, published data, hacks.
"""

from __future__ import annotations

import json
from collections import Counter
from fractions import Fraction
from typing import Any

import pytest

from dataset_builders.symbench import matrices
from dataset_builders.symbench.matrices import (
    ALPHABETS,
    MATRIX_LEVELS,
    PATTERN_BANDS,
    POOLING_LEVELS,
    POOLING_VALUES,
    TRANSFORMS,
    MatrixTransformation,
    pool,
    unique_square,
)
from dataset_builders.task import GeneratedTask
from tests.symbench_helpers import (
    SYMBENCH,
    assert_every_level_verifies,
    assert_hardest_level_reads_stored_metadata,
    assert_levels_appear_and_are_described,
    assert_published_folder_verifies,
    assert_same_bytes_across_hash_seeds,
    assert_same_seed_same_bytes,
    fullwidth_digits,
    needs_external,
    published_solution,
    wrap,
)

#: Every task of the module, by its full and its short name.
BY_NAME: dict[str, GeneratedTask] = {key: t for t in matrices.TASKS for key in (t.name, t.short_name)}


MATRICES = ["symbench/matrix_transformation", "symbench/pattern_recognition", "symbench/pooling"]


#: Levels per task (by the name each section below uses): the published generators' complexity scales.
LEVELS = {
    "symbench/matrix_transformation": 5,
    "symbench/pattern_recognition": 5,
    "symbench/pooling": 6,
}


@pytest.fixture(scope="module")
def batches() -> dict[str, list[dict[str, Any]]]:
    """200 seeded entries per task (levels drawn as `generate` draws them), by full and short name."""
    out = {}
    for task in matrices.TASKS:
        out[task.name] = out[task.short_name] = list(task.generate(200, seed=0))
    return out


def test_same_bytes_whatever_the_hash_seed() -> None:
    assert_same_bytes_across_hash_seeds("matrices")


# -- levels span the published range ----------------------------------------------------------------


@pytest.mark.parametrize("name", MATRICES)
def test_every_level_appears_and_is_described(name, batches):
    assert_levels_appear_and_are_described(BY_NAME[name], batches[name], LEVELS[name])


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


# -- verdicts at every level, hacks, other spellings ------------------------------------------------


@pytest.mark.parametrize("name", MATRICES)
def test_references_score_one_and_corruptions_zero_at_every_level(name):
    assert_every_level_verifies(BY_NAME[name], per_level=8, min_corruptions=1)


@pytest.mark.parametrize("name", MATRICES)
def test_same_seed_same_bytes(name):
    assert_same_seed_same_bytes(BY_NAME[name])


def _lookalike(text: str) -> str:
    return text.translate(str.maketrans({"A": "А", "B": "В", "C": "С", "E": "Е", "O": "О", "1": "l", "0": "O"}))


#: Lenient but correct spellings accepted on purpose: full-width digits in numeric answers (pattern
#: coordinates, pooled values); matrix and Reversi cells are compared as the exact symbols.
LENIENT = {"fullwidth digits": fullwidth_digits}


@pytest.mark.parametrize("name", MATRICES)
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


def test_other_spellings_score_one() -> None:
    spellings = {
        "symbench/matrix_transformation": lambda a: str([a.split(",")]),
        "symbench/pattern_recognition": lambda a: a.strip("[]").replace(",", " "),
        "symbench/pooling": lambda a: ", ".join(f"{v}.0" if "." not in v else v for v in a.split(",")),
    }
    for name, respell in spellings.items():
        task = BY_NAME[name]
        for e in task.generate(5, seed=2):
            assert task.score(wrap(respell(e["answer"])), e) == 1.0, (name, respell(e["answer"]))


def test_transformations_follow_the_stated_rules() -> None:
    assert matrices.transform([["A", "B", "C"]], "rotate90") == [["A"], ["B"], ["C"]]
    assert matrices.unique_square(["AAAB", "AAAC", "AAAD", "EFGH"]) == (2, 2, 3)
    assert matrices.unique_square(["AAABBB", "AAABBB", "AAABBB"]) is None  # two squares: ambiguous


def test_pooling_reference_is_the_exact_pooling(batches):
    for e in batches["symbench/pooling"][:40]:
        meta = e["metadata"]
        expected = pool(meta["matrix"], meta["window_size"], meta["pooling_type"])
        assert [[Fraction(v) for v in row] for row in meta["solution"]] == expected


@pytest.mark.parametrize("name", MATRICES)
def test_stored_metadata_and_hostile_input_at_the_hardest_level(name):
    hostile = ("0 0, " * 799, "[" * 3_999, "9" * 3_999, "1,\n" * 1_333, "*," * 1_999, "x" * 100_000)
    assert_hardest_level_reads_stored_metadata(BY_NAME[name], hostile)


# -- published data ---------------------------------------------------------------------------------


PUBLISHED = [(name, folder) for name in MATRICES for folder in BY_NAME[name].published_folders]


@pytest.mark.parametrize(("name", "folder"), PUBLISHED, ids=[f for _, f in PUBLISHED])
def test_published_samples_score_one_and_corruptions_zero(name, folder):
    assert_published_folder_verifies(BY_NAME[name], folder)


@pytest.mark.parametrize("name", MATRICES)
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
        (sample / "solution.json").write_text(json.dumps(published_solution(name, e), indent=2))
    loaded = list(task.load_published(tmp_path))
    assert len(loaded) == len(generated) and all(isinstance(x, dict) for x in loaded), loaded
    for e, original in zip(loaded, generated, strict=True):
        assert task.score(wrap(original["answer"]), e) == 1.0
        for wrong in task.corruptions(e):
            assert task.score(wrap(wrong), e) == 0.0


@needs_external
def test_published_instances_agree_with_the_transformations() -> None:
    """The rules as implemented reproduce the paper's stored solutions (not just their strings)."""

    def published(name: str) -> list[dict]:
        task = BY_NAME[name]
        return [e for f in task.published_folders for e in task.load_published(SYMBENCH / f)]

    for e in published("symbench/pattern_recognition"):
        m = e["metadata"]
        assert matrices.unique_square(m["grid"])[:2] == (m["row"], m["column"])
    for e in published("symbench/pooling"):
        m = e["metadata"]
        expected = [[str(v) for v in row] for row in matrices.pool(m["matrix"], m["window_size"], m["pooling_type"])]
        assert expected == m["solution"]
    for e in published("symbench/matrix_transformation"):
        assert matrices.transform(e["metadata"]["matrix"], "rotate90") == e["metadata"]["solution"]
