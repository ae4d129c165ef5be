"""SymBench string, grid, numeric and dataset-backed math tasks: generation, verdicts, published data."""

from __future__ import annotations

import itertools
import json
import math
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import pytest

from dataset_builders.symbench import arithmetic as numeric
from dataset_builders.symbench import math_data, strings
from dataset_builders.symbench import matrices as grids
from dataset_builders.task import PublishedDataError, Task, TaskDataUnavailable

EXTERNAL = Path(__file__).parents[1] / ".." / "shared" / "external"
SYMBENCH = EXTERNAL / "symbench"
needs_external = pytest.mark.skipif(
    not SYMBENCH.is_dir(), reason="shared/external/symbench (the paper's published data) is absent"
)

PROCEDURAL: list[Task] = [*strings.TASKS, *grids.TASKS, *numeric.TASKS]
BY_NAME = {t.name: t for t in PROCEDURAL}
EXPECTED_NAMES = {
    "symbench/matrix_transformation",
    "symbench/new_operator",
    "symbench/number_multiply",
    "symbench/pattern_recognition",
    "symbench/permutations_and_combinations",
    "symbench/pooling",
    "symbench/reversi",
    "symbench/statistical_counting",
    "symbench/string_deletion_and_modification",
    "symbench/string_insertion",
    "symbench/string_splitting",
    "symbench/string_synthesis",
    "symbench/synthesis_decomposition",
    "symbench/letters",
    "symbench/gsm_hard",
    "symbench/math_counting_and_probability",
    "symbench/math_geometry",
}


def wrap(answer: str) -> str:
    return f"Some reasoning first.\n<<<{answer}>>>"


@pytest.fixture(scope="module")
def local_math_tasks() -> list[Task]:
    """The dataset-backed tasks reading the local copies in shared/external."""
    if not SYMBENCH.is_dir():
        pytest.skip("shared/external/symbench (the paper's published data) is absent")
    return [
        math_data.GsmHard(path=SYMBENCH / "gsmhardv2.jsonl"),
        math_data.MathCountingAndProbability(path=SYMBENCH / "MATH"),
        math_data.MathGeometry(path=SYMBENCH / "MATH"),
    ]


def test_task_names_and_descriptions() -> None:
    tasks = PROCEDURAL + math_data.TASKS
    assert {t.name for t in tasks} == EXPECTED_NAMES
    assert len(tasks) == len(EXPECTED_NAMES)
    assert all(t.description and "\n" not in t.description for t in tasks)


# -- procedural tasks ---------------------------------------------------------------------------


@pytest.mark.parametrize("task", PROCEDURAL, ids=lambda t: t.short_name)
def test_references_score_one_and_corruptions_zero(task: Task) -> None:
    entries = list(task.generate(40, seed=0))
    keys = {tuple(sorted(e["metadata"])) for e in entries}
    assert len(keys) == 1, "every entry of a task carries the same metadata keys"
    for e in entries:
        json.dumps(e)  # entries go into HF datasets
        assert "<<<" in e["question"], "the question shows the answer format"
        assert task.score(wrap(e["answer"]), e) == 1.0, (e["id"], e["answer"])
        wrong = task.corruptions(e)
        assert wrong
        for w in wrong:
            assert task.score(wrap(w), e) == 0.0, (e["id"], w, e["answer"])
        assert task.score("no final answer here", e) == 0.0


@pytest.mark.parametrize("task", PROCEDURAL, ids=lambda t: t.short_name)
def test_generation_is_seeded(task: Task) -> None:
    first = list(task.generate(12, seed=7))
    assert first == list(task.generate(12, seed=7))
    assert first[:5] == list(task.generate(5, seed=7)), "entry i does not depend on n"
    assert [e["question"] for e in first] != [e["question"] for e in task.generate(12, seed=8)]
    assert len({e["question"] for e in first}) > 1


HOSTILE = [
    "__import__('os').system('echo pwned')",
    "[" * 3000 + "]" * 3000,
    "9" * 3999,
    "x" * 1_000_000,
    "1e999999",
    "9**9**9**9",
    "9^{9^{9^{9}}}",
    "10^{20}!",
    "\\binom{1000000}{500000}",
    "(x+1)^{99999}",
    "\x00",
    "",
]


def assert_rejected_quickly(task: Task, entry: dict) -> None:
    start = time.perf_counter()
    for answer in HOSTILE:
        assert task.score(wrap(answer), entry) == 0.0, answer[:40]
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("task", PROCEDURAL, ids=lambda t: t.short_name)
def test_hostile_answers_are_rejected_quickly(task: Task) -> None:
    assert_rejected_quickly(task, next(iter(task.generate(1, seed=0))))


