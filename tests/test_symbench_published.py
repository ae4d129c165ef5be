"""The paper's published SymBench data across tasks: every reference scores 1, flagged references, unique ids,
bad samples reported rather than raised. Each module's own file reads its task-specific layouts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataset_builders.symbench import TASKS as ALL_SYMBENCH
from dataset_builders.symbench import math_data
from dataset_builders.task import FLAWED_REFERENCE, FLAWED_REFERENCE_REASON, PublishedDataError, Task
from tests.symbench_helpers import PROCEDURAL_TASK_NAMES, PUZZLE_TASK_NAMES, SYMBENCH, needs_external, wrap

#: The puzzle, board and planning tasks, by name.
PUZZLES: dict[str, Task] = {t.name: t for t in ALL_SYMBENCH if t.name in PUZZLE_TASK_NAMES}
#: The string, matrix and numeric tasks.
PROCEDURAL: list[Task] = [t for t in ALL_SYMBENCH if t.name in PROCEDURAL_TASK_NAMES]
#: Every SymBench task, by name.
BY_NAME: dict[str, Task] = {t.name: t for t in ALL_SYMBENCH}


#: Published samples whose reference breaks the rules stated in their own question (see the
#: constraint_puzzles and games module docstrings): kept as entries, flagged in metadata, and their stored reference still scores 1.
FLAGGED = {
    # the reference selections exceed the question's "row/column sum <= 4" rule
    "logic_puzzle_dataset": {f"sample_{i}" for i in (2, 3, 4, 5, 8, 9, 12, 13, 14, 18, 19)},
    # Peng/Pass-only questions whose reference answer is 2 (Chi)
    "mahjong_pattern_dataset": {"sample_2", "sample_6"},
    # every published question's "previous round" board already is the answer (red team F7)
    "reversi_dataset": {f"sample_{i}" for i in range(20)},
}


PUBLISHED = [(name, folder) for name in PUZZLE_TASK_NAMES for folder in PUZZLES[name].published_folders]


@pytest.mark.parametrize(("name", "folder"), PUBLISHED, ids=[f"{n.split('/')[1]}-{f}" for n, f in PUBLISHED])
def test_published_references_score_one(name, folder):
    path = SYMBENCH / folder
    if not path.is_dir():
        pytest.skip(f"published SymBench sample {path} is not present (only in the shared workspace)")
    task = PUZZLES[name]
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
    path = SYMBENCH / folder
    if not path.is_dir():
        pytest.skip(f"published SymBench sample {path} is not present (only in the shared workspace)")
    (task,) = [t for t in BY_NAME.values() if folder in t.published_folders]
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
    elif folder == "reversi_dataset":
        # the question shows its answer: copying the shown board scores 1, so the entry is flagged
        entry = entries["sample_0"]
        assert "already is the answer" in entry["metadata"][FLAWED_REFERENCE_REASON]
        shown = ",".join("".join(entry["metadata"]["start"]))
        assert task.score(wrap(shown), entry) == 1.0
        generated = next(iter(task.generate(1, seed=0)))
        assert generated["metadata"][FLAWED_REFERENCE] is False
        assert task.score(wrap(",".join("".join(generated["metadata"]["start"]))), generated) == 0.0
    else:
        entry = entries["sample_2"]  # Peng/Pass only; the stored 2 is the result under the Chi rule
        assert "2 (Chi)" in entry["metadata"][FLAWED_REFERENCE_REASON]
        assert [task.score(wrap(a), entry) for a in ("2", "Chi", "0", "Pass", "1", "Peng")] == [1, 1, 1, 1, 0, 0]


def test_published_ids_are_unique_across_folders():
    if not SYMBENCH.is_dir():
        pytest.skip(f"published SymBench samples are not present at {SYMBENCH}")
    for name in ("symbench/eight_queens", "symbench/boxlift", "symbench/boxnet"):
        task = PUZZLES[name]
        ids = [
            e["id"] for f in task.published_folders for e in task.load_published(SYMBENCH / f) if isinstance(e, dict)
        ]
        assert len(ids) == len(set(ids)) > 0


@needs_external
@pytest.mark.parametrize("task", [*PROCEDURAL, *math_data.TASKS], ids=lambda t: t.short_name)
def test_published_entries_score_one_and_corruptions_zero(task: Task) -> None:
    entries = []
    for folder in task.published_folders:
        for item in task.load_published(SYMBENCH / folder):
            assert not isinstance(item, PublishedDataError), str(item)
            entries.append(item)
    assert len(entries) >= 20
    for e in entries:
        assert e["id"].startswith(f"{task.short_name}-pub-")
        json.dumps(e)
        assert task.score(wrap(e["answer"]), e) == 1.0, (e["id"], e["answer"])
        for w in task.corruptions(e):
            assert task.score(wrap(w), e) == 0.0, (e["id"], w)
    assert len({e["id"] for e in entries}) == len(entries)


def test_bad_published_samples_are_reported_not_raised(tmp_path: Path) -> None:
    folder = tmp_path / "string_insertion"
    good = folder / "sample_0"
    good.mkdir(parents=True)
    (good / "question.txt").write_text("Given the string ABCDE ... <<<a string>>>")
    (good / "solution.json").write_text(json.dumps({"original_string": "ABCDE", "modified_string": "ABCDAEB"}))
    (folder / "sample_1").mkdir()
    (folder / "sample_1" / "question.txt").write_text("q")
    (folder / "sample_2").mkdir()
    (folder / "sample_2" / "question.txt").write_text("q")
    (folder / "sample_2" / "solution.json").write_text("{not json")
    (folder / "sample_3").mkdir()
    (folder / "sample_3" / "question.txt").write_text("q")
    (folder / "sample_3" / "solution.json").write_text(json.dumps({"original_string": "AB"}))

    items = list(BY_NAME["symbench/string_insertion"].load_published(folder))
    entries = [i for i in items if isinstance(i, dict)]
    errors = [i for i in items if isinstance(i, PublishedDataError)]
    assert [e["id"] for e in entries] == ["string_insertion-pub-sample_0"]
    assert len(errors) == 3
    assert "sample_1" in str(errors[0]) and "solution.json" in str(errors[0])
    assert "sample_2" in str(errors[1]) and "malformed JSON" in str(errors[1])
    assert "sample_3" in str(errors[2]) and "modified_string" in str(errors[2])

    shelf = tmp_path / "permutations_and_combinations" / "sample_0"
    shelf.mkdir(parents=True)
    (shelf / "question.txt").write_text("Shelve A, B, C. <<<[...]>>>")
    solution = {
        "items": ["A", "B", "C"],
        "constraints_text": "1. Book A must be placed in position 2.",
        "correct_solution": ["A", "B", "C"],
    }
    (shelf / "solution.json").write_text(json.dumps(solution))
    (item,) = BY_NAME["symbench/permutations_and_combinations"].load_published(shelf.parent)
    assert isinstance(item, PublishedDataError) and "does not verify" in str(item)

    # nothing to read at all (a missing or empty folder) is raised, not yielded
    with pytest.raises(PublishedDataError, match="nope"):
        list(BY_NAME["symbench/pooling"].load_published(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    for name in ("symbench/pooling", "symbench/letters", "symbench/number_multiply"):
        with pytest.raises(PublishedDataError, match="empty"):
            list(BY_NAME[name].load_published(tmp_path / "empty"))
