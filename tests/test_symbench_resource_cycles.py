"""SymBench resource cycles (dataset_builders/symbench/resource_cycles.py): levels spanning the published
generators, verdicts (the stock once no method applies), published data, hacks.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from dataset_builders.symbench import resource_cycles
from dataset_builders.task import GeneratedTask, PublishedDataError, Task
from tests.symbench_helpers import (
    SYMBENCH,
    assert_hedges_score_zero,
    assert_question_copy_never_scores,
    assert_same_bytes_across_hash_seeds,
    needs_external,
    published_solution,
    wrap,
)

#: Every task of the module, by its full and its short name.
BY_NAME: dict[str, GeneratedTask] = {key: t for t in resource_cycles.TASKS for key in (t.name, t.short_name)}


def entries(name: str, n: int = 200, seed: int = 0, **kw: Any) -> list[dict[str, Any]]:
    return list(BY_NAME[name].generate(n, seed=seed, **kw))


@pytest.fixture(scope="module")
def spread() -> dict[str, list[dict[str, Any]]]:
    """200 entries per task with levels drawn as `generate` draws them by default."""
    return {name: list(BY_NAME[name].generate(200, seed=11)) for name in ["synthesis_decomposition"]}


def published(name: str) -> list[dict[str, Any]]:
    task = BY_NAME[name]
    items = [item for folder in task.published_folders for item in task.load_published(SYMBENCH / folder)]
    assert items and not [i for i in items if isinstance(i, PublishedDataError)]
    return items


def published_folder(task: Task, folder: Path) -> list[dict]:
    items = list(task.load_published(folder))
    errors = [str(i) for i in items if isinstance(i, PublishedDataError)]
    assert not errors, errors
    return items


def test_same_bytes_whatever_the_hash_seed() -> None:
    assert_same_bytes_across_hash_seeds("resource_cycles")


# -- every task, every level ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "task", [BY_NAME[n] for n in ["string_splitting", "string_synthesis"]], ids=lambda t: t.short_name
)
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


@pytest.mark.parametrize(
    "task", [BY_NAME[n] for n in ["string_splitting", "string_synthesis"]], ids=lambda t: t.short_name
)
def test_default_draw_covers_every_level(task: GeneratedTask) -> None:
    levels = Counter(e["metadata"]["complexity"] for e in task.generate(200, seed=0))
    assert set(levels) == set(range(1, task.complexity_levels + 1))


@pytest.mark.parametrize(
    "task", [BY_NAME[n] for n in ["string_splitting", "string_synthesis"]], ids=lambda t: t.short_name
)
def test_copying_the_question_back_never_scores(task: GeneratedTask) -> None:
    """The format example is the question's last <<<...>>>: it is drawn to differ from the answer."""
    for e in task.generate(200, seed=6):
        assert task.score(e["question"], e) == 0.0
        assert task.score(f"<<<{e['question']}>>>", e) == 0.0


def test_generation_stays_fast_at_the_hardest_levels() -> None:
    """A generous bound proving that rejection sampling never spins (each task is ~1 ms per entry)."""
    start = time.perf_counter()
    for task in (BY_NAME[n] for n in ["string_splitting", "string_synthesis"]):
        list(task.generate(100, seed=9, complexity=task.complexity_levels))
    assert time.perf_counter() - start < 5.0


@pytest.mark.parametrize("name", ["synthesis_decomposition"])
def test_two_hundred_entries_span_every_level_with_one_schema(name: str, spread: dict[str, list[dict]]) -> None:
    task = BY_NAME[name]
    levels = Counter(e["metadata"]["complexity"] for e in spread[name])
    assert task.complexity_levels >= 4
    assert set(levels) == set(range(1, task.complexity_levels + 1)), levels
    assert all(task.level_description(level) for level in levels)
    assert len({json.dumps(sorted(e["metadata"])) for e in spread[name]}) == 1, "one metadata schema per task"


@pytest.mark.parametrize("name", ["synthesis_decomposition"])
def test_references_and_stored_rows_score_one_and_corruptions_zero(name: str) -> None:
    task = BY_NAME[name]
    for level in range(1, task.complexity_levels + 1):
        for e in task.generate(12, seed=level, complexity=level):
            assert e["metadata"]["complexity"] == level
            assert "<<<" in e["question"]
            assert task.score(wrap(e["answer"]), e) == 1.0, (level, e["answer"])
            # a dataset row stores metadata as a JSON string
            assert task.score(wrap(e["answer"]), {**e, "metadata": json.dumps(e["metadata"])}) == 1.0
            wrong = task.corruptions(e)
            assert wrong
            for w in wrong:
                assert task.score(wrap(w), e) == 0.0, (level, w, e["answer"])


