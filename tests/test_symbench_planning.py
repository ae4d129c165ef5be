"""SymBench planning tasks (dataset_builders/symbench/planning.py): levels spanning the published
generators, plans verified by simulation at every level, published variants read and scored, hacks."""

from __future__ import annotations

import json
import random
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from dataset_builders.answer_parsing import parse_literal, parse_pairs
from dataset_builders.symbench import planning
from dataset_builders.symbench.planning import plan_blocks
from dataset_builders.task import PublishedDataError, Task
from tests.symbench_helpers import (
    SYMBENCH,
    assert_question_copy_never_scores,
    assert_same_bytes_across_hash_seeds,
    needs_external,
    wrap,
)

TASKS: dict[str, Task] = {t.short_name: t for t in planning.TASKS}
NAMES = sorted(TASKS)
#: The same tasks by full name.
BY_NAME: dict[str, Task] = {t.name: t for t in planning.TASKS}


@pytest.fixture(scope="module")
def spread() -> dict[str, list[dict]]:
    """200 entries per task with levels drawn as `generate` draws them by default."""
    return {name: list(task.generate(200, seed=11)) for name, task in TASKS.items()}


def published(task: Task, folder: Path) -> list[dict]:
    items = list(task.load_published(folder))
    errors = [str(i) for i in items if isinstance(i, PublishedDataError)]
    assert not errors, errors
    return items


def _grid_shape(squares: list[str]) -> tuple[int, int]:
    rows = {float(s.split("_")[0]) for s in squares}
    cols = {float(s.split("_")[1]) for s in squares}
    return len(rows), len(cols)


def _shown_goal_stacks(question: str) -> int:
    return len(re.findall(r"^stack\d+:", question.split("Goal State:")[1], re.M))


# -- levels and variants ------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_two_hundred_entries_span_every_level(name: str, spread: dict[str, list[dict]]) -> None:
    task = TASKS[name]
    levels = Counter(e["metadata"]["complexity"] for e in spread[name])
    assert task.complexity_levels >= 4
    assert set(levels) == set(range(1, task.complexity_levels + 1)), levels
    assert all(task.level_description(level) for level in levels)
    assert len({json.dumps(sorted(e["metadata"])) for e in spread[name]}) == 1, "one metadata schema per task"


def test_blocksworld_spans_blocks_stacks_and_goal_widths(spread: dict[str, list[dict]]) -> None:
    entries = spread["blocksworld"]
    blocks = {sum(len(s) for s in e["metadata"]["initial"]) for e in entries}
    stacks = {len(e["metadata"]["initial"]) for e in entries}
    shown = {_shown_goal_stacks(e["question"]) for e in entries}
    assert blocks == {2, 3, 4, 5, 6} and stacks == {3, 4, 5} and shown == {2, 3, 4}
    # goals that leave a listed stack empty and goals that leave unlisted stacks empty both occur
    assert any([] in e["metadata"]["goal"][:2] for e in entries)


def test_boxlift_spans_the_published_configurations(spread: dict[str, list[dict]]) -> None:
    entries = spread["boxlift"]
    sizes = {(len(e["metadata"]["boxes"]), len(e["metadata"]["lifters"])) for e in entries}
    assert sizes == {(10, 3), (10, 4), (15, 4), (15, 5), (16, 5), (20, 5), (20, 6), (21, 6), (25, 6), (25, 7)}
    assert max(max(e["metadata"]["boxes"]) for e in entries) > 300
    for e in entries:
        assert max(e["metadata"]["boxes"]) <= sum(e["metadata"]["lifters"]), "every box is liftable"
    # some boxes need a team at the hard levels
    assert any(re.search(r"\(\d+, \[\d+, \d+", e["answer"]) for e in entries)


def test_boxnet_spans_grids_colours_and_box_counts(spread: dict[str, list[dict]]) -> None:
    entries = spread["boxnet"]
    shapes = {_grid_shape(e["metadata"]["squares"]) for e in entries}
    assert shapes == {(1, 2), (1, 3), (1, 4), (2, 2), (2, 3), (2, 4), (4, 4), (4, 8)}
    colours = Counter()
    for e in entries:
        boxes = Counter(i for items in e["metadata"]["contents"] for i in items if i.startswith("box_"))
        colours[len(boxes)] += 1
        assert max(boxes.values()) <= 3
    assert set(colours) == {3, 5}
    assert any(
        max(Counter(i for c in e["metadata"]["contents"] for i in c if i.startswith("box_")).values()) == 3
        for e in entries
    )


