"""SymBench: 33 symbolic, planning and arithmetic tasks with seeded generators and rule-based verifiers.

Every module of this package that defines `TASKS` contributes its tasks. A task module holds one
kind of task, named for what its questions ask and how they are verified:

- `constraint_puzzles`: place or select items so that every stated rule holds; any valid answer
  scores 1 (eight_queens, standard_sudoku, letter_logic_diagram, logic_puzzle,
  permutations_and_combinations);
- `deduction`: find the hidden values that every stated clue agrees with; any consistent answer
  scores 1 (logical_equation, cryptanalysis, constrained_linear_arrangement);
- `arithmetic`: reach a target with given numbers, or compute a number exactly (game24,
  combinatorial_calculation, new_operator, number_multiply);
- `games`: play a board or card game's stated moves by its rules and report the one resulting
  board or verdict (2048, light_puzzles, reversi, mahjong_pattern);
- `matrices`: a deterministic function of a matrix (matrix_transformation, pattern_recognition,
  pooling);
- `strings`: rewrite, extend, count letters in or score a string (string_deletion_and_modification,
  string_insertion, letters, statistical_counting);
- `resource_cycles`: exchange methods applied to a stock in a fixed cycle until none applies, one
  shared simulator (string_splitting, string_synthesis, synthesis_decomposition; two keep the
  paper's "string" names);
- `planning`: plans checked step by step by simulation (blocksworld, boxlift, boxnet, path_plan);
- `math_data`: dataset-backed math read from files or the Hub, verified with math-verify (gsm_hard,
  math_counting_and_probability, math_geometry).

A new task joins the module of its kind; a helper two kinds share lives in the support modules
(`published_layout` for reading the paper's data, `number_answers` for numeric answers) or stays
with the kind that owns it and is imported from there.
"""

from __future__ import annotations

import importlib
import pkgutil

TASKS = []
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    TASKS.extend(getattr(_module, "TASKS", ()))
