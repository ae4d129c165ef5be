"""The contract every registered task keeps (DESIGN.md, "Tasks"), checked over all of them.

Dataset-backed tasks (bbh/*, symbench/gsm_hard, symbench/math_*) read shared/external through the
`external_task_data` fixture and are skipped when it is absent.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from code_interpreter.errors import InputError
from dataset_builders import get_task, list_tasks
from dataset_builders.task import SOURCES, Task, generate_entries, parse_levels

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # Reasoning-Gym's hash-seed notice

N = 6
TASKS = list_tasks()
NAMES = [t.name for t in TASKS]
DATASET_BACKED = {"symbench/gsm_hard", "symbench/math_counting_and_probability", "symbench/math_geometry"}
ENTRY_KEYS = {"task", "id", "question", "answer", "metadata"}

_cache: dict[str, list[dict[str, Any]]] = {}


def _needs_data(task: Task) -> bool:
    return task.source == "bbh" or task.name in DATASET_BACKED


def _entries(task: Task, request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """N entries of `task` (seed 0), generated once per session."""
    if _needs_data(task):
        request.getfixturevalue("external_task_data")
    if task.name not in _cache:
        _cache[task.name] = list(task.generate(N, seed=0))
    return _cache[task.name]


def _wrong(task: Task, entry: dict[str, Any]) -> str:
    return next((w for w in task.corruptions(entry) if w.strip()), "???")


# -- the task set ---------------------------------------------------------------------------------
def test_144_tasks_split_107_37_with_the_papers_per_source_counts() -> None:
    counts = Counter((t.source, t.split) for t in TASKS)
    assert len(TASKS) == 144
    assert sum(t.split == "train" for t in TASKS) == 107
    assert sum(t.split == "test" for t in TASKS) == 37
    assert counts == {
        ("symbench", "train"): 26,
        ("symbench", "test"): 7,
        ("bbh", "train"): 20,
        ("bbh", "test"): 7,
        ("reasoning_gym", "train"): 61,
        ("reasoning_gym", "test"): 23,
    }


def test_every_test_split_name_is_a_registered_task() -> None:
    from dataset_builders.splits import TEST_TASKS

    assert TEST_TASKS <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_names_match_sources(name: str) -> None:
    task = get_task(name)
    source, short = name.split("/", 1)
    assert source in SOURCES and task.source == source and task.short_name == short and short
    assert task.split in ("train", "test")
    assert task.description.strip(), "one line saying what the task tests"
    assert len(set(NAMES)) == len(NAMES)


# -- generated entries ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_entries_are_json_and_verify(name: str, request: pytest.FixtureRequest) -> None:
    task = get_task(name)
    entries = _entries(task, request)
    assert len(entries) == N
    assert len({e["id"] for e in entries}) == N
    for entry in entries:
        assert set(entry) == ENTRY_KEYS
        assert entry["task"] == name
        assert all(isinstance(entry[k], str) for k in ("id", "question", "answer"))
        assert isinstance(entry["metadata"], dict)
        again = json.loads(json.dumps(entry))
        assert again == entry
        assert task.score(f"<<<{entry['answer']}>>>", entry) == 1.0, entry["answer"][:200]
        assert task.score(f"Reasoning...\n<<<{again['answer']}>>>", again) == 1.0


@pytest.mark.parametrize("name", NAMES)
def test_corruptions_score_zero(name: str, request: pytest.FixtureRequest) -> None:
    task = get_task(name)
    for entry in _entries(task, request):
        wrong = task.corruptions(entry)
        assert wrong and all(isinstance(w, str) for w in wrong)
        for answer in wrong:
            assert task.score(f"<<<{answer}>>>", entry) == 0.0, (entry["answer"][:100], answer[:100])


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_entries(name: str, request: pytest.FixtureRequest) -> None:
    task = get_task(name)
    entries = _entries(task, request)
    assert json.dumps(list(task.generate(N, seed=0))) == json.dumps(entries)
    assert json.dumps(list(task.generate(2, seed=0))) == json.dumps(entries[:2])
    assert [e["question"] for e in task.generate(N, seed=1)] != [e["question"] for e in entries]


# -- extraction and hostile answers ---------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_answer_tags(name: str, request: pytest.FixtureRequest) -> None:
    task = get_task(name)
    entry = _entries(task, request)[0]
    answer, wrong = entry["answer"], _wrong(task, entry)
    assert task.score(answer, entry) == 0.0, "no <<<>>> tag scores 0"
    assert task.score("", entry) == 0.0
    assert task.score(f"<<<{wrong}>>> on second thought <<<{answer}>>>", entry) == 1.0
    assert task.score(f"<<<{answer}>>> on second thought <<<{wrong}>>>", entry) == 0.0
    assert task.score(f"```python\nprint('<<<{answer}>>>')\n```\n", entry) == 0.0, "code is not an answer"


def _hostile(marker: Path) -> list[str]:
    return [
        "9**9**9",
        "9^9^9",
        "10**10**10**10",
        "1e999999",
        str(9**2000),
        "__import__('os').system('x')",
        f"__import__('pathlib').Path({str(marker)!r}).touch()",
        "[" * 10_000 + "]" * 10_000,
        "(" * 10_000 + ")" * 10_000,
        "{" * 10_000 + "}" * 10_000,
        "a" * 1_000_000,
        "nan",
        "R999999999",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_hostile_answers_are_rejected_quickly(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    task = get_task(name)
    entry = _entries(task, request)[0]
    marker = tmp_path / "executed"
    for answer in _hostile(marker):
        start = time.perf_counter()
        assert task.score(f"<<<{answer}>>>", entry) == 0.0, answer[:40]
        # generous: a bomb that got through would take minutes or exhaust memory
        assert time.perf_counter() - start < 10.0, answer[:40]
    assert not marker.exists(), "an answer was executed"


_fragments = st.sampled_from(["<<<", ">>>", "```python\n", "\n```\n", "<", ">", " ", "\n", "(", "]", "0", "-1"])
_completions = st.lists(st.one_of(_fragments, st.text(max_size=30)), max_size=12).map("".join)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_arbitrary_completions_never_raise(name: str, request: pytest.FixtureRequest, data: st.DataObject) -> None:
    task = get_task(name)
    entry = _entries(task, request)[0]
    completion = data.draw(
        st.one_of(
            _completions,
            st.builds(lambda a, b: f"{a}<<<{b}>>>", _completions, _completions),
            st.builds(lambda a, b: f"{a}<<<{entry['answer']}{b}>>>", _completions, _fragments),
        )
    )
    score = task.score(completion, entry)
    assert isinstance(score, float) and 0.0 <= score <= 1.0


def test_answer_source_anywhere_is_explicit_and_only_for_old_checkpoints():
    from code_interpreter.protocol import ProtocolConfig, render_result

    task = get_task("symbench/number_multiply")
    entry = next(task.generate(1, seed=0))
    printed, _ = render_result(f"<<<{entry['answer']}>>>", ProtocolConfig(answer_source="anywhere"))
    completion = f"Let me compute.\n```python\nprint('x')\n```\n{printed}"
    assert task.score(completion, entry) == 0.0  # by default interpreter output never supplies the answer
    assert task.score(completion, entry, answer_source="anywhere") == 1.0
    with pytest.raises(ValueError, match="answer_source must be one of"):
        task.score(completion, entry, answer_source="everywhere")


def test_complexity_ranges_draw_only_their_levels_and_leave_the_default_unchanged():
    task = get_task("symbench/number_multiply")
    low = list(task.generate(40, seed=3, levels=(1, 2)))
    assert {e["metadata"]["complexity"] for e in low} == {1, 2}
    assert {e["metadata"]["complexity"] for e in generate_entries(task, 10, 3, "3")} == {3}
    assert list(task.generate(40, seed=3, levels=(1, task.complexity_levels + 5))) == list(task.generate(40, seed=3))
    levelless = get_task("reasoning_gym/prime_factorization")
    assert list(generate_entries(levelless, 2, 0, "1")) == list(levelless.generate(2, seed=0))
    for bad in ("0", "3-1", "two", "1-"):
        with pytest.raises(InputError, match="a level or a range of levels"):
            parse_levels(bad)
    assert parse_levels(" 1 - 3 ") == (1, 3) and parse_levels(None) is None


def test_complexity_out_of_range_huge_or_foreign_digits_is_one_sentence():
    task = get_task("symbench/number_multiply")
    with pytest.raises(InputError, match="symbench/number_multiply has levels 1-10"):
        generate_entries(task, 2, 0, "11-12")  # past the top: not a bare ValueError from the generator
    assert {e["metadata"]["complexity"] for e in generate_entries(task, 20, 0, "10-99")} == {10}  # capped
    for bad in ("9" * 5000, "\u0663", "1-\uff13"):  # int() would read Arabic-Indic and fullwidth digits
        with pytest.raises(InputError, match="a level or a range of levels"):
            parse_levels(bad)
