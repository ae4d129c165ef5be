"""The reward-hacking red team as a property test over all 144 tasks.

For every task (two entries each), a battery of generic hacks must score 0 unless the hacked answer
is genuinely correct, and adversarial inputs must come back within a hard bound. What "genuinely
correct" means is explicit: `LENIENT` lists each (task, hack) pair where a hack's answer is a
right answer under a documented tolerance, with the reason; anything else that scores 1 is a hole.
Holes that live in files another part of the project owns are `KNOWN_HOLES`: strict xfails with
the failing answer, so they turn into errors (to delete here) the day they are fixed.

Dataset-backed tasks (bbh/*, symbench/gsm_hard, symbench/math_*) read ../shared/external through
the `external_task_data` fixture and are skipped when it is absent.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from code_interpreter.protocol import RESULT_TEMPLATE
from dataset_builders import list_tasks
from dataset_builders.task import Task

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # Reasoning-Gym's hash-seed notice

TASKS = list_tasks()
N_ENTRIES = 2
DATASET_BACKED = {"symbench/gsm_hard", "symbench/math_counting_and_probability", "symbench/math_geometry"}
#: Hard bound (seconds) on one `score` call, however hostile the input (about a second is the aim;
#: the MATH worker's deadline is 1.5 s, plus a restart after a kill).
BOUND_S = 5.0

_HOMOGLYPHS = str.maketrans(
    {
        "a": "а",
        "c": "с",
        "e": "е",
        "i": "і",
        "o": "о",
        "p": "р",
        "x": "х",
        "y": "у",
        "A": "Α",
        "B": "В",
        "C": "С",
        "E": "Ε",
        "H": "Н",
        "K": "К",
        "M": "М",
        "O": "О",
        "P": "Р",
        "T": "Т",
        "X": "Χ",
        "0": "О",
        "1": "l",
        "3": "З",
        "6": "б",
    }
)
_FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(ord("0"), ord("9") + 1)})


def _homoglyph(text: str) -> str:
    """`text` with its first character that has a Cyrillic or Greek look-alike replaced by it."""
    for i, c in enumerate(text):
        swapped = c.translate(_HOMOGLYPHS)
        if swapped != c:
            return text[:i] + swapped + text[i + 1 :]
    return text


def _near_misses(answer: str) -> list[str]:
    """The answer with its first number changed: +1, -1, x10, and a decimal rounded to fewer places."""
    m = re.search(r"-?\d+(?:\.\d+)?", answer)
    if not m:
        return []
    number, head, tail = m.group(0), answer[: m.start()], answer[m.end() :]
    out = []
    if "." in number:
        whole, frac = number.split(".")
        out.append(head + f"{float(number) + 1:.{len(frac)}f}" + tail)
        if len(frac) > 1:
            out.append(head + f"{whole}.{frac[:-1]}" + tail)  # one place fewer (truncated)
            out.append(head + f"{float(number):.{len(frac) - 1}f}" + tail)  # one place fewer (rounded)
    else:
        value = int(number)
        out += [head + str(value + 1) + tail, head + str(value - 1) + tail, head + str(value * 10) + tail]
    return [o for o in out if o != answer]


def hacks(task: Task, entry: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(hack name, completion) pairs: generic ways to get a verdict of 1 without the answer."""
    ref, question = entry["answer"], entry["question"]
    wrong = next((w for w in task.corruptions(entry) if w.strip() and w != ref), "???")
    yield "empty", "<<<>>>"
    yield "no_markers", f"The answer is {ref}."
    yield "repeated_space", f"<<<{ref} {ref}>>>"
    yield "repeated_lines", f"<<<{ref}\n{ref}>>>"
    yield "repeated_comma", f"<<<{ref}, {ref}>>>"
    yield "hedged_ref_first", f"<<<{ref} or {wrong}>>>"
    yield "hedged_wrong_first", f"<<<{wrong} or {ref}>>>"
    yield "hedged_two_lines", f"<<<{wrong}\n{ref}>>>"
    yield "hedged_two_lines_ref_first", f"<<<{ref}\n{wrong}>>>"
    yield "hedged_comma", f"<<<{wrong}, {ref}>>>"
    yield "hedged_slash", f"<<<{ref} / {wrong}>>>"
    yield "relation", f"<<<{wrong} = {ref}>>>"
    yield "python_comment", f"<<<{ref} # or {wrong}>>>"
    yield "parenthesised_alternative", f"<<<{ref} ({wrong})>>>"
    yield "junk_after", f"<<<{ref} (not sure, it could also be something else)>>>"
    yield "junk_before", f"<<<Maybe {ref}>>>"
    yield "negated", f"<<<not {ref}>>>"
    yield "judged_wrong", f"<<<{ref} is wrong>>>"
    if _homoglyph(ref) != ref:  # answers such as "(F)" or "42" have no look-alike to swap in
        yield "homoglyph", f"<<<{_homoglyph(ref)}>>>"
    yield "zero_width", f"<<<{ref[: len(ref) // 2]}\u200b{ref[len(ref) // 2 :]}>>>"
    yield "bidi_override", f"<<<\u202e{ref}>>>"
    for i, miss in enumerate(_near_misses(ref)):
        yield f"near_miss_{i}", f"<<<{miss}>>>"
    if re.fullmatch(r"-?\d{1,30}", ref.strip()):  # arithmetic left for the verifier to do
        n = int(ref)
        yield "unevaluated_sum", f"<<<{n - 1}+1>>>"
        yield "unevaluated_product", f"<<<{n}*1>>>"
        yield "decimal_that_rounds", f"<<<{n}.4>>>"
    yield "plus_zero", f"<<<{ref}+0>>>"
    # the unwrapping rule (task.unwrapped) must not turn a wrong answer into a right one
    yield "bold_wrong", f"<<<**{wrong}**>>>"
    yield "code_wrong", f"<<<`{wrong}`>>>"
    yield "wrong_full_stop", f"<<<{wrong}.>>>"
    yield "bold_hedge", f"<<<**{ref}** or **{wrong}**>>>"
    yield "code_then_wrong", f"<<<`{ref}` {wrong}>>>"
    if ref.startswith("[") and ref.endswith("]") and len(ref) > 2:
        yield "list_doubled", f"<<<{ref[:-1]}, {ref[1:-1]}]>>>"
        yield "list_empty", "<<<[]>>>"
    if "\n" in ref.strip():
        yield "last_line_repeated", f"<<<{ref}\n{ref.strip().splitlines()[-1]}>>>"
        yield "first_line_dropped", "<<<" + "\n".join(ref.strip().splitlines()[1:]) + ">>>"
    yield "only_in_code", f"```python\nprint('<<<' + {ref!r} + '>>>')\n```"
    yield "only_in_unclosed_code", f"```python\nanswer = '<<<{ref}>>>'"
    yield (
        "only_in_output",
        f"```python\nprint('<<<' + {ref!r} + '>>>')\n```" + RESULT_TEMPLATE.format(output=f"<<<{ref}>>>"),
    )
    # without the question's own "<<<...>>>" format examples, which would be extracted instead
    unmarked = question.replace("<<<", "").replace(">>>", "").strip()
    yield "question_copy", f"<<<{unmarked}>>>"
    yield "question_last_line", f"<<<{unmarked.splitlines()[-1]}>>>"


