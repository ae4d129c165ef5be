"""Example questions for the chat, drawn from held-out test tasks, so "check the answer" has a verifier.

Only tasks that generate offline in milliseconds are used (no dataset download at start-up); a task
that fails to generate is skipped, never a reason for the page not to load.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

#: Test tasks with short questions that a code call settles, in the order the dropdown lists them.
EXAMPLE_TASKS = (
    "reasoning_gym/prime_factorization",
    "reasoning_gym/bitwise_arithmetic",
    "reasoning_gym/time_intervals",
    "reasoning_gym/dice",
    "reasoning_gym/countdown",
    "symbench/light_puzzles",
    "symbench/eight_queens",
    "reasoning_gym/tower_of_hanoi",
)


def example_entries(tasks: tuple[str, ...] = EXAMPLE_TASKS, per_task: int = 1, seed: int = 0) -> list[dict[str, Any]]:
    """Task entries (task, id, question, answer, metadata) for the example dropdown."""
    from dataset_builders import get_task

    entries: list[dict[str, Any]] = []
    for name in tasks:
        try:
            task = get_task(name)
            entries += list(task.generate(per_task, seed=seed))[:per_task]
        except Exception as exc:  # an example that cannot be made is left out; the chat works without it
            log.warning("no example from %s: %s", name, exc)
    return entries


def example_label(entry: dict[str, Any], width: int = 70) -> str:
    """A one-line label for the dropdown: task, then the start of the question."""
    question = " ".join(entry["question"].split())
    if len(question) > width:
        question = question[: width - 1] + "…"
    return f"{entry['task']}: {question}"