def test_path_plan_spans_sizes_and_checkpoints(spread: dict[str, list[dict]]) -> None:
    entries = spread["path_plan"]
    checkpoints = {sum(ch.isdigit() for row in e["metadata"]["grid"] for ch in row) for e in entries}
    sides = {len(e["metadata"]["grid"]) for e in entries} | {len(e["metadata"]["grid"][0]) for e in entries}
    assert checkpoints == {1, 2, 3, 4}
    assert min(sides) == 5 and max(sides) == 10


# -- verdicts at every level --------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_references_score_one_and_corruptions_zero_at_every_level(name: str) -> None:
    task = TASKS[name]
    for level in range(1, task.complexity_levels + 1):
        for e in task.generate(8, seed=level, complexity=level):
            assert e["metadata"]["complexity"] == level
            assert task.score(wrap(e["answer"]), e) == 1.0, (level, e["answer"])
            assert task.score(wrap(e["answer"]), {**e, "metadata": json.dumps(e["metadata"])}) == 1.0
            wrong = task.corruptions(e)
            assert len(wrong) >= 3
            for w in wrong:
                assert task.score(wrap(w), e) == 0.0, (level, w[:200])


def test_reference_plans_are_legal_by_an_independent_replay() -> None:
    for e in TASKS["blocksworld"].generate(40, seed=3, complexity=5):
        state = [list(s) for s in e["metadata"]["initial"]]
        for line in e["answer"].splitlines():
            block, src, dst = re.fullmatch(r"Move (\w) from (\d) to (\d)", line).groups()
            assert state[int(src) - 1].pop() == block
            state[int(dst) - 1].append(block)
        assert state == e["metadata"]["goal"]
    for e in TASKS["boxlift"].generate(40, seed=3, complexity=8):
        lifters, lifted = e["metadata"]["lifters"], []
        steps = e["answer"].splitlines()
        assert len(steps) <= e["metadata"]["budget"]
        for line in steps:
            used: list[int] = []
            for weight, team in parse_literal(line.split(": ", 1)[1]):
                assert sum(lifters[i] for i in team) >= weight
                used += team
                lifted.append(weight)
            assert len(used) == len(set(used))
        assert sorted(lifted) == sorted(e["metadata"]["boxes"])


def test_other_valid_plans_score_one_at_the_hardest_levels() -> None:
    blocks = TASKS["blocksworld"]
    for e in blocks.generate(20, seed=6, complexity=5):
        initial = e["metadata"]["initial"]
        src = next(i for i, s in enumerate(initial) if s)
        dst = (src + 1) % len(initial)
        there_and_back = f"Move {initial[src][-1]} from {src + 1} to {dst + 1}\n"
        there_and_back += f"Move {initial[src][-1]} from {dst + 1} to {src + 1}\n"
        assert blocks.score(wrap(there_and_back + e["answer"]), e) == 1.0
    boxnet = TASKS["boxnet"]
    for e in boxnet.generate(10, seed=6, complexity=6):
        plan = parse_literal(e["answer"], max_chars=50_000, max_depth=4, max_nodes=50_000)
        assert len(plan) < e["metadata"]["budget"]
        assert boxnet.score(wrap(json.dumps([{}, *plan])), e) == 1.0
    lift = TASKS["boxlift"]
    for e in lift.generate(10, seed=6, complexity=8):
        steps = [line.split(": ", 1)[1] for line in e["answer"].splitlines()]
        assert lift.score(wrap("[" + ", ".join(reversed(steps)) + "]"), e) == 1.0


