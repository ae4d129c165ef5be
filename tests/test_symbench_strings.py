"""SymBench string tasks (dataset_builders/symbench/strings.py): difficulty levels, verdicts, published data.

This file checks what the string generators produce at each level against the published generators'
settings, and attacks each verifier as a reward-hungry policy would.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from dataset_builders.symbench import strings
from dataset_builders.task import GeneratedTask, PublishedDataError
from tests.symbench_helpers import (
    SYMBENCH,
    assert_same_bytes_across_hash_seeds,
    needs_external,
    published_solution,
    wrap,
)

#: Every task of the module, by its full and its short name.
BY_NAME: dict[str, GeneratedTask] = {key: t for t in strings.TASKS for key in (t.name, t.short_name)}


def entries(name: str, n: int = 200, seed: int = 0, **kw: Any) -> list[dict[str, Any]]:
    return list(BY_NAME[name].generate(n, seed=seed, **kw))


def published(name: str) -> list[dict[str, Any]]:
    task = BY_NAME[name]
    items = [item for folder in task.published_folders for item in task.load_published(SYMBENCH / folder)]
    assert items and not [i for i in items if isinstance(i, PublishedDataError)]
    return items


# -- every task, every level ------------------------------------------------------------------------


@pytest.mark.parametrize("task", strings.TASKS, ids=lambda t: t.short_name)
def test_every_level_verifies_and_corruptions_fail(task: GeneratedTask) -> None:
    for level in range(1, task.complexity_levels + 1):
        assert task.level_description(level)
        for e in task.generate(15, seed=level, complexity=level):
            assert e["metadata"]["complexity"] == level
            assert task.score(wrap(e["answer"]), e) == 1.0, (level, e["answer"])
            wrong = task.corruptions(e)
            assert wrong
            for w in wrong:
                assert task.score(wrap(w), e) == 0.0, (level, w, e["answer"])


@pytest.mark.parametrize("task", strings.TASKS, ids=lambda t: t.short_name)
def test_default_draw_covers_every_level(task: GeneratedTask) -> None:
    levels = Counter(e["metadata"]["complexity"] for e in task.generate(200, seed=0))
    assert set(levels) == set(range(1, task.complexity_levels + 1))


@pytest.mark.parametrize("task", strings.TASKS, ids=lambda t: t.short_name)
def test_copying_the_question_back_never_scores(task: GeneratedTask) -> None:
    """The format example is the question's last <<<...>>>: it is drawn to differ from the answer."""
    for e in task.generate(200, seed=6):
        assert task.score(e["question"], e) == 0.0
        assert task.score(f"<<<{e['question']}>>>", e) == 0.0


def test_same_seed_same_bytes_across_hash_seeds() -> None:
    assert_same_bytes_across_hash_seeds("strings", n=30, seed=5)


def test_generation_stays_fast_at_the_hardest_levels() -> None:
    """A generous bound proving that rejection sampling never spins (each task is ~1 ms per entry)."""
    start = time.perf_counter()
    for task in strings.TASKS:
        list(task.generate(100, seed=9, complexity=task.complexity_levels))
    assert time.perf_counter() - start < 5.0


def test_other_spellings_score_one() -> None:
    spellings = {
        "symbench/string_deletion_and_modification": lambda a: a.strip('"'),
        "symbench/string_insertion": lambda a: f'"{a}"',
        "symbench/letters": lambda a: f" {a} ",
    }
    for name, respell in spellings.items():
        task = BY_NAME[name]
        for e in task.generate(5, seed=2):
            assert task.score(wrap(respell(e["answer"])), e) == 1.0, (name, respell(e["answer"]))


def test_simulators_follow_the_stated_rules() -> None:
    assert strings.apply_insertions("ABCDE") == "ABCDAEB"  # matches are found in the original string
    assert (
        strings.run_score(
            "AABBBAB",
            [{"letter": "A", "score": 1, "min_consecutive": 2}, {"letter": "B", "score": 2, "min_consecutive": 2}],
        )
        == 3
    )


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
    for e in published("symbench/statistical_counting"):
        assert strings.run_score(e["metadata"]["sequence"], e["metadata"]["rules"]) == e["metadata"]["solution"]


# -- string_deletion_and_modification ---------------------------------------------------------------


