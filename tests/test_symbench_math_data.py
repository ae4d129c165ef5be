"""The dataset-backed math tasks' answer rules: MATH (one value in simplest form) and GSM-hard (one number).

The rule itself lives in dataset_builders/symbench/_math_verify_worker.py; these tables are its
specification: every form in ACCEPTED scores 1, every answer in REFUSED scores 0.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dataset_builders.symbench import math_data
from dataset_builders.task import PublishedDataError, Task, TaskDataUnavailable
from tests.symbench_helpers import SYMBENCH, assert_rejected_quickly, needs_external, wrap

#: (reference, answer) pairs that are the same value in simplest form: the lenient but correct forms.
ACCEPTED = [
    ("280", "280"),
    ("280", "２８０"),  # full-width digits
    ("280", "\\boxed{280}"),
    ("280", "$280$"),
    ("280", "280."),
    ("-9", "−9"),  # the Unicode minus
    ("\\frac{3}{4}", "0.75"),  # an exact decimal
    ("\\frac{3}{4}", "3/4"),
    ("\\frac{3}{4}", "\\dfrac{3}{4}"),
    ("\\frac{3}{4}", "$\\frac34$"),
    ("-\\frac{3}{4}", "\\frac{-3}{4}"),
    ("-\\frac{3}{4}", "-0.75"),
    ("\\dfrac{13}{25}", "0.52"),
    ("10\\sqrt{3}", "10 \\sqrt 3"),
    ("10\\sqrt{3}", "10√3"),
    ("2\\sqrt{3}", "2\\cdot\\sqrt{3}"),
    ("\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}"),
    ("\\frac{\\sqrt{3}}{2}", "\\sqrt{3}/2"),
    ("\\frac{640}{3}\\pi", "\\frac{640\\pi}{3}"),
    ("\\frac{640}{3}\\pi", "\\frac{640}{3}π"),
    ("\\pi", "π"),
    ("16+8\\pi", "8\\pi+16"),
    ("4-\\pi", "-\\pi+4"),
    ("60^\\circ", "60"),
    ("60^\\circ", "60°"),
    ("(18, -18)", "(18,-18)"),
    ("1,\\!000,\\!000", "1000000"),
    ("53130", "53,130"),
    ("53130", "53{,}130"),
    ("\\text{(C)}", "C"),
    ("20\\text{ inches}", "20"),  # a trailing unit, on either side
    ("20", "20 square units"),
    ("12", "12\\text{ cm}^2"),
    ("90^\\circ", "90 degrees"),
    ("\\frac{5}{2}", "2\\frac{1}{2}"),  # a mixed number
    ("\\$2.50", "\\$2.50"),  # a reference sympy cannot read scores its own spelling
    ("\\{1,2\\}", "\\{2,1\\}"),
    ("\\binom{8}{3}", "56"),  # a reference left unevaluated: its value ...
    ("\\binom{8}{3}", "\\binom{8}{3}"),  # ... and its own form
    ("10\\%", "10\\%"),  # a percent, when the reference is one
    ("\\frac{1}{2}", "\\frac 1 2"),
    ("-\\frac{1}{2}", "-\\frac{1}{2}"),
    ("2^{-10}", "2^{-10}"),  # the reference's own power
]

#: (reference, answer) pairs that must score 0: false statements, second values, unevaluated
#: arithmetic, the question's expression, words, look-alike letters, near misses and bombs.
REFUSED = [
    # a percent sign only where the reference has one: math-verify drops it, and 280\% claims 2.8
    ("280", "280\\%"),
    ("280", "280%"),
    ("\\frac{1}{2}", "50\\%"),
    # not simplest forms that evaluate silently: signs in a row, digits split by a space, a power -1
    ("280", "-(-280)"),
    ("280", "--280"),
    ("-280", "+-280"),
    ("280", "2 80"),
    ("1000", "1 000"),
    ("\\frac{1}{2}", "2^{-1}"),
    ("\\frac{1}{2}", "2^-1"),
    ("280", "281 = 280"),
    ("280", "x = 280"),
    ("280", "-17 \\lor 280"),
    ("280", "280 \\approx 281"),
    ("280", "280 \\pm 1"),
    ("280", "281\n280"),
    ("280", "280, 281"),
    ("280", "\\{280, 281\\}"),
    ("280", "280 or 281"),
    ("280", "280\\quad 281"),
    ("280", "280 \\text{ is wrong}"),
    ("20", "20 wrong units"),  # only a unit from the list is dropped
    ("280", "\\text{280}"),
    ("90", "89+1"),
    ("90", "9!/4032"),
    ("90", "2\\cdot 45"),
    ("90", "90+0"),
    ("1024", "2^{10}"),
    ("53130", "\\binom{25}{5}"),
    ("\\frac{3}{4}", "\\frac{6}{8}"),
    ("\\frac{3}{4}", "\\frac{3}{4}+0"),
    ("280", "\\frac{560}{2}"),
    ("280", "\\frac{280}{1}"),
    ("10\\sqrt{3}", "\\sqrt{300}"),
    ("\\frac{640}{3}\\pi", "\\frac{1280\\pi}{6}"),
    ("\\pi", "\\frac{4\\pi}{4}"),
    ("280", "28О"),  # Cyrillic O
    ("\\pi", "\\pі"),  # Cyrillic i: only the unparsed part differed
    ("280", "2\u200b80"),
    ("22", "2²"),  # a superscript is an exponent (NFKC would have read "22")
    ("280", "²80"),
    ("\\frac{1}{3}", "0.333333"),
    ("\\frac{1}{3}", "0.33"),
    ("\\pi", "3.14159"),
    ("280", "281"),
    ("280", "2800"),
    ("(18, -18)", "(18, -18), (1, 2)"),
    ("(18, -18)", "18"),
    ("\\text{(C)}", "(D)"),
]


@pytest.fixture(scope="module")
def geometry() -> math_data.MathGeometry:
    return math_data.MathGeometry(path="unused")


def _entry(gold: str) -> dict:
    return {"task": "symbench/math_geometry", "id": "x", "question": "", "answer": gold, "metadata": {"solution": gold}}


@pytest.mark.parametrize(("gold", "answer"), ACCEPTED)
def test_equivalent_simplest_forms_score_one(geometry: math_data.MathGeometry, gold: str, answer: str) -> None:
    assert geometry.score(f"<<<{answer}>>>", _entry(gold)) == 1.0


@pytest.mark.parametrize(("gold", "answer"), REFUSED)
def test_false_unsimplified_or_disguised_answers_score_zero(
    geometry: math_data.MathGeometry, gold: str, answer: str
) -> None:
    assert geometry.score(f"<<<{answer}>>>", _entry(gold)) == 0.0


@pytest.mark.parametrize(
    "bomb", ["1E+999999", "10^{999999}", "9^{9^{9}}", "(10^{100})!", "\\sqrt{" * 30 + "2" + "}" * 30]
)
def test_bombs_return_within_the_bound_in_any_thread(geometry: math_data.MathGeometry, bomb: str) -> None:
    entry = _entry("280")
    start = time.perf_counter()
    assert geometry.score(f"<<<{bomb}>>>", entry) == 0.0
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(geometry.score, f"<<<{bomb}>>>", entry).result() == 0.0
    assert time.perf_counter() - start < 10.0  # a few seconds at most, worker restart included


def test_an_overrunning_comparison_is_killed_not_waited_for() -> None:
    verifier = math_data._IsolatedVerifier(deadline_s=1.0)
    try:
        assert verifier("\\frac{1}{2}", "0.5") is True
        start = time.perf_counter()
        # a reference written that way lets the answer pass the text rule; parsing it builds 10**999999 in C
        assert verifier("1E+999999", "1E+999999+0") is False
        assert time.perf_counter() - start < 3.0
        assert verifier("3", "3") is True  # a fresh worker took over if the old one was killed
    finally:
        verifier.close()


def test_math_scoring_does_not_depend_on_the_thread(geometry: math_data.MathGeometry) -> None:
    pairs = ACCEPTED[:6] + REFUSED[:6]

    def verdicts() -> list[float]:
        assert threading.current_thread() is not threading.main_thread()
        return [geometry.score(f"<<<{a}>>>", _entry(g)) for g, a in pairs]

    with ThreadPoolExecutor(2) as pool:
        results = [f.result() for f in [pool.submit(verdicts), pool.submit(verdicts)]]
    assert results[0] == results[1] == [geometry.score(f"<<<{a}>>>", _entry(g)) for g, a in pairs]


# -- GSM-hard -----------------------------------------------------------------------------------

GSM_QUESTION = "Janet's ducks lay 16 eggs per day. How much in dollars does she make every day?"


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        ("322886700", 1.0),
        ("322886700 dollars", 1.0),
        ("$322,886,700", 1.0),
        ("322886700 eggs", 1.0),  # a noun of the question
        ("The answer is 322886700", 1.0),
        ("x = 322886700", 1.0),
        ("322886700 \\text{ dollars}", 1.0),
        ("322886700 is wrong", 0.0),  # any three trailing words used to be dropped
        ("322886700 is not right", 0.0),
        ("322886700 or 5", 0.0),
        ("not 322886700", 0.0),
        ("Wrong: 322886700", 0.0),
        ("322886700 \\text{ is wrong}", 0.0),
        ("322886700 approximately", 0.0),
        ("322886701", 0.0),
        ("322886699+1", 0.0),
    ],
)
def test_gsm_hard_strips_only_neutral_words(answer: str, score: float) -> None:
    task = math_data.GsmHard(path="unused")
    entry = {
        "task": "symbench/gsm_hard",
        "id": "x",
        "question": GSM_QUESTION,
        "answer": "322886700",
        "metadata": {"target": "322886700.0", "source_index": 0},
    }
    assert task.score(f"<<<{answer}>>>", entry) == score


# -- the dataset-backed tasks -----------------------------------------------------------------------


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


def test_hostile_answers_to_dataset_tasks(local_math_tasks: list[Task]) -> None:
    for task in local_math_tasks:
        assert_rejected_quickly(task, next(iter(task.generate(1, seed=0))))


# -- published data ---------------------------------------------------------------------------------


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


# -- where the data comes from ----------------------------------------------------------------------


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


def test_dataset_tasks_load_nothing_until_generate() -> None:
    # the registry builds every task at import; data is only looked for on generate()
    assert all(t._rows == {} for t in (math_data.GsmHard(), math_data.MathGeometry()))


# -- verdicts ---------------------------------------------------------------------------------------


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
        verifier.close()


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


#: Answers that pass the length and power bounds but keep sympy busy for seconds (3.7-6.4 s
#: measured): the pool's deadline, not a refusal, must end them.
SLOW_ANSWERS = [
    "(\\sqrt{2}+\\sqrt{3}+\\sqrt{5}+\\sqrt{7})^{6}(\\sqrt{11}+\\sqrt{13}+\\sqrt{17}+\\sqrt{19})^{6}"
    "(\\sqrt{23}+\\sqrt{29}+\\sqrt{31})^{6}",
    "(\\sqrt{2}+\\sqrt{3}+\\sqrt{5}+\\sqrt{7}+\\sqrt{11}+\\sqrt{13}+\\sqrt{17}+\\sqrt{19}+\\sqrt{23})^{6}",
    "(\\sqrt{2}+\\sqrt{3}+\\sqrt{5}+\\sqrt{7})^{100}",  # refused by the power bound (was 1.5 s and a kill)
    "(\\sqrt{2}+\\sqrt{3}+\\sqrt{5}+\\sqrt{7})^{12}",
]


def test_slow_answers_in_four_threads_each_return_within_the_bound(geometry: math_data.MathGeometry) -> None:
    """The red team's P1: one locked worker made the 4th thread wait ~10 s; a right answer after a
    kill waited for a restart. Now each of 4 threads returns within 3 s, and a right answer right after is fast."""
    entry = _entry("280")
    with ThreadPoolExecutor(4) as pool:  # start the pool's workers first: a cold start is not what is measured
        assert list(pool.map(lambda _: geometry.score("<<<280>>>", entry), range(4))) == [1.0] * 4

    def timed(answer: str) -> tuple[float, float]:
        start = time.perf_counter()
        return geometry.score(f"<<<{answer}>>>", entry), time.perf_counter() - start

    for _ in range(2):
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(timed, SLOW_ANSWERS))
        assert [score for score, _ in results] == [0.0] * 4
        assert max(elapsed for _, elapsed in results) < 3.0, results
    score, elapsed = timed("280")
    assert score == 1.0 and elapsed < 3.0


def test_powers_of_bracketed_expressions_are_bounded() -> None:
    for refused in ("(\\sqrt{2}+\\sqrt{3})^{7}", "\\sqrt{2}^{7}", "(1+x)^{7}", "x^{21}", "\\pi^{21}"):
        with pytest.raises(math_data.AnswerParseError):
            math_data._guard(refused)
    for allowed in ("2^{10000}", "(2)^{999}", "(1+\\sqrt{2})^{6}", "\\pi^{20}"):
        math_data._guard(allowed)


def test_gsm_hard_percent_only_when_the_question_asks_for_one(local_math_tasks: list[Task]) -> None:
    gsm = local_math_tasks[0]
    plain = {"answer": "800", "question": "How many eggs?", "metadata": {"target": "800.0", "source_index": 1}}
    asked = {**plain, "question": "What percentage of the eggs hatched?"}
    for claim in ("800%", "800 %", "800\\%", "800 percent"):
        assert gsm.score(wrap(claim), plain) == 0.0, claim  # "800%" claims 8
        assert gsm.score(wrap(claim), asked) == 1.0, claim
    assert gsm.score(wrap("800"), plain) == 1.0
