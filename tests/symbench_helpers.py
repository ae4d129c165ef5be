"""What the SymBench test files (tests/test_symbench_*.py) share: where the published data lives, and a completion."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from dataset_builders.answer_parsing import parse_grid, parse_int_sequence, parse_pairs
from dataset_builders.symbench.constraint_puzzles import SUM_RULE
from dataset_builders.task import FLAWED_REFERENCE, GeneratedTask, PublishedDataError, Task

ROOT = Path(__file__).resolve().parents[1]
#: The paper's published SymBench data: a local copy in the shared workspace, absent elsewhere.
SYMBENCH = ROOT.parent / "shared" / "external" / "symbench"
needs_external = pytest.mark.skipif(
    not SYMBENCH.is_dir(), reason="shared/external/symbench (the paper's published data) is absent"
)


def wrap(answer: str) -> str:
    """A completion that reasons a little, then gives `answer` as its final <<<>>> answer."""
    return f"Working it out.\n<<<{answer}>>>"


#: Two groups of tasks, each with a generic battery in tests/test_symbench_tasks.py and a published-data
#: check in tests/test_symbench_published.py: the puzzle, board and planning tasks, and the string,
#: matrix and numeric ones (every other module's own file checks its tasks in depth).
PUZZLE_TASK_NAMES = (
    "symbench/game24",
    "symbench/blocksworld",
    "symbench/boxlift",
    "symbench/boxnet",
    "symbench/path_plan",
    "symbench/eight_queens",
    "symbench/standard_sudoku",
    "symbench/2048",
    "symbench/combinatorial_calculation",
    "symbench/constrained_linear_arrangement",
    "symbench/cryptanalysis",
    "symbench/letter_logic_diagram",
    "symbench/light_puzzles",
    "symbench/logic_puzzle",
    "symbench/logical_equation",
    "symbench/mahjong_pattern",
)
PROCEDURAL_TASK_NAMES = (
    "symbench/string_deletion_and_modification",
    "symbench/string_insertion",
    "symbench/string_splitting",
    "symbench/string_synthesis",
    "symbench/letters",
    "symbench/statistical_counting",
    "symbench/matrix_transformation",
    "symbench/pattern_recognition",
    "symbench/reversi",
    "symbench/pooling",
    "symbench/new_operator",
    "symbench/number_multiply",
    "symbench/permutations_and_combinations",
    "symbench/synthesis_decomposition",
)

#: Answers built to make a parser or a math library spend unbounded time or memory.
PARSER_BOMBS = [
    "__import__('os').system('echo pwned')",
    "[" * 3000 + "]" * 3000,
    "9" * 3999,
    "x" * 1_000_000,
    "1e999999",
    "9**9**9**9",
    "9^{9^{9^{9}}}",
    "10^{20}!",
    "\\binom{1000000}{500000}",
    "(x+1)^{99999}",
    "\x00",
    "",
]


def assert_rejected_quickly(task: Task, entry: dict) -> None:
    start = time.perf_counter()
    for answer in PARSER_BOMBS:
        assert task.score(wrap(answer), entry) == 0.0, answer[:40]
    assert time.perf_counter() - start < 2.0


# -- the published layout, for samples of levels the local copy lacks ----------------------------


def published_solution(name: str, e: dict[str, Any]) -> dict[str, Any]:
    """The solution.json that the published generator of `e`'s task writes for it (its field names).

    `name` is the task's full or short name; the sample-folder tasks of the board, matrix, game and string
    families are covered.
    """
    name = name.removeprefix("symbench/")
    meta = e["metadata"]
    if name == "eight_queens":
        return {
            "initial_board": meta["board"],
            "blocked_positions": meta["blocked"],
            "placed_queens": meta["placed"],
            "solution": [list(p) for p in parse_pairs(e["answer"])],
            "complexity": meta["complexity"],
        }
    if name == "standard_sudoku":
        return {"puzzle": meta["puzzle"], "solution": parse_grid(e["answer"], int), "complexity": 5}
    if name == "2048":
        return {
            "grid": meta["grid"],
            "moves": meta["moves"],
            "start_pos": meta["start"],
            "solution": e["answer"],
            "complexity": 5,
        }
    if name == "letter_logic_diagram":
        return {"grid": meta["grid"], "solution": parse_grid(e["answer"], str), "complexity": 4}
    if name == "light_puzzles":
        return {
            "n": len(meta["state"]),
            "initial_state": meta["state"],
            "buttons": dict(zip(meta["button_names"], meta["button_cells"], strict=True)),
            "operations": meta["operations"],
            "solution": parse_int_sequence(e["answer"]),
            "complexity": 4,
        }
    if name == "matrix_transformation":
        return {"matrix": meta["matrix"], "solution": meta["solution"], "formatted_solution": e["answer"]}
    if name == "pattern_recognition":
        return {"row": meta["row"], "column": meta["column"], "complexity": 5}
    if name == "reversi":
        moves = meta["moves"]
        return {"board_size": meta["board_size"], "moves": moves, "solution": e["answer"], "complexity": len(moves)}
    if name == "pooling":
        # the published pooling solution holds floats (averages such as 5.111111111111111)
        solution = [[float(Fraction(v)) for v in row] for row in meta["solution"]]
        return {
            "matrix": meta["matrix"],
            "window_size": meta["window_size"],
            "pooling_type": meta["pooling_type"],
            "solution": solution,
            "complexity": 5,
        }
    if name == "string_deletion_and_modification":
        return {
            "initial_string": meta["initial_string"],
            "selected_rules": meta["rules"],
            "intermediate_states": meta["states"],
            "final_string": meta["final_string"],
            "complexity": min(5, len(meta["states"]) - 1),
        }
    if name == "string_insertion":
        return {"original_string": meta["original_string"], "modified_string": meta["modified_string"], "complexity": 5}
    if name == "string_splitting":
        return {"expected_answer": [str(v) for v in meta["final"]], "complexity": meta["complexity"]}
    if name == "string_synthesis":
        a, b, c = meta["initial"]
        return {"A_count": a, "B_count": b, "C_count": c, "final_counts": meta["final"], "complexity": 1}
    if name == "statistical_counting":
        return {"sequence": meta["sequence"], "rules": meta["rules"], "solution": meta["solution"], "complexity": 5}
    raise ValueError(f"no published solution.json form for {name}")


def published_logic_question(grid: list[list[int]], pick: int, rule: str) -> str:
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


def write_published_sample(root: Path, name: str, e: dict[str, Any], sample: str) -> None:
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
        question = published_logic_question(meta["grid"], meta["pick"], meta["rule"])
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
    elif name == "mahjong_pattern":  # the published file also stores a removal for the last round
        removes = meta["removes"] + [meta["initial"][0]]
        rounds = [{"add": a, "remove": r} for a, r in zip(meta["adds"], removes, strict=True)]
        data = {"initial_cards": meta["initial"], "rounds": rounds, "solution": int(e["answer"]), "complexity": 5}
    else:
        raise ValueError(f"no published sample form for {name}")
    (folder / "question.txt").write_text(question)
    (folder / "solution.json").write_text(json.dumps(data, indent=2))


def published_entries(task: GeneratedTask) -> list[dict[str, Any]]:
    """Every shared published sample of `task`; none may be rejected."""
    items = [item for folder in task.published_folders for item in task.load_published(SYMBENCH / folder)]
    assert items and not [i for i in items if isinstance(i, PublishedDataError)]
    return items


def assert_published_within_levels(task: GeneratedTask) -> None:
    """Each shared published sample matches one generator level, recorded as its complexity; where the
    published generator stores its own level with the same meaning, the two agree."""
    name = task.short_name
    for e in published_entries(task):
        assert 1 <= e["metadata"]["complexity"] <= task.complexity_levels, (e["id"], e["metadata"])
        if name in ("logic_puzzle", "mahjong_pattern"):
            folder = SYMBENCH / task.published_folders[0] / e["id"].split("-pub-")[1]
            stored = json.loads((folder / "solution.json").read_text())["complexity"]
            assert e["metadata"]["complexity"] == stored, e["id"]


def assert_variants_read_back(task: GeneratedTask, tmp_path: Path) -> None:
    """Entries of every level, written in the published layout, load back unchanged and verify."""
    name = task.short_name
    originals = {}
    for level in range(1, task.complexity_levels + 1):
        for i, e in enumerate(task.generate(2, seed=level, complexity=level)):
            originals[f"sample_{level}_{i}"] = e
            write_published_sample(tmp_path, name, e, f"sample_{level}_{i}")
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


def fullwidth_digits(text: str) -> str:
    return text.translate({ord(str(d)): chr(0xFF10 + d) for d in range(10)})


def assert_board_hacks_score_zero(task: GeneratedTask, entries: list[dict[str, Any]]) -> None:
    """A generic hack battery for board and grid answers: each scores 0 unless it equals the answer;
    full-width digits, the one lenient spelling every board verifier accepts on purpose, score 1."""
    lookalike = str.maketrans({"a": "а", "c": "с", "e": "е", "o": "о", "1": "l", "0": "O"})
    for e in entries:
        a = e["answer"]
        hacks = {
            "empty": "",
            "hedge": f"{a} or {a[::-1]}",
            "two lines": f"{a}\n{a[::-1]}",
            "junk after": f"{a} (I am not sure)",
            "junk before": f"maybe {a}",
            "doubled": f"{a}, {a}",
            "half": a[: len(a) // 2],
            "lookalike": a.translate(lookalike),
            "question": e["question"],
            "code only": f"```python\nprint({a!r})\n```",
        }
        for label, hack in hacks.items():
            if hack != a:
                assert task.score(wrap(hack), e) == 0.0, (label, e["id"])
        assert task.score(wrap(fullwidth_digits(a)), e) == 1.0, ("fullwidth digits", e["id"])


def tasks_digest(module: str, n: int = 15, seed: int = 3) -> str:
    """sha256 of the first `n` entries (seed `seed`) of every task in `dataset_builders.symbench.<module>`."""
    h = hashlib.sha256()
    for task in importlib.import_module(f"dataset_builders.symbench.{module}").TASKS:
        h.update(json.dumps(list(task.generate(n, seed=seed)), sort_keys=True).encode())
    return h.hexdigest()


def assert_same_bytes_across_hash_seeds(module: str, n: int = 15, seed: int = 3) -> None:
    """No set order or string hashing leaks into the entries: interpreters with other hash seeds agree byte for byte."""
    here = tasks_digest(module, n, seed)
    code = f"from tests.symbench_helpers import tasks_digest; print(tasks_digest({module!r}, {n}, {seed}))"
    for hash_seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-2000:]
        assert run.stdout.strip() == here


def assert_levels_described(task: GeneratedTask, levels: int) -> None:
    """`task` has `levels` levels (the published generator's), each with its own description."""
    assert task.complexity_levels == levels, task.name
    descriptions = [task.level_description(level) for level in range(1, levels + 1)]
    assert all(descriptions) and len(set(descriptions)) == len(descriptions), task.name


def assert_levels_appear_and_are_described(task: GeneratedTask, batch: list[dict[str, Any]], levels: int) -> None:
    """`task` has `levels` described levels, and a batch draws every one of them."""
    assert_levels_described(task, levels)
    assert {e["metadata"]["complexity"] for e in batch} == set(range(1, levels + 1))


def assert_batch_spans_levels(batch: list[dict[str, Any]], levels: int) -> None:
    """A batch of 200 draws every level, uniformly enough that none is starved."""
    counts = Counter(e["metadata"]["complexity"] for e in batch)
    assert sorted(counts) == list(range(1, levels + 1))
    assert min(counts.values()) >= 200 // levels // 3  # drawn uniformly, not piled on one level


def assert_every_level_verifies(task: GeneratedTask, per_level: int = 6, min_corruptions: int = 4) -> None:
    """At every level, `per_level` references score 1 and each has at least `min_corruptions` corruptions,
    all scoring 0."""
    for level in range(1, task.complexity_levels + 1):
        for e in task.generate(per_level, seed=level, complexity=level):
            assert e["metadata"]["complexity"] == level
            assert task.score(wrap(e["answer"]), e) == 1.0, (level, e["answer"])
            wrong = task.corruptions(e)
            assert len(wrong) >= min_corruptions
            for w in wrong:
                assert task.score(wrap(w), e) == 0.0, (level, w, e["answer"])


def assert_same_seed_same_bytes(task: GeneratedTask) -> None:
    """The same seed gives the same bytes, another seed other entries, and entry i does not depend on n."""
    first = json.dumps(list(task.generate(12, seed=7)), sort_keys=True)
    assert first == json.dumps(list(task.generate(12, seed=7)), sort_keys=True)
    assert first != json.dumps(list(task.generate(12, seed=8)), sort_keys=True)
    assert json.loads(first)[:5] == list(task.generate(5, seed=7))


#: Long answers that once made grid and board parsers slow: each must score 0 within a second.
GRID_HOSTILE = ("0 0, " * 799, "[" * 3_999, "9" * 3_999, "1,\n" * 1_333, "a," * 1_999, "x" * 100_000)


def assert_hardest_level_reads_stored_metadata(task: GeneratedTask, hostile: tuple[str, ...] = GRID_HOSTILE) -> None:
    """At the hardest level: the reference scores 1 against metadata stored as a JSON string (a datasets
    column), and every `hostile` answer scores 0 within a second."""
    e = next(iter(task.generate(1, seed=9, complexity=task.complexity_levels)))
    assert task.score(wrap(e["answer"]), {**e, "metadata": json.dumps(e["metadata"])}) == 1.0
    for answer in hostile:
        start = time.perf_counter()
        assert task.score(wrap(answer), e) == 0.0
        assert time.perf_counter() - start < 1.0


def assert_published_folder_verifies(task: GeneratedTask, folder: str) -> None:
    """Every published sample in SYMBENCH/`folder` loads, scores 1, and each of its corruptions scores 0."""
    path = SYMBENCH / folder
    if not path.is_dir():
        pytest.skip(f"published SymBench samples {path} are absent (only in the shared workspace)")
    items = list(task.load_published(path))
    assert items and all(isinstance(i, dict) for i in items), [str(i) for i in items if not isinstance(i, dict)]
    for e in items:
        assert task.score(wrap(e["answer"]), e) == 1.0, e["id"]
        for wrong in task.corruptions(e):
            assert task.score(wrap(wrong), e) == 0.0, (e["id"], wrong)


def assert_hedges_score_zero(task: GeneratedTask) -> None:
    """At the lowest and highest level: hedged ("x or y"), repeated, padded, partial, question-copying and
    look-alike answers all score 0."""
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
            right[: len(right) // 2] if task.short_name != "new_operator" else f"{right}, {wrong}",
            e["question"],
            right.replace("A", "\u0410").replace("1", "l") if re.search("[A1]", right) else "",
        ):
            assert task.score(wrap(hack), e) == 0.0, (level, hack)


def assert_question_copy_never_scores(task: GeneratedTask, per_level: int = 300) -> None:
    """The question shows an example answer in <<<>>>; no generated instance may have it as a valid answer."""
    for level in range(1, task.complexity_levels + 1):
        for e in task.generate(per_level, seed=1, complexity=level):
            assert task.score(e["question"], e) == 0.0, (level, e["answer"])
