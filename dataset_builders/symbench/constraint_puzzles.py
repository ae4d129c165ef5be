"""SymBench constraint puzzles: place or select items so that every stated rule holds.

Tasks: symbench/eight_queens, symbench/standard_sudoku, symbench/letter_logic_diagram,
symbench/logic_puzzle, symbench/permutations_and_combinations.

Each task draws a seeded instance at one of the published generator's complexity levels (the level
tables below follow the CodeSteer-v1.0 create_dataset_*.py generators: pre-placed queens and blocked
cells, empty-cell counts, grid sizes and rules, books and constraints) around a planted solution.
The verifiers check the question's rules, never one stored solution, so any valid completion,
selection or arrangement scores 1 (sudoku puzzles are also made to have exactly one). At the higher
levels the question changes shape, not only size: logic_puzzle goes from 2x2 grids with a
row/column sum limit to 10x10 grids with negative numbers and positive row/column products, and the
shelving puzzle from 6 books under 7-8 constraints to 9 books under 10-11.

Published data (`load_published`): every reader yields one entry per good sample and, for a bad
sample (missing file, malformed JSON or CSV row, a missing field, a reference that breaks the
question's rules), a `PublishedDataError` instance instead of raising, so one bad sample never hides
the others; a missing or empty folder raises. See `published_layout` for the shared contract.

logic_puzzle keeps published samples whose stored reference breaks its own question's rules, since
the paper's checker accepted those references (`keeps_flawed_references`): 11 of 20 stored
selections exceed the row/column sum limit, and most of those questions have no valid selection at
all (the published generator caches its rule check by cell positions across grids, so the product
levels can be affected too). Such an entry is flagged in metadata (`published_reference_breaks_rules`,
with the reason in `published_reference_flaw`), and its verifier accepts the stored reference as well
as any answer that keeps the rules; every entry of the task carries both keys (False and "" otherwise).
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from dataset_builders.answer_parsing import AnswerParseError, parse_grid, parse_pairs, parse_token_list
from dataset_builders.symbench.published_layout import (
    field,
    iter_published,
    read_json,
    read_sample,
    read_text,
    with_level,
)
from dataset_builders.task import FLAWED_REFERENCE, MAX_DRAWS, Entry, GeneratedTask, PublishedDataError

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

    def verify(self, answer: str, entry: Entry) -> float:
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

    def corruptions(self, entry: Entry) -> list[str]:
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

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
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

    def verify(self, answer: str, entry: Entry) -> float:
        meta = entry["metadata"]
        box, puzzle = meta["box"], meta["puzzle"]
        size = box * box
        grid = parse_grid(answer, int, max_rows=size, max_cols=size)
        if not sudoku_valid(grid, box):
            return 0.0
        return float(all(puzzle[r][c] in (0, grid[r][c]) for r in range(size) for c in range(size)))

    def corruptions(self, entry: Entry) -> list[str]:
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

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            path = sample / "solution.json"
            data = read_json(path, "an object with puzzle and solution 9*9 matrices")
            puzzle = [[int(v) for v in row] for row in field(data, "puzzle", path, list, "a 9*9 list of ints")]
            solution = field(data, "solution", path, list, "a 9*9 list of ints")
            return read_text(sample / "question.txt").strip(), _format_rows(solution), {"box": 3, "puzzle": puzzle}

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

    def verify(self, answer: str, entry: Entry) -> float:
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

    def corruptions(self, entry: Entry) -> list[str]:
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

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            path = sample / "solution.json"
            data = read_json(path, "an object with grid (letters or null) and solution")
            grid = [
                [c if c is None else str(c) for c in row] for row in field(data, "grid", path, list, "a square grid")
            ]
            solution = field(data, "solution", path, list, "a square grid of letters")
            return read_text(sample / "question.txt").strip(), _format_rows(solution), {"grid": grid}

        yield from iter_published(self, folder, build)


# -- logic puzzle (number selection) -----------------------------------------------------------

SUM_RULE, PRODUCT_RULE = "sum_at_most", "product_above"

#: The published levels: (grid side, cells to select, lowest value, highest value, rule, bound).
#: Levels 1-2 cap every row and column sum; from level 3 on the grid holds negative numbers and
#: every row and column product of the selection must stay positive.
_SELECTION_LEVELS: tuple[tuple[int, int, int, int, str, int], ...] = (
    (2, 3, 1, 3, SUM_RULE, 4),
    (3, 4, 1, 4, SUM_RULE, 4),
    (4, 6, -5, 8, PRODUCT_RULE, 0),
    (5, 9, -8, 8, PRODUCT_RULE, 0),
    (5, 10, -10, 10, PRODUCT_RULE, 0),
    (6, 12, -12, 12, PRODUCT_RULE, 0),
    (7, 16, -14, 14, PRODUCT_RULE, 0),
    (8, 18, -16, 16, PRODUCT_RULE, 0),
    (9, 20, -18, 18, PRODUCT_RULE, 0),
    (10, 25, -20, 20, PRODUCT_RULE, 0),
)
#: Share of negative numbers in the unselected cells of a product-rule grid (the published ratio).
_NEGATIVE_SHARE = 0.3

_SELECT_COUNT = re.compile(r"select (\d+) different numbers")
_SUM_BOUND = re.compile(r"\bsum\b[^.]*?less than or equal to (-?\d+)")
_PRODUCT_BOUND = re.compile(r"\bproduct\b[^.]*?greater than (-?\d+)")
_FIRST_CELL = re.compile(r"square \((\d+),\s*(\d+)\) as the first selected number")


def _even_negative_signs(cells: list[tuple[int, int]], rng: random.Random, share: float) -> list[bool]:
    """A random choice of negative cells among `cells` with an even count in every row and column.

    Rows and columns are the two sides of a bipartite graph whose edges are the cells; a sign
    pattern keeps every product positive exactly when each vertex touches an even number of
    negative edges. Edges outside a spanning forest are drawn freely; each forest edge is then the
    one choice that evens out its child vertex (leaves first), and each root comes out even because
    every negative edge is counted at both of its ends.
    """
    nodes = sorted({("r", r) for r, _ in cells} | {("c", c) for _, c in cells})
    adjacent: dict[tuple[str, int], list[int]] = {v: [] for v in nodes}
    for index, (r, c) in enumerate(cells):
        adjacent[("r", r)].append(index)
        adjacent[("c", c)].append(index)
    parent_edge: dict[tuple[str, int], int | None] = {}
    order: list[tuple[str, int]] = []
    for root in nodes:
        if root in parent_edge:
            continue
        parent_edge[root] = None
        queue = [root]
        while queue:
            node = queue.pop(0)
            order.append(node)
            for index in adjacent[node]:
                r, c = cells[index]
                other = ("c", c) if node[0] == "r" else ("r", r)
                if other not in parent_edge:
                    parent_edge[other] = index
                    queue.append(other)
    tree = {index for index in parent_edge.values() if index is not None}
    negative = [index not in tree and rng.random() < share for index in range(len(cells))]
    for node in reversed(order):
        edge = parent_edge[node]
        if edge is not None:
            odd = sum(negative[i] for i in adjacent[node] if i != edge) % 2 == 1
            negative[edge] = odd
    return negative


class LogicPuzzle(GeneratedTask):
    name = "symbench/logic_puzzle"
    description = (
        "Select cells with distinct numbers from a grid so that every row and column keeps a sum limit "
        "or a positive product."
    )
    published_folders = ("logic_puzzle_dataset",)
    max_answer_chars = 400
    # 11 of the 20 published selections break their own question's sum rule (see the module docstring)
    keeps_flawed_references = True
    complexity_levels = len(_SELECTION_LEVELS)

    def level_description(self, level: int) -> str:
        n, pick, low, high, rule, bound = _SELECTION_LEVELS[level - 1]
        kept = f"row/col sums <= {bound}" if rule == SUM_RULE else f"row/col products > {bound}"
        return f"grid {n}x{n} of {low}..{high}, select {pick} distinct numbers, {kept}"

    def level_of(self, metadata: dict[str, Any]) -> int:
        """The level with `metadata`'s grid side, selection size and rule, 0 if none."""
        shape = (len(metadata["grid"]), metadata["pick"], metadata.get("rule", SUM_RULE))
        return next((i for i, lv in enumerate(_SELECTION_LEVELS, 1) if (lv[0], lv[1], lv[4]) == shape), 0)

    @staticmethod
    def question(grid: list[list[int]], pick: int, rule: str, limit: int, first: list[int]) -> str:
        n = len(grid)
        rows = "\n".join(", ".join(map(str, row)) for row in grid)
        low, high = min(map(min, grid)), max(map(max, grid))
        if rule == SUM_RULE:
            kept = (
                f"The sum of the selected numbers in each row and each column should be less than or equal to {limit}."
            )
        else:
            kept = (
                "The product of the selected numbers in each row and in each column (counting only rows and columns "
                f"that hold a selected number) must be greater than {limit}."
            )
        r, c = first
        return (
            f"Given a {n}*{n} grid where each cell contains a number (between {low} to {high}), you must select {pick} "
            f"different numbers from these cells (no two selected cells may hold the same number). {kept} The numbers "
            "in the same row are separated by ','; positions are (row, column), counted from 0 at the top-left cell.\n"
            f"Using the number {grid[r][c]} in the top-rightmost square ({r},{c}) as the first selected number\n"
            f"{rows}\n\n"
            "Return your answer with the format <<<list of selected number positions>>>, where each position is given "
            "as row column (0-based indices). For example, <<<0 3, 1 0, 2 4>>> means numbers selected are at "
            "positions (0,3), (1,0), and (2,4)."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        n, pick, low, high, rule, limit = _SELECTION_LEVELS[level - 1]
        first = (0, n - 1)
        others = [(r, c) for r in range(n) for c in range(n) if (r, c) != first]
        # plant a valid selection, then fill the other cells at random
        for _ in range(MAX_DRAWS):
            cells = [first] + rng.sample(others, pick - 1)
            if rule == SUM_RULE:
                values = rng.sample(range(low, high + 1), pick)
            else:
                negative = _even_negative_signs(cells, rng, _NEGATIVE_SHARE)
                count = sum(negative)
                if count > -low or pick - count > high:
                    continue  # more negative (or positive) numbers than the range holds
                minus, plus = rng.sample(range(low, 0), count), rng.sample(range(1, high + 1), pick - count)
                values = [minus.pop() if neg else plus.pop() for neg in negative]
            meta = {
                "grid": [[1] * n for _ in range(n)],
                "pick": pick,
                "rule": rule,
                "limit": limit,
                "first": list(first),
            }
            for (r, c), v in zip(cells, values, strict=True):
                meta["grid"][r][c] = v
            if self.broken_rule(cells, meta) is None:
                break
        else:
            raise RuntimeError(f"{self.name}: no valid instance in {MAX_DRAWS} draws; loosen the knobs")
        chosen = set(cells)
        for r, c in others:
            if (r, c) not in chosen:
                positive = low > 0 or rng.random() >= _NEGATIVE_SHARE
                meta["grid"][r][c] = rng.randint(max(low, 1), high) if positive else rng.randint(low, -1)
        answer = ", ".join(f"{r} {c}" for r, c in [first] + sorted(cells[1:]))
        return self.question(meta["grid"], pick, rule, limit, list(first)), answer, meta

    def verify(self, answer: str, entry: Entry) -> float:
        meta = entry["metadata"]
        cells = parse_pairs(answer, max_pairs=meta["pick"])
        if meta.get(FLAWED_REFERENCE) and sorted(cells) == sorted(parse_pairs(entry["answer"], max_pairs=meta["pick"])):
            return 1.0  # the paper's stored selection of a flagged published entry (order does not matter)
        return float(self.broken_rule(cells, meta) is None)

    @staticmethod
    def broken_rule(cells: list[tuple[int, int]], meta: dict[str, Any]) -> str | None:
        """The first of the question's rules that the selection `cells` breaks, or None if it keeps them all."""
        grid, pick, limit = meta["grid"], meta["pick"], meta["limit"]
        # entries built before the product rule existed carry no "rule": they are all sum-limit questions
        rule = meta.get("rule", SUM_RULE)
        n = len(grid)
        if len(cells) != pick or len(set(cells)) != pick:
            return f"it does not select {pick} different cells"
        if tuple(meta["first"]) not in cells:
            return f"it does not include the given first cell {tuple(meta['first'])}"
        if any(not (0 <= r < n and 0 <= c < n) for r, c in cells):
            return "it selects a cell outside the grid"
        if len({grid[r][c] for r, c in cells}) != pick:
            return "two selected cells hold the same number"
        lines: dict[tuple[str, int], list[int]] = {}
        for r, c in cells:
            lines.setdefault(("row", r), []).append(grid[r][c])
            lines.setdefault(("column", c), []).append(grid[r][c])
        for (kind, index), values in sorted(lines.items()):
            if rule == SUM_RULE and sum(values) > limit:
                return f"{kind} {index} sums to {sum(values)} > {limit}"
            if rule == PRODUCT_RULE:
                product = 1
                for v in values:
                    product *= v
                if product <= limit:
                    return f"the product of {kind} {index} is {product}, not > {limit}"
        return None

    def reference_flaw(self, entry: Entry) -> str:
        meta = entry["metadata"]
        broken = self.broken_rule(parse_pairs(entry["answer"], max_pairs=meta["pick"]), meta)
        if broken is None:
            return ""
        n, pick = len(meta["grid"]), meta["pick"]
        cells = [(r, c) for r in range(n) for c in range(n)]
        # small published grids only: say whether the question can be answered by its rules at all
        if len(cells) <= 16 and not any(
            self.broken_rule(list(sel), meta) is None for sel in itertools.combinations(cells, pick)
        ):
            broken += "; no selection meets every rule"
        return f"the stored selection breaks the question's rules: {broken}"

    def corruptions(self, entry: Entry) -> list[str]:
        meta = entry["metadata"]
        cells = parse_pairs(entry["answer"])
        n = len(meta["grid"])
        out = [", ".join(f"{r} {c}" for r, c in cells[:-1]), ", ".join(f"{r} {c}" for r, c in cells + [cells[-1]])]
        out.append(", ".join(f"{r} {c}" for r, c in cells[1:] + [(n, n)]))
        # one cell swapped for another that keeps the count, the first cell and distinct numbers but breaks
        # the sum or product rule: the answer a policy gets by ignoring that rule
        taken = {meta["grid"][r][c] for r, c in cells}
        for i, (r, c) in enumerate(cells[1:], 1):
            for rr, cc in itertools.product(range(n), repeat=2):
                if (rr, cc) in cells or meta["grid"][rr][cc] in taken - {meta["grid"][r][c]}:
                    continue
                swapped = cells[:i] + [(rr, cc)] + cells[i + 1 :]
                if self.broken_rule(swapped, meta):
                    out.append(", ".join(f"{a} {b}" for a, b in swapped))
                    break
            else:
                continue
            break
        return out + ["", "0 0"]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question = read_text(sample / "question.txt").strip()
            pick, first = _SELECT_COUNT.search(question), _FIRST_CELL.search(question)
            bound_sum, bound_product = _SUM_BOUND.search(question), _PRODUCT_BOUND.search(question)
            if not (pick and first) or bool(bound_sum) == bool(bound_product):
                raise PublishedDataError(
                    f"{sample / 'question.txt'}: expected 'select K different numbers', the first cell and exactly "
                    "one rule (a row/column sum limit or a row/column product bound)"
                )
            rule, bound = (SUM_RULE, bound_sum) if bound_sum else (PRODUCT_RULE, bound_product)
            path = sample / "solution.json"
            data = read_json(path, "an object with grid and solution")
            grid = [[int(v) for v in row] for row in field(data, "grid", path, list, "a square grid of integers")]
            if not grid or any(len(row) != len(grid) for row in grid):
                raise PublishedDataError(f"{path}: 'grid' should be a square grid of integers")
            solution = field(data, "solution", path, list, "[[row, col], ...]")
            meta = {
                "grid": grid,
                "pick": int(pick.group(1)),
                "rule": rule,
                "limit": int(bound.group(1)),
                "first": [int(first.group(1)), int(first.group(2))],
            }
            return question, ", ".join(f"{int(r)} {int(c)}" for r, c in solution), meta

        yield from iter_published(self, folder, with_level(self, build))


# -- permutations_and_combinations --------------------------------------------------------------

_CONSTRAINT_TEXT = {
    "adjacent": "Book {book} must be adjacent to book {other}.",
    "left": "Book {book} must be to the left of book {other}.",
    "right": "Book {book} must be to the right of book {other}.",
    "at": "Book {book} must be placed in position {position}.",
    "not_at": "Book {book} cannot be placed in position {position}.",
}
_CONSTRAINT_PATTERNS = [
    (re.compile(r"Book (\w+) must be adjacent to book (\w+)\."), "adjacent"),
    (re.compile(r"Book (\w+) must be to the left of book (\w+)\."), "left"),
    (re.compile(r"Book (\w+) must be to the right of book (\w+)\."), "right"),
    (re.compile(r"Book (\w+) must be placed in position (\d+)\."), "at"),
    (re.compile(r"Book (\w+) cannot be placed in position (\d+)\."), "not_at"),
]


def constraint_holds(c: dict[str, Any], pos: dict[str, int]) -> bool:
    """Whether one constraint holds for `pos` (book -> 1-based position)."""
    kind, p = c["type"], pos[c["book"]]
    if kind == "adjacent":
        return abs(p - pos[c["other"]]) == 1
    if kind == "left":
        return p < pos[c["other"]]
    if kind == "right":
        return p > pos[c["other"]]
    if kind == "at":
        return p == c["position"]
    if kind == "not_at":
        return p != c["position"]
    raise ValueError(f"unknown constraint type {kind!r}")


def parse_constraint(line: str) -> dict[str, Any] | None:
    """A constraint from its sentence (numbering allowed), or None."""
    for pattern, kind in _CONSTRAINT_PATTERNS:
        m = pattern.search(line)
        if m:
            a, b = m.groups()
            if kind in ("at", "not_at"):
                return {"type": kind, "book": a, "other": "", "position": int(b)}
            return {"type": kind, "book": a, "other": b, "position": 0}
    return None


class PermutationsAndCombinations(GeneratedTask):
    name = "symbench/permutations_and_combinations"
    description = "Arrange labelled books on a shelf so that every adjacency/order/position constraint holds."
    published_folders = ("permutations_and_combinations",)

    #: Level k shelves 5+k books under k+6 or k+7 constraints: the published generator's four
    #: configurations, 6 books / 7-8 constraints up to 9 books / 10-11 constraints.
    complexity_levels = 4

    @staticmethod
    def level_knobs(level: int) -> tuple[int, int, int]:
        """(books, fewest constraints, most constraints) at `level`."""
        return 5 + level, 6 + level, 7 + level

    def level_description(self, level: int) -> str:
        books, low, high = self.level_knobs(level)
        return f"{books} books, {low}-{high} constraints (adjacent / left / right / at / not at)"

    @staticmethod
    def question(items: list[str], constraints: list[dict[str, Any]]) -> str:
        n = len(items)
        listed = "\n".join(f"{i}. {_CONSTRAINT_TEXT[c['type']].format(**c)}" for i, c in enumerate(constraints, 1))
        return (
            f"Xiao Wang is a librarian responsible for shelving {n} books labeled {', '.join(items)} on a shelf with "
            f"positions 1 to {n}.\n\nThe constraints are:\n{listed}\n\nQuestion:\n"
            f"Based on the above conditions, please arrange the {n} books from left to right on the bookshelf, i.e. "
            f"positions 1 through {n}. Return your answer with the format <<< a list of strings >>>, one solution is "
            'enough.for example:\n<<<["A", "B", "C"]>>>\nYour answer:\n'
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        n, low, high = self.level_knobs(level)
        items = [chr(ord("A") + i) for i in range(n)]
        order = items[:]
        rng.shuffle(order)
        pos = {b: i + 1 for i, b in enumerate(order)}
        constraints: list[dict[str, Any]] = []
        target = rng.randint(low, high)
        while len(constraints) < target:
            kind = rng.choice(("adjacent", "left", "right", "at", "not_at", "not_at"))
            book = rng.choice(items)
            if kind == "adjacent":
                other = (
                    order[pos[book] - 2]
                    if pos[book] == n or (pos[book] > 1 and rng.random() < 0.5)
                    else order[pos[book]]
                )
                c = {"type": kind, "book": book, "other": other, "position": 0}
            elif kind in ("left", "right"):
                candidates = [
                    o for o in items if o != book and constraint_holds({"type": kind, "book": book, "other": o}, pos)
                ]
                if not candidates:
                    continue
                c = {"type": kind, "book": book, "other": rng.choice(candidates), "position": 0}
            elif kind == "at":
                c = {"type": kind, "book": book, "other": "", "position": pos[book]}
            else:
                c = {
                    "type": kind,
                    "book": book,
                    "other": "",
                    "position": rng.choice([p for p in range(1, n + 1) if p != pos[book]]),
                }
            constraints.append(c)
        answer = "[" + ", ".join(f'"{b}"' for b in order) + "]"
        return (
            self.question(items, constraints),
            answer,
            {"items": items, "constraints": constraints, "solution": order},
        )

    @staticmethod
    def arrangement(answer: str) -> list[str]:
        tokens = parse_token_list(answer, max_items=30, max_chars=400)
        if len(tokens) == 1:
            tokens = tokens[0].split()
        return tokens

    def verify(self, answer: str, entry: Entry) -> float:
        meta = entry["metadata"]
        order = self.arrangement(answer)
        if sorted(order) != sorted(meta["items"]):
            return 0.0
        pos = {b: i + 1 for i, b in enumerate(order)}
        return float(all(constraint_holds(c, pos) for c in meta["constraints"]))

    def corruptions(self, entry: Entry) -> list[str]:
        meta = entry["metadata"]
        order = meta["solution"]
        fmt = lambda o: "[" + ", ".join(f'"{b}"' for b in o) + "]"  # noqa: E731
        wrong = [fmt(order[:-1]), fmt(order[:-1] + order[:1])]
        for i, j in itertools.combinations(range(len(order)), 2):
            swapped = order[:]
            swapped[i], swapped[j] = swapped[j], swapped[i]
            pos = {b: k + 1 for k, b in enumerate(swapped)}
            if not all(constraint_holds(c, pos) for c in meta["constraints"]):
                wrong.append(fmt(swapped))
            if len(wrong) >= 5:
                break
        return wrong

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path = sample / "solution.json"
            items = field(sol, "items", path, list)
            text = field(sol, "constraints_text", path, str)
            solution = field(sol, "correct_solution", path, list)
            constraints = [parse_constraint(line) for line in text.splitlines() if line.strip()]
            if any(c is None for c in constraints):
                raise PublishedDataError(f"{path}: expected every line of 'constraints_text' to be a known constraint")
            meta = {"items": items, "constraints": constraints, "solution": solution}
            return question, "[" + ", ".join(f'"{b}"' for b in solution) + "]", meta

        yield from iter_published(self, folder, build)


TASKS = [EightQueens(), StandardSudoku(), LetterLogicDiagram(), LogicPuzzle(), PermutationsAndCombinations()]
