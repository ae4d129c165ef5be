"""SymBench game simulations (dataset_builders/symbench/games.py): levels spanning the published generators,
verdicts (the one result of the stated moves), published data, hacks.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from dataset_builders.answer_parsing import parse_grid, parse_int_sequence
from dataset_builders.symbench import games
from dataset_builders.symbench.games import (
    GAME2048_LEVELS,
    LIGHT_LEVELS,
    REVERSI_LEVELS,
    flips,
    initial_board,
    mahjong_final,
    slide_one,
)
from dataset_builders.task import FLAWED_REFERENCE, FLAWED_REFERENCE_REASON, GeneratedTask
from tests.symbench_helpers import (
    SYMBENCH,
    assert_batch_spans_levels,
    assert_board_hacks_score_zero,
    assert_every_level_verifies,
    assert_hardest_level_reads_stored_metadata,
    assert_levels_appear_and_are_described,
    assert_levels_described,
    assert_published_folder_verifies,
    assert_published_within_levels,
    assert_same_bytes_across_hash_seeds,
    assert_same_seed_same_bytes,
    assert_variants_read_back,
    needs_external,
    published_entries,
    published_solution,
    wrap,
)

#: Every task of the module, by its full and its short name.
BY_NAME: dict[str, GeneratedTask] = {key: t for t in games.TASKS for key in (t.name, t.short_name)}


#: 2048 and the light puzzles share one battery of checks below; Reversi and mahjong have their own.
BOARD_GAMES = ["symbench/2048", "symbench/light_puzzles"]
REVERSI = ["symbench/reversi"]


#: Levels per task (by the name each section below uses): the published generators' complexity scales.
LEVELS = {
    "symbench/2048": 5,
    "symbench/light_puzzles": 5,
    "symbench/reversi": 5,
    "mahjong_pattern": 5,
}


@pytest.fixture(scope="module")
def batches() -> dict[str, list[dict[str, Any]]]:
    """200 seeded entries per task (levels drawn as `generate` draws them), by full and short name."""
    out = {}
    for task in games.TASKS:
        out[task.name] = out[task.short_name] = list(task.generate(200, seed=0))
    return out


@pytest.fixture(scope="module")
def entries() -> dict[str, list[dict[str, Any]]]:
    """40 seeded entries per task, by full name."""
    return {task.name: list(task.generate(40, seed=0)) for task in games.TASKS}


def published(name: str) -> list[dict[str, Any]]:
    return published_entries(BY_NAME[name])


def test_same_bytes_whatever_the_hash_seed() -> None:
    assert_same_bytes_across_hash_seeds("games")


# -- 2048 and light puzzles: levels -----------------------------------------------------------------


def _levels(batch: list[dict]) -> Counter:
    return Counter(e["metadata"]["complexity"] for e in batch)


@pytest.mark.parametrize("name", BOARD_GAMES)
def test_every_level_appears_and_is_described(name, batches):
    assert_levels_appear_and_are_described(BY_NAME[name], batches[name], LEVELS[name])


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


def test_light_levels_match_the_published_configurations(batches):
    for e in batches["symbench/light_puzzles"]:
        meta = e["metadata"]
        n, buttons, rounds = LIGHT_LEVELS[meta["complexity"]]
        assert len(meta["state"]) == n and len(meta["button_names"]) == buttons
        assert len(meta["operations"]) == rounds
        assert all(2 <= len(cells) <= max(2, n * n // 2) for cells in meta["button_cells"])
        assert "1" in e["answer"]  # never the all-dark format example


# -- 2048 and light puzzles: verdicts ---------------------------------------------------------------


@pytest.mark.parametrize("name", BOARD_GAMES)
def test_references_score_one_and_corruptions_zero_at_every_level(name):
    assert_every_level_verifies(BY_NAME[name], per_level=8, min_corruptions=3)


@pytest.mark.parametrize("name", BOARD_GAMES)
def test_same_seed_same_bytes(name):
    assert_same_seed_same_bytes(BY_NAME[name])


@pytest.mark.parametrize("name", BOARD_GAMES)
def test_generic_hacks_score_zero(name, batches):
    assert_board_hacks_score_zero(BY_NAME[name], batches[name][::10])


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


def test_2048_rule_matches_the_published_examples():
    assert slide_one([[0, 16], [4, 2]], (0, 1), "dl") == [[16, 0], [4, 2]]
    assert slide_one([[8, 32], [8, 32]], (0, 0), "du") == [[16, 32], [0, 32]]  # merges, then keeps moving
    assert slide_one([[4, 4], [8, 8]], (0, 0), "lr") == [[0, 8], [8, 8]]  # the wall stops it


@pytest.mark.parametrize("name", BOARD_GAMES)
def test_stored_metadata_and_hostile_input_at_the_hardest_level(name):
    assert_hardest_level_reads_stored_metadata(BY_NAME[name])


# -- 2048 and light puzzles: published data ---------------------------------------------------------


PUBLISHED = [(name, folder) for name in BOARD_GAMES for folder in BY_NAME[name].published_folders]


@pytest.mark.parametrize(("name", "folder"), PUBLISHED, ids=[f for _, f in PUBLISHED])
def test_published_samples_score_one_and_corruptions_zero(name, folder):
    assert_published_folder_verifies(BY_NAME[name], folder)


@pytest.mark.parametrize("name", BOARD_GAMES)
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
        (sample / "solution.json").write_text(json.dumps(published_solution(name, e), indent=2))
    loaded = list(task.load_published(tmp_path))
    assert len(loaded) == len(generated) and all(isinstance(x, dict) for x in loaded), loaded
    for e, original in zip(loaded, generated, strict=True):
        assert task.score(wrap(original["answer"]), e) == 1.0
        for wrong in task.corruptions(original):
            assert task.score(wrap(wrong), e) == 0.0


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


# -- reversi ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REVERSI)
def test_reversi_every_level_appears_and_is_described(name, batches):
    task = BY_NAME[name]
    assert task.complexity_levels == LEVELS[name]
    levels = {e["metadata"]["complexity"] for e in batches[name]}
    assert levels == set(range(1, task.complexity_levels + 1))
    descriptions = [task.level_description(level) for level in range(1, task.complexity_levels + 1)]
    assert all(descriptions) and len(set(descriptions)) == len(descriptions)


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


@pytest.mark.parametrize("name", REVERSI)
def test_reversi_references_score_one_and_corruptions_zero_at_every_level(name):
    task = BY_NAME[name]
    for level in range(1, task.complexity_levels + 1):
        for e in task.generate(8, seed=level, complexity=level):
            assert e["metadata"]["complexity"] == level
            assert task.score(wrap(e["answer"]), e) == 1.0, e["id"]
            wrong = task.corruptions(e)
            assert wrong
            for answer in wrong:
                assert task.score(wrap(answer), e) == 0.0, (e["id"], answer)


@pytest.mark.parametrize("name", REVERSI)
def test_reversi_same_seed_same_bytes(name):
    task = BY_NAME[name]
    first = json.dumps(list(task.generate(12, seed=7)), sort_keys=True)
    assert first == json.dumps(list(task.generate(12, seed=7)), sort_keys=True)
    assert first != json.dumps(list(task.generate(12, seed=8)), sort_keys=True)
    assert json.loads(first)[:5] == list(task.generate(5, seed=7))


def _reversi_lookalike(text: str) -> str:
    return text.translate(str.maketrans({"A": "А", "B": "В", "C": "С", "E": "Е", "O": "О", "1": "l", "0": "O"}))


@pytest.mark.parametrize("name", REVERSI)
def test_reversi_generic_hacks_score_zero(name, batches):
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
            "lookalike": _reversi_lookalike(a),
            "question": e["question"],
            "lower": a.lower(),
        }
        for label, hack in hacks.items():
            if hack != a:
                assert task.score(wrap(hack), e) == 0.0, (label, e["id"], hack[:80])


def test_reversi_plays_by_the_stated_rules() -> None:
    board = games.play(games.initial_board(4), 0, 1, "0")
    assert ["".join(r) for r in board] == ["*0**", "*00*", "*01*", "****"]


def test_other_reversi_spellings_score_one() -> None:
    spellings = {
        "symbench/reversi": lambda a: a.replace(",", ""),
    }
    for name, respell in spellings.items():
        task = BY_NAME[name]
        for e in task.generate(5, seed=2):
            assert task.score(wrap(respell(e["answer"])), e) == 1.0, (name, respell(e["answer"]))


@pytest.mark.parametrize("name", REVERSI)
def test_reversi_stored_metadata_and_hostile_input_at_the_hardest_level(name):
    task = BY_NAME[name]
    e = next(iter(task.generate(1, seed=9, complexity=task.complexity_levels)))
    stored = {**e, "metadata": json.dumps(e["metadata"])}  # the form a datasets column holds
    assert task.score(wrap(e["answer"]), stored) == 1.0
    for hostile in ("0 0, " * 799, "[" * 3_999, "9" * 3_999, "1,\n" * 1_333, "*," * 1_999, "x" * 100_000):
        start = time.perf_counter()
        assert task.score(wrap(hostile), e) == 0.0
        assert time.perf_counter() - start < 1.0


REVERSI_PUBLISHED = [(name, folder) for name in REVERSI for folder in BY_NAME[name].published_folders]


@pytest.mark.parametrize(("name", "folder"), REVERSI_PUBLISHED, ids=[f for _, f in REVERSI_PUBLISHED])
def test_reversi_published_samples_score_one_and_corruptions_zero(name, folder):
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


@pytest.mark.parametrize("name", REVERSI)
def test_reversi_every_level_in_the_published_schema_loads_and_scores(name, tmp_path):
    """The local published subset holds only the easiest levels; the readers must take every level's shape."""
    task = BY_NAME[name]
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
def test_published_reversi_boards_follow_the_rules() -> None:
    """The rules as implemented reproduce the paper's stored boards (not just their strings)."""

    def published(name: str) -> list[dict]:
        task = BY_NAME[name]
        return [e for f in task.published_folders for e in task.load_published(SYMBENCH / f)]

    for e in published("symbench/reversi"):
        m = e["metadata"]
        ((r, c),) = m["moves"]
        board = games.play(games.initial_board(m["board_size"]), r - 1, c - 1, "0")
        assert ",".join(x for row in board for x in row) == m["solution"]