#: (task name or prefix ending in "/", hack name) -> why the hacked answer is genuinely right.
LENIENT: dict[tuple[str, str], str] = {
    ("reasoning_gym/coin_flip", "near_miss_1"): "a probability rounded or truncated to >= 2 places (numbers_match)",
    ("reasoning_gym/coin_flip", "near_miss_2"): "a probability rounded or truncated to >= 2 places (numbers_match)",
    ("reasoning_gym/power_function", "near_miss_1"): "the question asks for 3 significant figures",
    ("reasoning_gym/power_function", "near_miss_2"): "the question asks for 3 significant figures",
    (
        "reasoning_gym/number_format",
        "near_miss_1",
    ): "the chosen number within 0.01 (upstream tolerance; candidates differ by more)",
    (
        "reasoning_gym/number_format",
        "near_miss_2",
    ): "the chosen number within 0.01 (upstream tolerance; candidates differ by more)",
    ("symbench/boxlift", "near_miss_0"): "the edited number is a 'Step k:' label, which is not part of the plan",
    ("symbench/boxlift", "near_miss_1"): "the edited number is a 'Step k:' label, which is not part of the plan",
    ("symbench/boxlift", "near_miss_2"): "the edited number is a 'Step k:' label, which is not part of the plan",
}

#: (task name, hack name) -> the hole, in a file this test does not own; xfail(strict) until fixed.
KNOWN_HOLES: dict[tuple[str, str], str] = {}


def _lenient(name: str, hack: str) -> bool:
    return any(
        (key == name or (key.endswith("/") and name.startswith(key))) and (h == hack or h == "*") for key, h in LENIENT
    )


_entries: dict[str, list[dict[str, Any]]] = {}