def test_deletion_levels_follow_the_rewrite_count() -> None:
    batch = entries("string_deletion_and_modification")
    steps = Counter()
    for e in batch:
        lo, hi = strings.DELETION_STEPS[e["metadata"]["complexity"]]
        n = len(e["metadata"]["states"]) - 1
        assert lo <= n <= hi
        assert e["metadata"]["final_string"], "an empty final string would make the empty answer right"
        assert len(e["metadata"]["rules"]) == 6
        steps[n] += 1
    assert min(steps) <= 3 and max(steps) >= 10  # past the published filter (>= 4) and its longest run (11)


def test_deletion_question_settles_the_even_length_middle() -> None:
    middle = "If the string length is greater than 15, remove the middle character."
    with_middle = [e for e in entries("string_deletion_and_modification") if middle in e["metadata"]["rules"]]
    assert with_middle
    for e in with_middle:
        assert "first character of its second half" in e["question"]
    rule = strings.DELETION_RULES[middle]
    assert rule("aaaaaaaabbbbbbbb") == "aaaaaaaabbbbbbb"  # length 16: index 8, the first of the second half


@needs_external
def test_published_deletion_runs_fall_inside_the_levels() -> None:
    lo, hi = strings.DELETION_STEPS[1][0], strings.DELETION_STEPS[5][1]
    for e in published("string_deletion_and_modification"):
        assert lo <= len(e["metadata"]["states"]) - 1 <= hi


def test_deletion_verifier_hacks() -> None:
    e = next(iter(BY_NAME["string_deletion_and_modification"].generate(1, seed=3, complexity=4)))
    final = e["metadata"]["final_string"]
    task = BY_NAME["string_deletion_and_modification"]
    for ok in (final, f'"{final}"', f"'{final}'", f'  "{final}"  '):
        assert task.score(wrap(ok), e) == 1.0, ok
    lookalike = final.replace("a", "\u0430").replace("c", "\u0441")  # Cyrillic a and c
    for bad in (
        "",
        f'"{final}" or "{final}a"',
        f'"{final}" "{final}"',
        final.upper(),
        lookalike,
        e["metadata"]["initial_string"],
        f"The final string is {final}",
    ):
        assert task.score(wrap(bad), e) == 0.0, bad


# -- string_insertion -------------------------------------------------------------------------------


def _trigger_starts(s: str) -> list[int]:
    return [i for i in range(len(s) - 3) for pat, _ in strings.INSERTION_RULES if s.startswith(pat, i)]


def test_insertion_levels_set_the_trigger_count_and_overlap() -> None:
    by_level: dict[int, list[str]] = {}
    for e in entries("string_insertion"):
        by_level.setdefault(e["metadata"]["complexity"], []).append(e["metadata"]["original_string"])
    assert set(by_level) == {1, 2, 3, 4, 5}
    for level, originals in by_level.items():
        for s in originals:
            starts = _trigger_starts(s)
            assert len(starts) == level == strings.count_triggers(s)
            overlapping = any(b - a < 4 for a, b in zip(starts, starts[1:], strict=False))
            assert overlapping == (level == 5), (level, s)


def test_insertion_finds_overlapping_triggers_in_the_original_string() -> None:
    # ABCDEA holds ABCD, BCDE and CDEA: inserting while scanning the growing string would break the later two
    assert strings.apply_insertions("ABCDEA") == "ABCDAEBAC"
    assert strings.apply_insertions("EABCDE") == "EABCEDAEB"
    task = BY_NAME["string_insertion"]
    for e in task.generate(20, seed=2, complexity=5):  # the misreading is a corruption that scores 0
        misread = strings._insert_while_scanning(e["metadata"]["original_string"])
        assert misread != e["answer"] and misread in task.corruptions(e)
        assert task.score(wrap(misread), e) == 0.0


@needs_external
def test_published_insertion_samples_have_the_level_3_shape() -> None:
    for e in published("string_insertion"):
        assert strings.count_triggers(e["metadata"]["original_string"]) == 3
        assert 14 <= len(e["metadata"]["original_string"]) <= 18


def test_insertion_verifier_hacks() -> None:
    task = BY_NAME["string_insertion"]
    e = next(iter(task.generate(1, seed=1, complexity=5)))
    res, original = e["metadata"]["modified_string"], e["metadata"]["original_string"]
    for ok in (res, f'"{res}"', " ".join(res)):
        assert task.score(wrap(ok), e) == 1.0, ok
    for bad in ("", res.lower(), f"{res} or {original}", res + res, original, res.replace("A", "\u0410")):
        assert task.score(wrap(bad), e) == 0.0, bad


