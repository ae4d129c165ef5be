"""SymBench game simulations: play a board or card game's stated moves by its rules and report the result.

Tasks: symbench/2048, symbench/light_puzzles, symbench/reversi, symbench/mahjong_pattern.

The moves are given and the rules are deterministic, so each question has one answer: the verifiers
simulate the stated moves and compare the parsed answer with the result (boards are read with
bounded parsers, never evaluated). Levels follow the published generators (CodeSteer-v1.0
create_dataset_*.py): grid sizes and move counts (2048), grid sizes, buttons and presses (light
puzzles), board sizes and moves to play (Reversi), rounds and the Chi rule from level 3 (mahjong).

Published data (`load_published`): every reader yields one entry per good sample and, for a bad
sample (missing file, malformed JSON or CSV row, a missing field, a reference that breaks the
question's rules), a `PublishedDataError` instance instead of raising, so one bad sample never hides
the others; a missing or empty folder raises. See `published_layout` for the shared contract.

Note on the published Reversi samples: their "previous round" board already shows the move
(it equals the stored solution), so copying it out of the question scores 1 and evaluation on them
measures copying. The stored solution is still the correct final board and the verifier checks it,
but each such entry is flagged with the published-flaw mechanism (`published_reference_breaks_rules`
True, `published_reference_flaw` saying the question shows its answer), so an evaluation can leave
them out or report them apart; generated Reversi questions show the board before the moves.

mahjong_pattern keeps published samples whose stored reference breaks its own question's rules,
since the paper's checker accepted those references (`keeps_flawed_references`): 2 Peng/Pass-only
questions store 2, the Chi result (its Chi check also misses a run with a pair between the cards,
e.g. A, B, B and a new C). Such an entry is flagged in metadata (`published_reference_breaks_rules`,
with the reason in `published_reference_flaw`), and its verifier accepts the stored reference as well
as any answer that keeps the rules; every entry of the task carries both keys (False and "" otherwise).
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dataset_builders.answer_parsing import AnswerParseError, parse_grid, parse_int_sequence
from dataset_builders.symbench.matrices import matrix_cells
from dataset_builders.symbench.published_layout import (
    field,
    iter_published,
    read_json,
    read_sample,
    read_text,
    with_level,
)
from dataset_builders.task import (
    FLAWED_REFERENCE,
    FLAWED_REFERENCE_REASON,
    MAX_DRAWS,
    Entry,
    GeneratedTask,
    PublishedDataError,
)

# -- 2048 --------------------------------------------------------------------------------------

_STEPS = {"u": (-1, 0), "d": (1, 0), "l": (0, -1), "r": (0, 1)}


def slide_one(grid: list[list[int]], start: tuple[int, int], moves: str) -> list[list[int]]:
    """Move the single number at `start` step by step: into an empty cell it moves, onto an equal
    number it merges (and keeps moving as the merged number), against a wall or a different number
    it stays. This is the rule the published references follow."""
    grid = [row[:] for row in grid]
    n_rows, n_cols = len(grid), len(grid[0])
    r, c = start
    for move in moves:
        if grid[r][c] == 0:
            break
        dr, dc = _STEPS[move]
        nr, nc = r + dr, c + dc
        if not (0 <= nr < n_rows and 0 <= nc < n_cols):
            continue
        if grid[nr][nc] == 0:
            grid[nr][nc], grid[r][c] = grid[r][c], 0
        elif grid[nr][nc] == grid[r][c]:
            grid[nr][nc], grid[r][c] = 2 * grid[r][c], 0
        else:
            continue
        r, c = nr, nc
    return grid


def _format_matrix(grid: list[list[int]]) -> str:
    return "\n".join(", ".join(str(v) for v in row) for row in grid)


#: (grid side, number of moves) per level, the published generator's five configurations.
GAME2048_LEVELS = {1: (2, 2), 2: (3, 3), 3: (4, 4), 4: (5, 5), 5: (5, 6)}
#: The answer format shown in the question (a result equal to it is never drawn).
_FORMAT_EXAMPLE_2048 = "2, 0\n4, 8"
#: Tiles are 2..32, as in the published generator.
_TILES = [2**p for p in range(1, 6)]


class Game2048(GeneratedTask):
    name = "symbench/2048"
    description = "Simulate one tile of a 2048-style grid sliding and merging along a move sequence."
    published_folders = ("2048_dataset",)
    complexity_levels = len(GAME2048_LEVELS)

    def level_description(self, level: int) -> str:
        n, moves = GAME2048_LEVELS[level]
        return f"{n}x{n} grid with {n}-{2 * n} tiles (2..32), {moves} moves"

    @staticmethod
    def question(grid: list[list[int]], start: list[int], moves: str) -> str:
        n = len(grid)
        return (
            f"In an {n}x{n} grid, there are several squares containing powers of 2. We define the '2048' game: The "
            "numbers in the grid can move in any direction. When they encounter a number that is the same power of 2, "
            "they can combine to form a larger number that is the next power of 2. For example: 2 meets 2 -> 4; 4 meets "
            "4 -> 8; 16 meets 16 -> 32. When they encounter a different number, they remain unchanged.\n"
            "u: represents moving up one step\nd: represents moving down one step\n"
            "l: represents moving left one step\nr: represents moving right one step\n\n"
            f"Now, in the following matrix, move the number in position ({start[0] + 1}, {start[1] + 1}) using the "
            f"sequence '{moves}':\n{_format_matrix(grid)}\n\nWhat is the matrix after moving?\n"
            "Return your answer with format <<<matrix>>>, one row per line with the numbers separated by commas, "
            f"for example <<<\n{_FORMAT_EXAMPLE_2048}\n>>>."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        while True:  # the rare result that equals the question's format example is redrawn
            question, answer, meta = self._draw(rng, level)
            if answer != _FORMAT_EXAMPLE_2048:
                return question, answer, meta

    def _draw(self, rng: random.Random, level: int) -> tuple[str, str, dict[str, Any]]:
        n, n_moves = GAME2048_LEVELS[level]
        cells = [(r, c) for r in range(n) for c in range(n)]
        tiles = rng.sample(cells, rng.randint(n, min(2 * n, n * n)))
        grid = [[0] * n for _ in range(n)]
        for r, c in tiles:
            grid[r][c] = rng.choice(_TILES)
        start = list(rng.choice(tiles))  # the moving number is always a tile, never an empty cell
        moves = "".join(rng.choice("udlr") for _ in range(n_moves))
        # seed a merge along the first move half the time, so combining is exercised, not only sliding
        dr, dc = _STEPS[moves[0]]
        nr, nc = start[0] + dr, start[1] + dc
        if rng.random() < 0.5 and 0 <= nr < n and 0 <= nc < n:
            grid[nr][nc] = grid[start[0]][start[1]]
        result = slide_one(grid, (start[0], start[1]), moves)
        return self.question(grid, start, moves), _format_matrix(result), {"grid": grid, "start": start, "moves": moves}

    def verify(self, answer: str, entry: Entry) -> float:
        meta = entry["metadata"]
        n = len(meta["grid"])
        grid = parse_grid(answer, int, max_rows=n, max_cols=n)
        return float(grid == slide_one(meta["grid"], tuple(meta["start"]), meta["moves"]))

    def corruptions(self, entry: Entry) -> list[str]:
        meta = entry["metadata"]
        result = parse_grid(entry["answer"], int)
        bumped = [row[:] for row in result]
        bumped[0][0] = bumped[0][0] * 2 or 2
        out = [_format_matrix(bumped), _format_matrix(result[:-1])]
        if meta["grid"] != result:
            out.append(_format_matrix(meta["grid"]))
        return out + ["", "0"]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            path = sample / "solution.json"
            data = read_json(path, "an object with grid, moves, start_pos and solution")
            grid = [[int(v) for v in row] for row in field(data, "grid", path, list, "a square list of int rows")]
            moves = field(data, "moves", path, str, "a string over u, d, l, r")
            if any(m not in _STEPS for m in moves):
                raise PublishedDataError(f"{path}: moves {moves!r} should use only u, d, l, r")
            start = [int(v) for v in field(data, "start_pos", path, list, "[row, col]")]
            solution = field(data, "solution", path, str, "the matrix as text")
            meta = {"grid": grid, "start": start, "moves": moves}
            return read_text(sample / "question.txt").strip(), solution, meta

        yield from iter_published(self, folder, build)


# -- light puzzles -----------------------------------------------------------------------------


def press_buttons(state: list[list[int]], buttons: dict[str, list[list[int]]], operations: list[str]) -> list[int]:
    """Flattened lights after pressing `operations` in order; button cells are 1-based (row, col) toggles."""
    grid = [row[:] for row in state]
    for op in operations:
        for r, c in buttons[op]:
            grid[r - 1][c - 1] ^= 1
    return [v for row in grid for v in row]


def _light_metadata(
    state: list[list[int]], buttons: dict[str, list[list[int]]], operations: list[str]
) -> dict[str, Any]:
    # parallel lists rather than a dict keyed by button name, so every entry has the same Arrow schema
    return {
        "state": state,
        "button_names": list(buttons),
        "button_cells": list(buttons.values()),
        "operations": operations,
    }


#: (grid side, buttons, presses) per level: the published generator's five configurations (its
#: published samples are all level 5).
LIGHT_LEVELS = {1: (2, 1, 1), 2: (3, 2, 2), 3: (4, 2, 3), 4: (4, 3, 3), 5: (5, 3, 4)}


class LightPuzzles(GeneratedTask):
    name = "symbench/light_puzzles"
    description = "Track an n*n grid of lights through a sequence of button presses that toggle cells."
    published_folders = ("light_puzzles_dataset",)
    complexity_levels = len(LIGHT_LEVELS)

    def level_description(self, level: int) -> str:
        n, buttons, rounds = LIGHT_LEVELS[level]
        return f"{n}x{n} lights, {buttons} button(s) of 2-{max(2, n * n // 2)} lights each, {rounds} press(es)"

    @staticmethod
    def question(state: list[list[int]], buttons: dict[str, list[list[int]]], operations: list[str]) -> str:
        n = len(state)
        lines = "\n".join("".join(str(v) for v in row) for row in state)
        controls = "\n".join(
            f"Button {b} controls the lights at " + ", ".join(f'["{r}", "{c}"]' for r, c in cells)
            for b, cells in buttons.items()
        )
        rounds = "\n".join(f"Round {i}: Button {op}" for i, op in enumerate(operations, 1))
        example = ",".join("0" * (n * n))
        return (
            "There is an n*n grid with some lights randomly distributed. A lit light is represented by 1, and an unlit "
            "light is represented by 0. There are some buttons which can change the state of the lights in certain "
            "positions when they are pressed, like turning some lights on or off. Different buttons may control the "
            "state of the same light.\n"
            f"Given n={n} and the number of buttons={len(buttons)}, the initial network is:\n{lines}\n\n{controls}\n\n"
            f"{rounds}\n\nPlease write the result after all rounds of operation based on the lights controlled by the "
            "button. Positions are given as [row, column], counted from 1 at the top-left light, and the result is "
            f"written row by row.\nFor example, <<<{example}>>> represents a fully unlit light network."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        n, n_buttons, n_rounds = LIGHT_LEVELS[level]
        cells = [[r, c] for r in range(1, n + 1) for c in range(1, n + 1)]
        while True:
            state = [[rng.randint(0, 1) for _ in range(n)] for _ in range(n)]
            buttons = {
                chr(ord("A") + b): rng.sample(cells, rng.randint(2, max(2, n * n // 2))) for b in range(n_buttons)
            }
            operations = [rng.choice(sorted(buttons)) for _ in range(n_rounds)]
            final = press_buttons(state, buttons, operations)
            # an all-dark result is the question's own format example: copying the example must not score
            if any(final):
                break
        answer = ",".join(str(v) for v in final)
        return self.question(state, buttons, operations), answer, _light_metadata(state, buttons, operations)

    def verify(self, answer: str, entry: Entry) -> float:
        meta = entry["metadata"]
        n = len(meta["state"])
        lights = parse_int_sequence(answer, max_items=n * n)
        buttons = dict(zip(meta["button_names"], meta["button_cells"], strict=True))
        return float(lights == press_buttons(meta["state"], buttons, meta["operations"]))

    def corruptions(self, entry: Entry) -> list[str]:
        meta = entry["metadata"]
        lights = parse_int_sequence(entry["answer"])
        flipped = [1 - lights[0]] + lights[1:]
        out = [",".join(map(str, flipped)), ",".join(map(str, lights[:-1]))]
        initial = [v for row in meta["state"] for v in row]
        if initial != lights:
            out.append(",".join(map(str, initial)))
        return out + ["", "[]"]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            path = sample / "solution.json"
            data = read_json(path, "an object with n, initial_state, buttons, operations, solution")
            n = field(data, "n", path, int, "the grid side")
            state = [[int(v) for v in row] for row in field(data, "initial_state", path, list, "an n*n 0/1 grid")]
            buttons = {
                str(k): [[int(r), int(c)] for r, c in v]
                for k, v in field(data, "buttons", path, dict, "{name: [[row, col], ...]}").items()
            }
            operations = [str(op) for op in field(data, "operations", path, list, "a list of button names")]
            if len(state) != n or any(len(row) != n for row in state):
                raise PublishedDataError(f"{path}: initial_state should be {n}*{n}")
            if any(op not in buttons for op in operations) or any(
                not (1 <= r <= n and 1 <= c <= n) for v in buttons.values() for r, c in v
            ):
                raise PublishedDataError(f"{path}: operations must name buttons and button cells must lie in the grid")
            solution = ",".join(str(int(v)) for v in field(data, "solution", path, list, "the flattened final lights"))
            return read_text(sample / "question.txt").strip(), solution, _light_metadata(state, buttons, operations)

        yield from iter_published(self, folder, build)


# -- reversi ------------------------------------------------------------------------------------

_DIRECTIONS = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)]


def initial_board(n: int) -> list[list[str]]:
    """The n*n start position: white (1) on the top-left/bottom-right centre diagonal, black (0) on the other."""
    board = [["*"] * n for _ in range(n)]
    h = n // 2
    board[h - 1][h - 1] = board[h][h] = "1"
    board[h - 1][h] = board[h][h - 1] = "0"
    return board


def flips(board: list[list[str]], r: int, c: int, me: str) -> list[tuple[int, int]]:
    """Opponent pieces flipped by `me` placing at (r, c) (0-based): runs closed by one of `me`'s pieces."""
    if board[r][c] != "*":
        return []
    n, other, out = len(board), "1" if me == "0" else "0", []
    for dr, dc in _DIRECTIONS:
        run, i, j = [], r + dr, c + dc
        while 0 <= i < n and 0 <= j < n and board[i][j] == other:
            run.append((i, j))
            i, j = i + dr, j + dc
        if run and 0 <= i < n and 0 <= j < n and board[i][j] == me:
            out.extend(run)
    return out


