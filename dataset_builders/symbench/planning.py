"""SymBench planning tasks: blocksworld, box lift, box net, grid path planning.

Plans are verified by simulation: every step must be legal in the state it is applied to and the
final state must meet the goal (within the stated step budget), so any valid plan scores 1, not
only the reference. References come from simple constructive planners written here; the budgets
stated in the questions are derived from those references.

Published data (`load_published`): every reader yields one entry per good sample and, for a bad
sample (missing file, malformed JSON, an instance that cannot be solved), a `PublishedDataError`
instance instead of raising, so one bad sample never hides the others; a missing or empty folder
raises.
The published Blocksworld, BoxLift and BoxNet samples hold instances only, so their reference
answers are planned here. See `published_layout`.

Levels follow the published generators (CodeSteer-v1.0 create_dataset/): blocksworld 2-4 blocks
on 3-5 stacks (and 5-6 blocks beyond), BoxLift's ten (boxes, lifters, weight, capacity)
configurations, BoxNet grids from 1x2 with 3 colours of one box to 4x8 with 5 colours of 1-3.
Path planning has no published generator or sample folder: the paper's instances are 14 fixed
continuous rooms x 10 visit/avoid instructions written into its benchmark script, checked by
segment/box-edge crossings. `PathPlan` is a grid stand-in with its own levels.
"""

from __future__ import annotations

import random
import re
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dataset_builders.answer_parsing import AnswerParseError, parse_literal, parse_pairs
from dataset_builders.symbench.published_layout import (
    field,
    iter_published,
    natural_key,
    read_json,
    read_text,
    sample_dirs,
)
from dataset_builders.task import MAX_DRAWS, Entry, GeneratedTask, PublishedDataError

# -- blocksworld -------------------------------------------------------------------------------

_MOVE = re.compile(r"^\s*move\s+([A-Za-z])\s+from\s+(?:stack\s*)?(\d+)\s+to\s+(?:stack\s*)?(\d+)\s*\.?\s*$", re.I)


def plan_blocks(initial: list[list[str]], goal: list[list[str]]) -> list[tuple[str, int, int]]:
    """A legal move list (block, from, to; 0-based stacks) from `initial` to `goal`; needs >= 3 stacks.

    Goal positions are filled stack by stack, bottom up. A block in its goal position with its goal
    prefix beneath it is never moved again; to place the next block, the blocks above it and above
    its target spot go to a third stack. Each placement is permanent, so this always terminates.
    Consecutive moves of one block are then merged.
    """
    state = [list(s) for s in initial]
    moves: list[tuple[str, int, int]] = []

    def move(src: int, dst: int) -> None:
        block = state[src].pop()
        state[dst].append(block)
        moves.append((block, src, dst))

    def spare(*avoid: int) -> int:
        # prefer stacks that end empty, then the lowest: fewer blocks end up buried on work in progress
        options = [i for i in range(len(state)) if i not in avoid]
        return min(options, key=lambda i: (len(goal[i]) > 0, len(state[i]), i))

    def where(block: str) -> int:
        return next(i for i, s in enumerate(state) if block in s)

    for s, wanted in enumerate(goal):
        for h, block in enumerate(wanted):
            if state[s][: h + 1] == wanted[: h + 1]:
                continue
            src = where(block)
            if src == s:
                while state[s][-1] != block:
                    move(s, spare(s))
                move(s, spare(s))
                src = where(block)
            while len(state[s]) > h:
                move(s, spare(s, src))
            while state[src][-1] != block:
                move(src, spare(s, src))
            move(src, s)
    merged: list[tuple[str, int, int]] = []
    for block, src, dst in moves:
        if merged and merged[-1][0] == block and merged[-1][2] == src:
            first_src = merged.pop()[1]
            if first_src != dst:
                merged.append((block, first_src, dst))
        else:
            merged.append((block, src, dst))
    return merged


def _format_stacks(stacks: list[list[str]]) -> str:
    return "\n".join(f"stack{i}: {' '.join(s)}" for i, s in enumerate(stacks, 1))