def _published_cycle(stock: dict[str, int], methods: list[tuple[dict[str, int], dict[str, int]]]) -> dict[str, int]:
    """The published_folder rule as its generator runs it: try the methods in turn, stop once none applies."""
    stock, i = dict(stock), 0

    def applies(method: tuple[dict[str, int], dict[str, int]]) -> bool:
        return all(stock.get(r, 0) >= k for r, k in method[0].items())

    while True:
        if applies(methods[i]):
            for r, k in methods[i][0].items():
                stock[r] -= k
            for r, k in methods[i][1].items():
                stock[r] = stock.get(r, 0) + k
        i = (i + 1) % len(methods)
        if not any(applies(m) for m in methods):
            return stock


def test_references_agree_with_the_published_generators_cycle() -> None:
    for e in BY_NAME["synthesis_decomposition"].generate(60, seed=2):
        m = e["metadata"]
        methods = [
            (
                {r: k for r, k in zip(m["resources"], ins, strict=True) if k},
                {r: k for r, k in zip(m["resources"], outs, strict=True) if k},
            )
            for ins, outs in m["methods"]
        ]
        final = _published_cycle(dict(zip(m["resources"], m["initial"], strict=True)), methods)
        assert [final[r] for r in m["resources"]] == m["final"]


def test_other_spellings_score_one() -> None:
    spellings = {
        "symbench/string_splitting": lambda a: a.replace('"', ""),
        "symbench/string_synthesis": lambda a: "[" + ", ".join(a.split()) + "]",
        "symbench/synthesis_decomposition": lambda a: a.replace(" ", ""),
    }
    for name, respell in spellings.items():
        task = BY_NAME[name]
        for e in task.generate(5, seed=2):
            assert task.score(wrap(respell(e["answer"])), e) == 1.0, (name, respell(e["answer"]))


@needs_external
def test_published_instances_agree_with_the_simulators() -> None:
    """The rules as implemented reproduce the paper's stored solutions (not just their strings)."""

    def published(name: str) -> list[dict]:
        task = BY_NAME[name]
        return [e for f in task.published_folders for e in task.load_published(SYMBENCH / f)]

    for e in published("symbench/string_splitting"):
        assert resource_cycles.StringSplitting.solve(*e["metadata"]["initial"]) == e["metadata"]["final"]
    for e in published("symbench/string_synthesis"):
        assert resource_cycles.StringSynthesis.solve(*e["metadata"]["initial"]) == e["metadata"]["final"]
    for e in published("symbench/synthesis_decomposition"):
        m = e["metadata"]
        assert resource_cycles.SynthesisDecomposition.solve(m["resources"], m["initial"], m["methods"]) == m["final"]


@pytest.mark.parametrize("name", ["synthesis_decomposition"])
def test_hedged_padded_and_partial_answers_score_zero(name: str) -> None:
    assert_hedges_score_zero(BY_NAME[name])


@pytest.mark.parametrize("name", ["synthesis_decomposition"])
def test_a_copy_of_the_question_never_scores(name: str) -> None:
    assert_question_copy_never_scores(BY_NAME[name])


# -- string_splitting and string_synthesis ----------------------------------------------------------


def test_splitting_levels_use_the_published_count_ranges() -> None:
    batch = entries("string_splitting")
    phrasings = Counter()
    for e in batch:
        lo, hi = resource_cycles.StringSplitting.LEVEL_COUNTS[e["metadata"]["complexity"]]
        assert all(lo <= v <= hi for v in e["metadata"]["initial"])
        for options in resource_cycles._SPLIT_PHRASES:
            phrasings.update(p for p in options if p in e["question"])
    assert max(max(e["metadata"]["initial"]) for e in batch) == 10
    assert min(min(e["metadata"]["initial"]) for e in batch) == 1
    assert len(phrasings) == 15, "every method appears in each of its three phrasings"


@needs_external
def test_published_splitting_samples_are_level_1() -> None:
    lo, hi = resource_cycles.StringSplitting.LEVEL_COUNTS[1]
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