def play(board: list[list[str]], r: int, c: int, me: str) -> list[list[str]]:
    """A new board after `me` places at (r, c); an illegal placement still places the piece (no flips)."""
    new = [row[:] for row in board]
    for i, j in flips(board, r, c, me):
        new[i][j] = me
    new[r][c] = me
    return new


#: (board side, moves to play) per level: the published generator's configurations.
REVERSI_LEVELS = {1: (4, 1), 2: (4, 2), 3: (6, 2), 4: (4, 3), 5: (6, 3)}


#: Why a published Reversi entry is flagged.
REVERSI_ANSWER_SHOWN = "the question's 'previous round' board already is the answer, so copying it scores 1"


class Reversi(GeneratedTask):
    name = "symbench/reversi"
    description = "Play given moves on a Reversi board (flipping enclosed pieces) and write the resulting board."
    published_folders = ("reversi_dataset",)
    complexity_levels = len(REVERSI_LEVELS)
    #: Published questions that show their own answer are flagged (see the module doc).
    keeps_flawed_references = True

    def __init__(self, max_setup_moves: int = 4) -> None:
        """`max_setup_moves`: random legal moves played before the shown position (0 = the opening position)."""
        self.max_setup_moves = max_setup_moves

    def level_description(self, level: int) -> str:
        n, rounds = REVERSI_LEVELS[level]
        return f"{n}x{n} board, 0-{self.max_setup_moves} earlier moves, {rounds} move(s) to play"

    @staticmethod
    def question(n: int, you: str, board: list[list[str]], moves: list[list[int]]) -> str:
        rows = "\n".join("".join(r) for r in board)
        rounds = "\n".join(
            f"Round {k}: " + ("Your's" if k % 2 else "The opponent's") + f" landing position is ({r},{c})"
            for k, (r, c) in enumerate(moves, 1)
        )
        colour = "black" if you == "0" else "white"
        return (
            "There is a game similar to Reversi. On an n*n grid (where n is even), four pieces are placed in the center, "
            "two black and two white, arranged diagonally. Black pieces are represented by 0, white pieces by 1, and "
            "empty spaces by *.\nRules:\n"
            "1. Two players take turns placing pieces, one playing black and the other playing white.\n"
            "2. Each player places one piece on an empty space during their turn.\n"
            "3. After placing a piece, if there are any of the opponent's pieces between two of the player's pieces (in "
            "the same row, column, or diagonal), those pieces will be flipped to the player's color. That is, 0 becomes "
            "1, or 1 becomes 0. (Only lines that start at the newly placed piece and end at another piece of the same "
            "player, with nothing but opponent pieces in between, are flipped.)\n"
            "All coordinates start from the first row and first column, and the coordinate (a, b) represents the cell in "
            "the a-th row and b-th column.\n\n"
            f"Given: n={n}, you play {colour} chess.\n\n"
            f"The previous round of the game was: \n{rows}\n\n{rounds}\n\n"
            "Please write down the game situation after this round based on the situation of the previous round.\n"
            f"For example, <<<{','.join('*' * (n * n))}>>> represents the empty grid."
        )

    def _legal(self, board: list[list[str]], me: str) -> list[tuple[int, int]]:
        n = len(board)
        return [(r, c) for r in range(n) for c in range(n) if flips(board, r, c, me)]

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        while True:  # redraw the rare game where someone has no legal move
            n, rounds = REVERSI_LEVELS[level]
            board, turn = initial_board(n), "0"
            setup = rng.randint(0, self.max_setup_moves)
            moves: list[list[int]] = []
            ok = True
            for k in range(setup + rounds):
                legal = self._legal(board, turn)
                if not legal:
                    ok = False
                    break
                if k == setup:
                    start, you = [row[:] for row in board], turn
                r, c = rng.choice(legal)
                board = play(board, r, c, turn)
                if k >= setup:
                    moves.append([r + 1, c + 1])
                turn = "1" if turn == "0" else "0"
            if ok:
                break
        final = ",".join(c for row in board for c in row)
        meta = {"board_size": n, "you": you, "start": ["".join(r) for r in start], "moves": moves, "solution": final}
        return self.question(n, you, start, moves), final, meta

    def verify(self, answer: str, entry: Entry) -> float:
        meta = entry["metadata"]
        n = meta["board_size"]
        return float(matrix_cells(answer.replace("", " "), n * n + 1) == meta["solution"].split(","))

    def corruptions(self, entry: Entry) -> list[str]:
        meta = entry["metadata"]
        sol = meta["solution"].split(",")
        start = ",".join("".join(meta["start"]))
        swapped = ",".join({"0": "1", "1": "0"}.get(c, c) for c in sol)
        first = sol.index("0") if "0" in sol else 0
        one_off = ",".join("1" if i == first else c for i, c in enumerate(sol))
        return [w for w in dict.fromkeys([start, swapped, one_off, ",".join(sol[:-1])]) if w.split(",") != sol]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path = sample / "solution.json"
            n = field(sol, "board_size", path, int)
            solution = field(sol, "solution", path, str)
            if len(solution.split(",")) != n * n:
                raise PublishedDataError(f"{path}: expected 'solution' to hold {n * n} comma-separated cells")
            m = re.search(r"was: \n((?:[01*]+\n)+)", question)
            start = m.group(1).split() if m else []
            shown = list("".join(start)) == solution.split(",")
            meta = {
                "board_size": n,
                "you": "0",
                "start": start,
                "moves": sol.get("moves", []),
                "solution": solution,
                FLAWED_REFERENCE: shown,
                FLAWED_REFERENCE_REASON: REVERSI_ANSWER_SHOWN if shown else "",
            }
            return question, solution, meta

        yield from iter_published(self, folder, build)


