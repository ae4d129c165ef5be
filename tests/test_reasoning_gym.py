"""Reasoning-Gym tasks: the selection, seeding, JSON/HF round trips, guards around unsafe scorers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from fractions import Fraction
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


# -- verdicts of our own where upstream's rule and its question disagree ------------------------


def _rg_entry(name: str, answer: str, metadata: dict, question: str = "") -> dict:
    """An entry of `name` with a hand-made Reasoning-Gym item (for cases no seed happens to draw)."""
    rg = {"dataset": name, "index": 0, "rg_entry": dump_rg_entry(answer, metadata)}
    return {"task": f"reasoning_gym/{name}", "id": "x", "question": question, "answer": answer, "metadata": rg}


def test_countdown_allows_only_the_four_operations_on_each_number_once() -> None:
    task = ReasoningGymTask("countdown")
    entry = _rg_entry("countdown", "7*2-2", {"numbers": [7, 2, 2], "target": 12})
    for ok in ("7*2-2", "2*7 - 2", "(2*7) - 2", "-2 + 7*2", "7×2−2"):
        assert task.score(f"<<<{ok}>>>", entry) == 1.0, ok
    # upstream evaluated with sympy: floor division, powers, sign tricks and decimals passed
    for bad in ("(7+2)//2*2+2", "7//2*2*2", "7*2 - -2 - 4", "7*2 - (-2)", "--7*2-2", "+7*2-2", "-(-7)*2-2"):
        assert task.score(f"<<<{bad}>>>", entry) == 0.0, bad
    for bad in ("7*2**1-2", "7.0*2-2", "7*2-2+0", "7*2", "14-2", "7*2-2=12", "12", "7*2-2 # or 7+2+2"):
        assert task.score(f"<<<{bad}>>>", entry) == 0.0, bad


def test_decimal_arithmetic_needs_the_asked_significant_digits() -> None:
    task = ReasoningGymTask("decimal_arithmetic")
    checked = 0
    for entry in task.generate(20, seed=3):
        reference = Fraction(entry["answer"])
        three_places = f"{float(reference):.3f}"
        if Fraction(three_places) != reference:  # upstream: within 10**-3 passed
            assert task.score(f"<<<{three_places}>>>", entry) == 0.0, (entry["answer"], three_places)
            checked += 1
        assert task.score(f"<<<{entry['answer']}>>>", entry) == 1.0
        assert task.score(f"<<<{float(reference) * 10:.11g}>>>", entry) == 0.0
    assert checked > 10


def test_knights_knaves_reads_every_word() -> None:
    task = ReasoningGymTask("knights_knaves")
    for entry in task.generate(10, seed=3):
        answer = entry["answer"]
        meta = load_rg_entry(entry["metadata"]["rg_entry"])["metadata"]
        knight, knave = meta["knight_knave_terms"]["knight"], meta["knight_knave_terms"]["knave"]
        clauses = [c.strip() for c in answer.rstrip(".").replace(", and ", ", ").split(", ")]
        assert task.score(f"<<<{answer}>>>", entry) == 1.0
        assert task.score(f"<<<{' and '.join(clauses[::-1])}>>>", entry) == 1.0
        assert task.score(f"<<<{answer.lower()}>>>", entry) == 1.0
        # upstream skipped every word that was not a name or a role
        for bad in (f"not {answer}", f"{answer} Just kidding.", answer.replace(" is ", " is not ", 1)):
            assert task.score(f"<<<{bad}>>>", entry) == 0.0, bad
        swapped = answer.replace(knight, "\0").replace(knave, knight).replace("\0", knave)
        assert task.score(f"<<<{swapped}>>>", entry) == 0.0
        assert task.score(f"<<<{answer}, {clauses[0]}>>>", entry) == 0.0  # a name twice


def test_tower_of_hanoi_accepts_any_valid_solution_and_nothing_else() -> None:
    task = ReasoningGymTask("tower_of_hanoi")
    for entry in task.generate(8, seed=3):
        moves = entry["answer"].splitlines()
        meta = load_rg_entry(entry["metadata"]["rg_entry"])["metadata"]
        assert "shortest" not in entry["question"] and "minimum" not in entry["question"]
        # a detour of disk 1 and back is valid, only longer: the question does not ask for the fewest moves
        aside = next(p for p in range(1, meta["num_pegs"] + 1) if p != meta["start_peg"] and moves[0][-1] != str(p))
        detour = [
            f"Move disk 1 from Peg {meta['start_peg']} to Peg {aside}",
            f"Move disk 1 from Peg {aside} to Peg {meta['start_peg']}",
        ]
        assert task.score("<<<" + "\n".join(detour + moves) + ">>>", entry) == 1.0
        # upstream searched each line for a move, so anything before it passed
        for bad in (
            ["1. " + moves[0], *moves[1:]],
            [f"Never {moves[0]}", *moves[1:]],
            moves[:-1],
            [*moves, moves[-1]],
        ):
            assert task.score("<<<" + "\n".join(bad) + ">>>", entry) == 0.0, bad[:2]


def test_tower_of_hanoi_keeps_the_limit_when_the_question_asks_for_the_fewest_moves() -> None:
    task = ReasoningGymTask("tower_of_hanoi")
    entry = next(task.generate(1, seed=3))
    entry = {**entry, "question": entry["question"].replace("Provide the sequence", "Provide the shortest sequence")}
    moves = entry["answer"].splitlines()
    meta = load_rg_entry(entry["metadata"]["rg_entry"])["metadata"]
    aside = next(p for p in range(1, meta["num_pegs"] + 1) if p != meta["start_peg"] and moves[0][-1] != str(p))
    detour = [
        f"Move disk 1 from Peg {meta['start_peg']} to Peg {aside}",
        f"Move disk 1 from Peg {aside} to Peg {meta['start_peg']}",
    ]
    assert task.score(f"<<<{entry['answer']}>>>", entry) == 1.0
    assert task.score("<<<" + "\n".join(detour + moves) + ">>>", entry) == 0.0


def test_quantum_lock_follows_its_questions_rule() -> None:
    task = ReasoningGymTask("quantum_lock")
    entry = next(e for e in task.generate(11, seed=3) if e["id"].endswith("-10"))
    assert entry["answer"] == "A → C → A → A"
    # C (multiply, green only) pressed while red changes nothing but the light, which always toggles
    for ok in ("C → C → A → A", "C, C, A, A", "C C A A", "C->C->A->A", "c → c → a → a"):
        assert task.score(f"<<<{ok}>>>", entry) == 1.0, ok
    for bad in ("A → C → A → A → B", "A → C → A", "A → C → A → D", "press A → C → A → A", "A → C → A → A → "):
        assert task.score(f"<<<{bad}>>>", entry) == 0.0, bad


def test_quantum_lock_answers_are_read_in_linear_time() -> None:
    task = ReasoningGymTask("quantum_lock")
    entry = next(task.generate(1, seed=3))
    start = time.perf_counter()
    for hostile in ("A" + " " * 86 + "!", "A " * 43 + "!", "A →" * 30 + "x", "A" + " →  " * 20_000 + "!"):
        assert task.score(f"<<<{hostile}>>>", entry) == 0.0
    assert time.perf_counter() - start < 2.0  # the old guard regex took 53 s on 87 characters


def test_polynomial_multiplication_needs_the_expanded_product() -> None:
    task = ReasoningGymTask("polynomial_multiplication")
    for entry in task.generate(8, seed=3):
        product = re.search(r": (.*)\n", entry["question"]).group(1)
        terms = re.findall(r"([+-]?)([^+-]+)", entry["answer"].replace(" ", ""))
        reordered = " ".join(f"{sign or '+'} {body}" for sign, body in terms[::-1]).removeprefix("+ ")
        assert task.score(f"<<<{entry['answer']}>>>", entry) == 1.0
        assert task.score(f"<<<{entry['answer'].replace(' ', '')}>>>", entry) == 1.0
        assert task.score(f"<<<{reordered}>>>", entry) == 1.0, reordered
        if product.replace(" ", "") != entry["answer"].replace(" ", ""):  # some draws are already expanded
            assert task.score(f"<<<{product}>>>", entry) == 0.0  # the question's own product
        assert task.score(f"<<<{entry['answer']} + 0*x>>>", entry) == 0.0
        assert task.score(f"<<<{entry['answer']} + 1>>>", entry) == 0.0


def test_simple_integration_checks_the_derivative_exactly() -> None:
    task = ReasoningGymTask("simple_integration")
    for entry in task.generate(8, seed=3):
        answer = entry["answer"]
        assert task.score(f"<<<{answer}>>>", entry) == 1.0
        assert task.score(f"<<<{answer.removesuffix(' + C')}>>>", entry) == 1.0
        assert task.score(f"<<<{answer.removesuffix(' + C')} + 7>>>", entry) == 1.0  # any constant
        assert task.score(f"<<<{answer.replace(' + C', ' + 1 + C')}>>>", entry) == 1.0
        assert task.score(f"<<<{answer.removesuffix(' + C')} + x**2 + C>>>", entry) == 0.0
        assert task.score(f"<<<2*({answer.removesuffix(' + C')})>>>", entry) == 0.0
        assert task.score(f"<<<{answer} + C>>>", entry) == 0.0


@pytest.mark.parametrize("name", ["simple_integration", "polynomial_multiplication", "countdown"])
def test_expression_bombs_return_at_once(name: str) -> None:
    task = ReasoningGymTask(name)
    entry = next(task.generate(1, seed=3))
    var = (re.findall(r"\b[xyzX]\b", entry["answer"]) or ["x"])[0]
    bombs = [
        f"({var} + 1)**999",
        f"({var}**9 + {var} + 1)**64",
        "*".join([f"({var}**3 + 7*{var} + 9)"] * 40),
        f"(((({var} + 1)**9)**9)**9)",
        f"{var}**99999999999",
        "9" * 5000,
        f"({var}+" * 5000 + "1" + ")" * 5000,
        f"1e999999*{var}",
    ]
    start = time.perf_counter()
    for bomb in bombs:
        assert task.score(f"<<<{bomb}>>>", entry) == 0.0, bomb[:40]
    assert time.perf_counter() - start < 2.0  # sympy took 30-60 s on such products


def test_palindrome_partitioning_lists_each_partition_once() -> None:
    task = ReasoningGymTask("palindrome_partitioning")
    for entry in task.generate(5, seed=3):
        partitions = json.loads(entry["answer"])
        assert task.score(f"<<<{json.dumps(partitions[::-1])}>>>", entry) == 1.0
        # upstream compared sets of partitions, so repeating them passed
        assert task.score(f"<<<{json.dumps(partitions + partitions[:1])}>>>", entry) == 0.0


def _first(name: str, predicate, seeds=range(3), n: int = 200) -> dict:
    task = ReasoningGymTask(name)
    return next(e for s in seeds for e in task.generate(n, seed=s) if predicate(e))


def _rg_meta(entry: dict) -> dict:
    return load_rg_entry(entry["metadata"]["rg_entry"])["metadata"]


def test_advanced_geometry_is_judged_at_the_questions_three_decimals() -> None:
    """Red team F1/C5: upstream compared angles at 2 places (2.734° passed for 2.7263°) and radii as strings."""
    task = ReasoningGymTask("advanced_geometry")
    angle = next(e for e in task.generate(2, seed=3) if _rg_meta(e)["task_type"] == "angle_measure")
    exact = _rg_meta(angle)["angle_ABC_degrees"]
    assert angle["answer"] == "2.73°" and abs(exact - 2.72631) < 1e-5
    for right in ("2.73°", "2.730°", "2.726°", "2.7263°", "2.726 degrees", "2.726"):
        assert task.score(f"<<<{right}>>>", angle) == 1.0, right
    for wrong in ("2.734°", "2.729°", "2.72°", "2.74°", "2.726° or 3°", "2.73°, 3°", "-2.726°"):
        assert task.score(f"<<<{wrong}>>>", angle) == 0.0, wrong
    radius = _first("advanced_geometry", lambda e: _rg_meta(e)["task_type"] == "incircle_radius")
    value = Fraction(str(_rg_meta(radius)["incircle_radius_approx"]))
    assert task.score(f"<<<{radius['answer']}0>>>", radius) == 1.0  # a trailing zero
    assert task.score(f"<<<{float(value + Fraction(1, 1000)):.3f}>>>", radius) == 0.0
    point = _first("advanced_geometry", lambda e: _rg_meta(e)["task_type"] == "orthocenter")
    x, y = (Fraction(c) for c in _rg_meta(point)["ortho"])
    assert task.score(f"<<<({float(x):.4f}, {float(y):.4f})>>>", point) == 1.0
    assert task.score(f"<<<({float(x):.3f}, {float(y + Fraction(1, 500)):.3f})>>>", point) == 0.0
    assert task.score(f"<<<{point['answer']}, (1, 2)>>>", point) == 0.0


def test_rubiks_cube_never_has_an_empty_reference_and_caps_expanded_turns() -> None:
    """Red team F6/P2: 5 of 1000 scrambles cancelled (reference '', so '<<<>>>' scored 1), and
    'R9 R9 ...' (60k simulated turns) took seconds."""
    task = ReasoningGymTask("rubiks_cube")
    entries = [e for s in range(5) for e in task.generate(200, seed=s)]
    assert all(e["answer"].strip() for e in entries)
    assert entries[37 + 0]["id"] == "rubiks_cube-0-37"  # the red team's cancelling scramble, now redrawn
    assert task.score("<<<>>>", entries[37]) == 0.0 and task.score("<<<R R'>>>", entries[37]) == 0.0
    entry = entries[0]
    start = time.perf_counter()
    assert task.score("<<<" + " ".join(["R9"] * 6660) + ">>>", entry) == 0.0
    assert task.score("<<<" + " ".join(["R"] * 9000) + ">>>", entry) == 0.0
    assert time.perf_counter() - start < 3.0
    assert not rg_tasks._cube_moves("R9 " * (rg_tasks.MAX_CUBE_TURNS // 9 + 1), {})
    assert rg_tasks._cube_moves("R9 " * (rg_tasks.MAX_CUBE_TURNS // 9), {})


def test_items_a_generator_fails_on_or_with_an_empty_reference_are_redrawn() -> None:
    """Red team R2/C6: maze raised at seed 4 entry 39; base_conversion of 0 had the reference ''."""
    maze = list(ReasoningGymTask("maze").generate(200, seed=4))
    assert len(maze) == 200 and all(e["answer"].strip() for e in maze)
    again = list(ReasoningGymTask("maze").generate(40, seed=4))
    assert again == maze[:40]  # the redraw is deterministic
    base = list(ReasoningGymTask("base_conversion").generate(155, seed=5))[154]
    assert base["answer"].strip() and ReasoningGymTask("base_conversion").score(f"<<<{base['answer']}>>>", base) == 1.0


def test_right_answers_in_other_spellings_score_one() -> None:
    """Red team C2-C4: exact-string scorers refused the same list, fraction or directions written otherwise."""
    lists = ReasoningGymTask("list_functions")
    entry = next(lists.generate(1, seed=2))
    assert lists.score(f"<<<{entry['answer'].replace(', ', ',')}>>>", entry) == 1.0
    assert lists.score(f"<<<{entry['answer'].replace(', ', ',')[:-1]},1]>>>", entry) == 0.0
    dice = ReasoningGymTask("dice")
    entry = next(dice.generate(1, seed=2))
    assert dice.score(f"<<<{entry['answer'].replace('/', ' / ')}>>>", entry) == 1.0
    assert dice.score(f"<<<{entry['answer'].replace('/', ' / 1')}>>>", entry) == 0.0
    paths = ReasoningGymTask("shortest_path")
    infeasible = _first("shortest_path", lambda e: e["answer"] == "infeasible", seeds=[2], n=50)
    assert paths.score("<<<Infeasible>>>", infeasible) == 1.0
    path = _first("shortest_path", lambda e: " " in e["answer"], seeds=[2], n=50)
    words = path["answer"].split()
    assert paths.score("<<<" + " ".join(w.capitalize() for w in words) + ">>>", path) == 1.0
    assert paths.score("<<<" + ", ".join(words) + ">>>", path) == 1.0
    assert paths.score("<<<" + " ".join(words[:-1]) + ">>>", path) == 0.0
    assert paths.score("<<<" + " ".join(words) + " please>>>", path) == 0.0
    assert paths.score("<<<infeasible>>>", path) == 0.0


def test_first_scores_in_threads_leave_stdout_and_random_alone() -> None:
    """Red team R1: scorers were built inside a process-wide stdout redirect and reseed, so concurrent
    first calls left sys.stdout pointing at a StringIO (5 of 5 trials)."""
    import random
    import threading

    names = [n for n in sorted(SELECTED) if n not in rg_tasks.OWN_VERDICTS][:24]
    entries = {n: next(ReasoningGymTask(n).generate(1, seed=0)) for n in names}
    stdout = sys.stdout
    for _ in range(3):
        tasks = {n: ReasoningGymTask(n) for n in names}  # fresh: the first call builds the scorer
        barrier = threading.Barrier(len(names) + 1)
        scores: dict[str, float] = {}

        def go(name: str, task: ReasoningGymTask, barrier: threading.Barrier, scores: dict[str, float]) -> None:
            barrier.wait()
            scores[name] = task.score(f"<<<{entries[name]['answer']}>>>", entries[name])

        threads = [threading.Thread(target=go, args=(n, tasks[n], barrier, scores)) for n in names]
        for thread in threads:
            thread.start()
        random.seed(12345)
        barrier.wait()
        for thread in threads:
            thread.join()
        assert sys.stdout is stdout
        assert scores == dict.fromkeys(names, 1.0)
        assert all(t._scorer is not None for t in tasks.values())


def test_generation_in_threads_gives_the_same_items() -> None:
    from concurrent.futures import ThreadPoolExecutor

    stdout = sys.stdout
    task = ReasoningGymTask("list_functions")  # draws from the global random while generating
    alone = list(task.generate(30, seed=1))
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: list(ReasoningGymTask("list_functions").generate(30, seed=1)), range(4)))
    assert all(run == alone for run in runs)
    assert sys.stdout is stdout