# -- mahjong pattern --------------------------------------------------------------------------------


def test_levels_match_the_published_generators() -> None:
    names = ["mahjong_pattern"]
    for name in names:
        assert_levels_described(BY_NAME[name], LEVELS[name])


@pytest.mark.parametrize("task", [BY_NAME[n] for n in ["mahjong_pattern"]], ids=lambda t: t.short_name)
def test_every_level_verifies_and_corruptions_fail(task: GeneratedTask) -> None:
    assert_every_level_verifies(task)


@pytest.mark.parametrize("name", ["mahjong_pattern"])
def test_two_hundred_entries_span_every_level(name: str, batches) -> None:
    assert_batch_spans_levels(batches[name], LEVELS[name])


def test_mahjong_spans_rounds_rules_and_verdicts(batches) -> None:
    batch = batches["mahjong_pattern"]
    assert {(len(e["metadata"]["adds"]), e["metadata"]["chi"]) for e in batch} == {
        (1, False),
        (2, False),
        (3, True),
        (4, True),
        (5, True),
    }
    assert {e["answer"] for e in batch if e["metadata"]["chi"]} == {"0", "1", "2"}
    assert {e["answer"] for e in batch if not e["metadata"]["chi"]} == {"0", "1"}
    for e in batch:
        assert max(Counter(e["metadata"]["initial"]).values()) <= 2  # as in the published hands