# -- mahjong pattern ---------------------------------------------------------------------------

_MAHJONG_RULES = {
    False: (
        "3. When there are two identical cards in hand, and the newly added card is the same as these two cards, the "
        'result is determined as "Peng," represented by the number 1.\n'
        '4. If the newly added card does not meet the condition in rule 3, the result is determined as "Pass," '
        "represented by the number 0.\n5. The removed card does not affect the result determination.",
        "0 for Pass, 1 for Peng",
    ),
    True: (
        "3. When there are two identical cards in hand, and the newly added card is the same as these two cards, the "
        'result is determined as "Peng," represented by the number 1.\n'
        "4. If two cards in hand and the new card can form a consecutive letter sequence, the result is determined as "
        '"Chi," represented by the number 2. For example, ABC, OPQ, etc.\n'
        '5. If the new card does not meet the conditions of 3 and 4, the result is determined as "Pass," represented '
        'by the number 0.\n6. "Peng" takes precedence over "Chi."\n7. The card that is removed does not affect the '
        "result determination.",
        "0 for Pass, 1 for Peng, or 2 for Chi",
    ),
}
_MAHJONG_WORDS = {"pass": 0, "peng": 1, "chi": 2}


def mahjong_judge(hand: list[str], card: str, chi: bool) -> int:
    """1 (Peng) when the hand holds two of `card`; else 2 (Chi) when two hand cards and `card` are
    three consecutive letters and Chi is in play; else 0 (Pass)."""
    count = Counter(hand)
    if count[card] >= 2:
        return 1
    if chi:
        o = ord(card)
        for a, b in ((o - 2, o - 1), (o - 1, o + 1), (o + 1, o + 2)):
            if count[chr(a)] and count[chr(b)]:
                return 2
    return 0