# -- letters ----------------------------------------------------------------------------------------


def test_letters_levels_use_the_published_length_bands() -> None:
    batch = entries("letters")
    counts, real = Counter(), Counter()
    for e in batch:
        m = e["metadata"]
        lo, hi = strings.LETTER_LENGTHS[m["complexity"]]
        assert lo <= len(m["word"]) <= hi
        assert m["positions"] == [i + 1 for i, c in enumerate(m["word"]) if c == m["letter"]]
        assert m["count"] == len(m["positions"])
        assert "positions" in e["question"].lower() and "<<<Count: X, Positions: [Y, Z, ...]>>>" in e["question"]
        counts[m["count"]] += 1
        real[m["word"] in strings.WORDS] += 1
    assert set(counts) == {1, 2, 3, 4, 5}
    assert real[True] > 20 and real[False] > 20, "both real words and random strings, as published"


@needs_external
def test_published_letters_fall_in_a_band_and_ask_for_positions() -> None:
    items = published("letters")
    assert len(items) >= 100
    for e in items:
        assert 10 <= len(e["metadata"]["word"]) <= 15  # the folder's band: level 2
        assert "positions" in e["question"].lower()
        assert e["answer"].startswith(f"Count: {e['metadata']['count']}, Positions: [")
    assert len({e["id"] for e in items}) == len(items)


def test_letters_verifier_accepts_spellings_and_rejects_partial_answers() -> None:
    task = BY_NAME["letters"]
    e = task.entry("t", "q", "", {"letter": "r", "word": "strawberry", "count": 3, "positions": [3, 8, 9]})
    for ok in (
        "Count: 3, Positions: [3, 8, 9]",
        "count: 3, positions: [3,8,9]",
        "Count: 3 Positions: [3 8 9]",
        "Count: 3, Positions: 3, 8, 9",
        "Count: 3, Positions: [9, 3, 8]",
        '"Count: 3, Positions: [3, 8, 9]"',
        "Count: 3, Positions: [3, 8, 9].",
        "Count:  3,\n Positions: [3, 8, 9]",
    ):
        assert task.score(wrap(ok), e) == 1.0, ok
    for bad in (
        "3",  # the count alone: the question also asks for the positions
        "Count: 3",
        "Positions: [3, 8, 9]",
        "Count: 3, Positions: [2, 7, 8]",  # counted from 0
        "Count: 3, Positions: [3, 8, 8, 9]",
        "Count: 3, Positions: [3, 8]",
        "Count: 2, Positions: [3, 8, 9]",
        "Count: 3, Positions: [3, 8, 9] or Count: 2, Positions: [3, 8]",
        "Count: 3, Positions: [3, 8, 9], Count: 3, Positions: [3, 8, 9]",
        "Count: 3, Positions: [3, 8, 9+0]",
        "Count: 3, Positions: [3, 8, 9]; I am not sure",
        "Count: 3, Positions: [1-9]",
        "Count: 3, Positions: [" + "3, " * 2000 + "]",
        "Count: " + " " * 3000 + "3",
    ):
        assert task.score(wrap(bad), e) == 0.0, bad


def test_published_letter_ids_name_the_length_band(tmp_path: Path) -> None:
    for band in ("Letters_dataset_min_length_5_max_length_10", "Letters_dataset_min_length_10_max_length_15"):
        sample = tmp_path / "Letters" / band / "r_3_0"
        sample.mkdir(parents=True)
        (sample / "test_words.json").write_text(json.dumps("strawberry"))
    items = list(BY_NAME["letters"].load_published(tmp_path / "Letters"))
    assert all(isinstance(i, dict) for i in items)
    ids = [i["id"] for i in items]
    assert len(set(ids)) == 2 and all(re.search(r"max_length_\d+-r_3_0$", i) for i in ids)
    # the question is ours for published words too: its example is never the answer
    sample = tmp_path / "Letters" / "Letters_dataset_min_length_5_max_length_10" / "a_2_0"
    sample.mkdir()
    (sample / "test_words.json").write_text(json.dumps("abacus"))  # a at 1 and 3, the usual example
    entry = next(i for i in BY_NAME["letters"].load_published(tmp_path / "Letters") if i["id"].endswith("a_2_0"))
    assert entry["answer"] == "Count: 2, Positions: [1, 3]"
    assert BY_NAME["letters"].score(entry["question"], entry) == 0.0