def test_hostile_answers_to_dataset_tasks(local_math_tasks: list[Task]) -> None:
    for task in local_math_tasks:
        assert_rejected_quickly(task, next(iter(task.generate(1, seed=0))))


def test_generation_is_fast() -> None:
    start = time.perf_counter()
    for task in PROCEDURAL:
        for e in task.generate(200, seed=3):
            assert task.score(wrap(e["answer"]), e) == 1.0
    assert time.perf_counter() - start < 8.0  # about 0.5 s on a laptop core for all 14 tasks


def test_other_valid_answers_score_one() -> None:
    """Where more than one answer (or spelling of it) is right, each scores 1."""
    perm = BY_NAME["symbench/permutations_and_combinations"]
    found_other = 0
    for e in perm.generate(30, seed=1, complexity=1):  # 6 books: every arrangement can be enumerated
        items, ref = e["metadata"]["items"], e["metadata"]["solution"]
        for order in itertools.permutations(items):
            if list(order) == ref:
                continue
            pos = {b: i + 1 for i, b in enumerate(order)}
            if all(numeric.constraint_holds(c, pos) for c in e["metadata"]["constraints"]):
                assert perm.score(wrap(json.dumps(list(order))), e) == 1.0
                assert perm.score(wrap(", ".join(order)), e) == 1.0
                found_other += 1
                break
    assert found_other > 5, "several generated shelves admit another valid arrangement"

    spellings = {
        "symbench/string_deletion_and_modification": lambda a: a.strip('"'),
        "symbench/string_insertion": lambda a: f'"{a}"',
        "symbench/string_splitting": lambda a: a.replace('"', ""),
        "symbench/string_synthesis": lambda a: "[" + ", ".join(a.split()) + "]",
        "symbench/matrix_transformation": lambda a: str([a.split(",")]),
        "symbench/pattern_recognition": lambda a: a.strip("[]").replace(",", " "),
        "symbench/reversi": lambda a: a.replace(",", ""),
        "symbench/pooling": lambda a: ", ".join(f"{v}.0" if "." not in v else v for v in a.split(",")),
        "symbench/number_multiply": lambda a: f"{int(a):,}",
        "symbench/synthesis_decomposition": lambda a: a.replace(" ", ""),
        "symbench/letters": lambda a: f" {a} ",
    }
    for name, respell in spellings.items():
        task = BY_NAME[name]
        for e in task.generate(5, seed=2):
            assert task.score(wrap(respell(e["answer"])), e) == 1.0, (name, respell(e["answer"]))

    new_op = BY_NAME["symbench/new_operator"]
    checked = 0
    for e in new_op.generate(60, seed=4):
        exact = e["metadata"]["solution"]
        assert new_op.score(wrap(exact), e) == 1.0  # the exact fraction, e.g. 11/6
        if "/" in exact:
            value = float(eval_fraction(exact))
            assert new_op.score(wrap(f"{value:.2f}"), e) == 1.0
            if abs(round(value, 1) - value) > 1e-9:
                assert new_op.score(wrap(f"{value:.1f}"), e) == 0.0, "one decimal place is not enough"
            checked += 1
    assert checked > 3


def eval_fraction(text: str) -> float:
    num, den = text.split("/")
    return int(num) / int(den)


def test_simulators_follow_the_stated_rules() -> None:
    assert strings.apply_insertions("ABCDE") == "ABCDAEB"  # matches are found in the original string
    assert (
        strings.run_score(
            "AABBBAB",
            [{"letter": "A", "score": 1, "min_consecutive": 2}, {"letter": "B", "score": 2, "min_consecutive": 2}],
        )
        == 3
    )
    board = grids.play(grids.initial_board(4), 0, 1, "0")
    assert ["".join(r) for r in board] == ["*0**", "*00*", "*01*", "****"]
    assert grids.transform([["A", "B", "C"]], "rotate90") == [["A"], ["B"], ["C"]]
    assert grids.unique_square(["AAAB", "AAAC", "AAAD", "EFGH"]) == (2, 2, 3)
    assert grids.unique_square(["AAABBB", "AAABBB", "AAABBB"]) is None  # two squares: ambiguous


# -- published data -----------------------------------------------------------------------------


@needs_external
@pytest.mark.parametrize("task", [*PROCEDURAL, *math_data.TASKS], ids=lambda t: t.short_name)
def test_published_references_score_one(task: Task) -> None:
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


