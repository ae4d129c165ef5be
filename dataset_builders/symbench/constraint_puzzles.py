"""SymBench board tasks: eight queens, standard sudoku, 2048, letter logic diagram, light puzzles.

Each task draws a seeded instance at one of the published generator's complexity levels (the
level tables below follow the CodeSteer generators: their piece counts, grid sizes, empty-cell
counts and move counts) and verifies by rule: the queens, sudoku and letter-diagram verifiers
check the board's constraints (so any valid completion scores 1; sudoku puzzles are also made to
have exactly one), while 2048 and light puzzles simulate the stated moves and compare the result.

Published data (`load_published`): every reader yields one entry per good sample and, for a bad
sample (missing file, malformed JSON, a reference that breaks the question's rules), a
`PublishedDataError` instance instead of raising, so one bad sample never hides the others; a
missing or empty folder raises. See `published_layout` for the shared contract.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from dataset_builders.answer_parsing import AnswerParseError, parse_grid, parse_int_sequence, parse_pairs
from dataset_builders.symbench.published_layout import field, iter_published, read_json, read_text
from dataset_builders.task import GeneratedTask, PublishedDataError

# -- eight queens ------------------------------------------------------------------------------


@cache
def _queen_solutions(n: int) -> tuple[tuple[int, ...], ...]:
    """All n-queens solutions as column-per-row tuples (92 for n=8; cached because it is reused)."""
    out: list[tuple[int, ...]] = []
    cols: list[int] = []

    def place(row: int, used: int, diag1: int, diag2: int) -> None:
        if row == n:
            out.append(tuple(cols))
            return
        for c in range(n):
            if not (used >> c) & 1 and not (diag1 >> (row + c)) & 1 and not (diag2 >> (row - c + n)) & 1:
                cols.append(c)
                place(row + 1, used | 1 << c, diag1 | 1 << (row + c), diag2 | 1 << (row - c + n))
                cols.pop()

    place(0, 0, 0, 0)
    return tuple(out)


def queens_attack_free(queens: set[tuple[int, int]]) -> bool:
    """No two of `queens` share a row, column or diagonal."""
    rows = {r for r, _ in queens}
    cols = {c for _, c in queens}
    diag1 = {r + c for r, c in queens}
    diag2 = {r - c for r, c in queens}
    return len(rows) == len(cols) == len(diag1) == len(diag2) == len(queens)


def _format_positions(cells: list[list[int]] | list[tuple[int, int]]) -> str:
    return ", ".join(f"{r} {c}" for r, c in cells)


#: The published generator's difficulty scale: 1 + pre-placed queens + blocked cells // 2, capped at
#: 5, with up to 3 queens and 4 blocked cells. Its three published folders are runs of that one
#: generator: eight_queens_dataset and eight_queens_dataset_2 hold levels 1-3, eight_queens_dataset_hard 4-5.
QUEENS_MAX_PLACED, QUEENS_MAX_BLOCKED = 3, 4


def queens_level(placed: int, blocked: int) -> int:
    """The published complexity (1..5) of a queens puzzle with `placed` queens and `blocked` X cells."""
    return min(5, 1 + placed + blocked // 2)


#: (pre-placed queens, blocked cells) combinations per level, in a fixed order for seeded draws.
_QUEEN_SHAPES: dict[int, tuple[tuple[int, int], ...]] = {
    level: tuple(
        (q, b)
        for q in range(QUEENS_MAX_PLACED + 1)
        for b in range(QUEENS_MAX_BLOCKED + 1)
        if queens_level(q, b) == level
    )
    for level in range(1, 6)
}


class EightQueens(GeneratedTask):
    name = "symbench/eight_queens"
    description = "Complete an n-queens placement around pre-placed queens and forbidden cells."
    published_folders = ("eight_queens_dataset", "eight_queens_dataset_2", "eight_queens_dataset_hard")
    complexity_levels = 5

    def __init__(self, n: int = 8) -> None:
        """`n`: board side (the published puzzles are all 8*8)."""
        if n < 4:
            raise ValueError("n-queens has solutions only for n >= 4")
        self.n = n

    def level_description(self, level: int) -> str:
        shapes = ", ".join(f"{q}+{b}" for q, b in _QUEEN_SHAPES[level])
        return f"{self.n}x{self.n} board, pre-placed queens + X cells in {{{shapes}}}"

    def question(self, board: list[str]) -> str:
        n = len(board)
        grid = "\n".join(board)
        count = "eight" if n == 8 else str(n)
        return (
            f"Given an {n}*{n} grid, cells marked with 1 have a queen placed, and cells marked with 0 are empty. "
            f"A total of {count} queens need to be placed such that no two queens can attack each other, meaning no "
            "two queens can be in the same row, column, or diagonal. Additionally, positions marked with X are not "
            "allowed for placing queens. Please help me complete the placement of the remaining queens on the "
            f"partially filled board.\n\n{grid}\n\n"
            "Return your answer with the format <<<list of queen positions>>>, where each position is given as row "
            "column (0-based indices). For example, <<<0 3, 1 0, 2 4>>> means queens are placed at positions (0,3), "
            f"(1,0), and (2,4). List all {n} queens of the final board; the pre-placed ones may be included."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        n = self.n
        n_placed, n_blocked = rng.choice(_QUEEN_SHAPES[level])
        # pre-placed queens come from one full solution and X cells avoid it, so a completion always exists
        solution = list(enumerate(rng.choice(_queen_solutions(n))))
        placed = sorted(rng.sample(solution, n_placed))
        taken = set(solution)
        free = [(r, c) for r in range(n) for c in range(n) if (r, c) not in taken]
        blocked = sorted(rng.sample(free, n_blocked))
        board = [["0"] * n for _ in range(n)]
        for r, c in placed:
            board[r][c] = "1"
        for r, c in blocked:
            board[r][c] = "X"
        rows = ["".join(row) for row in board]
        metadata = {"n": n, "board": rows, "placed": [list(p) for p in placed], "blocked": [list(b) for b in blocked]}
        return self.question(rows), _format_positions(solution), metadata

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        meta = entry["metadata"]
        n = meta["n"]
        cells = parse_pairs(answer, max_pairs=n)
        blocked = {tuple(b) for b in meta["blocked"]}
        # a position listed twice is not a placement (and would let a padded or doubled list through)
        if len(set(cells)) != len(cells):
            return 0.0
        if any(not (0 <= r < n and 0 <= c < n) or (r, c) in blocked for r, c in cells):
            return 0.0
        queens = set(cells) | {tuple(p) for p in meta["placed"]}
        return float(len(queens) == n and queens_attack_free(queens))

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        cells = parse_pairs(entry["answer"])
        n = entry["metadata"]["n"]
        placed = {tuple(p) for p in entry["metadata"]["placed"]}
        own = [cell for cell in cells if cell not in placed]
        out = [_format_positions([c for c in cells if c != own[-1]])]  # one queen short
        r, c = own[0]
        out.append(_format_positions([(r, (c + 1) % n) if cell == (r, c) else cell for cell in cells]))  # column clash
        out.append(_format_positions(cells + [(r, (c + 2) % n)]))  # a ninth queen
        for br, bc in entry["metadata"]["blocked"]:  # a queen on a forbidden cell
            out.append(_format_positions([(br, bc) if cell[0] == br else cell for cell in cells]))
            break
        return out + ["", "0 0"]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        folder = Path(folder)

        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            data = read_json(
                sample / "solution.json", "an object with initial_board, blocked_positions, placed_queens, solution"
            )
            board = field(data, "initial_board", sample / "solution.json", list, "a list of row strings")
            n = len(board)
            meta = {
                "n": n,
                "board": [str(row) for row in board],
                "placed": [
                    [int(r), int(c)]
                    for r, c in field(data, "placed_queens", sample / "solution.json", list, "[[row, col], ...]")
                ],
                "blocked": [
                    [int(r), int(c)]
                    for r, c in field(data, "blocked_positions", sample / "solution.json", list, "[[row, col], ...]")
                ],
            }
            solution = field(data, "solution", sample / "solution.json", list, "[[row, col], ...]")
            return read_text(sample / "question.txt").strip(), _format_positions(solution), meta

        # sample names repeat across the three folders, so the folder name is part of the id
        yield from iter_published(self, folder, build, name=lambda sample: f"{folder.name}-{sample.name}")


# -- sudoku ------------------------------------------------------------------------------------


def sudoku_valid(grid: list[list[int]], box: int) -> bool:
    """Every row, column and box x box block of `grid` is a permutation of 1..box*box."""
    size = box * box
    want = set(range(1, size + 1))
    if len(grid) != size or any(len(row) != size for row in grid):
        return False
    for i in range(size):
        if set(grid[i]) != want or {grid[r][i] for r in range(size)} != want:
            return False
    for br in range(0, size, box):
        for bc in range(0, size, box):
            if {grid[r][c] for r in range(br, br + box) for c in range(bc, bc + box)} != want:
                return False
    return True


_CELL_ROW = [i // 9 for i in range(81)]
_CELL_COL = [i % 9 for i in range(81)]
_CELL_BOX = [(i // 27) * 3 + (i % 9) // 3 for i in range(81)]
_ALL_DIGITS = 0x1FF


def sudoku_fill(cells: list[int], rng: random.Random | None = None, forbid: tuple[int, int] = (-1, 0)) -> bool:
    """Complete the flat 9*9 grid `cells` (0 = empty) in place; False (cells unchanged) when no completion exists.

    Depth-first with the most constrained cell first and digit sets as bitmasks. With `rng` the digits
    are tried in random order (a random full grid from an empty one); `forbid` = (cell, digit) keeps
    that digit out of that cell, which is how a removal is checked to keep the solution unique.
    """
    rows, cols, boxes = [0] * 9, [0] * 9, [0] * 9
    empty = []
    for i, v in enumerate(cells):
        if not v:
            empty.append(i)
            continue
        bit = 1 << (v - 1)
        if (rows[_CELL_ROW[i]] | cols[_CELL_COL[i]] | boxes[_CELL_BOX[i]]) & bit:
            return False
        rows[_CELL_ROW[i]] |= bit
        cols[_CELL_COL[i]] |= bit
        boxes[_CELL_BOX[i]] |= bit
    forbid_cell, forbid_bit = forbid[0], (1 << (forbid[1] - 1)) if forbid[1] else 0

    def search(k: int) -> bool:
        if k == len(empty):
            return True
        best, best_count, best_free = k, 10, 0
        for j in range(k, len(empty)):
            i = empty[j]
            free = _ALL_DIGITS & ~(rows[_CELL_ROW[i]] | cols[_CELL_COL[i]] | boxes[_CELL_BOX[i]])
            if i == forbid_cell:
                free &= ~forbid_bit
            count = free.bit_count()
            if count < best_count:
                best, best_count, best_free = j, count, free
                if count <= 1:
                    break
        if not best_count:
            return False
        empty[k], empty[best] = empty[best], empty[k]
        i = empty[k]
        r, c, b = _CELL_ROW[i], _CELL_COL[i], _CELL_BOX[i]
        bits = [1 << d for d in range(9) if best_free >> d & 1]
        if rng is not None:
            rng.shuffle(bits)
        for bit in bits:
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
            cells[i] = bit.bit_length()
            if search(k + 1):
                return True
            rows[r] ^= bit
            cols[c] ^= bit
            boxes[b] ^= bit
        cells[i] = 0
        empty[k], empty[best] = empty[best], empty[k]
        return False

    return search(0)


_UNITS = [
    [[i for i in range(81) if _CELL_ROW[i] == k] for k in range(9)],
    [[i for i in range(81) if _CELL_COL[i] == k] for k in range(9)],
    [[i for i in range(81) if _CELL_BOX[i] == k] for k in range(9)],
]


def _forced(puzzle: list[int], i: int, bit: int, rows: list[int], cols: list[int], boxes: list[int]) -> bool:
    """Whether the givens alone force digit `bit` into the empty cell `i`: a naked or a hidden single.

    `rows`, `cols`, `boxes` hold the given digits of each unit. Either way every completion puts that
    digit there, so emptying the cell cannot add a solution and the costlier search is skipped.
    """
    r, c, b = _CELL_ROW[i], _CELL_COL[i], _CELL_BOX[i]
    if (rows[r] | cols[c] | boxes[b]) | bit == _ALL_DIGITS:
        return True
    for unit in (_UNITS[0][r], _UNITS[1][c], _UNITS[2][b]):
        if all(
            j == i or puzzle[j] or (rows[_CELL_ROW[j]] | cols[_CELL_COL[j]] | boxes[_CELL_BOX[j]]) & bit for j in unit
        ):
            return True
    return False


def unique_sudoku(rng: random.Random, holes: int) -> tuple[list[list[int]], list[list[int]]]:
    """(puzzle, solution): a random full 9*9 grid with up to `holes` cells emptied so that its solution stays unique.

    Cells are tried in random order and one is emptied only when no completion puts another digit
    there; a pass that runs out of cells first returns fewer holes (rare below 56 holes).
    """
    solution = [0] * 81
    sudoku_fill(solution, rng)
    puzzle = solution[:]
    # digits still given per row, column and box: a cell whose peers leave it one digit needs no search
    rows, cols, boxes = [_ALL_DIGITS] * 9, [_ALL_DIGITS] * 9, [_ALL_DIGITS] * 9
    order = list(range(81))
    rng.shuffle(order)
    removed = 0
    for i in order:
        if removed == holes:
            break
        r, c, b, bit = _CELL_ROW[i], _CELL_COL[i], _CELL_BOX[i], 1 << (solution[i] - 1)
        puzzle[i] = 0
        rows[r] ^= bit
        cols[c] ^= bit
        boxes[b] ^= bit
        if not _forced(puzzle, i, bit, rows, cols, boxes) and sudoku_fill(puzzle[:], forbid=(i, solution[i])):
            puzzle[i] = solution[i]  # another digit fits there too: the cell must stay a clue
            rows[r] ^= bit
            cols[c] ^= bit
            boxes[b] ^= bit
        else:
            removed += 1
    return [puzzle[r * 9 : r * 9 + 9] for r in range(9)], [solution[r * 9 : r * 9 + 9] for r in range(9)]


def _format_rows(grid: list[list[Any]], sep: str = ",") -> str:
    return "\n".join(sep.join(str(v) for v in row) for row in grid)


#: Empty cells per level, as in the published generator (its published samples are all level 5).
SUDOKU_HOLES = {1: (30, 35), 2: (36, 40), 3: (41, 45), 4: (46, 50), 5: (51, 55)}


class StandardSudoku(GeneratedTask):
    name = "symbench/standard_sudoku"
    description = (
        "Fill a partially filled 9*9 sudoku (unique solution) so every row, column and box holds each digit once."
    )
    published_folders = ("standard_sudoku",)
    complexity_levels = len(SUDOKU_HOLES)

    def level_description(self, level: int) -> str:
        low, high = SUDOKU_HOLES[level]
        return f"9x9 grid, {low}-{high} empty cells, unique solution"

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        low, high = SUDOKU_HOLES[level]
        while True:  # a grid that cannot lose enough cells uniquely is rare (about 1 in 30 at 55) and redrawn
            puzzle, solution = unique_sudoku(rng, rng.randint(low, high))
            if sum(not v for row in puzzle for v in row) >= low:
                break
        question = (
            "Given a 9*9 Sudoku grid, each cell must be filled with a number between 1 and 9. No number may appear "
            "more than once in the same row, column, or 3*3 subgrid. Some cells are pre-filled. Please fill the "
            "remaining empty cells.\n"
            + "\n".join(",".join(str(v) if v else " " for v in row) for row in puzzle)
            + "\n\nReturn your answer in the format: <<<a 9*9 matrix>>>, one row per line with the numbers "
            "separated by commas, for example <<<\n1,2,3,4,5,6,7,8,9\n...\n>>>."
        )
        return question, _format_rows(solution), {"box": 3, "puzzle": puzzle}

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        meta = entry["metadata"]
        box, puzzle = meta["box"], meta["puzzle"]
        size = box * box
        grid = parse_grid(answer, int, max_rows=size, max_cols=size)
        if not sudoku_valid(grid, box):
            return 0.0
        return float(all(puzzle[r][c] in (0, grid[r][c]) for r in range(size) for c in range(size)))

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        grid = parse_grid(entry["answer"], int)
        puzzle = entry["metadata"]["puzzle"]
        size = len(grid)
        swapped = [row[:] for row in grid]
        swapped[0][0], swapped[0][1] = swapped[0][1], swapped[0][0]  # row stays a permutation, columns break
        out = [_format_rows(swapped), _format_rows(grid[:-1])]
        # a different valid sudoku that ignores the clues: relabel two digits everywhere
        a, b = grid[0][0], grid[0][1]
        relabeled = [[b if v == a else a if v == b else v for v in row] for row in grid]
        if any(puzzle[r][c] in (a, b) for r in range(size) for c in range(size)):
            out.append(_format_rows(relabeled))
        return out + ["", "1,2,3"]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            path = sample / "solution.json"
            data = read_json(path, "an object with puzzle and solution 9*9 matrices")
            puzzle = [[int(v) for v in row] for row in field(data, "puzzle", path, list, "a 9*9 list of ints")]
            solution = field(data, "solution", path, list, "a 9*9 list of ints")
            return read_text(sample / "question.txt").strip(), _format_rows(solution), {"box": 3, "puzzle": puzzle}

        yield from iter_published(self, folder, build)


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

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        meta = entry["metadata"]
        n = len(meta["grid"])
        grid = parse_grid(answer, int, max_rows=n, max_cols=n)
        return float(grid == slide_one(meta["grid"], tuple(meta["start"]), meta["moves"]))

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        meta = entry["metadata"]
        result = parse_grid(entry["answer"], int)
        bumped = [row[:] for row in result]
        bumped[0][0] = bumped[0][0] * 2 or 2
        out = [_format_matrix(bumped), _format_matrix(result[:-1])]
        if meta["grid"] != result:
            out.append(_format_matrix(meta["grid"]))
        return out + ["", "0"]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
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


# -- letter logic diagram ----------------------------------------------------------------------


def _letter_cell(text: str) -> str:
    text = text.strip().lower()
    if len(text) != 1 or not text.isalpha():
        raise AnswerParseError(f"not a single letter: {text[:10]!r}")
    return text


class LetterLogicDiagram(GeneratedTask):
    name = "symbench/letter_logic_diagram"
    description = "Complete a Latin square of letters whose minor diagonal holds a single letter."
    published_folders = ("letter_logic_diagram",)
    #: The published generator empties 10 + 5*complexity of the 49 cells, at most 30: 15, 20, 25, 30.
    complexity_levels = 4

    def __init__(self, n: int = 7) -> None:
        """`n`: grid side (letters a..; the published puzzles are all 7*7)."""
        if not 2 <= n <= 26:
            raise ValueError("n must be between 2 and 26")
        self.n = n

    def empty_cells(self, level: int) -> int:
        """How many cells a level-`level` puzzle leaves blank (scaled from the 7*7 counts for other sides)."""
        return round((10 + 5 * level) * self.n * self.n / 49)

    def level_description(self, level: int) -> str:
        n = self.n
        return f"{n}x{n} letters, {self.empty_cells(level)} of {n * n} cells blank"

    @staticmethod
    def question(grid: list[list[str | None]]) -> str:
        n = len(grid)
        letters = "{a.." + chr(ord("a") + n - 1) + "}"
        rows = "\n".join(",".join(c or "" for c in row) for row in grid)
        return (
            f"Given a {n}x{n} grid of letters {letters}, some cells are pre-filled. Fill the rest so that:\n"
            f"1) Each row has exactly one of each letter {letters}.\n"
            f"2) Each column has exactly one of each letter {letters}.\n"
            "3) All cells on the minor diagonal (top-right to bottom-left) contain the same letter.\n\n"
            "Here is the puzzle (each row on its own line, cells separated by commas, empty cells blank):\n\n"
            f"{rows}\n\nReturn the answer with the format:\n<<<\nrow1\nrow2\n...  ({n} rows total)\n>>>\n\n"
            f"where each row has {n} letters separated by commas."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        n = self.n
        letters = [chr(ord("a") + i) for i in range(n)]
        rng.shuffle(letters)
        sigma = list(range(n))
        rng.shuffle(sigma)
        tau = [n - 1 - sigma[n - 1 - j] for j in range(n)]
        # letters[(i + j) % n] is Latin with a constant anti-diagonal; rows by sigma and columns by the
        # mirrored tau keep the anti-diagonal on itself, so the property survives the shuffle
        solution = [[letters[(sigma[i] + tau[j]) % n] for j in range(n)] for i in range(n)]
        shown = set(rng.sample(range(n * n), n * n - self.empty_cells(level)))
        grid = [[solution[i][j] if i * n + j in shown else None for j in range(n)] for i in range(n)]
        return self.question(grid), _format_rows(solution), {"grid": grid}

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        given = entry["metadata"]["grid"]
        n = len(given)
        grid = parse_grid(answer, _letter_cell, max_rows=n, max_cols=n)
        letters = {chr(ord("a") + i) for i in range(n)}
        if len(grid) != n or any(set(row) != letters or len(row) != n for row in grid):
            return 0.0
        if any({grid[i][j] for i in range(n)} != letters for j in range(n)):
            return 0.0
        if len({grid[i][n - 1 - i] for i in range(n)}) != 1:
            return 0.0
        return float(all(given[i][j] in (None, grid[i][j]) for i in range(n) for j in range(n)))

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        grid = parse_grid(entry["answer"], _letter_cell)
        n = len(grid)
        swapped = [row[:] for row in grid]
        swapped[0][0], swapped[0][1] = swapped[0][1], swapped[0][0]
        # a row rotation of a valid square is still Latin, but the diagonal no longer holds one letter
        rotated = grid[1:] + grid[:1]
        out = [_format_rows(swapped), _format_rows(grid[:-1])]
        if len({rotated[i][n - 1 - i] for i in range(n)}) != 1 or rotated != grid:
            out.append(_format_rows(rotated))
        return out + ["", "a"]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            path = sample / "solution.json"
            data = read_json(path, "an object with grid (letters or null) and solution")
            grid = [
                [c if c is None else str(c) for c in row] for row in field(data, "grid", path, list, "a square grid")
            ]
            solution = field(data, "solution", path, list, "a square grid of letters")
            return read_text(sample / "question.txt").strip(), _format_rows(solution), {"grid": grid}

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

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        meta = entry["metadata"]
        n = len(meta["state"])
        lights = parse_int_sequence(answer, max_items=n * n)
        buttons = dict(zip(meta["button_names"], meta["button_cells"], strict=True))
        return float(lights == press_buttons(meta["state"], buttons, meta["operations"]))

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        meta = entry["metadata"]
        lights = parse_int_sequence(entry["answer"])
        flipped = [1 - lights[0]] + lights[1:]
        out = [",".join(map(str, flipped)), ",".join(map(str, lights[:-1]))]
        initial = [v for row in meta["state"] for v in row]
        if initial != lights:
            out.append(",".join(map(str, initial)))
        return out + ["", "[]"]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
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


TASKS = [EightQueens(), StandardSudoku(), Game2048(), LetterLogicDiagram(), LightPuzzles()]