def parse_blocks_state(text: str) -> tuple[list[list[str]], list[list[str]], int]:
    """(initial stacks, goal stacks padded to as many stacks, how many goal stacks the text lists)
    from the published 'Initial State:' / 'Goal State:' text."""
    sections: dict[str, list[list[str]]] = {}
    current = None
    for line in text.splitlines():
        head = line.strip().lower()
        if head.startswith("initial state"):
            current = sections.setdefault("initial", [])
        elif head.startswith("goal state"):
            current = sections.setdefault("goal", [])
        elif m := re.match(r"^\s*stack\s*(\d+)\s*:(.*)$", line, re.I):
            if current is None or int(m.group(1)) != len(current) + 1:
                raise ValueError(f"unexpected stack line {line.strip()!r}")
            current.append(m.group(2).split())
    if "initial" not in sections or "goal" not in sections:
        raise ValueError("expected 'Initial State:' and 'Goal State:' sections of 'stackN: blocks' lines")
    initial, goal = sections["initial"], sections["goal"]
    if len(goal) > len(initial) or sorted(b for s in initial for b in s) != sorted(b for s in goal for b in s):
        raise ValueError("the goal must use the same blocks on at most as many stacks")
    return initial, goal + [[] for _ in range(len(initial) - len(goal))], len(goal)


#: The plan the question shows as an example of the format; never valid for a generated instance.
_BLOCKS_EXAMPLE = "Move B from 2 to 1\nMove A from 3 to 2"