def mahjong_final(initial: str, adds: list[str], removes: list[str], chi: bool) -> int:
    """The result of the last round; every round but the last removes a card after judging."""
    hand = list(initial)
    for i, card in enumerate(adds):
        result = mahjong_judge(hand, card, chi)
        hand.append(card)
        if i < len(removes):
            if removes[i] not in hand:
                raise ValueError(f"round {i + 1} removes {removes[i]!r}, which is not in the hand")
            hand.remove(removes[i])
    return result


class MahjongPattern(GeneratedTask):
    name = "symbench/mahjong_pattern"
    description = "Track a hand of letter cards through add/remove rounds and judge Peng, Chi or Pass."
    published_folders = ("mahjong_pattern_dataset",)
    max_answer_chars = 50
    # 2 published Peng/Pass-only questions store 2 (Chi) as the answer (see the module docstring)
    keeps_flawed_references = True

    # the published levels: level k plays k rounds, and the Chi rule joins from level 3
    complexity_levels = 5

    def level_description(self, level: int) -> str:
        return f"{level} round(s); " + ("Peng, Chi or Pass" if level > 2 else "Peng or Pass")

    def level_of(self, metadata: dict[str, Any]) -> int:
        """The level with `metadata`'s number of rounds and rule set, 0 if none."""
        rounds = len(metadata["adds"])
        return rounds if 1 <= rounds <= self.complexity_levels and metadata["chi"] == (rounds > 2) else 0

    @staticmethod
    def question(initial: str, adds: list[str], removes: list[str], chi: bool) -> str:
        rules, legend = _MAHJONG_RULES[chi]
        lines = []
        for i, card in enumerate(adds):
            tail = f" and remove a {removes[i]} card." if i < len(removes) else ""
            lines.append(f"Round {i + 1}: Add a {card} card{tail}")
        rounds = "\n".join(lines)
        return (
            "There are several letter cards, and the game rules are as follows:\n1. Initially, there are 13 cards.\n"
            "2. Each time, a new card is added, and a result is determined. Then, one card is removed.\n"
            f"{rules}\nGiven the initial cards:{initial}\n\n{rounds}\n\n"
            "Based on the above information, determine the number judged in the final round.\n"
            f"Return your answer with the format <<<x>>>, where x is {legend}."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        letters = string.ascii_uppercase
        chi = level > 2
        want = rng.choice([0, 1, 2] if chi else [0, 1])
        for _ in range(MAX_DRAWS):
            # as in the published hands, no letter starts more than twice
            hand = rng.sample(sorted(letters * 2), 13)
            initial = "".join(hand)
            adds, removes = [], []
            for _ in range(level - 1):
                # from level 2 on, earlier rounds often add a card that makes a pattern, so the hand
                # must be tracked round by round rather than read off the initial cards
                patterned = [c for c in letters if mahjong_judge(hand, c, chi)]
                pool = patterned if level > 1 and patterned and rng.random() < 0.5 else letters
                adds.append(rng.choice(pool))
                hand.append(adds[-1])
                removes.append(rng.choice(hand))
                hand.remove(removes[-1])
            # pick the last card to give the wanted verdict, so the answers are not mostly "Pass"
            finals = [c for c in letters if mahjong_judge(hand, c, chi) == want]
            if finals:
                adds.append(rng.choice(finals))
                break
        else:
            raise RuntimeError(f"{self.name}: no valid instance in {MAX_DRAWS} draws; loosen the knobs")
        meta = {"initial": initial, "adds": adds, "removes": removes, "chi": chi}
        return self.question(initial, adds, removes, chi), str(mahjong_final(initial, adds, removes, chi)), meta

    @staticmethod
    def read_result(answer: str) -> int:
        """0, 1 or 2 from the digit or the word (Pass, Peng, Chi); AnswerParseError otherwise."""
        text = answer.strip().strip("\"'").strip().lower()
        value = _MAHJONG_WORDS.get(text)
        if value is None:
            if not re.fullmatch(r"[0-2]", text):
                raise AnswerParseError(f"expected 0, 1 or 2, got {text[:20]!r}")
            value = int(text)
        return value

    def verify(self, answer: str, entry: Entry) -> float:
        value = self.read_result(answer)
        meta = entry["metadata"]
        if meta.get(FLAWED_REFERENCE) and value == self.read_result(entry["answer"]):
            return 1.0  # the paper's stored answer of a flagged published entry
        return float(value == mahjong_final(meta["initial"], meta["adds"], meta["removes"], meta["chi"]))

    def reference_flaw(self, entry: Entry) -> str:
        meta = entry["metadata"]
        stored = self.read_result(entry["answer"])
        result = mahjong_final(meta["initial"], meta["adds"], meta["removes"], meta["chi"])
        if stored == result:
            return ""
        reason = f"the stored answer is {stored} but by the question's rules the final round is {result}"
        if not meta["chi"] and stored == 2:
            with_chi = mahjong_final(meta["initial"], meta["adds"], meta["removes"], True)
            reason = (
                "the stored answer is 2 (Chi), but the question states only Peng (1) and Pass (0), "
                f"by which the final round is {result}"
            )
            if with_chi == 2:
                reason += "; 2 is the result under the Chi rule of the other questions"
        return reason

    def corruptions(self, entry: Entry) -> list[str]:
        return [str(v) for v in range(3) if self.verify(str(v), entry) == 0.0] + ["", "3", "1 or 2"]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question = read_text(sample / "question.txt").strip()
            path = sample / "solution.json"
            data = read_json(path, "an object with initial_cards, rounds [{add, remove}] and solution")
            initial = field(data, "initial_cards", path, str, "the initial hand as a string")
            rounds = field(data, "rounds", path, list, "a list of {add, remove}")
            if not rounds or any(not isinstance(r, dict) or "add" not in r for r in rounds):
                raise PublishedDataError(
                    f"{path}: rounds should be a non-empty list of objects with 'add' (and 'remove')"
                )
            adds = [str(r["add"]) for r in rounds]
            removes = [str(r["remove"]) for r in rounds[:-1]]
            solution = field(data, "solution", path, int, "0, 1 or 2")
            meta = {"initial": initial, "adds": adds, "removes": removes, "chi": "Chi" in question}
            return question, str(solution), meta

        yield from iter_published(self, folder, with_level(self, build))


TASKS = [Game2048(), LightPuzzles(), Reversi(), MahjongPattern()]