@needs_external
def test_published_instances_agree_with_the_simulators() -> None:
    """The rules as implemented reproduce the paper's stored solutions (not just their strings)."""

    def published(name: str) -> list[dict]:
        task = BY_NAME[name]
        return [e for f in task.published_folders for e in task.load_published(SYMBENCH / f)]

    for e in published("symbench/string_deletion_and_modification"):
        m = e["metadata"]
        assert strings.run_rewrites(m["initial_string"], m["rules"]) == m["states"]
    for e in published("symbench/string_insertion"):
        assert strings.apply_insertions(e["metadata"]["original_string"]) == e["metadata"]["modified_string"]
    for e in published("symbench/string_splitting"):
        assert strings.StringSplitting.solve(*e["metadata"]["initial"]) == e["metadata"]["final"]
    for e in published("symbench/string_synthesis"):
        assert strings.StringSynthesis.solve(*e["metadata"]["initial"]) == e["metadata"]["final"]
    for e in published("symbench/statistical_counting"):
        assert strings.run_score(e["metadata"]["sequence"], e["metadata"]["rules"]) == e["metadata"]["solution"]
    for e in published("symbench/synthesis_decomposition"):
        m = e["metadata"]
        assert numeric.SynthesisDecomposition.solve(m["resources"], m["initial"], m["methods"]) == m["final"]
    for e in published("symbench/pattern_recognition"):
        m = e["metadata"]
        assert grids.unique_square(m["grid"])[:2] == (m["row"], m["column"])
    for e in published("symbench/pooling"):
        m = e["metadata"]
        expected = [[str(v) for v in row] for row in grids.pool(m["matrix"], m["window_size"], m["pooling_type"])]
        assert expected == m["solution"]
    for e in published("symbench/matrix_transformation"):
        assert grids.transform(e["metadata"]["matrix"], "rotate90") == e["metadata"]["solution"]
    for e in published("symbench/reversi"):
        m = e["metadata"]
        ((r, c),) = m["moves"]
        board = grids.play(grids.initial_board(m["board_size"]), r - 1, c - 1, "0")
        assert ",".join(x for row in board for x in row) == m["solution"]
    for e in published("symbench/permutations_and_combinations"):
        pos = {b: i + 1 for i, b in enumerate(e["metadata"]["solution"])}
        assert all(numeric.constraint_holds(c, pos) for c in e["metadata"]["constraints"])


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


@needs_external
def test_bad_published_math_files_are_reported(tmp_path: Path) -> None:
    gsm = tmp_path / "gsmhardv2.jsonl"
    lines = (SYMBENCH / "gsmhardv2.jsonl").read_text().splitlines()[:2]
    gsm.write_text("\n".join([lines[0], "{broken", json.dumps({"input": "q"}), lines[1]]) + "\n")
    items = list(math_data.GsmHard().load_published(gsm))
    assert [isinstance(i, PublishedDataError) for i in items] == [False, True, True, False]
    assert "line 2" in str(items[1]) and "line 3" in str(items[2])

    geometry = tmp_path / "MATH" / "train" / "geometry"
    shutil.copytree(SYMBENCH / "MATH" / "train" / "geometry", geometry)
    (geometry / "999.json").write_text("{oops")
    (geometry / "1000.json").write_text(json.dumps({"problem": "p", "solution": "no box here"}))
    items = list(math_data.MathGeometry().load_published(tmp_path / "MATH"))
    errors = [i for i in items if isinstance(i, PublishedDataError)]
    assert len(items) == 22 and len(errors) == 2
    assert "999.json" in str(errors[0]) and "1000.json" in str(errors[1])
    with pytest.raises(PublishedDataError, match="counting_and_probability"):
        list(math_data.MathCountingAndProbability().load_published(tmp_path / "MATH"))
    with pytest.raises(PublishedDataError, match="gsmhardv2.jsonl"):
        list(math_data.GsmHard().load_published(tmp_path / "gsmhardv2.jsonl.missing"))


# -- dataset-backed tasks -----------------------------------------------------------------------