def test_unique_answer_tasks_accept_other_spellings(entries):
    mahjong = BY_NAME["symbench/mahjong_pattern"]
    for entry in entries["symbench/mahjong_pattern"]:
        word = {"0": "Pass", "1": "Peng", "2": "Chi"}[entry["answer"]]
        assert mahjong.score(wrap(f" {entry['answer']} "), entry) == 1.0
        assert mahjong.score(wrap(word), entry) == 1.0
    g2048 = BY_NAME["symbench/2048"]
    for entry in entries["symbench/2048"]:
        assert g2048.score(wrap(json.dumps(parse_grid(entry["answer"], int))), entry) == 1.0
    lights = BY_NAME["symbench/light_puzzles"]
    for entry in entries["symbench/light_puzzles"]:
        assert lights.score(wrap("[" + entry["answer"] + "]"), entry) == 1.0


def test_a_chi_answer_is_wrong_where_only_peng_and_pass_are_in_play() -> None:
    """A Chi answer where only Peng/Pass are in play is wrong for that variant's question."""
    mahjong = BY_NAME["mahjong_pattern"]
    meta = {"initial": "ABDFHJLNPRTVX", "adds": ["C"], "removes": [], "chi": False}
    e = mahjong.entry("t", "q", "0", meta)
    assert mahjong_final(meta["initial"], ["C"], [], chi=True) == 2
    assert [mahjong.score(wrap(a), e) for a in ("0", "2", "Chi")] == [1.0, 0.0, 0.0]


