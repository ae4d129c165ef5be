"""Big-Bench-Hard tasks: data sources, sampling, answer normalisation, published JSON files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataset_builders import bbh
from dataset_builders.bbh import ANSWER_KINDS, BBHTask, answers_match
from dataset_builders.task import PublishedDataError, TaskDataUnavailable

BBH_DIR = Path(__file__).parents[1] / ".." / "shared" / "external" / "bbh"
needs_bbh = pytest.mark.skipif(not BBH_DIR.is_dir(), reason="shared/external/bbh (the BBH JSON files) is absent")

STEMS = sorted(ANSWER_KINDS)

MC_QUESTION = "What shape?\nOptions:\n(A) circle\n(B) heptagon\n(C) hexagon\n(D) kite\n\nAnswer with the letter."


def _write(folder: Path, stem: str, examples: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.json"
    path.write_text(json.dumps({"canary": "x", "examples": examples}))
    return path


def test_27_tasks_with_known_kinds() -> None:
    assert len(bbh.TASKS) == 27
    assert {t.name for t in bbh.TASKS} == {f"bbh/{stem}" for stem in ANSWER_KINDS}
    assert all(t.source == "bbh" and t.published_folders == (t.short_name,) for t in bbh.TASKS)


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        ("(B)", True),
        ("B", True),
        ("b", True),
        ("B)", True),
        ("B.", True),
        ("(B) heptagon", True),
        ("B. heptagon", True),
        ("heptagon", True),
        ("Heptagon.", True),
        ('"(B)"', True),
        ("(C)", False),
        ("(B) hexagon", False),  # a letter with another option's text names nothing
        ("hexagon", False),
        ("(B)(C)", False),
        ("BB", False),
        ("", False),
        # a final answer wrapped the way models write one
        ("**(B)**", True),
        ("\\boxed{B}", True),
        ("The answer is (B).", True),
        ("Answer: B", True),
        ("$B$", True),
        # ...but never two of them
        ("The answer is (A) or (B)", False),
        ("\\boxed{A} or \\boxed{B}", False),
        ("**A**, **B**", False),
        ("$A$ $B$", False),
    ],
)
def test_multiple_choice(answer: str, ok: bool) -> None:
    assert answers_match("choice", answer, "(B)", MC_QUESTION) is ok


def test_multiple_choice_with_text_target() -> None:
    # three BBH examples give the option text (split at its commas) as target
    question = "Find a movie:\nOptions:\n(A) Monsters\n(B) Inc\n(C) Up"
    assert answers_match("choice", "Monsters, Inc", "Monsters, Inc", question)
    assert not answers_match("choice", "(A)", "Monsters, Inc", question)


@pytest.mark.parametrize(
    ("kind", "answer", "target", "ok"),
    [
        ("yes_no", "yes", "Yes", True),
        ("yes_no", "NO.", "No", True),
        ("yes_no", "No", "Yes", False),
        ("yes_no", "Yes, it does", "Yes", False),
        ("valid_invalid", "Invalid", "invalid", True),
        ("valid_invalid", "valid", "invalid", False),
        ("true_false", "true", "True", True),
        ("true_false", "False", "True", False),
        ("number", "12", "12", True),
        ("number", "12.0", "12", True),
        ("number", "+12", "12", True),
        ("number", "-35", "-35", True),
        ("number", "1,234", "1234", True),
        ("number", "12.5", "12", False),
        ("number", "35", "-35", False),
        ("number", "3*4", "12", False),
        ("number", "9**9**9", "12", False),
        ("number", "1e3", "1000", False),
        ("dyck", ")]}", ") ] }", True),
        ("dyck", " )  ] } ", ") ] }", True),
        ("dyck", ") ]", ") ] }", False),
        ("words", "apple, banana, cherry", "apple banana cherry", True),
        ("words", "Apple Banana Cherry", "apple banana cherry", True),
        ("words", "apple\nbanana\ncherry", "apple banana cherry", True),
        ("words", "banana apple cherry", "apple banana cherry", False),
        ("words", "apple banana", "apple banana cherry", False),
        ("yes_no", "**Yes**", "Yes", True),
        ("yes_no", "The answer is No.", "No", True),
        ("yes_no", "\\boxed{Yes} or \\boxed{No}", "Yes", False),
        ("number", "\\boxed{12}", "12", True),
        ("number", "$12$ or $13$", "12", False),
        ("dyck", "\\boxed{) ] }", ") ] }", False),
        ("words", "answer is apple", "answer is apple", True),  # no "The answer is" stripping for words
    ],
)
def test_normalisation(kind: str, answer: str, target: str, ok: bool) -> None:
    assert answers_match(kind, answer, target, "") is ok


def test_generate_from_a_local_folder(tmp_path: Path) -> None:
    _write(tmp_path, "navigate", [{"input": f"Q{i}?", "target": "Yes" if i % 2 else "No"} for i in range(7)])
    task = BBHTask("navigate", path=tmp_path)
    entries = list(task.generate(5, seed=1))
    assert [e["id"] for e in entries] == [f"navigate-1-{i}" for i in range(5)]
    assert len({e["metadata"]["index"] for e in entries}) == 5  # no repeats within one pass
    for entry in entries:
        assert set(entry) == {"task", "id", "question", "answer", "metadata"}
        assert entry["question"].startswith("Q") and "<<<" in entry["question"]
        assert task.score(f"<<<{entry['answer']}>>>", entry) == 1.0
    # deterministic, entry i independent of n, and seeds differ
    assert json.dumps(list(task.generate(5, seed=1))) == json.dumps(entries)
    assert json.dumps(list(task.generate(3, seed=1))) == json.dumps(entries[:3])
    assert [e["metadata"]["index"] for e in task.generate(7, seed=2)] != [
        e["metadata"]["index"] for e in task.generate(7, seed=1)
    ]


def test_more_entries_than_examples_walks_every_example_before_repeating(tmp_path: Path) -> None:
    _write(tmp_path, "navigate", [{"input": f"Q{i}?", "target": "Yes"} for i in range(4)])
    indices = [e["metadata"]["index"] for e in BBHTask("navigate", path=tmp_path).generate(10)]
    assert sorted(indices[:4]) == sorted(indices[4:8]) == [0, 1, 2, 3]


def test_env_var_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / "a", "snarks", [{"input": "A?\nOptions:\n(A) x\n(B) y", "target": "(A)"}])
    _write(tmp_path / "b", "snarks", [{"input": "B?\nOptions:\n(A) x\n(B) y", "target": "(B)"}])
    task = BBHTask("snarks")
    monkeypatch.setenv("R1CI_BBH_PATH", str(tmp_path / "a"))
    assert next(task.generate(1))["answer"] == "(A)"
    monkeypatch.setenv("R1CI_BBH_PATH", str(tmp_path / "b"))  # a new source is read, not the cached one
    assert next(task.generate(1))["answer"] == "(B)"


def test_hub_dataset_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_load_dataset(repo: str, name: str, split: str) -> list[dict]:
        calls.append((repo, name, split))
        return [{"input": "2 + 2 =", "target": "4"}]

    import datasets

    monkeypatch.delenv("R1CI_BBH_PATH", raising=False)
    monkeypatch.setenv("R1CI_BBH_DATASET", "someone/bbh-copy")
    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    entry = next(BBHTask("multistep_arithmetic_two").generate(1))
    assert calls == [("someone/bbh-copy", "multistep_arithmetic_two", "test")]
    assert entry["answer"] == "4"


def test_no_data_raises_one_clear_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("R1CI_BBH_PATH", raising=False)
    monkeypatch.setenv("R1CI_BBH_DATASET", "no-such-org/no-such-bbh")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    task = BBHTask("navigate")
    with pytest.raises(TaskDataUnavailable, match="no-such-org/no-such-bbh.*R1CI_BBH_PATH") as info:
        task.generate(3)  # raised on the call, not at the first iteration
    assert "\n" not in str(info.value)
    with pytest.raises(TaskDataUnavailable, match="navigate.json"):
        BBHTask("navigate", path=tmp_path).generate(1)


def test_load_published_reports_bad_examples(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "web_of_lies",
        [{"input": "Q1", "target": "Yes"}, {"input": "Q2"}, {"input": "Q3", "target": "No"}, "junk"],
    )
    items = list(BBHTask("web_of_lies").load_published(path))
    entries = [i for i in items if not isinstance(i, PublishedDataError)]
    errors = [i for i in items if isinstance(i, PublishedDataError)]
    assert [e["id"] for e in entries] == ["web_of_lies-pub-0", "web_of_lies-pub-2"]
    assert len(errors) == 2 and all(str(path) in str(e) for e in errors)
    # the folder holding the file works too
    assert len(list(BBHTask("web_of_lies").load_published(tmp_path))) == 4


def test_load_published_malformed_file(tmp_path: Path) -> None:
    (tmp_path / "navigate.json").write_text("{not json")
    with pytest.raises(PublishedDataError, match="navigate.json"):
        list(BBHTask("navigate").load_published(tmp_path / "navigate.json"))
    (tmp_path / "navigate.json").write_text('{"examples": 3}')
    with pytest.raises(PublishedDataError, match="examples"):
        list(BBHTask("navigate").load_published(tmp_path))


@needs_bbh
@pytest.mark.parametrize("stem", STEMS)
def test_every_bbh_example_verifies_and_corruptions_fail(stem: str) -> None:
    task = BBHTask(stem, path=BBH_DIR)
    entries = list(task.load_published(BBH_DIR / f"{stem}.json"))
    assert entries and not any(isinstance(e, PublishedDataError) for e in entries)
    for entry in entries:
        assert task.score(f"<<<{entry['answer']}>>>", entry) == 1.0, entry["answer"]
        for wrong in task.corruptions(entry):
            assert task.score(f"<<<{wrong}>>>", entry) == 0.0, (entry["answer"], wrong)