def test_dataset_tasks_explain_missing_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("R1CI_GSM_HARD_PATH", raising=False)
    monkeypatch.delenv("R1CI_MATH_PATH", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    for task, env in [
        (math_data.GsmHard(hub_id=""), "R1CI_GSM_HARD_PATH"),
        (math_data.MathGeometry(hub_id=""), "R1CI_MATH_PATH"),
        (math_data.GsmHard(path=tmp_path / "missing.jsonl"), "R1CI_GSM_HARD_PATH"),
        (math_data.MathCountingAndProbability(path=tmp_path), "R1CI_MATH_PATH"),
    ]:
        with pytest.raises(TaskDataUnavailable, match=env):
            next(iter(task.generate(1)))


def test_registered_dataset_tasks_fail_clearly_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default Hub ids cannot be reached here; the error says what to set instead."""
    monkeypatch.delenv("R1CI_GSM_HARD_PATH", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(TaskDataUnavailable, match="R1CI_GSM_HARD_PATH.*reasoning-machines/gsm-hard"):
        next(iter(math_data.GsmHard().generate(1)))


@needs_external
def test_dataset_env_vars_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("R1CI_GSM_HARD_PATH", str(SYMBENCH))  # a folder holding the .jsonl works too
    monkeypatch.setenv("R1CI_MATH_PATH", str(SYMBENCH))  # the parent of MATH/ works too
    assert len(list(math_data.GsmHard().generate(3))) == 3
    assert len(list(math_data.MathGeometry().generate(3))) == 3


def test_dataset_generation_is_seeded(local_math_tasks: list[Task]) -> None:
    for task in local_math_tasks:
        first = list(task.generate(50, seed=1))  # more than the 20-40 local items: reshuffled passes
        assert first == list(task.generate(50, seed=1))
        assert first[:7] == list(task.generate(7, seed=1))
        assert [e["question"] for e in first[:10]] != [e["question"] for e in task.generate(10, seed=2)]
        assert len({e["question"] for e in first[:20]}) == 20, "no repeats within one pass"
        assert len({tuple(sorted(e["metadata"])) for e in first}) == 1
        for e in first[:20]:
            json.dumps(e)
            assert "<<<" in e["question"]
            assert task.score(wrap(e["answer"]), e) == 1.0, (e["id"], e["answer"])
            for w in task.corruptions(e):
                assert task.score(wrap(w), e) == 0.0, (e["id"], w)


def test_math_level_knob(local_math_tasks: list[Task]) -> None:
    easy = math_data.MathGeometry(path=SYMBENCH / "MATH", levels=(1,))
    assert all(e["metadata"]["level"] == "Level 1" for e in easy.generate(5))


def test_dataset_answers_accept_equivalent_forms(local_math_tasks: list[Task]) -> None:
    gsm, counting, geometry = local_math_tasks
    entry = {"answer": "3431580", "metadata": {"target": "3431580.0", "source_index": 1}}
    for ok in ("3431580", "3,431,580", "$3431580", "3431580.0", "\\boxed{3431580}"):
        assert gsm.score(wrap(ok), entry) == 1.0, ok
    for bad in ("3431581", "3431580.5", "34315800"):
        assert gsm.score(wrap(bad), entry) == 0.0, bad
    fractional = {"answer": "14053029.666667", "metadata": {"target": "14053029.666666666", "source_index": 12}}
    for ok in ("14053029.67", "14053029.6667", "42159089/3", "\\frac{42159089}{3}"):
        assert gsm.score(wrap(ok), fractional) == 1.0, ok
    for bad in ("14053030", "14053029.7", "14053029"):
        assert gsm.score(wrap(bad), fractional) == 0.0, bad

    half = {"answer": "\\frac{1}{2}", "metadata": {"solution": "\\frac{1}{2}", "level": "", "source_index": ""}}
    for ok in ("\\frac{1}{2}", "1/2", "0.5", "\\dfrac{1}{2}", "$\\frac12$"):
        assert geometry.score(wrap(ok), half) == 1.0, ok
    million = {
        "answer": "1,\\!000,\\!000",
        "metadata": {"solution": "1,\\!000,\\!000", "level": "", "source_index": ""},
    }
    assert counting.score(wrap("1000000"), million) == 1.0
    assert counting.score(wrap("1,\\!000,\\!000"), million) == 1.0
    assert counting.score(wrap("100000"), million) == 0.0


def test_math_verify_works_outside_the_main_thread(local_math_tasks: list[Task]) -> None:
    """math-verify's timeouts need signals (main thread only); other threads use the worker process."""
    _, counting, geometry = local_math_tasks
    entries = [(t, e) for t in (counting, geometry) for e in t.generate(5, seed=0)]

    def verdicts() -> list[tuple[float, float]]:
        assert threading.current_thread() is not threading.main_thread()
        return [(t.score(wrap(e["answer"]), e), t.score(wrap("-12345"), e)) for t, e in entries]

    with ThreadPoolExecutor(2) as pool:
        results = [f.result() for f in [pool.submit(verdicts), pool.submit(verdicts)]]
    assert all(r == [(1.0, 0.0)] * len(entries) for r in results)


def test_isolated_verifier_kills_overrunning_calls() -> None:
    verifier = math_data._IsolatedVerifier(deadline_s=0.5)
    try:
        assert verifier("\\frac{1}{2}", "0.5") is True
        start = time.perf_counter()
        assert verifier("1", "\\sin(\\sin(\\sin(\\sin(\\sin(\\sin(\\sin(\\sin(\\sin(\\sin(1))))))))))") is False
        assert time.perf_counter() - start < 3.0
        assert verifier("3", "3") is True  # a fresh worker took over
    finally:
        verifier._stop()


def test_dataset_tasks_load_nothing_until_generate() -> None:
    # the registry builds every task at import; data is only looked for on generate()
    assert all(t._rows == {} for t in (math_data.GsmHard(), math_data.MathGeometry()))


# -- reward-hacking regressions -----------------------------------------------------------------


def test_rounded_decimals_must_round_or_truncate_the_target() -> None:
    from dataset_builders.symbench.number_answers import numbers_match, read_number

    def matches(text: str, target: str) -> bool:
        return numbers_match(*read_number(text), Fraction(target))

    # rounded (either way at a tie) or truncated to the written places
    for ok, target in [("1.14", "8/7"), ("1.143", "8/7"), ("-1.14", "-8/7"), ("0.13", "1/8"), ("0.12", "1/8")]:
        assert matches(ok, target), (ok, target)
    # one unit off in the last place is a wrong number, not a rounding: 8/7 = 1.1428...
    for bad, target in [("1.15", "8/7"), ("-1.15", "-8/7"), ("12.51", "25/2"), ("12.49", "25/2")]:
        assert not matches(bad, target), (bad, target)
    # float noise is relative 1e-12, not 1e-9 (which passed 9099577.9216669 for 9099577.916666...)
    assert matches("9099577.9166666667", "9099577.916666666")
    assert not matches("9099577.9216669", "9099577.916666666")
    # scientific notation counts the places of the value
    assert matches("3.051757812e-05", "1/32768") and not matches("3.2e-05", "1/32768")

    new_op = BY_NAME["symbench/new_operator"]
    checked = 0
    for e in new_op.generate(60, seed=4):
        value = Fraction(e["metadata"]["solution"])
        if value.denominator == 1 or (value * 100).denominator == 1:
            continue
        above = format(math.ceil(value * 100) / 100 + 0.01, ".2f")
        assert new_op.score(wrap(above), e) == 0.0, (value, above)
        checked += 1
    assert checked > 3


def test_numbers_in_latex_and_sentence_punctuation_are_read() -> None:
    new_op = BY_NAME["symbench/new_operator"]
    for e in new_op.generate(40, seed=5):
        value = Fraction(e["metadata"]["solution"])
        latex = f"\\frac{{{value.numerator}}}{{{value.denominator}}}"
        for ok in (latex, f"{e['answer']}.", f"**{e['answer']}**", f"`{e['answer']}`"):
            assert new_op.score(wrap(ok), e) == 1.0, ok
    for name in ("symbench/statistical_counting",):  # letters answers "Count: X, Positions: [...]"
        task = BY_NAME[name]
        for e in task.generate(5, seed=1):
            n = int(e["answer"])
            for ok in (f"{n}.", f"\\boxed{{{n}}}", f"**{n}**", f"{n}.0", f"[{n}]"):
                assert task.score(wrap(ok), e) == 1.0, (name, ok)
            for bad in (f"{n} or {n + 1}", f"{n + 1} or {n}", f"{n}.5", f"{n}, {n}", f"{n - 1}+1"):
                assert task.score(wrap(bad), e) == 0.0, (name, bad)


def test_gsm_hard_needs_one_number_not_an_expression(local_math_tasks: list[Task]) -> None:
    gsm = local_math_tasks[0]
    entry = {"answer": "21459061", "metadata": {"target": "21459061.0", "source_index": 1}}
    for ok in ("x = 21459061", "21459061 dollars", "21459061 \\text{ apples}", "The answer is 21459061", "$21459061$"):
        assert gsm.score(wrap(ok), entry) == 1.0, ok
    # math-verify evaluated these: arithmetic left to the verifier, or a wrong number before the right one
    for bad in ("21459060+1", "21459062 = 21459061", "21459062\n21459061", "\\frac{1}{7} | 21459061", "3*7153020+1"):
        assert gsm.score(wrap(bad), entry) == 0.0, bad
    zero = {"answer": "0", "metadata": {"target": "0.0", "source_index": 2}}
    assert gsm.score(wrap("0"), zero) == 1.0
    for bad in ("0x0", "0 \\cdot 17", "5-5"):
        assert gsm.score(wrap(bad), zero) == 0.0, bad
