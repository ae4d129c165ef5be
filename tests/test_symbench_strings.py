"""SymBench string tasks (dataset_builders/symbench/strings.py): difficulty levels, verdicts, published data.

The shared checks over many modules (contract, hostile inputs, published references in general) live in
test_symbench_strings_numeric.py; this file checks what the string generators produce at each level
against the published generators' settings, and attacks each verifier as a reward-hungry policy would.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from dataset_builders.symbench import strings
from dataset_builders.task import GeneratedTask, PublishedDataError

ROOT = Path(__file__).parents[1]
SYMBENCH = ROOT / ".." / "shared" / "external" / "symbench"
needs_external = pytest.mark.skipif(
    not SYMBENCH.is_dir(), reason="shared/external/symbench (the paper's published data) is absent"
)
BY_NAME: dict[str, GeneratedTask] = {t.short_name: t for t in strings.TASKS}


def wrap(answer: str) -> str:
    return f"Working it out.\n<<<{answer}>>>"


def entries(name: str, n: int = 200, seed: int = 0, **kw: Any) -> list[dict[str, Any]]:
    return list(BY_NAME[name].generate(n, seed=seed, **kw))


def published(name: str) -> list[dict[str, Any]]:
    task = BY_NAME[name]
    items = [item for folder in task.published_folders for item in task.load_published(SYMBENCH / folder)]
    assert items and not [i for i in items if isinstance(i, PublishedDataError)]
    return items


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


def _digest() -> str:
    blob = json.dumps([list(t.generate(30, seed=5)) for t in strings.TASKS], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def test_same_seed_same_bytes_across_hash_seeds() -> None:
    """No set order or string hashing leaks into the entries: two interpreters agree byte for byte."""
    code = "from tests.test_symbench_strings import _digest; print(_digest())"
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for hash_seed in ("1", "2")
    }
    assert digests == {_digest()}


# -- string_deletion_and_modification ----------------------------------------------------------


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


# -- string_insertion ---------------------------------------------------------------------------


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


# -- string_splitting ---------------------------------------------------------------------------


def test_splitting_levels_use_the_published_count_ranges() -> None:
    batch = entries("string_splitting")
    phrasings = Counter()
    for e in batch:
        lo, hi = strings.StringSplitting.LEVEL_COUNTS[e["metadata"]["complexity"]]
        assert all(lo <= v <= hi for v in e["metadata"]["initial"])
        for options in strings._SPLIT_PHRASES:
            phrasings.update(p for p in options if p in e["question"])
    assert max(max(e["metadata"]["initial"]) for e in batch) == 10
    assert min(min(e["metadata"]["initial"]) for e in batch) == 1
    assert len(phrasings) == 15, "every method appears in each of its three phrasings"


@needs_external
def test_published_splitting_samples_are_level_1() -> None:
    lo, hi = strings.StringSplitting.LEVEL_COUNTS[1]
    for e in published("string_splitting"):
        assert all(lo <= v <= hi for v in e["metadata"]["initial"])


def test_splitting_and_synthesis_verifier_hacks() -> None:
    for name, n in (("string_splitting", 6), ("string_synthesis", 9)):
        task = BY_NAME[name]
        e = next(iter(task.generate(1, seed=2, complexity=5)))
        final = e["metadata"]["final"]
        plain = " ".join(map(str, final))
        for ok in (plain, json.dumps([str(v) for v in final]), str(final)):
            assert task.score(wrap(ok), e) == 1.0, (name, ok)
        bumped = " ".join(map(str, [*final[:-1], final[-1] + 1]))
        for bad in (
            "",
            f"{plain} or {bumped}",
            f"{plain} {plain}",
            " ".join(map(str, final[:-1])),
            f"A={final[0]}",
            "1+" + plain,
            " ".join(["0"] * n),
        ):
            if bad != plain:
                assert task.score(wrap(bad), e) == 0.0, (name, bad)


# -- string_synthesis ---------------------------------------------------------------------------


def test_synthesis_levels_span_the_published_counts() -> None:
    batch = entries("string_synthesis")
    for e in batch:
        most = strings.StringSynthesis.LEVEL_MAX[e["metadata"]["complexity"]]
        assert all(1 <= v <= m for v, m in zip(e["metadata"]["initial"], most, strict=True))
    top = [e["metadata"]["initial"] for e in batch if e["metadata"]["complexity"] == 5]
    assert max(max(v) for v in top) > 8, "level 5 goes past the published maxima (5, 8, 7)"


@needs_external
def test_published_synthesis_counts_are_within_level_4() -> None:
    most = strings.StringSynthesis.LEVEL_MAX[4]
    for e in published("string_synthesis"):
        assert all(1 <= v <= m for v, m in zip(e["metadata"]["initial"], most, strict=True))


# -- letters ------------------------------------------------------------------------------------


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


# -- statistical_counting -----------------------------------------------------------------------


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


def test_generation_stays_fast_at_the_hardest_levels() -> None:
    """A generous bound proving that rejection sampling never spins (each task is ~1 ms per entry)."""
    start = time.perf_counter()
    for task in strings.TASKS:
        list(task.generate(100, seed=9, complexity=task.complexity_levels))
    assert time.perf_counter() - start < 5.0


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


def _published_solution(name: str, e: dict[str, Any]) -> dict[str, Any]:
    """The solution.json the published generator writes for this instance (its field names)."""
    m = e["metadata"]
    if name == "string_deletion_and_modification":
        return {
            "initial_string": m["initial_string"],
            "selected_rules": m["rules"],
            "intermediate_states": m["states"],
            "final_string": m["final_string"],
            "complexity": min(5, len(m["states"]) - 1),
        }
    if name == "string_insertion":
        return {"original_string": m["original_string"], "modified_string": m["modified_string"], "complexity": 5}
    if name == "string_splitting":
        return {"expected_answer": [str(v) for v in m["final"]], "complexity": m["complexity"]}
    if name == "string_synthesis":
        a, b, c = m["initial"]
        return {"A_count": a, "B_count": b, "C_count": c, "final_counts": m["final"], "complexity": 1}
    return {"sequence": m["sequence"], "rules": m["rules"], "solution": m["solution"], "complexity": 5}


@pytest.mark.parametrize("name", [n for n in BY_NAME if n != "letters"])
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
            (sample / "solution.json").write_text(json.dumps(_published_solution(name, e)))
            originals.append(e)
    loaded = list(task.load_published(folder))
    assert not [i for i in loaded if isinstance(i, PublishedDataError)]
    assert [e["answer"] for e in loaded] == [e["answer"] for e in originals]
    for e in loaded:
        for w in task.corruptions(e):
            assert task.score(wrap(w), e) == 0.0
