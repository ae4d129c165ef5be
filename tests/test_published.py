"""Reading the paper's published layout: dispatch to tasks, error collection, the validate report."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dataset_builders import catalog
from dataset_builders.published import Collected, load_published
from dataset_builders.task import FLAWED_REFERENCE, GeneratedTask, PublishedDataError

EXTERNAL = Path(__file__).parents[1] / ".." / "shared" / "external"
needs_external = pytest.mark.skipif(
    not EXTERNAL.is_dir(), reason="shared/external (the paper's published data) is absent"
)


class FolderTask(GeneratedTask):
    """A stand-in task: every sample folder with an `ok` file is an entry, any other one an error."""

    description = "test double"

    def __init__(self, name: str, *folders: str, explode: bool = False) -> None:
        self.name = name
        self.published_folders = folders
        self.explode = explode
        self.read: list[Path] = []

    def make_entry(self, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
        return "q", "a", {}

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        return float(answer == entry["answer"])

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        self.read.append(folder)
        if self.explode:
            raise OSError("disk on fire")
        for sample in sorted(p for p in folder.iterdir() if p.is_dir()):
            if (sample / "ok").exists():
                yield self.entry(f"pub-{sample.name}", f"question {sample.name}", "a")
            else:
                yield PublishedDataError(f"{sample}: file ok is missing")


def _samples(folder: Path, good: int, bad: int = 0) -> Path:
    for i in range(good + bad):
        sample = folder / f"sample_{i}"
        sample.mkdir(parents=True)
        if i < good:
            (sample / "ok").write_text("1")
    return folder


@pytest.fixture
def tasks() -> list[FolderTask]:
    return [FolderTask("symbench/alpha", "alpha_dataset"), FolderTask("symbench/beta", "beta", "beta_2")]


def test_root_with_task_folders(tmp_path: Path, tasks: list[FolderTask]) -> None:
    _samples(tmp_path / "alpha_dataset", 2)
    _samples(tmp_path / "beta", 1)
    _samples(tmp_path / "beta_2", 3)
    for name in ("NOTICE", "LICENSE", "README.md", ".DS_Store"):
        (tmp_path / name).write_text("not data")
    entries = load_published(tmp_path, tasks=tasks)
    assert sorted(e["task"] for e in entries) == ["symbench/alpha"] * 2 + ["symbench/beta"] * 4


def test_single_task_folder(tmp_path: Path, tasks: list[FolderTask]) -> None:
    entries = load_published(_samples(tmp_path / "beta_2", 2), tasks=tasks)
    assert [e["id"] for e in entries] == ["beta-pub-sample_0", "beta-pub-sample_1"]


def test_one_bad_sample_hides_nothing(tmp_path: Path, tasks: list[FolderTask]) -> None:
    _samples(tmp_path / "alpha_dataset", 2, bad=2)
    _samples(tmp_path / "beta", 1, bad=1)
    result = load_published(tmp_path, on_error="collect", tasks=tasks)
    assert isinstance(result, Collected)
    entries, errors = result
    assert len(entries) == 3 and len(errors) == 3
    assert {e.task for e in errors} == {"symbench/alpha", "symbench/beta"}

    assert len(load_published(tmp_path, on_error="skip", tasks=tasks)) == 3

    tasks[1].read.clear()
    with pytest.raises(PublishedDataError) as info:
        load_published(tmp_path, tasks=tasks)
    message = str(info.value)
    assert message.startswith("3 problem(s)")
    for bad in ("alpha_dataset/sample_2", "alpha_dataset/sample_3", "beta/sample_1"):
        assert bad in message
    assert tasks[1].read == [tmp_path / "beta"]  # everything was scanned before raising


def test_unknown_folders_and_files_are_reported(tmp_path: Path, tasks: list[FolderTask]) -> None:
    _samples(tmp_path / "alpha_dataset", 1)
    _samples(tmp_path / "gamma_dataset", 1)
    (tmp_path / "delta.json").write_text("{}")
    (tmp_path / "NOTICE").write_text("ignored")
    entries, errors = load_published(tmp_path, on_error="collect", tasks=tasks)
    assert len(entries) == 1
    messages = sorted(str(e) for e in errors)
    assert len(messages) == 2
    assert "delta.json" in messages[0] and "gamma_dataset" in messages[1]
    assert "known names: alpha_dataset, beta, beta_2" in messages[1]
    assert all(e.task is None for e in errors)


def test_given_path_that_no_task_reads(tmp_path: Path, tasks: list[FolderTask]) -> None:
    folder = _samples(tmp_path / "mystery", 2)
    with pytest.raises(PublishedDataError, match="mystery.*known names"):
        load_published(folder, tasks=tasks)


def test_missing_path_is_named(tmp_path: Path, tasks: list[FolderTask]) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_published(tmp_path / "nowhere", on_error="collect", tasks=tasks)


def test_bad_on_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="on_error"):
        load_published(tmp_path, on_error="ignore")  # type: ignore[arg-type]


def test_a_raising_reader_loses_only_its_folder(tmp_path: Path) -> None:
    tasks = [FolderTask("symbench/alpha", "alpha_dataset", explode=True), FolderTask("symbench/beta", "beta")]
    _samples(tmp_path / "alpha_dataset", 1)
    _samples(tmp_path / "beta", 2)
    entries, errors = load_published(tmp_path, on_error="collect", tasks=tasks)
    assert len(entries) == 2
    assert len(errors) == 1 and "disk on fire" in str(errors[0]) and errors[0].task == "symbench/alpha"


def test_a_folder_shared_by_two_tasks_is_read_by_both(tmp_path: Path) -> None:
    tasks = [FolderTask("symbench/math_a", "MATH"), FolderTask("symbench/math_b", "MATH")]
    _samples(tmp_path / "MATH", 1)
    assert sorted(e["task"] for e in load_published(tmp_path, tasks=tasks)) == ["symbench/math_a", "symbench/math_b"]


def test_nested_roots(tmp_path: Path, tasks: list[FolderTask]) -> None:
    _samples(tmp_path / "release" / "symbench" / "alpha_dataset", 1)
    _samples(tmp_path / "release" / "more" / "beta", 1)
    _samples(tmp_path / "release" / "more" / "zeta", 1)
    entries, errors = load_published(tmp_path, on_error="collect", tasks=tasks)
    assert len(entries) == 2
    assert [Path(str(e).split(":")[0]).name for e in errors] == ["zeta"]


def test_bbh_files_folder_and_mixed_root(tmp_path: Path) -> None:
    bbh_dir = tmp_path / "bbh"
    bbh_dir.mkdir()
    examples = [{"input": "Is it? Options:\n- Yes\n- No", "target": "Yes"}, {"input": "Q2", "target": "No"}]
    (bbh_dir / "navigate.json").write_text(json.dumps({"examples": examples}))
    (bbh_dir / "web_of_lies.json").write_text(json.dumps({"examples": examples[:1]}))
    (bbh_dir / "LICENSE").write_text("MIT")
    assert len(load_published(bbh_dir / "navigate.json")) == 2
    assert len(load_published(bbh_dir)) == 3
    (bbh_dir / "mystery_task.json").write_text("{}")
    entries, errors = load_published(tmp_path, on_error="collect")
    assert len(entries) == 3 and len(errors) == 1 and "mystery_task.json" in str(errors[0])


@needs_external
def test_the_real_published_data(external_task_data: Path) -> None:
    entries, errors = load_published(external_task_data, on_error="collect")
    sources = {e["task"].split("/")[0] for e in entries}
    assert sources == {"bbh", "symbench"}
    assert sum(e["task"].startswith("bbh/") for e in entries) == 6511  # every BBH example
    # every folder and file there belongs to a task (NOTICE and LICENSE are ignored), every sample reads
    assert not errors, [str(e) for e in errors]
    # the 13 samples whose stored reference breaks its own question's rules are kept, flagged, and so
    # are the 20 Reversi samples whose question already shows the answer
    flagged = [e for e in entries if e["metadata"].get(FLAWED_REFERENCE)]
    assert sorted({e["task"] for e in flagged}) == [
        "symbench/logic_puzzle",
        "symbench/mahjong_pattern",
        "symbench/reversi",
    ]
    assert len(flagged) == 13 + 20


def test_validate_reports_and_fails_on_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bbh_dir = tmp_path / "bbh"
    bbh_dir.mkdir()
    good = [{"input": "Is it? Options:\n- Yes\n- No", "target": "Yes"}]
    (bbh_dir / "navigate.json").write_text(json.dumps({"examples": good}))
    assert catalog.validate(bbh_dir) == 0
    assert "bbh/navigate" in capsys.readouterr().out

    (bbh_dir / "web_of_lies.json").write_text(json.dumps({"examples": [{"input": "no target"}]}))
    assert catalog.validate(bbh_dir) == 1
    out = capsys.readouterr().out
    assert "web_of_lies.json" in out and "problem" in out

    assert catalog.validate(tmp_path / "absent") == 2
    assert "does not exist" in capsys.readouterr().err


@needs_external
def test_validate_single_symbench_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = shutil.copytree(EXTERNAL / "symbench" / "game24_dataset", tmp_path / "game24_dataset")
    assert catalog.validate(folder) == 0
    assert "symbench/game24" in capsys.readouterr().out


def _logic_sample(folder: Path, grid: list[list[int]], solution: list[list[int]]) -> None:
    folder.mkdir(parents=True)
    n = len(grid)
    rows = "\n".join(", ".join(map(str, row)) for row in grid)
    (folder / "question.txt").write_text(
        f"Given a {n}*{n} grid, you must select {n + 1} different numbers from these cells. The sum of the selected "
        f"numbers in each row and each column should be less than or equal to 4.\n"
        f"Using the number {grid[0][n - 1]} in the top-rightmost square (0,{n - 1}) as the first selected number\n"
        f"{rows}\n\nReturn your answer with the format <<<list of selected number positions>>>."
    )
    (folder / "solution.json").write_text(json.dumps({"grid": grid, "solution": solution}))


def test_validate_lists_flagged_references_as_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "logic_puzzle_dataset"
    _logic_sample(folder / "sample_0", [[2, 1], [3, 3]], [[0, 1], [0, 0], [1, 1]])  # keeps the rules
    _logic_sample(folder / "sample_1", [[3, 1], [2, 3]], [[0, 1], [1, 0], [0, 0]])  # column 0 sums to 5
    assert catalog.validate(folder) == 0
    out = capsys.readouterr().out
    assert "warning: 1 published reference(s) break their question's own rules" in out
    assert "logic_puzzle-pub-sample_1: the stored selection breaks the question's rules: column 0 sums to 5 > 4" in out
    assert "logic_puzzle-pub-sample_0" not in out
    assert "all 2 reference solutions verify (1 flagged" in out
