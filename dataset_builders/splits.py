"""Which tasks are held out for testing (107 train / 37 test, the paper's per-source counts).

The held-out set is fixed here, in one place, so that it can be published in the dataset card and
checked: test tasks never feed traces, SFT or GRPO. Changing it changes every released number.
"""

from __future__ import annotations

#: 7 of 33 SymBench tasks: a mix of search (queens, light puzzles), board games (reversi),
#: arithmetic/array work (pooling), string manipulation, decoding and geometry.
SYMBENCH_TEST = frozenset(
    {
        "symbench/eight_queens",
        "symbench/pooling",
        "symbench/reversi",
        "symbench/string_splitting",
        "symbench/cryptanalysis",
        "symbench/light_puzzles",
        "symbench/math_geometry",
    }
)

#: 7 of 27 Big-Bench-Hard tasks, spread over its skill groups.
BBH_TEST = frozenset(
    {
        "bbh/dyck_languages",
        "bbh/geometric_shapes",
        "bbh/logical_deduction_seven_objects",
        "bbh/navigate",
        "bbh/penguins_in_a_table",
        "bbh/tracking_shuffled_objects_seven_objects",
        "bbh/word_sorting",
    }
)

#: 23 of 84 Reasoning-Gym tasks (filled in with the Reasoning-Gym selection).
REASONING_GYM_TEST: frozenset[str] = frozenset()

TEST_TASKS = SYMBENCH_TEST | BBH_TEST | REASONING_GYM_TEST


def split_of(task_name: str) -> str:
    """Return "test" for a held-out task, else "train"."""
    return "test" if task_name in TEST_TASKS else "train"