def test_mahjong_answers_resist_hedges(batches) -> None:
    cases = {
        "mahjong_pattern": lambda a: [a + " or 0", "0, 1, 2", f"{a}{a}", "１" if a != "1" else "２", "Peng or Chi"],
    }
    for name, hacks in cases.items():
        task = BY_NAME[name]
        for e in batches[name][:25]:
            for hack in hacks(e["answer"]):
                assert task.score(wrap(hack), e) == 0.0, (name, hack)


@needs_external
@pytest.mark.parametrize("name", ["mahjong_pattern"])
def test_published_samples_fall_inside_the_levels(name: str) -> None:
    assert_published_within_levels(BY_NAME[name])


@pytest.mark.parametrize("name", ["mahjong_pattern"])
def test_every_generated_variant_reads_back_from_the_published_layout(name: str, tmp_path: Path) -> None:
    assert_variants_read_back(BY_NAME[name], tmp_path)


def test_mahjong_published_chi_miss_is_flagged(tmp_path: Path) -> None:
    """The published Chi check looks at three sorted neighbours, so a pair between the run's cards hides a
    Chi (hand A, B, B and a new C); the stored 0 breaks the stated rule and is kept as flagged."""
    task = BY_NAME["mahjong_pattern"]
    initial = "ABBDFHJLNPRTV"
    assert mahjong_final(initial, ["C"], [], chi=True) == 2
    question = (
        "Rules: Peng (1), Chi (2) when two cards in hand and the new card form a consecutive letter sequence, "
        f"else Pass (0).\nGiven the initial cards:{initial}\n\nRound 1: Add a C card\n\n"
        "Return your answer with the format <<<x>>>, where x is 0 for Pass, 1 for Peng, or 2 for Chi."
    )
    folder = tmp_path / "sample_0"
    folder.mkdir()
    (folder / "question.txt").write_text(question)
    rounds = [{"add": "C", "remove": "A"}]
    (folder / "solution.json").write_text(json.dumps({"initial_cards": initial, "rounds": rounds, "solution": 0}))
    (entry,) = task.load_published(tmp_path)
    assert entry["metadata"][FLAWED_REFERENCE] and "final round is 2" in entry["metadata"][FLAWED_REFERENCE_REASON]
    assert [task.score(wrap(a), entry) for a in ("0", "2", "Chi", "1")] == [1.0, 1.0, 1.0, 0.0]
