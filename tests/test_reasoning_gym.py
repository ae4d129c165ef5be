"""Reasoning-Gym tasks: the selection, seeding, JSON/HF round trips, guards around unsafe scorers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dataset_builders import reasoning_gym_tasks as rg_tasks
from dataset_builders.reasoning_gym_tasks import (
    ANSWER_GUARDS,
    BLOCK,
    EXCLUDED,
    HASH_SEED_DEPENDENT,
    SELECTED,
    ReasoningGymTask,
    dump_rg_entry,
    load_rg_entry,
)
from dataset_builders.splits import REASONING_GYM_TEST

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # the hash-seed notice
ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def samples() -> dict[str, list[dict]]:
    """Three entries of every Reasoning-Gym task, generated once."""
    return {t.name: list(t.generate(3, seed=11)) for t in rg_tasks.TASKS}


def test_selection_is_84_and_every_generator_is_triaged() -> None:
    from reasoning_gym.factory import DATASETS

    assert len(SELECTED) == 84 and len(rg_tasks.TASKS) == 84
    assert not set(SELECTED) & set(EXCLUDED)
    # a new Reasoning-Gym release with new generators should be looked at, not silently ignored
    assert set(SELECTED) | set(EXCLUDED) == set(DATASETS)
    assert all(description for description in SELECTED.values())
    assert set(ANSWER_GUARDS) <= set(SELECTED) and HASH_SEED_DEPENDENT <= set(SELECTED)


def test_test_split_is_23_of_the_84() -> None:
    names = {t.name for t in rg_tasks.TASKS}
    assert len(REASONING_GYM_TEST) == 23 and REASONING_GYM_TEST <= names
    assert sum(t.split == "test" for t in rg_tasks.TASKS) == 23


def test_entries_survive_json_and_score(samples: dict[str, list[dict]]) -> None:
    for name, entries in samples.items():
        task = rg_tasks.ReasoningGymTask(name.split("/", 1)[1])
        for entry in entries:
            assert set(entry["metadata"]) == {"complexity", "dataset", "index", "rg_entry"}
            again = json.loads(json.dumps(entry))
            assert task.score(f"<<<{again['answer']}>>>", again) == 1.0, (name, entry["answer"])


def test_entries_survive_a_datasets_column(samples: dict[str, list[dict]]) -> None:
    from datasets import Dataset

    rows = [entry for entries in samples.values() for entry in entries]
    table = Dataset.from_list(rows)
    tasks = {t.name: t for t in rg_tasks.TASKS}
    for row in table:
        assert tasks[row["task"]].score(f"<<<{row['answer']}>>>", row) == 1.0, row["task"]


def test_entry_i_depends_only_on_seed_and_i() -> None:
    task = ReasoningGymTask("acre")  # its items depend on the dataset size upstream
    long = list(task.generate(BLOCK + 2, seed=4))
    assert json.dumps(list(task.generate(3, seed=4))) == json.dumps(long[:3])
    assert long[BLOCK]["question"] != long[0]["question"]
    other = [e["question"] for e in task.generate(3, seed=5)]
    assert other != [e["question"] for e in long[:3]]


def test_list_functions_is_deterministic_despite_global_random() -> None:
    task = ReasoningGymTask("list_functions")
    assert json.dumps(list(task.generate(30, seed=2))) == json.dumps(list(task.generate(30, seed=2)))


def test_same_items_in_another_process() -> None:
    """Items are reproducible across processes, except for the documented hash-seed-dependent datasets."""
    script = (
        "import json, hashlib, warnings; warnings.simplefilter('ignore')\n"
        "from dataset_builders.reasoning_gym_tasks import TASKS\n"
        "print(json.dumps({t.dataset: hashlib.sha256(json.dumps(list(t.generate(4, seed=9))).encode()).hexdigest()"
        " for t in TASKS}))\n"
    )
    digests = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "HF_HUB_OFFLINE": "1"}
        out = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        digests.append(json.loads(out.stdout.strip().splitlines()[-1]))
    differing = {name for name in digests[0] if digests[0][name] != digests[1][name]}
    assert differing <= HASH_SEED_DEPENDENT


def test_config_is_passed_through() -> None:
    task = ReasoningGymTask("chain_sum", min_terms=2, max_terms=2, min_digits=1, max_digits=1)
    for entry in task.generate(5):
        rg = load_rg_entry(entry["metadata"]["rg_entry"])
        assert rg["metadata"]["num_terms"] == 2
    with pytest.raises(TypeError):
        ReasoningGymTask("chain_sum", no_such_option=1).generate(1)


def test_binary_verdict_unless_partial_credit() -> None:
    entry = next(ReasoningGymTask("sentence_reordering").generate(1))
    assert ReasoningGymTask("sentence_reordering").score("<<<wrong words here>>>", entry) == 0.0
    partial = ReasoningGymTask("sentence_reordering", partial_credit=True).score("<<<wrong words here>>>", entry)
    assert 0.0 < partial < 1.0


def test_game_of_life_halting_uses_a_real_comparison() -> None:
    task = ReasoningGymTask("game_of_life_halting")
    for entry in task.generate(6):
        other = "False" if entry["answer"] == "True" else "True"
        assert task.score(f"<<<{entry['answer'].lower()}>>>", entry) == 1.0
        assert task.score(f"<<<{other}>>>", entry) == 0.0
        assert task.score("<<<anything>>>", entry) == 0.0


def test_tagged_json_round_trip() -> None:
    value = {"grid": ((1, 2), (3, 4)), "seen": {"b", "a"}, "by_id": {0: "x", (1, 2): "y"}, "plain": [1, "s", None]}
    text = dump_rg_entry("ans", value)
    assert text == dump_rg_entry("ans", value)
    back = load_rg_entry(text)
    assert back == {"answer": "ans", "metadata": value}
    with pytest.raises(TypeError, match="no JSON form"):
        dump_rg_entry("ans", {"x": object()})


UNSAFE = [
    "__import__('pathlib').Path({marker!r}).touch()",
    "exec(chr(95)+chr(95))",
    "[__import__('pathlib').Path({marker!r}).touch()]",
    "9**9**9",
    "10**10**10",
    "1e999999",
    "((9**99)**99)**99",
    "x**(10**10)",
    "z**999999999",
    "R999999999",
    "nan",
    "nan+nanj",
    "[" * 10_000 + "]" * 10_000,
    "(" * 10_000 + ")" * 10_000,
]


@pytest.mark.parametrize("name", sorted(SELECTED))
def test_hostile_answers_score_zero_and_never_run(name: str, samples: dict, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    task = ReasoningGymTask(name)
    entry = samples[f"reasoning_gym/{name}"][0]
    for template in UNSAFE:
        answer = template.format(marker=str(marker)) if "{marker" in template else template
        assert task.score(f"<<<{answer}>>>", entry) == 0.0, answer[:40]
    assert not marker.exists(), "an answer was executed"


# -- reward-hacking regressions: answers Reasoning-Gym's own scorers gave full marks ------------


def test_coin_flip_needs_the_probability_not_a_prefix_of_its_digits() -> None:
    task = ReasoningGymTask("coin_flip")
    for entry in task.generate(20, seed=3):
        rational = load_rg_entry(entry["metadata"]["rg_entry"])["metadata"]["rational"]
        num, den = rational["numerator"], rational["denominator"]
        if num == den:
            continue
        # upstream: "0" is a prefix of "0.0286..." and scored 1 on every probability below 1
        for bad in ("0", "0.0", "0.", f"{num + 1}/{den}"):
            assert task.score(f"<<<{bad}>>>", entry) == 0.0, (entry["answer"], bad)
        for ok in (f"{num}/{den}", f"\\frac{{{num}}}{{{den}}}", f"{num / den:.8f}", repr(num / den)):
            assert task.score(f"<<<{ok}>>>", entry) == 1.0, (entry["answer"], ok)


def test_number_sorting_needs_the_given_numbers() -> None:
    task = ReasoningGymTask("number_sorting")
    for entry in task.generate(10, seed=3):
        values = json.loads(entry["answer"].replace("'", '"'))
        # upstream: each number could be off by 1, so close values could be blurred instead of ordered
        rounded = json.dumps([str(round(float(v))) for v in values])
        if rounded != json.dumps(values):
            assert task.score(f"<<<{rounded}>>>", entry) == 0.0, rounded
        assert task.score(f"<<<{json.dumps(values)}>>>", entry) == 1.0
        assert task.score(f"<<<{json.dumps(values[::-1])}>>>", entry) == 0.0


@pytest.mark.parametrize("name", ["spell_backward", "letter_jumble"])
def test_text_answers_need_the_whole_text(name: str) -> None:
    task = ReasoningGymTask(name)
    for entry in task.generate(10, seed=3):
        answer = entry["answer"]
        # upstream: the right text followed by anything scored 1 (word or letter prefix credit)
        for bad in (f"{answer} foo", f"{answer}\n{answer}", f"{answer} or {answer[::-1]}"):
            assert task.score(f"<<<{bad}>>>", entry) == 0.0, bad
        assert task.score(f"<<<{answer.upper()}>>>", entry) == 1.0


@pytest.mark.parametrize(
    ("name", "junk"),
    [
        ("fraction_simplification", "{a} or 1/2"),
        ("time_intervals", "{a} or 5 days"),
        ("polynomial_equations", "{a}, x"),
        ("advanced_geometry", "{a}, (1, 2)"),
        ("quantum_lock", "??? {a}"),
        ("game_of_life", "{a_open}, [0]]"),
        ("kakurasu", "{a} or ???"),
        ("survo", "??? = {a}"),
    ],
)
def test_scorers_that_read_the_first_value_refuse_extra_text(name: str, junk: str) -> None:
    task = ReasoningGymTask(name)
    for entry in task.generate(10, seed=3):
        answer = entry["answer"]
        bad = junk.format(a=answer, a_open=answer[:-1])
        assert task.score(f"<<<{answer}>>>", entry) == 1.0
        assert task.score(f"<<<{bad}>>>", entry) == 0.0, bad


def test_cryptarithm_refuses_a_letter_given_twice() -> None:
    task = ReasoningGymTask("cryptarithm")
    for entry in task.generate(5, seed=3):
        first = entry["answer"].split(",")[0]
        letter, digit = first.split("=")
        other = f"{letter}={(int(digit) + 1) % 10}"
        # upstream kept the last digit given for a letter, so a wrong assignment could precede the right one
        assert task.score(f"<<<{other},{entry['answer']}>>>", entry) == 0.0
        assert task.score(f"<<<{entry['answer'].replace(',', ', ')}>>>", entry) == 1.0