# -- reward hacks -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_hedged_padded_and_partial_plans_score_zero(name: str) -> None:
    task = TASKS[name]
    for level in (1, task.complexity_levels):
        e = next(iter(task.generate(1, seed=21, complexity=level)))
        right, wrong = e["answer"], task.corruptions(e)[0]
        for hack in (
            f"{right}\nor\n{wrong}",
            f"{wrong}\nor\n{right}",
            f"{right} (I think)",
            f"Plan: {right}",
            right[: len(right) // 2],
            e["question"],
            right.replace("A", "\u0410") if "A" in right else right.replace("1", "l"),
        ):
            assert task.score(wrap(hack), e) == 0.0, (level, hack[:200])


def test_blocksworld_unlisted_stacks_must_end_empty() -> None:
    task = TASKS["blocksworld"]
    checked = 0
    for e in task.generate(60, seed=8, complexity=4):
        goal = e["metadata"]["goal"]
        listed = _shown_goal_stacks(e["question"])
        top = next((i for i in range(listed) if goal[i]), None)
        if listed == len(goal) or top is None:
            continue
        # the listed stacks match but one more move parks a block on a stack the goal leaves unlisted
        parked = e["answer"] + f"\nMove {goal[top][-1]} from {top + 1} to {len(goal)}"
        assert task.score(wrap(parked), e) == 0.0
        checked += 1
    assert checked > 3


def test_boxlift_budget_and_team_strength_are_enforced() -> None:
    task = TASKS["boxlift"]
    for e in task.generate(10, seed=9, complexity=8):
        meta = e["metadata"]
        one_per_step = "\n".join(
            f"Step {i}: [({w}, {list(range(len(meta['lifters'])))})]" for i, w in enumerate(meta["boxes"], 1)
        )
        assert len(meta["boxes"]) > meta["budget"]
        assert task.score(wrap(one_per_step), e) == 0.0, "legal moves, but more steps than the budget allows"
        weakest = min(range(len(meta["lifters"])), key=meta["lifters"].__getitem__)
        heavy = max(meta["boxes"])
        if meta["lifters"][weakest] < heavy:
            swapped = re.sub(rf"\({heavy}, \[[\d, ]+\]\)", f"({heavy}, [{weakest}])", e["answer"], count=1)
            assert task.score(wrap(swapped), e) == 0.0


def test_path_plan_checkpoints_count_only_in_order() -> None:
    task = TASKS["path_plan"]
    grid = ["S.1", "...", "2.G"]
    entry = task.entry("t", "q", "", {"grid": grid, "budget": 12})
    in_order = "(0,0),(0,1),(0,2),(1,2),(1,1),(1,0),(2,0),(2,1),(2,2)"
    out_of_order = "(0,0),(1,0),(2,0),(1,0),(1,1),(0,1),(0,2),(1,2),(2,2)"
    assert task.score(wrap(in_order), entry) == 1.0
    assert task.score(wrap(out_of_order), entry) == 0.0
    for e in task.generate(10, seed=4, complexity=4):
        path = parse_pairs(e["answer"])
        assert task.score(wrap(", ".join(f"({r}, {c})" for r, c in reversed(path))), e) == 0.0


@pytest.mark.parametrize("name", NAMES)
def test_a_copy_of_the_question_never_scores(name: str) -> None:
    # the example fits the smallest instances; the larger shapes cannot match it, so fewer entries do there
    assert_question_copy_never_scores(TASKS[name], per_level={"boxlift": 30, "boxnet": 30}.get(name, 300))


# -- determinism --------------------------------------------------------------------------------


def test_same_seed_same_bytes_across_processes_and_hash_seeds() -> None:
    assert_same_bytes_across_hash_seeds("planning", n=30, seed=4)


# -- published data -----------------------------------------------------------------------------


@needs_external
@pytest.mark.parametrize("name", [n for n in NAMES if TASKS[n].published_folders])
def test_local_published_samples_score_one(name: str) -> None:
    task = TASKS[name]
    entries = [e for folder in task.published_folders for e in published(task, SYMBENCH / folder)]
    assert len(entries) >= 20
    for e in entries:
        assert task.score(wrap(e["answer"]), e) == 1.0, e["id"]
        for w in task.corruptions(e):
            assert task.score(wrap(w), e) == 0.0, (e["id"], w[:200])


@needs_external
def test_local_published_samples_cover_the_published_extremes() -> None:
    blocks = published(TASKS["blocksworld"], SYMBENCH / "Blocksworld_dataset")
    assert {sum(len(s) for s in e["metadata"]["initial"]) for e in blocks} == {2, 3, 4}
    boxnet = published(TASKS["boxnet"], SYMBENCH / "BoxNet1_dataset")
    assert (4, 8) in {_grid_shape(e["metadata"]["squares"]) for e in boxnet}


def test_published_layouts_of_configurations_absent_locally(tmp_path: Path) -> None:
    """Samples in the published generators' file layouts for the configurations the local copy lacks."""
    rng = random.Random(5)
    lift_root = tmp_path / "BoxLift_dataset"
    for n_boxes, n_lifters, weights, capacities in ((25, 7, (40, 400), (50, 200)), (16, 5, (20, 200), (30, 120))):
        sample = lift_root / f"BoxLift_{n_boxes}_{n_lifters}" / "BoxLift0"
        sample.mkdir(parents=True)
        lifters = [rng.randint(*capacities) for _ in range(n_lifters)]
        boxes = [rng.randint(weights[0], min(weights[1], sum(lifters))) for _ in range(n_boxes)]
        sample.joinpath("BoxLift.json").write_text(json.dumps({"boxes": boxes, "lifters": lifters}))
    net_root = tmp_path / "BoxNet1_dataset"
    for rows, cols in ((1, 3), (1, 4), (2, 3)):
        sample = net_root / f"env_pg_state_{rows}_{cols}" / "pg_state0"
        sample.mkdir(parents=True)
        layout: dict[str, list[str]] = {f"{r + 0.5}_{c + 0.5}": [] for r in range(rows) for c in range(cols)}
        for colour in ("blue", "red", "green"):
            layout[rng.choice(list(layout))].append(f"box_{colour}")
            layout[rng.choice(list(layout))].append(f"target_{colour}")
        sample.joinpath("pg_state0.json").write_text(json.dumps(layout))
    for name, root, count in (("boxlift", lift_root, 2), ("boxnet", net_root, 3)):
        task = TASKS[name]
        entries = published(task, root)
        assert len(entries) == count and len({e["id"] for e in entries}) == count
        for e in entries:
            assert task.score(wrap(e["answer"]), e) == 1.0
            for w in task.corruptions(e):
                assert task.score(wrap(w), e) == 0.0


def test_unliftable_published_boxlift_sample_is_reported(tmp_path: Path) -> None:
    sample = tmp_path / "BoxLift_10_3" / "BoxLift0"
    sample.mkdir(parents=True)
    sample.joinpath("BoxLift.json").write_text(json.dumps({"boxes": [500, 20], "lifters": [40, 50, 60]}))
    (item,) = TASKS["boxlift"].load_published(tmp_path)
    assert isinstance(item, PublishedDataError) and "BoxLift.json" in str(item)


# -- other valid plans, a bad published sample ------------------------------------------------------


@pytest.fixture(scope="module")
def entries() -> dict[str, list[dict]]:
    return {name: list(task.generate(40, seed=0)) for name, task in BY_NAME.items()}


def test_blocksworld_accepts_other_plans(entries):
    task = BY_NAME["symbench/blocksworld"]
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
    task = BY_NAME["symbench/boxlift"]
    for entry in entries["symbench/boxlift"]:
        steps = [line.split(": ", 1)[1] for line in entry["answer"].splitlines()]
        reordered = "\n".join(f"Step {i}: {s}" for i, s in enumerate(reversed(steps), 1))
        assert task.score(wrap(reordered), entry) == 1.0
        as_list = "[" + ", ".join(steps) + "]"
        assert task.score(wrap(as_list), entry) == 1.0


def test_boxnet_accepts_other_plans(entries):
    task = BY_NAME["symbench/boxnet"]
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
    task = BY_NAME["symbench/path_plan"]
    entry = task.entry("t", "q", "", {"grid": ["S..", "...", "..G"], "budget": 4})
    for path in ("(0,0),(0,1),(0,2),(1,2),(2,2)", "(0,0),(1,0),(2,0),(2,1),(2,2)", "0 0, 1 0, 1 1, 2 1, 2 2"):
        assert task.score(wrap(path), entry) == 1.0
    assert task.score(wrap("(0,0),(1,1),(2,2)"), entry) == 0.0  # diagonal moves are not moves
    for entry in entries["symbench/path_plan"]:
        path = parse_pairs(entry["answer"])
        if len(path) + 1 <= entry["metadata"]["budget"]:
            detour = [path[0], path[1], path[0]] + path[1:]
            assert task.score(wrap(", ".join(f"({r}, {c})" for r, c in detour)), entry) == 1.0


def test_bad_blocksworld_sample_is_reported(tmp_path):
    task = BY_NAME["symbench/blocksworld"]
    if SYMBENCH.is_dir():
        shutil.copytree(SYMBENCH / "Blocksworld_dataset" / "2_3_2_0", tmp_path / "2_3_2_0")
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
