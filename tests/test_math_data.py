"""The dataset-backed math tasks' answer rules: MATH (one value in simplest form) and GSM-hard (one number).

The rule itself lives in dataset_builders/symbench/_math_verify_worker.py; these tables are its
specification: every form in ACCEPTED scores 1, every answer in REFUSED scores 0.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from dataset_builders.symbench import math_data

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
]

#: (reference, answer) pairs that must score 0: false statements, second values, unevaluated
#: arithmetic, the question's expression, words, look-alike letters, near misses and bombs.
REFUSED = [
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
        verifier._stop()


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