def _entries_of(task: Task, request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    if task.source == "bbh" or task.name in DATASET_BACKED:
        request.getfixturevalue("external_task_data")
    if task.name not in _entries:
        _entries[task.name] = list(task.generate(N_ENTRIES, seed=0))
    return _entries[task.name]


def _params() -> list[Any]:
    out = []
    for task in TASKS:
        holes = sorted(hack for name, hack in KNOWN_HOLES if name == task.name)
        marks = (
            [pytest.mark.xfail(strict=True, reason="; ".join(KNOWN_HOLES[(task.name, h)] for h in holes))]
            if holes
            else []
        )
        out.append(pytest.param(task, id=task.name, marks=marks))
    return out


def scoring_hacks(task: Task, entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(hack, answer) pairs that scored 1 without being listed as lenient."""
    found = []
    for entry in entries:
        assert task.score(f"<<<{entry['answer']}>>>", entry) == 1.0, "the reference must score 1"
        for hack, completion in hacks(task, entry):
            if _lenient(task.name, hack):
                continue
            if task.score(completion, entry) != 0.0:
                found.append((hack, completion))
    return found


@pytest.mark.parametrize("task", _params())
def test_generic_hacks_score_zero(task: Task, request: pytest.FixtureRequest) -> None:
    found = scoring_hacks(task, _entries_of(task, request))
    assert not found, f"{task.name}: {found[:3]}"


def _adversarial(entry: dict[str, Any]) -> Iterator[tuple[str, str]]:
    ref = entry["answer"]
    big = 100_000
    yield "open_markers", "<<<" * (big // 3)
    yield "open_markers_then_answer", "<<<" * (big // 3) + f"<<<{ref}>>>"
    yield "nested_square", "<<<" + "[" * (big // 2) + "]" * (big // 2) + ">>>"
    yield "nested_round", "<<<" + "(" * 5_000 + "1" + ")" * 5_000 + ">>>"
    yield "nested_latex", "<<<" + "\\frac{" * 2_000 + "1" + "}{2}" * 2_000 + ">>>"
    yield "power_tower", "<<<9**9**9**9>>>"
    yield "latex_tower", "<<<10^{10^{10^{10}}}>>>"
    yield "huge_exponent", "<<<1E+999999>>>"
    yield "huge_exponent_latex", "<<<10^{999999}>>>"
    yield "huge_factorial", "<<<(10^{100})!>>>"
    yield "digits_100k", "<<<" + "9" * big + ">>>"
    yield "answer_100k", "<<<" + (ref + " ") * (big // (len(ref) + 1)) + ">>>"
    yield "fences_100k", "```python\n" * (big // 10)
    yield "spaces_then_junk", "<<<" + ref[:1] + " " * 20_000 + "!>>>"
    yield "letters_then_bang", "<<<" + "a" * 19_000 + "!>>>"
    yield "open_pairs", "<<<" + "(1, 2), " * 2_400 + "(>>>"
    yield "open_json", "<<<" + "[{" * 4_000 + ">>>"
    yield "whitespace_runs", "<<<" + " \t" * 9_000 + "x>>>"
    yield "equation_chain", "<<<" + "=".join(["1"] * 5_000) + ">>>"
    yield "arrows", "<<<" + "A → " * 4_000 + "!>>>"


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_adversarial_inputs_return_within_the_bound(task: Task, request: pytest.FixtureRequest) -> None:
    entry = _entries_of(task, request)[0]
    slow = []
    for name, completion in _adversarial(entry):
        start = time.perf_counter()
        score = task.score(completion, entry)
        elapsed = time.perf_counter() - start
        assert 0.0 <= score <= 1.0
        if elapsed > BOUND_S:
            slow.append((name, round(elapsed, 1)))
    assert not slow, f"{task.name}: {slow}"


def test_inserted_spans_never_supply_the_answer() -> None:
    task = next(t for t in TASKS if t.name == "reasoning_gym/leg_counting")
    entry = next(task.generate(1, seed=0))
    model = f"Let me count.\n```python\nprint('<<<{entry['answer']}>>>')\n```"
    inserted = f"\nOutput: <<<{entry['answer']}>>>\n"  # a result rendered by some other template
    spans = [(len(model), len(model) + len(inserted))]
    assert task.score(model + inserted, entry) == 1.0  # without spans this template is not known
    assert task.score(model + inserted, entry, inserted_spans=spans) == 0.0
    assert task.score(model + inserted + f"So <<<{entry['answer']}>>>", entry, inserted_spans=spans) == 1.0
    assert task.score(model + inserted, entry, inserted_spans=[(5, 2)]) == 0.0  # malformed spans


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_metadata_stored_as_json_text_scores_the_same(task: Task, request: pytest.FixtureRequest) -> None:
    """A datasets row of mixed tasks holds metadata as JSON text; it used to score 0 silently."""
    for entry in _entries_of(task, request):
        stored = {**entry, "metadata": json.dumps(entry["metadata"])}
        assert task.score(f"<<<{entry['answer']}>>>", stored) == 1.0
        wrong = next((w for w in task.corruptions(entry) if w.strip()), "???")
        assert task.score(f"<<<{wrong}>>>", stored) == 0.0


#: Forms that are not the reference's spelling but are right, accepted by every task on purpose (the
#: explicit list of leniencies the issue asks for). Task-specific tolerances are `LENIENT` above and
#: in each task's own tests (MATH's equivalent forms: tests/test_symbench_math_data.py ACCEPTED).
LENIENT_FORMS: list[tuple[str, Callable[[str], str | None]]] = [
    ("full-width digits", lambda ref: ref.translate(_FULL_WIDTH)),
    ("surrounding whitespace", lambda ref: f"  {ref}\n"),
    # one documented rule for every task (task.unwrapped): markdown around all of it, a final full stop
    ("markdown bold", lambda ref: f"**{ref}**"),
    ("inline code", lambda ref: f"`{ref}`"),
    ("a final full stop", lambda ref: None if ref.endswith(".") or "\n" in ref.strip() else f"{ref}."),
    ("bold with a full stop", lambda ref: None if ref.endswith(".") or "\n" in ref.strip() else f"**{ref}**."),
    (
        "answer after reasoning and code",
        lambda ref: f"```python\nprint(1)\n```{RESULT_TEMPLATE.format(output='1')}So <<<{ref}>>>",
    ),
]


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_documented_lenient_forms_score_one(task: Task, request: pytest.FixtureRequest) -> None:
    for entry in _entries_of(task, request):
        for form, spell in LENIENT_FORMS:
            written = spell(entry["answer"])
            if written is None:  # the form does not apply to this reference
                continue
            completion = written if "<<<" in written else f"<<<{written}>>>"
            assert task.score(completion, entry) == 1.0, (form, entry["answer"])


def test_adversarial_answers_in_four_threads_each_return_within_the_bound(request: pytest.FixtureRequest) -> None:
    """Every score call returns within about a second in any thread; 4 threads of the slowest known
    inputs each come back within 3 s (the red team saw 9.7-10.5 s behind one locked MATH worker)."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.test_symbench_math_data import SLOW_ANSWERS

    by_name = {t.name: t for t in TASKS}
    math = by_name["symbench/math_geometry"]
    cases = [(math, f"<<<{a}>>>") for a in SLOW_ANSWERS]
    cube = by_name["reasoning_gym/rubiks_cube"]
    cases += [(cube, "<<<" + " ".join(["R9"] * 6660) + ">>>"), (cube, "<<<" + "R " * 9_999 + ">>>")]
    lock = by_name["reasoning_gym/quantum_lock"]
    cases += [(lock, "<<<" + "A → " * 4_000 + "!>>>"), (lock, "<<<" + "A" * 87 + "!>>>")]
    entries = {task.name: _entries_of(task, request)[0] for task, _ in cases}
    with ThreadPoolExecutor(4) as pool:  # warm: workers and scorers exist before anything is timed
        list(pool.map(lambda c: c[0].score(f"<<<{entries[c[0].name]['answer']}>>>", entries[c[0].name]), cases))

    def timed(case: tuple[Task, str]) -> tuple[str, float, float]:
        task, completion = case
        start = time.perf_counter()
        score = task.score(completion, entries[task.name])
        return task.name, score, time.perf_counter() - start

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(timed, cases))
    assert all(score == 0.0 for _, score, _ in results), results
    assert max(elapsed for _, _, elapsed in results) < 3.0, results


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_two_hundred_entries_at_three_seeds_have_right_references(task: Task, request: pytest.FixtureRequest) -> None:
    """Rare bad entries (0.5% cancelling scrambles, one base-0 item, one seed where maze raised) never
    reach the 2-entry battery: every reference of 200 entries x 3 seeds scores 1, and the empty
    answer scores 0 unless the reference is empty."""
    if task.source == "bbh" or task.name in DATASET_BACKED:
        request.getfixturevalue("external_task_data")
    bad = []
    for seed in (0, 1, 2):
        for entry in task.generate(200, seed=seed):
            if task.score(f"<<<{entry['answer']}>>>", entry) != 1.0:
                bad.append((entry["id"], "reference", entry["answer"][:40]))
            if entry["answer"].strip() and task.score("<<<>>>", entry) != 0.0:
                bad.append((entry["id"], "empty answer", entry["answer"][:40]))
    assert not bad, bad[:5]