def test_synthesis_levels_span_the_published_counts() -> None:
    batch = entries("string_synthesis")
    for e in batch:
        most = resource_cycles.StringSynthesis.LEVEL_MAX[e["metadata"]["complexity"]]
        assert all(1 <= v <= m for v, m in zip(e["metadata"]["initial"], most, strict=True))
    top = [e["metadata"]["initial"] for e in batch if e["metadata"]["complexity"] == 5]
    assert max(max(v) for v in top) > 8, "level 5 goes past the published maxima (5, 8, 7)"


@needs_external
def test_published_synthesis_counts_are_within_level_4() -> None:
    most = resource_cycles.StringSynthesis.LEVEL_MAX[4]
    for e in published("string_synthesis"):
        assert all(1 <= v <= m for v, m in zip(e["metadata"]["initial"], most, strict=True))


@pytest.mark.parametrize("name", ["string_splitting", "string_synthesis"])
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


# -- synthesis_decomposition ------------------------------------------------------------------------


def test_synthesis_spans_the_three_published_variants(spread: dict[str, list[dict]]) -> None:
    entries = spread["synthesis_decomposition"]
    shapes = Counter((len(e["metadata"]["resources"]), len(e["metadata"]["methods"])) for e in entries)
    assert set(shapes) == {(3, 2), (4, 3), (5, 4)}
    hardest = next(e for e in entries if len(e["metadata"]["resources"]) == 5)
    assert hardest["metadata"]["resources"] == ["A", "B", "C", "X", "Y"]
    assert "grows A, B, and C" in hardest["question"] and "products X and Y" in hardest["question"]
    assert "Method 4:" in hardest["question"] and "obtained_Y]" in hardest["question"]
    # the drawn-amount levels really vary the methods; the published_folder-amount levels never do
    for drawn in (False, True):
        methods = {
            json.dumps(e["metadata"]["methods"]) for e in entries if (e["metadata"]["complexity"] % 2 == 0) == drawn
        }
        assert (len(methods) > 3) == drawn


def test_synthesis_answer_of_an_easier_variant_scores_zero() -> None:
    task = BY_NAME["synthesis_decomposition"]
    e = next(iter(task.generate(1, seed=5, complexity=5)))
    final = e["metadata"]["final"]
    resources = e["metadata"]["resources"]
    keep_ab_x = [final[resources.index(r)] for r in "ABX"]  # the 3-number layout of the 2-crop variant
    for hack in (keep_ab_x, final[:4], [*final, 0]):
        assert task.score(wrap(str(hack)), e) == 0.0, hack
    for ok in (str(final), " ".join(map(str, final)), json.dumps([str(v) for v in final]), str([final])):
        assert task.score(wrap(ok), e) == 1.0, ok


@needs_external
@pytest.mark.parametrize("name", ["synthesis_decomposition"])
def test_local_published_samples_score_one(name: str) -> None:
    task = BY_NAME[name]
    entries = [e for folder in task.published_folders for e in published_folder(task, SYMBENCH / folder)]
    assert len(entries) >= 20
    for e in entries:
        assert task.score(wrap(e["answer"]), e) == 1.0, e["id"]
        for w in task.corruptions(e):
            assert task.score(wrap(w), e) == 0.0, (e["id"], w)


def _units(k: int, kind: str, letter: str, *, plural_always: bool = False) -> str:
    return f"{k} unit{'s' if plural_always or k > 1 else ''} of {kind} {letter}"


