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

#: 23 of 84 Reasoning-Gym tasks, about a quarter of each Reasoning-Gym category (algebra 1/5,
#: algorithmic 6/28, arc 1/3, arithmetic 4/17, cognition 2/6, games 3/8, geometry 1/2, graphs 2/6,
#: induction 1/2, logic 2/5; the one-task categories code and probability stay in train), so the
#: held-out set spans the skills. Most are search, simulation or constraint tasks where running
#: code decides the outcome (cryptarithm, graph_color, jugs, word_ladder, countdown, kakurasu,
#: tower_of_hanoi, quantum_lock, shortest_path, rubiks_cube, rotten_oranges); some lean on reading
#: and inference (knights_knaves, self_reference, list_functions, arc_1d, rectangle_count), so the
#: test also measures when *not* to write code. Near-twins stay on one side (game_of_life and
#: game_of_life_halting both train); related families may straddle the split (arc_1d held out,
#: arc_agi and rearc in train), which tests transfer rather than recall.
REASONING_GYM_TEST = frozenset(
    {
        "reasoning_gym/polynomial_equations",
        "reasoning_gym/cryptarithm",
        "reasoning_gym/graph_color",
        "reasoning_gym/jugs",
        "reasoning_gym/word_ladder",
        "reasoning_gym/rotten_oranges",
        "reasoning_gym/palindrome_partitioning",
        "reasoning_gym/arc_1d",
        "reasoning_gym/bitwise_arithmetic",
        "reasoning_gym/dice",
        "reasoning_gym/time_intervals",
        "reasoning_gym/prime_factorization",
        "reasoning_gym/rectangle_count",
        "reasoning_gym/rubiks_cube",
        "reasoning_gym/countdown",
        "reasoning_gym/kakurasu",
        "reasoning_gym/tower_of_hanoi",
        "reasoning_gym/advanced_geometry",
        "reasoning_gym/shortest_path",
        "reasoning_gym/quantum_lock",
        "reasoning_gym/list_functions",
        "reasoning_gym/knights_knaves",
        "reasoning_gym/self_reference",
    }
)

TEST_TASKS = SYMBENCH_TEST | BBH_TEST | REASONING_GYM_TEST


def split_of(task_name: str) -> str:
    """Return "test" for a held-out task, else "train"."""
    return "test" if task_name in TEST_TASKS else "train"
