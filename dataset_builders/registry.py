"""The task registry: `get_task(name)` and `list_tasks()` over all sources."""

from __future__ import annotations

from functools import cache

from code_interpreter.errors import InputError
from dataset_builders.task import Task


class UnknownTask(InputError, KeyError):
    """No task has this name; the message suggests near names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@cache
def _all_tasks() -> dict[str, Task]:
    from dataset_builders import bbh, reasoning_gym_tasks, symbench

    tasks: dict[str, Task] = {}
    for module in (symbench, bbh, reasoning_gym_tasks):
        for task in module.TASKS:
            if task.name in tasks:
                raise RuntimeError(f"task {task.name} is registered twice")
            tasks[task.name] = task
    return tasks


def list_tasks(source: str | None = None, split: str | None = None) -> list[Task]:
    """All tasks sorted by name, optionally filtered by source ("symbench", "bbh", "reasoning_gym") and split."""
    return [
        t
        for name, t in sorted(_all_tasks().items())
        if (source is None or t.source == source) and (split is None or t.split == split)
    ]


def get_task(name: str) -> Task:
    """The task called `name` (e.g. "symbench/game24"); a clear error lists near names otherwise."""
    tasks = _all_tasks()
    if name not in tasks:
        import difflib

        near = difflib.get_close_matches(name, tasks, n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else "; run `r1ci tasks list` to see them all"
        raise UnknownTask(f"unknown task {name!r}{hint}")
    return tasks[name]
