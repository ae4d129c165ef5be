"""SymBench puzzle and planning tasks: generators, rule-based verifiers, published readers, answer parsing."""

from __future__ import annotations

import itertools
import json
import random
import re
import shutil
import time
from fractions import Fraction
from pathlib import Path

import pytest

from dataset_builders.answer_parsing import (
    AnswerParseError,
    check_nesting,
    evaluate_arithmetic,
    parse_grid,
    parse_int_sequence,
    parse_literal,
    parse_number,
    parse_pairs,
    parse_token_list,
)
from dataset_builders.symbench import TASKS as ALL_SYMBENCH
from dataset_builders.symbench.constraint_puzzles import queens_attack_free
from dataset_builders.symbench.deduction import (
    duel_result,
    feedback_key,
    full_feedback,
    lock_feedback,
    solve_any_order,
    solve_fixed_order,
)
from dataset_builders.symbench.planning import plan_blocks
from dataset_builders.symbench.published_layout import checked_entry
from dataset_builders.task import FLAWED_REFERENCE, FLAWED_REFERENCE_REASON, PublishedDataError, Task

SYMBENCH_DATA = Path(__file__).parents[1] / ".." / "shared" / "external" / "symbench"

MY_TASKS = (
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
TASKS: dict[str, Task] = {t.name: t for t in ALL_SYMBENCH if t.name in MY_TASKS}

#: Published samples whose reference breaks the rules stated in their own question (see the puzzles
#: module docstring): kept as entries, flagged in metadata, and their stored reference still scores 1.
FLAGGED = {
    # the reference selections exceed the question's "row/column sum <= 4" rule
    "logic_puzzle_dataset": {f"sample_{i}" for i in (2, 3, 4, 5, 8, 9, 12, 13, 14, 18, 19)},
    # Peng/Pass-only questions whose reference answer is 2 (Chi)
    "mahjong_pattern_dataset": {"sample_2", "sample_6"},
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


def wrap(answer: str) -> str:
    return f"Let me think step by step... the result follows.\n<<<{answer}>>>"


@pytest.fixture(scope="module")
def entries() -> dict[str, list[dict]]:
    return {name: list(task.generate(40, seed=0)) for name, task in TASKS.items()}


def test_all_sixteen_tasks_are_registered():
    assert sorted(TASKS) == sorted(MY_TASKS)
    for task in TASKS.values():
        assert task.description and task.source == "symbench"


# -- generic properties, per task ---------------------------------------------------------------


@pytest.mark.parametrize("name", MY_TASKS)
def test_reference_answers_score_one(name, entries):
    task = TASKS[name]
    for entry in entries[name]:
        assert task.score(wrap(entry["answer"]), entry) == 1.0, (entry["id"], entry["answer"])


@pytest.mark.parametrize("name", MY_TASKS)
def test_corruptions_score_zero(name, entries):
    task = TASKS[name]
    for entry in entries[name]:
        wrong = task.corruptions(entry)
        assert len(wrong) >= 3
        for answer in wrong:
            assert answer != entry["answer"]
            assert task.score(wrap(answer), entry) == 0.0, (entry["id"], answer)


@pytest.mark.parametrize("name", MY_TASKS)
def test_generation_is_deterministic_and_prefix_stable(name):
    task = TASKS[name]
    first = list(task.generate(6, seed=11))
    assert first == list(task.generate(6, seed=11))
    assert first[:3] == list(task.generate(3, seed=11))
    assert [e["question"] for e in first] != [e["question"] for e in task.generate(6, seed=12)]
    assert len({e["id"] for e in first}) == 6


@pytest.mark.parametrize("name", MY_TASKS)
def test_entries_are_json_with_uniform_metadata(name, entries):
    batch = entries[name]
    assert json.loads(json.dumps(batch)) == batch
    assert len({tuple(sorted(e["metadata"])) for e in batch}) == 1
    for entry in batch:
        assert entry["task"] == name and "<<<" in entry["question"]
        assert len(entry["answer"]) <= TASKS[name].max_answer_chars


@pytest.mark.parametrize("name", MY_TASKS)
def test_hostile_answers_are_rejected_quickly(name, entries):
    task = TASKS[name]
    entry = entries[name][0]
    for answer in HOSTILE:
        start = time.perf_counter()
        assert task.score(wrap(answer), entry) == 0.0
        assert time.perf_counter() - start < 0.5, answer[:40]
    assert task.score("no answer block at all", entry) == 0.0


@pytest.mark.parametrize("name", MY_TASKS)
def test_two_hundred_entries_generate_and_verify_fast(name):
    task = TASKS[name]
    start = time.perf_counter()
    batch = list(task.generate(200, seed=5))
    assert all(task.score(wrap(e["answer"]), e) == 1.0 for e in batch)
    # a generous bound: the machine is shared; typical runs take well under half a second
    assert time.perf_counter() - start < 4.0


# -- other valid answers score 1 ----------------------------------------------------------------


def test_game24_accepts_any_valid_expression():
    task = TASKS["symbench/game24"]
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
    task = TASKS["symbench/combinatorial_calculation"]
    checked = 0
    for entry in entries["symbench/combinatorial_calculation"]:
        meta = entry["metadata"]
        for expr in solve_fixed_order(meta["numbers"], meta["target"])[:5]:
            tokens = re.findall(r"\d+|[-+*/()]", expr)
            assert task.score(wrap("[" + ", ".join(tokens) + "]"), entry) == 1.0, expr
            assert task.score(wrap(json.dumps(tokens)), entry) == 1.0  # quoted tokens
            checked += 1
    assert checked > len(entries["symbench/combinatorial_calculation"])


def test_logical_equation_accepts_any_consistent_assignment():
    task = TASKS["symbench/logical_equation"]
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
    task = TASKS["symbench/cryptanalysis"]
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
    task = TASKS["symbench/constrained_linear_arrangement"]
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


def test_logic_puzzle_verifier_matches_brute_force(entries):
    task = TASKS["symbench/logic_puzzle"]
    # the small sum-limit levels only: tests/test_symbench_puzzles_levels.py covers the product rule
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


def test_eight_queens_accepts_every_completion(entries):
    task = TASKS["symbench/eight_queens"]
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
    task = TASKS["symbench/standard_sudoku"]
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
    task = TASKS["symbench/letter_logic_diagram"]
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


def test_unique_answer_tasks_accept_other_spellings(entries):
    mahjong = TASKS["symbench/mahjong_pattern"]
    for entry in entries["symbench/mahjong_pattern"]:
        word = {"0": "Pass", "1": "Peng", "2": "Chi"}[entry["answer"]]
        assert mahjong.score(wrap(f" {entry['answer']} "), entry) == 1.0
        assert mahjong.score(wrap(word), entry) == 1.0
    g2048 = TASKS["symbench/2048"]
    for entry in entries["symbench/2048"]:
        assert g2048.score(wrap(json.dumps(parse_grid(entry["answer"], int))), entry) == 1.0
    lights = TASKS["symbench/light_puzzles"]
    for entry in entries["symbench/light_puzzles"]:
        assert lights.score(wrap("[" + entry["answer"] + "]"), entry) == 1.0


def test_2048_rule_matches_the_published_examples():
    from dataset_builders.symbench.constraint_puzzles import slide_one

    assert slide_one([[0, 16], [4, 2]], (0, 1), "dl") == [[16, 0], [4, 2]]
    assert slide_one([[8, 32], [8, 32]], (0, 0), "du") == [[16, 32], [0, 32]]  # merges, then keeps moving
    assert slide_one([[4, 4], [8, 8]], (0, 0), "lr") == [[0, 8], [8, 8]]  # the wall stops it


def test_blocksworld_accepts_other_plans(entries):
    task = TASKS["symbench/blocksworld"]
    for entry in entries["symbench/blocksworld"]:
        initial = entry["metadata"]["initial"]
        src = next(i for i, s in enumerate(initial) if s)
        dst = (src + 1) % len(initial)
        block = initial[src][-1]
        detour = f"Move {block} from stack{src + 1} to stack{dst + 1}\nmove {block} from {dst + 1} to {src + 1}\n"
        assert task.score(wrap(detour + entry["answer"]), entry) == 1.0


def test_blocks_planner_solves_random_instances():
    rng = random.Random(3)
    for _ in range(300):
        n_stacks = rng.randint(3, 5)
        blocks = [chr(65 + i) for i in range(rng.randint(1, 7))]

        def arrangement(width, n_stacks=n_stacks, blocks=blocks):
            stacks = [[] for _ in range(n_stacks)]
            for b in rng.sample(blocks, len(blocks)):
                stacks[rng.randrange(width)].append(b)
            return stacks

        initial, goal = arrangement(n_stacks), arrangement(rng.randint(1, n_stacks))
        state = [s[:] for s in initial]
        for block, src, dst in plan_blocks(initial, goal):
            assert state[src][-1] == block and src != dst
            state[dst].append(state[src].pop())
        assert state == goal


def test_boxlift_accepts_other_schedules(entries):
    task = TASKS["symbench/boxlift"]
    for entry in entries["symbench/boxlift"]:
        steps = [line.split(": ", 1)[1] for line in entry["answer"].splitlines()]
        reordered = "\n".join(f"Step {i}: {s}" for i, s in enumerate(reversed(steps), 1))
        assert task.score(wrap(reordered), entry) == 1.0
        as_list = "[" + ", ".join(steps) + "]"
        assert task.score(wrap(as_list), entry) == 1.0


def test_boxnet_accepts_other_plans(entries):
    task = TASKS["symbench/boxnet"]
    for entry in entries["symbench/boxnet"]:
        plan = parse_literal(entry["answer"], max_chars=50_000, max_depth=4, max_nodes=50_000)
        if len(plan) < entry["metadata"]["budget"]:
            assert task.score(wrap(json.dumps([{}] + plan)), entry) == 1.0  # an idle step first
    layout = {
        "squares": ["0.5_0.5", "0.5_1.5"],
        "contents": [["box_red", "box_red"], ["target_red", "target_red"]],
        "budget": 4,
    }
    entry = task.entry("t", "q", "", layout)
    a, b = "Agent[0.5, 0.5]", "Agent[0.5, 1.5]"
    push, drop = "move(box_red, square[0.5, 1.5])", "move(box_red, target_red)"
    for plan in ([{a: push}, {a: push, b: drop}, {b: drop}], [{a: push}, {a: push}, {b: drop}, {b: drop}]):
        assert task.score(wrap(json.dumps(plan)), entry) == 1.0
    # the box that arrives during a step cannot be dropped in that same step
    assert task.score(wrap(json.dumps([{a: push, b: drop}, {a: push}, {b: drop}])), entry) == 0.0


def test_path_plan_accepts_other_paths(entries):
    task = TASKS["symbench/path_plan"]
    entry = task.entry("t", "q", "", {"grid": ["S..", "...", "..G"], "budget": 4})
    for path in ("(0,0),(0,1),(0,2),(1,2),(2,2)", "(0,0),(1,0),(2,0),(2,1),(2,2)", "0 0, 1 0, 1 1, 2 1, 2 2"):
        assert task.score(wrap(path), entry) == 1.0
    assert task.score(wrap("(0,0),(1,1),(2,2)"), entry) == 0.0  # diagonal moves are not moves
    for entry in entries["symbench/path_plan"]:
        path = parse_pairs(entry["answer"])
        if len(path) + 1 <= entry["metadata"]["budget"]:
            detour = [path[0], path[1], path[0]] + path[1:]
            assert task.score(wrap(", ".join(f"({r}, {c})" for r, c in detour)), entry) == 1.0


# -- published data -----------------------------------------------------------------------------

PUBLISHED = [(name, folder) for name in MY_TASKS for folder in TASKS[name].published_folders]


@pytest.mark.parametrize(("name", "folder"), PUBLISHED, ids=[f"{n.split('/')[1]}-{f}" for n, f in PUBLISHED])
def test_published_references_score_one(name, folder):
    path = SYMBENCH_DATA / folder
    if not path.is_dir():
        pytest.skip(f"published SymBench sample {path} is not present (only in the shared workspace)")
    task = TASKS[name]
    items = list(task.load_published(path))
    good = [i for i in items if isinstance(i, dict)]
    assert good and len(good) == len(items), [str(i) for i in items if not isinstance(i, dict)]
    generated_keys = set(next(iter(task.generate(1, seed=0)))["metadata"])
    for entry in good:
        assert entry["id"].startswith(f"{task.short_name}-pub-")
        assert task.score(wrap(entry["answer"]), entry) == 1.0, entry["id"]
        assert "<<<" in entry["question"]
        assert set(entry["metadata"]) == generated_keys, entry["id"]  # one metadata schema per task
    assert len({e["id"] for e in good}) == len(good)
    json.dumps(good)
    flagged = {e["id"].rsplit("-", 1)[1] for e in good if e["metadata"].get(FLAWED_REFERENCE)}
    assert flagged == FLAGGED.get(folder, set())


@pytest.mark.parametrize("folder", sorted(FLAGGED))
def test_flagged_published_references(folder):
    """A flagged entry accepts the paper's stored answer and any rule-valid one, and nothing else."""
    path = SYMBENCH_DATA / folder
    if not path.is_dir():
        pytest.skip(f"published SymBench sample {path} is not present (only in the shared workspace)")
    (task,) = [t for t in TASKS.values() if folder in t.published_folders]
    entries = {e["id"].rsplit("-", 1)[1]: e for e in task.load_published(path)}
    for sample, entry in entries.items():
        meta = entry["metadata"]
        assert meta[FLAWED_REFERENCE] is (sample in FLAGGED[folder])
        assert bool(meta[FLAWED_REFERENCE_REASON]) is meta[FLAWED_REFERENCE]
        assert task.score(wrap(entry["answer"]), entry) == 1.0
        for wrong in task.corruptions(entry):
            assert task.score(wrap(wrong), entry) == 0.0, (sample, wrong)
    if folder == "logic_puzzle_dataset":
        entry = entries["sample_3"]  # grid 2,1 / 3,3: the stored selection puts 3 + 2 in column 0
        assert "column 0 sums to 5 > 4" in entry["metadata"][FLAWED_REFERENCE_REASON]
        assert task.score(wrap("1 0, 0 0, 0 1"), entry) == 1.0  # the same selection in another order
        assert task.score(wrap("0 0, 0 1, 1 1"), entry) == 1.0  # the one selection that keeps the rules
        assert task.score(wrap("0 1, 1 0, 1 1"), entry) == 0.0  # breaks the rules and is not the reference
        assert "no selection meets every rule" in entries["sample_2"]["metadata"][FLAWED_REFERENCE_REASON]
    else:
        entry = entries["sample_2"]  # Peng/Pass only; the stored 2 is the result under the Chi rule
        assert "2 (Chi)" in entry["metadata"][FLAWED_REFERENCE_REASON]
        assert [task.score(wrap(a), entry) for a in ("2", "Chi", "0", "Pass", "1", "Peng")] == [1, 1, 1, 1, 0, 0]


def test_flagging_needs_the_task_to_opt_in():
    """Flagged entries keep the metadata schema of generated ones; a task that does not opt in rejects."""
    logic = TASKS["symbench/logic_puzzle"]
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
    queens = TASKS["symbench/eight_queens"]
    assert not queens.keeps_flawed_references
    assert FLAWED_REFERENCE not in next(iter(queens.generate(1, seed=0)))["metadata"]


def test_published_ids_are_unique_across_folders():
    if not SYMBENCH_DATA.is_dir():
        pytest.skip(f"published SymBench samples are not present at {SYMBENCH_DATA}")
    for name in ("symbench/eight_queens", "symbench/boxlift", "symbench/boxnet"):
        task = TASKS[name]
        ids = [
            e["id"]
            for f in task.published_folders
            for e in task.load_published(SYMBENCH_DATA / f)
            if isinstance(e, dict)
        ]
        assert len(ids) == len(set(ids)) > 0


def _sample(root: Path, name: str, question: str | None, solution: str | None) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    if question is not None:
        (folder / "question.txt").write_text(question)
    if solution is not None:
        (folder / "solution.json").write_text(solution)


def test_bad_published_samples_are_yielded_as_errors_without_hiding_good_ones(tmp_path):
    task = TASKS["symbench/standard_sudoku"]
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


def test_bad_game24_rows_are_yielded_as_errors(tmp_path):
    task = TASKS["symbench/game24"]
    (tmp_path / "24.csv").write_text(
        "Rank,Puzzles,Solutions\n1,4 7 8 8,(7-8/8)*4\n2,1 1 x 1,\n3,1 1 1 1,\n4,3 3 8 8,\n5,1 2 3 4,1+2+3+4\n"
    )
    items = list(task.load_published(tmp_path))
    good = [i for i in items if isinstance(i, dict)]
    assert [e["id"] for e in good] == ["game24-pub-1", "game24-pub-4"]  # row 4's answer is solved here
    errors = [str(i) for i in items if isinstance(i, PublishedDataError)]
    assert len(errors) == 3 and "row 2" in errors[0] and "row 3" in errors[1] and "row 5" in errors[2]


def test_bad_blocksworld_sample_is_reported(tmp_path):
    task = TASKS["symbench/blocksworld"]
    if SYMBENCH_DATA.is_dir():
        shutil.copytree(SYMBENCH_DATA / "Blocksworld_dataset" / "2_3_2_0", tmp_path / "2_3_2_0")
    else:
        (tmp_path / "2_3_2_0").mkdir()
        (tmp_path / "2_3_2_0" / "blocksworld_task.txt").write_text(
            "Initial State:\nstack1: \nstack2: B A\nstack3: \n\nGoal State:\nstack1: \nstack2: A B\n"
        )
    (tmp_path / "9_9_9_9").mkdir()
    (tmp_path / "9_9_9_9" / "blocksworld_task.txt").write_text("Initial State:\nstack1: A\n\nGoal State:\nstack1: B\n")
    items = list(task.load_published(tmp_path))
    assert isinstance(items[0], dict) and isinstance(items[1], PublishedDataError)
    assert "blocksworld_task.txt" in str(items[1])


# -- answer parsing -----------------------------------------------------------------------------


def test_evaluate_arithmetic_is_exact_and_bounded():
    assert evaluate_arithmetic("8/(3-8/3)").value == 24
    result = evaluate_arithmetic("(3×(9+(15−16)))")
    assert result.value == 24 and result.literals == (3, 9, 15, 16)
    assert evaluate_arithmetic("2^10", allow_power=True).value == 1024
    assert evaluate_arithmetic("-3+5").value == 2
    for bad, kwargs in (
        ("__import__('os')", {}),
        ("2**3", {}),
        ("2^3", {}),  # XOR unless powers are allowed
        ("9**9**9", {"allow_power": True}),
        ("10**40", {"allow_power": True}),
        ("1/0", {}),
        ("1.5+1", {}),
        ("-3+5", {"allow_unary": False}),
        ("x+1", {}),
        ("(" * 40 + "1" + ")" * 40, {}),
        ("1+" * 300 + "1", {}),
        ("9" * 20, {}),
    ):
        with pytest.raises(AnswerParseError):
            evaluate_arithmetic(bad, **kwargs)


def test_literal_and_sequence_parsers():
    assert parse_literal("[[1, 2], (3, -4), {'a': 'b'}]") == [[1, 2], (3, -4), {"a": "b"}]
    for bad in ("__import__('os')", "[1, 2] + [3]", "f(1)", "[" * 50 + "]" * 50, "10**100", "1" * 60):
        with pytest.raises(AnswerParseError):
            parse_literal(bad)
    assert parse_pairs("0 3, 1 0, 2 4") == parse_pairs("[(0,3),(1,0),(2,4)]") == [(0, 3), (1, 0), (2, 4)]
    with pytest.raises(AnswerParseError):
        parse_pairs("0 3, 1")
    assert parse_int_sequence("[3, -80, 36]") == [3, -80, 36]
    for bad in ("1, two, 3", "3-4", "1, 2 -", "1" * 20):
        with pytest.raises(AnswerParseError):
            parse_int_sequence(bad)
    assert parse_token_list('[6, /, "2", +, 7]') == ["6", "/", "2", "+", "7"]
    assert parse_token_list("A,B,C") == ["A", "B", "C"] and parse_token_list("[]") == []
    assert (
        parse_grid("16, 0\n4, 2") == parse_grid("[[16, 0], [4, 2]]") == parse_grid("[16 0]\n[4 2]") == [[16, 0], [4, 2]]
    )
    assert parse_grid("a,b\nc,d", str) == [["a", "b"], ["c", "d"]]
    assert parse_number("-7/3") == Fraction(-7, 3) and parse_number("2.50") == Fraction(5, 2)
    for bad in ("1e999999", "7/0", "abc", "1" * 200):
        with pytest.raises(AnswerParseError):
            parse_number(bad)
    check_nesting("[[1]]", max_depth=2)
    with pytest.raises(AnswerParseError):
        check_nesting("[[[1]]]", max_depth=2)