# -- statistical_counting ---------------------------------------------------------------------------


def test_counting_levels_reach_the_published_configurations() -> None:
    batch = entries("statistical_counting")
    shapes = Counter()
    for e in batch:
        m = e["metadata"]
        lengths, letters = strings.STAT_LEVELS[m["complexity"]]
        assert len(m["sequence"]) in lengths and len(m["rules"]) in letters
        assert set(m["sequence"]) <= {r["letter"] for r in m["rules"]}
        assert [r["score"] for r in m["rules"]] == list(range(1, len(m["rules"]) + 1))
        assert strings.run_score(m["sequence"], m["rules"]) == m["solution"]
        shapes[len(m["sequence"]), len(m["rules"])] += 1
    assert (5, 2) in shapes and (65, 7) in shapes
    assert {(n, 3) for n in (35, 45, 55)} <= set(shapes)
    q = next(e["question"] for e in batch if len(e["metadata"]["rules"]) == 7)
    assert "letters A, B, C, D, E, F and G" in q
    # a run of four A's is one run, not two pairs: the question says so, as the published checker counts
    assert all("scores once, however long it is" in e["question"] for e in batch)
    rules = [{"letter": "A", "score": 1, "min_consecutive": 2}]
    assert strings.run_score("AAAAB", rules) == 1 and strings.run_score("AABAA", rules) == 2


@needs_external
def test_published_counting_samples_match_a_level() -> None:
    shapes = {(n, k) for lengths, letters in strings.STAT_LEVELS.values() for n in lengths for k in letters}
    for e in published("statistical_counting"):
        assert (len(e["metadata"]["sequence"]), len(e["metadata"]["rules"])) in shapes


def test_counting_question_with_one_rule_reads_well() -> None:
    q = strings.StatisticalCounting.question("AAB", [{"letter": "A", "score": 1, "min_consecutive": 2}])
    assert "consisting of the letter A, scan" in q


def test_counting_verifier_hacks() -> None:
    task = BY_NAME["statistical_counting"]
    e = next(iter(task.generate(1, seed=4, complexity=7)))
    n = e["metadata"]["solution"]
    for bad in (f"{n} or {n + 1}", f"{n}{n}", f"{n + 1}", f"{n}\u0661", f"score: {n}?", ""):
        assert task.score(wrap(bad), e) == 0.0, bad
    assert task.score(wrap(f"\\boxed{{{n}}}"), e) == 1.0


def test_counting_answers_in_latex_and_sentence_punctuation_are_read() -> None:
    for name in ("symbench/statistical_counting",):  # letters answers "Count: X, Positions: [...]"
        task = BY_NAME[name]
        for e in task.generate(5, seed=1):
            n = int(e["answer"])
            for ok in (f"{n}.", f"\\boxed{{{n}}}", f"**{n}**", f"{n}.0", f"[{n}]"):
                assert task.score(wrap(ok), e) == 1.0, (name, ok)
            for bad in (f"{n} or {n + 1}", f"{n + 1} or {n}", f"{n}.5", f"{n}, {n}", f"{n - 1}+1"):
                assert task.score(wrap(bad), e) == 0.0, (name, bad)


# -- published layout -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["string_deletion_and_modification", "string_insertion", "statistical_counting"])
def test_published_layout_of_the_hardest_levels_loads(name: str, tmp_path: Path) -> None:
    """Samples of every level written in the published layout load and verify (the local copy has few levels)."""
    task = BY_NAME[name]
    folder = tmp_path / task.published_folders[0]
    originals = []
    for level in range(1, task.complexity_levels + 1):
        for e in task.generate(3, seed=level, complexity=level):
            sample = folder / f"sample_{len(originals)}"
            sample.mkdir(parents=True)
            (sample / "question.txt").write_text(e["question"])
            (sample / "solution.json").write_text(json.dumps(published_solution(name, e)))
            originals.append(e)
    loaded = list(task.load_published(folder))
    assert not [i for i in loaded if isinstance(i, PublishedDataError)]
    assert [e["answer"] for e in loaded] == [e["answer"] for e in originals]
    for e in loaded:
        for w in task.corruptions(e):
            assert task.score(wrap(w), e) == 0.0