class Blocksworld(GeneratedTask):
    name = "symbench/blocksworld"
    description = "Plan block moves between stacks, one top block at a time, to reach a goal arrangement."
    published_folders = ("Blocksworld_dataset",)

    #: level -> (blocks, fewest stacks, most stacks); the goal lists 2..stacks of them. Levels 1-3 are
    #: the published generator's range (2-4 blocks on 3-5 stacks, goals on 2-4 stacks), 4-5 go beyond.
    LEVELS: dict[int, tuple[int, int, int]] = {1: (2, 3, 5), 2: (3, 3, 5), 3: (4, 3, 5), 4: (5, 3, 5), 5: (6, 4, 5)}
    complexity_levels = len(LEVELS)

    def level_description(self, level: int) -> str:
        blocks, low, high = self.LEVELS[level]
        return f"{blocks} blocks on {low}-{high} stacks, goal on 2-{high} of them (unlisted stacks end empty)"

    @staticmethod
    def question(initial: list[list[str]], goal: list[list[str]], shown_goal: int) -> str:
        return (
            "Blocksworld Task:\n\n"
            f"Initial State:\n{_format_stacks(initial)}\n\nGoal State:\n{_format_stacks(goal[:shown_goal])}\n\n"
            "Each stack is listed from bottom to top. A move takes the top block of one stack and puts it on top of "
            "another stack (an empty stack is fine). Stacks not listed in the goal state must end up empty. Find a "
            "sequence of moves that transforms the initial state into the goal state.\n"
            "Return your answer with one move per line in the format 'Move <block> from <source stack> to "
            f"<destination stack>', using the stack numbers, for example:\n<<<{_BLOCKS_EXAMPLE}>>>"
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        n_blocks, low, high = self.LEVELS[level]
        n_stacks = rng.randint(low, high)
        names = [chr(ord("A") + i) for i in range(n_blocks)]
        # the published goals list at most 4 stacks; 5 listed stacks would say nothing more
        shown_goal = rng.randint(2, min(4, n_stacks))

        def arrangement(width: int) -> list[list[str]]:
            order = names[:]
            rng.shuffle(order)
            stacks: list[list[str]] = [[] for _ in range(n_stacks)]
            for block in order:
                stacks[rng.randrange(width)].append(block)
            return stacks

        initial = arrangement(n_stacks)
        goal = arrangement(shown_goal)
        # a completion that copies the question must not find a valid plan in its example
        while goal == initial or self.verify(_BLOCKS_EXAMPLE, {"metadata": {"initial": initial, "goal": goal}}):
            goal = arrangement(shown_goal)
        answer = "\n".join(f"Move {b} from {s + 1} to {d + 1}" for b, s, d in plan_blocks(initial, goal))
        return self.question(initial, goal, shown_goal), answer, {"initial": initial, "goal": goal}

    def verify(self, answer: str, entry: Entry) -> float:
        meta = entry["metadata"]
        state = [list(s) for s in meta["initial"]]
        lines = [ln for ln in answer.splitlines() if ln.strip()]
        if len(lines) > 500:
            raise AnswerParseError("more than 500 moves")
        for line in lines:
            m = _MOVE.match(line)
            if not m:
                raise AnswerParseError(f"not a move: {line[:60]!r}")
            block, src, dst = m.group(1).upper(), int(m.group(2)) - 1, int(m.group(3)) - 1
            if not (0 <= src < len(state) and 0 <= dst < len(state)) or src == dst:
                return 0.0
            if not state[src] or state[src][-1] != block:
                return 0.0
            state[dst].append(state[src].pop())
        return float(state == meta["goal"])

    def corruptions(self, entry: Entry) -> list[str]:
        answer = entry["answer"]
        lines = answer.splitlines()
        initial = entry["metadata"]["initial"]
        out = ["\n".join(lines[:-1])] if lines else []  # one move short
        # move a block that is buried (or absent) at the start
        for i, stack in enumerate(initial):
            if len(stack) > 1:
                out.append(f"Move {stack[0]} from {i + 1} to {(i + 1) % len(initial) + 1}\n" + answer)
                break
        if lines:
            block, src, dst = _MOVE.match(lines[0]).groups()
            out.append(f"Move {block} from {dst} to {src}\n" + answer)  # the block is not on that stack
        else:
            # a published goal can equal the start (the empty plan is right): any single move leaves it
            i = next(i for i, s in enumerate(initial) if s)
            out.append(f"Move {initial[i][-1]} from {i + 1} to {(i + 1) % len(initial) + 1}")
        return [w for w in dict.fromkeys([*out, "", "Move Z from 1 to 2"]) if w != answer]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            files = sorted(sample.glob("*.txt"))
            if not files:
                raise PublishedDataError(f"{sample}: expected a blocksworld_task.txt with the initial and goal states")
            try:
                initial, goal, shown = parse_blocks_state(read_text(files[0]))
            except ValueError as exc:
                raise PublishedDataError(f"{files[0]}: {exc}") from None
            if len(initial) < 3:
                raise PublishedDataError(f"{files[0]}: at least 3 stacks are needed")
            answer = "\n".join(f"Move {b} from {s + 1} to {d + 1}" for b, s, d in plan_blocks(initial, goal))
            return self.question(initial, goal, shown), answer, {"initial": initial, "goal": goal}

        yield from iter_published(self, folder, build)


# -- box lift ----------------------------------------------------------------------------------

_STEP_LABEL = re.compile(r"step\s*\d+\s*:", re.I)


def plan_lifts(boxes: list[int], lifters: list[int]) -> list[list[tuple[int, list[int]]]]:
    """Greedy steps: heaviest boxes first, each with the cheapest free lifter (or group of free
    lifters, largest first) that can hold it; a box that cannot be held this step waits."""
    remaining = sorted(boxes, reverse=True)
    steps: list[list[tuple[int, list[int]]]] = []
    while remaining:
        free = set(range(len(lifters)))
        step: list[tuple[int, list[int]]] = []
        waiting = []
        for weight in remaining:
            singles = [i for i in free if lifters[i] >= weight]
            if singles:
                team = [min(singles, key=lambda i: (lifters[i], i))]
            else:
                team, total = [], 0
                for i in sorted(free, key=lambda i: (-lifters[i], i)):
                    if total >= weight:
                        break
                    team.append(i)
                    total += lifters[i]
                if total < weight:
                    waiting.append(weight)
                    continue
            free -= set(team)
            step.append((weight, sorted(team)))
        if not step:
            raise ValueError("some box is heavier than all lifters together")
        steps.append(step)
        remaining = waiting
    return steps


def _format_lift_plan(steps: list[list[tuple[int, list[int]]]]) -> str:
    return "\n".join(
        f"Step {i}: [" + ", ".join(f"({w}, {team})" for w, team in step) + "]" for i, step in enumerate(steps, 1)
    )


class BoxLift(GeneratedTask):
    name = "symbench/boxlift"
    description = "Schedule lifters (alone or in teams) to lift all boxes within a step budget."
    published_folders = ("BoxLift_dataset",)
    max_answer_chars = 8000

    #: level -> ((boxes, lifters) choices, box weight range, lifter capacity range): the published
    #: generator's ten configurations, ordered by size.
    LEVELS: dict[int, tuple[tuple[tuple[int, int], ...], tuple[int, int], tuple[int, int]]] = {
        1: (((10, 3),), (10, 100), (40, 80)),
        2: (((10, 4),), (10, 100), (40, 80)),
        3: (((15, 4),), (20, 200), (30, 120)),
        4: (((15, 5), (16, 5)), (20, 200), (30, 120)),
        5: (((20, 5),), (30, 300), (40, 160)),
        6: (((20, 6), (21, 6)), (30, 300), (40, 160)),
        7: (((25, 6),), (40, 400), (50, 200)),
        8: (((25, 7),), (40, 400), (50, 200)),
    }
    complexity_levels = len(LEVELS)

    def __init__(self, slack: int = 0) -> None:
        """The step budget is the reference plan's steps plus `slack`."""
        self.slack = slack

    def level_description(self, level: int) -> str:
        sizes, (w0, w1), (c0, c1) = self.LEVELS[level]
        shapes = " or ".join(f"{b} boxes / {n} lifters" for b, n in sizes)
        return f"{shapes}, weights {w0}-{w1}, capacities {c0}-{c1}"

    @staticmethod
    def question(boxes: list[int], lifters: list[int], budget: int) -> str:
        return (
            "Task: BoxLift\n\n"
            f"There are {len(boxes)} boxes with the following weights: {boxes}\n"
            f"And there are {len(lifters)} lifters with the following maximum lifting capacities: {lifters}\n\n"
            f"Your task is to lift all the boxes in at most {budget} steps. In each step, each lifter can be used at "
            "most once, and several lifters can lift one box together if the sum of their capacities is at least "
            "the box's weight. Every box must be lifted exactly once. Lifters are numbered from 0 in the order given.\n"
            "Return your answer with one line per step, each step a list of (box weight, [lifter indices]) tuples, "
            "for example:\n<<<Step 1: [(50, [0, 2]), (30, [1])]\nStep 2: [(20, [0])]>>>"
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        sizes, weights, capacities = self.LEVELS[level]
        n_boxes, n_lifters = rng.choice(sizes)
        for _ in range(MAX_DRAWS):
            lifters = [rng.randint(*capacities) for _ in range(n_lifters)]
            boxes = [rng.randint(*weights) for _ in range(n_boxes)]
            if max(boxes) <= sum(lifters):  # every box can be lifted by all lifters together
                break
        else:
            raise RuntimeError(f"{self.name}: no liftable instance in {MAX_DRAWS} draws")
        steps = plan_lifts(boxes, lifters)
        meta = {"boxes": boxes, "lifters": lifters, "budget": len(steps) + self.slack}
        return self.question(boxes, lifters, meta["budget"]), _format_lift_plan(steps), meta

    def verify(self, answer: str, entry: Entry) -> float:
        meta = entry["metadata"]
        lifters = meta["lifters"]
        if _STEP_LABEL.search(answer):
            chunks = [c for c in _STEP_LABEL.split(answer) if c.strip()]
            steps = [parse_literal(c.strip().rstrip(","), max_depth=4, max_nodes=2_000) for c in chunks]
        else:
            steps = parse_literal(answer, max_depth=5, max_nodes=20_000)
        if not isinstance(steps, (list, tuple)) or len(steps) > meta["budget"]:
            return 0.0
        lifted: Counter[int] = Counter()
        for step in steps:
            if isinstance(step, tuple) and len(step) == 2 and isinstance(step[1], list):
                step = [step]  # a one-box step written without the list brackets
            used: set[int] = set()
            for item in step:
                weight, team = item
                team = list(team)
                if any(not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(lifters) for i in team):
                    return 0.0
                if len(set(team)) != len(team) or used & set(team) or sum(lifters[i] for i in team) < weight:
                    return 0.0
                used |= set(team)
                lifted[weight] += 1
        return float(lifted == Counter(meta["boxes"]))

    def corruptions(self, entry: Entry) -> list[str]:
        meta = entry["metadata"]
        lines = entry["answer"].splitlines()
        heaviest = max(meta["boxes"])
        weakest = min(range(len(meta["lifters"])), key=lambda i: meta["lifters"][i])
        out = ["\n".join(lines[:-1]) or "Step 1: []"]
        out.append(
            entry["answer"] + f"\nStep {len(lines) + 1}: [({meta['boxes'][0]}, [0])]"
        )  # a box twice / over budget
        if meta["lifters"][weakest] < heaviest:
            out.append(f"Step 1: [({heaviest}, [{weakest}])]")
        out.append(re.sub(r"\[(\d+)", r"[\1, \1", entry["answer"], count=1))  # one lifter twice in a team
        return out + ["", "Step 1: [(1, [99])]"]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        # BoxLift_<n>_<m>/BoxLift<k>/BoxLift.json: two levels of folders
        samples = sample_dirs(folder, depth=2)

        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            path = sample / "BoxLift.json"
            data = read_json(path, "an object with boxes (weights) and lifters (capacities)")
            boxes = [int(b) for b in field(data, "boxes", path, list, "a list of box weights")]
            lifters = [int(c) for c in field(data, "lifters", path, list, "a list of lifter capacities")]
            if not boxes or not lifters or max(boxes) > sum(lifters):
                raise PublishedDataError(f"{path}: every box must be liftable by all lifters together")
            steps = plan_lifts(boxes, lifters)
            meta = {"boxes": boxes, "lifters": lifters, "budget": len(steps) + self.slack}
            return self.question(boxes, lifters, meta["budget"]), _format_lift_plan(steps), meta

        # inner names (BoxLift0, ...) repeat across the size folders
        yield from iter_published(self, folder, build, samples, name=lambda s: f"{s.parent.name}-{s.name}")


# -- box net -----------------------------------------------------------------------------------

_ACTION = re.compile(
    r"^\s*move\(\s*box_(\w+)\s*,\s*(?:target_(\w+)|square\[\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*\])\s*\)\s*$"
)
_AGENT = re.compile(r"^\s*agent\[\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*\]\s*$", re.I)

Cell = tuple[int, int]


def _cell_name(cell: Cell) -> str:
    return f"{cell[0] + 0.5}, {cell[1] + 0.5}"


def _cell_from_coords(x: str, y: str) -> Cell:
    fx, fy = float(x) - 0.5, float(y) - 0.5
    if fx != int(fx) or fy != int(fy):
        raise AnswerParseError(f"not a square centre: [{x}, {y}]")
    return int(fx), int(fy)


def _boxnet_state(layout: dict[str, list[str]]) -> tuple[dict[Cell, Counter[str]], dict[Cell, Counter[str]]]:
    boxes: dict[Cell, Counter[str]] = {}
    targets: dict[Cell, Counter[str]] = {}
    for key, items in layout.items():
        x, y = key.split("_")
        cell = _cell_from_coords(x, y)
        boxes[cell] = Counter(i[4:] for i in items if i.startswith("box_"))
        targets[cell] = Counter(i[7:] for i in items if i.startswith("target_"))
    return boxes, targets


def plan_boxnet(layout: dict[str, list[str]]) -> list[dict[str, str]]:
    """A parallel plan: boxes are paired with same-colour targets (nearest first), every agent moves
    one box per step one square toward its target (rows first), and drops it when it is there."""
    boxes, targets = _boxnet_state(layout)
    free_targets = [(cell, color) for cell, ts in targets.items() for color, k in ts.items() for _ in range(k)]
    items = [(cell, color) for cell, bs in boxes.items() for color, k in bs.items() for _ in range(k)]
    pairs = sorted(
        (
            (abs(b[0] - t[0]) + abs(b[1] - t[1]), bi, ti)
            for bi, (b, bc) in enumerate(items)
            for ti, (t, tc) in enumerate(free_targets)
            if bc == tc
        )
    )
    goal: dict[int, Cell] = {}
    taken: set[int] = set()
    for _, bi, ti in pairs:
        if bi not in goal and ti not in taken:
            goal[bi] = free_targets[ti][0]
            taken.add(ti)
    if len(goal) != len(items) or len(taken) != len(free_targets):
        raise ValueError("boxes and targets of each colour must match one to one")
    where = {bi: cell for bi, (cell, _) in enumerate(items)}
    plan: list[dict[str, str]] = []
    while where:
        step: dict[str, str] = {}
        moved: dict[int, Cell] = {}
        for cell in sorted({c for c in where.values()}):
            here = sorted(bi for bi, c in where.items() if c == cell)
            # finishing a box beats moving one: it frees the square and needs no further steps
            bi = next((b for b in here if goal[b] == cell), here[0])
            color = items[bi][1]
            if goal[bi] == cell:
                step[f"Agent[{_cell_name(cell)}]"] = f"move(box_{color}, target_{color})"
                moved[bi] = (-1, -1)
            else:
                tr, tc = goal[bi]
                nxt = (
                    (cell[0] + (tr > cell[0]) - (tr < cell[0]), cell[1])
                    if tr != cell[0]
                    else (cell[0], cell[1] + (tc > cell[1]) - (tc < cell[1]))
                )
                step[f"Agent[{_cell_name(cell)}]"] = f"move(box_{color}, square[{_cell_name(nxt)}])"
                moved[bi] = nxt
        for bi, cell in moved.items():
            if cell == (-1, -1):
                del where[bi]
            else:
                where[bi] = cell
        plan.append(step)
    return plan


def simulate_boxnet(layout: dict[str, list[str]], plan: Any, budget: int) -> bool:
    """True when `plan` (a list of {agent: action} steps) is legal and matches every box within `budget`.

    An agent acts only on a box that was in its square at the start of the step; boxes moved in
    arrive at the end of the step. A box meets a target of its colour in the same square and both vanish.
    """
    boxes, targets = _boxnet_state(layout)
    if not isinstance(plan, (list, tuple)) or len(plan) > budget:
        return False
    for step in plan:
        if not isinstance(step, dict):
            return False
        arrivals: list[tuple[Cell, str]] = []
        acted: set[Cell] = set()
        for agent, action in step.items():
            if not isinstance(agent, str) or not isinstance(action, str):
                return False
            am, mm = _AGENT.match(agent), _ACTION.match(action)
            if not am or not mm:
                return False
            cell = _cell_from_coords(am.group(1), am.group(2))
            if cell not in boxes or cell in acted:
                return False
            acted.add(cell)
            color = mm.group(1)
            if boxes[cell][color] <= 0:
                return False
            if mm.group(2) is not None:
                if mm.group(2) != color or targets[cell][color] <= 0:
                    return False
                targets[cell][color] -= 1
            else:
                dest = _cell_from_coords(mm.group(3), mm.group(4))
                if dest not in boxes or abs(dest[0] - cell[0]) + abs(dest[1] - cell[1]) != 1:
                    return False
                arrivals.append((dest, color))
            boxes[cell][color] -= 1
        for dest, color in arrivals:
            boxes[dest][color] += 1
    return all(sum(c.values()) == 0 for c in boxes.values())


_COLORS = ("red", "blue", "green", "purple", "orange")


class BoxNet(GeneratedTask):
    name = "symbench/boxnet"
    description = "Coordinate one agent per grid square to push coloured boxes onto matching targets."
    published_folders = ("BoxNet1_dataset",)
    max_answer_chars = 30_000

    #: level -> ((rows, columns) choices, colours, (fewest, most) boxes per colour). Levels 1-3 follow
    #: the published generator's current setting (3 colours, one box each, grids up to 2x4), levels
    #: 4-6 the published samples' (5 colours, 1-3 boxes each, grids up to 4x8).
    LEVELS: dict[int, tuple[tuple[tuple[int, int], ...], int, tuple[int, int]]] = {
        1: (((1, 2), (1, 3)), 3, (1, 1)),
        2: (((1, 4), (2, 2)), 3, (1, 1)),
        3: (((2, 3), (2, 4)), 3, (1, 1)),
        4: (((1, 2), (2, 2)), 5, (1, 3)),
        5: (((2, 4), (4, 4)), 5, (1, 3)),
        6: (((4, 8),), 5, (1, 3)),
    }
    complexity_levels = len(LEVELS)

    def level_description(self, level: int) -> str:
        grids, colors, (low, high) = self.LEVELS[level]
        shapes = " or ".join(f"{r}x{c}" for r, c in grids)
        per = f"{low}" if low == high else f"{low}-{high}"
        return f"grid {shapes}, {colors} colours, {per} box(es) and target(s) per colour"

    @staticmethod
    def budget_for(plan: list[dict[str, str]]) -> int:
        # room for a plan half again as long as the reference: sequencing matters, optimality does not
        return len(plan) + len(plan) // 2 + 1

    @staticmethod
    def question(layout: dict[str, list[str]], budget: int) -> str:
        lines = []
        for key in sorted(layout, key=natural_key):
            x, y = key.split("_")
            lines.append(f"Agent[{x}, {y}]: I am in square[{x}, {y}], I can observe {layout[key]}")
        return (
            "You are a central planner directing agents in a grid-like field to move colored boxes. Each agent is "
            "assigned to a 1x1 square and can only interact with objects in its area. An agent can move a box in its "
            "square to a neighboring square (sharing a side), or move a box onto a target of the same color in its "
            "own square, after which both disappear. Each square can contain many boxes and targets. In one step every "
            "agent may do at most one action, on a box that was in its square at the start of the step.\n"
            f"Squares are named by their centre coordinates. Match every box with a target of its color in at most "
            f"{budget} steps.\n\nThe current state is:\n" + "\n".join(lines) + "\n\n"
            "Return your answer as a list of steps, each a dictionary from agent to action, in the format "
            '<<<[{"Agent[0.5, 0.5]": "move(box_blue, square[0.5, 1.5])", "Agent[1.5, 0.5]": "move(box_red, target_red)"}, '
            '{"Agent[0.5, 1.5]": "move(box_blue, target_blue)"}]>>>. Leave out agents that do nothing in a step.'
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        grids, n_colors, per_color = self.LEVELS[level]
        rows, cols = rng.choice(grids)
        cells = [f"{r + 0.5}_{c + 0.5}" for r in range(rows) for c in range(cols)]
        layout: dict[str, list[str]] = {key: [] for key in cells}
        for color in rng.sample(_COLORS, n_colors):
            for _ in range(rng.randint(*per_color)):
                layout[rng.choice(cells)].append(f"box_{color}")
                layout[rng.choice(cells)].append(f"target_{color}")
        for items in layout.values():
            rng.shuffle(items)
        plan = plan_boxnet(layout)
        budget = self.budget_for(plan)
        # the layout is stored as parallel lists: its keys differ per grid, which Arrow cannot share as a schema
        meta = {"squares": list(layout), "contents": list(layout.values()), "budget": budget}
        return self.question(layout, budget), _format_boxnet_plan(plan), meta

    def verify(self, answer: str, entry: Entry) -> float:
        meta = entry["metadata"]
        plan = parse_literal(answer, max_chars=self.max_answer_chars, max_depth=4, max_nodes=20_000)
        return float(simulate_boxnet(dict(zip(meta["squares"], meta["contents"], strict=True)), plan, meta["budget"]))

    def corruptions(self, entry: Entry) -> list[str]:
        plan = parse_literal(entry["answer"], max_chars=self.max_answer_chars, max_depth=4, max_nodes=20_000)
        out = [_format_boxnet_plan(plan[:-1])]
        first_agent, first_action = next(iter(plan[0].items()))
        teleport = re.sub(r"square\[[^\]]*\]", "square[9.5, 9.5]", first_action)
        if teleport != first_action:
            out.append(_format_boxnet_plan([{first_agent: teleport}] + plan[1:]))
        color = re.search(r"box_(\w+)", first_action).group(1)
        wrong = "blue" if color != "blue" else "red"
        out.append(_format_boxnet_plan([{first_agent: f"move(box_{color}, target_{wrong})"}] + plan[1:]))
        out.append(_format_boxnet_plan(plan + plan))  # replays boxes that are gone (and overruns the budget)
        return out + ["", "[]", "[{'Agent[0.5, 0.5]': 'dance()'}]"]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        # env_pg_state_<r>_<c>/pg_state<k>/pg_state<k>.json: two levels of folders
        samples = sample_dirs(folder, depth=2)

        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            path = sample / f"{sample.name}.json"
            layout = read_json(path, 'an object {"0.5_0.5": ["box_red", "target_red", ...], ...}')
            if not isinstance(layout, dict) or not all(
                isinstance(v, list) and re.fullmatch(r"\d+\.5_\d+\.5", k) for k, v in layout.items()
            ):
                raise PublishedDataError(f"{path}: expected keys like '0.5_1.5' mapping to lists of box_/target_ names")
            try:
                plan = plan_boxnet(layout)
            except ValueError as exc:
                raise PublishedDataError(f"{path}: {exc}") from None
            budget = self.budget_for(plan)
            meta = {"squares": list(layout), "contents": list(layout.values()), "budget": budget}
            return self.question(layout, budget), _format_boxnet_plan(plan), meta

        # inner names (pg_state0, ...) repeat across the grid-size folders
        yield from iter_published(self, folder, build, samples, name=lambda s: f"{s.parent.name}-{s.name}")


def _format_boxnet_plan(plan: list[dict[str, str]]) -> str:
    return "[" + ", ".join("{" + ", ".join(f'"{a}": "{m}"' for a, m in step.items()) + "}" for step in plan) + "]"


# -- path planning -----------------------------------------------------------------------------


def _bfs_path(grid: list[str], start: Cell, goal: Cell) -> list[Cell] | None:
    rows, cols = len(grid), len(grid[0])
    previous: dict[Cell, Cell | None] = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if cell == goal:
            path = []
            node: Cell | None = cell
            while node is not None:
                path.append(node)
                node = previous[node]
            return path[::-1]
        r, c = cell
        for nxt in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= nxt[0] < rows and 0 <= nxt[1] < cols and grid[nxt[0]][nxt[1]] != "#" and nxt not in previous:
                previous[nxt] = cell
                queue.append(nxt)
    return None


#: The path the question shows as an example of the format; never valid for a generated instance.
_PATH_EXAMPLE = "(0, 0), (0, 1), (1, 1)"


class PathPlan(GeneratedTask):
    """A grid stand-in for SymBench's continuous region-based path planning (which has no published
    generator or sample folder): walk from S through numbered checkpoints in order to G around
    obstacles within a move budget."""

    name = "symbench/path_plan"
    description = (
        "Plan a grid path from start through ordered checkpoints to a goal, avoiding obstacles, within a budget."
    )
    max_answer_chars = 6000

    #: level -> inclusive ranges of (grid side, obstacle density, checkpoint count)
    LEVELS: dict[int, tuple[tuple[int, int], tuple[float, float], tuple[int, int]]] = {
        1: ((5, 6), (0.10, 0.20), (1, 1)),
        2: ((6, 7), (0.15, 0.25), (1, 2)),
        3: ((7, 8), (0.15, 0.30), (2, 3)),
        4: ((8, 10), (0.20, 0.30), (3, 4)),
    }
    complexity_levels = len(LEVELS)

    def __init__(self, slack: float = 0.25) -> None:
        """The move budget is the reference path's length times (1 + `slack`), rounded up."""
        self.slack = slack

    def level_description(self, level: int) -> str:
        (s0, s1), (d0, d1), (c0, c1) = self.LEVELS[level]
        checks = f"{c0}" if c0 == c1 else f"{c0}-{c1}"
        return f"grid side {s0}-{s1}, {d0:.0%}-{d1:.0%} obstacles, {checks} checkpoint(s)"

    @staticmethod
    def question(grid: list[str], budget: int) -> str:
        n_check = sum(ch.isdigit() for row in grid for ch in row)
        order = ", ".join(str(i) for i in range(1, n_check + 1))
        return (
            "A robot moves on the grid below. '.' is free space, '#' is an obstacle, 'S' is the start, 'G' is the goal "
            f"and the numbered cells are checkpoints that must be visited in order ({order}) before reaching G. Each move "
            "goes one cell up, down, left or right; the robot may not enter obstacles or leave the grid, and may pass "
            f"any cell several times. Reach G using at most {budget} moves.\n\n" + "\n".join(grid) + "\n\n"
            "Cells are (row, column), counted from 0 at the top-left. Return the full path as the list of visited "
            f"cells from S to G in the format <<<{_PATH_EXAMPLE}>>>."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        size, obstacles, checkpoints = self.LEVELS[level]
        for _ in range(MAX_DRAWS):
            rows, cols = rng.randint(*size), rng.randint(*size)
            density = rng.uniform(*obstacles)
            cells = [(r, c) for r in range(rows) for c in range(cols)]
            marks = rng.sample(cells, 2 + rng.randint(*checkpoints))
            chars = [["#" if rng.random() < density else "." for _ in range(cols)] for _ in range(rows)]
            labels = ["S"] + [str(i) for i in range(1, len(marks) - 1)] + ["G"]
            for (r, c), label in zip(marks, labels, strict=True):
                chars[r][c] = label
            grid = ["".join(row) for row in chars]
            path = [marks[0]]
            for a, b in zip(marks, marks[1:], strict=False):
                leg = _bfs_path(grid, a, b)
                if leg is None:
                    break
                path.extend(leg[1:])
            else:
                budget = int((len(path) - 1) * (1 + self.slack) + 0.999)
                answer = ", ".join(f"({r}, {c})" for r, c in path)
                meta = {"grid": grid, "budget": budget}
                if self.verify(_PATH_EXAMPLE, {"metadata": meta}):
                    continue  # a copy of the question would carry a valid path in its example
                return self.question(grid, budget), answer, meta
        raise RuntimeError(f"{self.name}: no valid instance in {MAX_DRAWS} draws; loosen the knobs")

    def verify(self, answer: str, entry: Entry) -> float:
        grid, budget = entry["metadata"]["grid"], entry["metadata"]["budget"]
        path = parse_pairs(answer, max_pairs=budget + 1, max_chars=self.max_answer_chars)
        if not path or len(path) - 1 > budget:
            return 0.0
        rows, cols = len(grid), len(grid[0])
        if any(not (0 <= r < rows and 0 <= c < cols) or grid[r][c] == "#" for r, c in path):
            return 0.0
        if any(abs(a[0] - b[0]) + abs(a[1] - b[1]) != 1 for a, b in zip(path, path[1:], strict=False)):
            return 0.0
        marks = {grid[r][c]: (r, c) for r in range(rows) for c in range(cols) if grid[r][c] not in ".#"}
        if path[0] != marks["S"] or path[-1] != marks["G"]:
            return 0.0
        wanted = [marks[str(i)] for i in range(1, len(marks) - 1)]
        seen = 0
        for cell in path:
            if seen < len(wanted) and cell == wanted[seen]:
                seen += 1
        return float(seen == len(wanted))

    def corruptions(self, entry: Entry) -> list[str]:
        path = parse_pairs(entry["answer"])
        fmt = lambda cells: ", ".join(f"({r}, {c})" for r, c in cells)  # noqa: E731
        out = [fmt(path[:-1]), fmt(path[:1] + path[2:])]  # stops short; skips a cell (a jump)
        grid = entry["metadata"]["grid"]
        first_check = next(((r, c) for r, row in enumerate(grid) for c, ch in enumerate(row) if ch == "1"), None)
        if first_check is not None:
            direct = _bfs_path([row.replace("1", "#") for row in grid], path[0], path[-1])
            if direct:
                out.append(fmt(direct))  # goes straight to G, missing checkpoint 1
        out.append(fmt(path + path[-2::-1] + path[1:]))  # wanders past the budget
        return out + ["", "(0, 0)"]


TASKS = [Blocksworld(), BoxLift(), BoxNet(), PathPlan()]