def _published_synthesis_sample(root: Path, name: str, complexity: int, stock: dict[str, int]) -> list[int]:
    """A sample written the way the published_folder generator writes its three variants (its wording quirks
    included: every method output is called a "product", the initial stock always says "units")."""
    variants = {
        1: ("AB", "X", [({"A": 1, "B": 1}, {"X": 1}), ({"A": 3}, {"X": 2})]),
        3: ("ABC", "X", [({"A": 1, "B": 1, "C": 1}, {"X": 1}), ({"A": 1, "B": 1}, {"C": 2}), ({"C": 2}, {"X": 1})]),
        5: (
            "ABC",
            "XY",
            [
                ({"A": 2, "B": 1, "C": 1}, {"X": 3}),
                ({"A": 1, "B": 1}, {"C": 2}),
                ({"C": 2, "X": 1}, {"Y": 1}),
                ({"A": 1, "X": 2}, {"Y": 1}),
            ],
        ),
    }
    crops, products, methods = variants[complexity]
    lines = []
    for i, (needs, gives) in enumerate(methods, 1):
        ins = " and ".join(_units(k, "crop" if r in "ABC" else "product", r) for r, k in needs.items())
        outs = " and ".join(_units(k, "product", r) for r, k in gives.items())
        lines.append(f"Method {i}: {ins} can be exchanged for {outs}, and this can be done only once per cycle.")
    layout = [f"remaining_{c}" for c in crops] + [f"obtained_{p}" for p in products]
    grows = "A, B, and C" if len(crops) == 3 else "A and B"
    question = (
        f"Xiao Li is a farm owner who grows {grows}. He can exchange these crops for agricultural "
        f"product{'s' if len(products) > 1 else ''} {' and '.join(products)}. He has discovered the following "
        "methods to increase the farm's yield:\n\n" + "\n\n".join(lines) + "\n\n"
        "Xiao Li continuously cycles through these methods in the given order, executing one method at a time. "
        f"After Method {len(methods)}, start again from Method 1. Continue this cycle until no method can be "
        "executed.\n\nInitially there are "
        + ", ".join(_units(k, "crop", r, plural_always=True) for r, k in stock.items())
        + ".\n\nFirst output the entire reasoning process step by step, showing each synthesis step's result. "
        f"Then wrap your final answer in <<<>>> format as a list showing [{', '.join(layout)}]. For example, if "
        "there are 1 unit of crop A, 0 units of crop B, and 3 units of product X remaining, output: <<<[1, 0, 3]>>>"
    )
    final = _published_cycle(stock, methods)
    stored = [str(final.get(r, 0)) for r in "ABCXY"]
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "question.txt").write_text(question)
    solution = {"initial_state": stock, "solution": {"answer": stored, "process": []}, "complexity": complexity}
    (folder / "solution.json").write_text(json.dumps(solution, indent=2))
    return [final.get(r, 0) for r in crops + products]


def test_every_published_synthesis_variant_is_read_and_scored(tmp_path: Path) -> None:
    task = BY_NAME["synthesis_decomposition"]
    expected = {
        "sample_0": _published_synthesis_sample(tmp_path, "sample_0", 1, {"A": 5, "B": 3}),
        "sample_1": _published_synthesis_sample(tmp_path, "sample_1", 3, {"A": 7, "B": 5, "C": 4}),
        "sample_2": _published_synthesis_sample(tmp_path, "sample_2", 5, {"A": 8, "B": 3, "C": 6}),
    }
    entries = published_folder(task, tmp_path)
    assert [len(e["metadata"]["resources"]) for e in entries] == [3, 4, 5]
    for e in entries:
        final = expected[e["id"].rsplit("-", 1)[1]]
        assert e["metadata"]["final"] == final
        assert task.score(wrap(str(final)), e) == 1.0
        assert (
            resource_cycles.SynthesisDecomposition.solve(
                **{k: e["metadata"][k] for k in ("resources", "initial", "methods")}
            )
            == final
        )
        for w in task.corruptions(e):
            assert task.score(wrap(w), e) == 0.0, w
    two_products = entries[2]["metadata"]
    # "2 units of product C" in the published_folder text is crop C: method 2 turns A and B into C
    assert two_products["methods"][1] == [[1, 1, 0, 0, 0], [0, 0, 2, 0, 0]]


def test_malformed_synthesis_samples_are_reported(tmp_path: Path) -> None:
    task = BY_NAME["synthesis_decomposition"]
    _published_synthesis_sample(tmp_path, "sample_0", 5, {"A": 6, "B": 2, "C": 5})
    bad = tmp_path / "sample_1"
    bad.mkdir()
    (bad / "question.txt").write_text(
        (tmp_path / "sample_0" / "question.txt").read_text().replace("Method 3", "Method 7")
    )
    (bad / "solution.json").write_text((tmp_path / "sample_0" / "solution.json").read_text())
    wrong = tmp_path / "sample_2"
    wrong.mkdir()
    (wrong / "question.txt").write_text((tmp_path / "sample_0" / "question.txt").read_text())
    solution = json.loads((tmp_path / "sample_0" / "solution.json").read_text())
    solution["solution"]["answer"][4] = str(int(solution["solution"]["answer"][4]) + 1)
    (wrong / "solution.json").write_text(json.dumps(solution))
    items = list(task.load_published(tmp_path))
    assert isinstance(items[0], dict)
    assert isinstance(items[1], PublishedDataError) and "numbered" in str(items[1])
    assert isinstance(items[2], PublishedDataError) and "not what the question's methods give" in str(items[2])
