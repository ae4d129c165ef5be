"""`r1ci tasks build`: generate N seeded entries per task and publish them as one dataset.

One config per task (named by `model_cards.dataset_cards.config_name`, split = the task's split)
plus `train` and `test` configs that gather the train and held-out tasks. Columns: task, source,
split, id, question, answer, metadata (a JSON string, which `Task.score` reads as stored). The
folder has the Hub repo's exact layout (`hub_tools.dataset_folder`) and is pushed as it is, tagged
`tasks-<digest>` after its content, so rebuilding the same thing is a no-op on the Hub too.

Dataset-backed tasks whose data is not available where the build runs are skipped with one line
each saying what to set, and listed in the card as absent.

A few Reasoning-Gym generators pick from sets of strings, whose order follows the interpreter's hash
seed (`HASH_SEED_DEPENDENT`). Unless this process runs with `PYTHONHASHSEED=0`, those tasks are
generated in a child process that does, so every build of the same settings has the same bytes
(and a re-push makes no commit) on every machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from tqdm.auto import tqdm

from dataset_builders.reasoning_gym_tasks import HASH_SEED_DEPENDENT
from dataset_builders.registry import get_task, list_tasks
from dataset_builders.task import Entry, Task, TaskDataUnavailable, generate_entries, parse_levels
from hub_tools.dataset_folder import folder_digest, write_dataset_folder
from hub_tools.errors import HubInputError
from hub_tools.publish import PushResult, Target, commit_message, provenance, push_folder, resolve_target
from model_cards.dataset_cards import TaskRow, config_name, tasks_dataset_card

COLUMNS = ("task", "source", "split", "id", "question", "answer", "metadata")


@dataclass
class TasksBuild:
    folder: Path
    rows: int
    built: list[str] = field(default_factory=list)
    absent: list[tuple[str, str]] = field(default_factory=list)
    push: PushResult | None = None


def task_configs(per_task: dict[str, Any], table: Sequence[TaskRow]) -> dict[str, dict[str, Any]]:
    """One config per task (under its split) plus `train` and `test`, which gather the tasks of each split."""
    from datasets import concatenate_datasets

    configs: dict[str, dict[str, Any]] = {}
    for split in ("train", "test"):
        parts = [per_task[t.name] for t in table if t.split == split]
        if parts:
            configs[split] = {split: concatenate_datasets(parts)}
    for t in table:
        configs[config_name(t.name)] = {t.split: per_task[t.name]}
    return configs


def write_and_push(
    target: Target, configs: dict[str, dict[str, Any]], card: str, *, summary: str, settings: dict, tag: str
) -> PushResult | None:
    """Write the folder (default config `train` when there is one) and push it when the target pushes,
    tagged `<tag>-<content digest>` (re-publishing the same bytes keeps its tag)."""
    write_dataset_folder(target.folder, configs, card, default_config="train" if "train" in configs else None)
    if not target.pushes:
        return None
    title, description = commit_message(summary, **settings)
    return push_folder(
        target.folder,
        str(target.repo_id),
        repo_type="dataset",
        private=target.private,
        summary=title,
        description=description,
        tag=f"{tag}-{folder_digest(target.folder)[:12]}",
        content_tag=True,
    )


def row_of(task: Task, entry: Entry) -> dict[str, str]:
    """The dataset row of one entry; metadata becomes a JSON string (Arrow cannot mix dict shapes)."""
    try:
        metadata = json.dumps(entry["metadata"], sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{task.name}: entry {entry['id']} has metadata that is not JSON ({exc})") from None
    return {
        "task": task.name,
        "source": task.source,
        "split": task.split,
        "id": entry["id"],
        "question": entry["question"],
        "answer": entry["answer"],
        "metadata": metadata,
    }


def level_range(entries: list[Entry]) -> str:
    levels = sorted({int(e["metadata"].get("complexity", 0)) for e in entries} - {0})
    return f"{levels[0]}–{levels[-1]}" if len(levels) > 1 else (str(levels[0]) if levels else "—")


def build_tasks_dataset(
    target: Target,
    *,
    task_names: list[str] | None = None,
    num_per_task: int = 200,
    seed: int = 0,
    complexity: str | None = None,
    console: Console | None = None,
) -> TasksBuild:
    """Generate, write `target.folder` and push it when the target has a repo and the Hub is online."""
    from datasets import Dataset, Features, Value

    console = console or Console(stderr=True)
    if num_per_task < 1:
        raise HubInputError(f"--num-per-task must be at least 1, got {num_per_task}")
    parse_levels(complexity)  # a malformed range stops here, before any generation
    tasks = [get_task(n) for n in dict.fromkeys(task_names)] if task_names else list_tasks()  # "a,a": once
    features = Features({c: Value("string") for c in COLUMNS})
    per_task: dict[str, object] = {}
    table: list[TaskRow] = []
    build = TasksBuild(folder=target.folder, rows=0)
    with _FixedHashSeed(
        [t.name for t in tasks if _depends_on_hash_seed(t)], num_per_task, seed, complexity
    ) as elsewhere:
        for task in tqdm(tasks, desc="generating tasks", unit="task"):
            try:
                rows, levels = (
                    elsewhere.pop(task.name).result()
                    if task.name in elsewhere
                    else _rows(task.name, num_per_task, seed, complexity)
                )
            except TaskDataUnavailable as exc:
                build.absent.append((task.name, str(exc)))
                console.print(f"[yellow]skipped[/] {exc}", soft_wrap=True, highlight=False)
                continue
            per_task[task.name] = Dataset.from_list(rows, features=features)
            distinct = len({r["question"] for r in rows})
            table.append(TaskRow(task.name, task.source, task.split, len(rows), levels, distinct))
            build.built.append(task.name)
    if not per_task:
        raise HubInputError("no task could be built here; see the lines above for what to set")

    configs = task_configs(per_task, table)
    build.rows = sum(t.rows for t in table)

    settings = {"seed": seed, "num_per_task": num_per_task, "tasks": len(table), "absent": len(build.absent)}
    if complexity is not None:
        settings["complexity"] = complexity
    card = tasks_dataset_card(
        repo_id=target.repo_id or str(target.folder),
        tasks=table,
        absent=build.absent,
        num_per_task=num_per_task,
        seed=seed,
        provenance=", ".join(f"{k} {v}" for k, v in {**provenance(), **settings}.items()),
    )
    build.push = write_and_push(
        target, configs, card, summary=f"Build the tasks dataset: {len(table)} tasks x {num_per_task}",
        settings=settings, tag="tasks",
    )  # fmt: skip
    return build


def _rows(name: str, num_per_task: int, seed: int, complexity: str | None) -> tuple[list[dict[str, str]], str]:
    """The dataset rows of one task and their difficulty range (module level: run in a child too)."""
    task = get_task(name)
    entries = list(generate_entries(task, num_per_task, seed, complexity))
    return [row_of(task, e) for e in entries], level_range(entries)


def _depends_on_hash_seed(task: Task) -> bool:
    return getattr(task, "dataset", None) in HASH_SEED_DEPENDENT and sys.flags.hash_randomization != 0


class _FixedHashSeed:
    """Generates `names` in one child process started with PYTHONHASHSEED=0; {name: Future of _rows}."""

    def __init__(self, names: list[str], num_per_task: int, seed: int, complexity: str | None) -> None:
        self.names, self.args = names, (num_per_task, seed, complexity)
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> dict[str, Future]:
        if not self.names:
            return {}
        saved = os.environ.get("PYTHONHASHSEED")
        os.environ["PYTHONHASHSEED"] = "0"  # a spawned child reads the environment as it starts
        try:
            self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            self.pool.submit(os.getpid).result()  # the child has started (and read its hash seed)
        finally:
            if saved is None:
                del os.environ["PYTHONHASHSEED"]
            else:
                os.environ["PYTHONHASHSEED"] = saved
        return {name: self.pool.submit(_rows, name, *self.args) for name in self.names}

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


# -- command line ---------------------------------------------------------------------------------


def make_parser(tasks_subparsers: argparse._SubParsersAction) -> None:
    p = tasks_subparsers.add_parser("build", help="generate N entries per task and publish them as one dataset")
    p.add_argument("--tasks", help="comma-separated task names (default: all 144)")
    p.add_argument("--num-per-task", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--complexity", help="generated questions from these levels only: a level (2) or a range (1-3)")
    p.add_argument("--output-dir", help="local folder with the Hub repo's layout (load_dataset(folder, config))")
    p.add_argument("--push-to-hub", metavar="REPO", help="dataset repo id, e.g. <org>/R1-CI-tasks")
    p.add_argument("--private", action="store_true", help="create the Hub repo private")


def main(args: argparse.Namespace) -> int:
    target = resolve_target(args.output_dir, args.push_to_hub, private=args.private)
    names = [n.strip() for n in args.tasks.split(",") if n.strip()] if args.tasks else None
    console = Console()
    build = build_tasks_dataset(
        target, task_names=names, num_per_task=args.num_per_task, seed=args.seed, complexity=args.complexity
    )
    console.print(
        f"{build.rows} rows of {len(build.built)} tasks written to {build.folder}"
        + (f" ({len(build.absent)} absent: data not available here)" if build.absent else "")
    )
    if build.push is not None:
        state = "new commit" if build.push.new_commit else "unchanged, no new commit"
        console.print(f"pushed to {build.push.url} ({state} {build.push.commit[:12]}, tag {build.push.tag})")
    elif target.repo_id:
        console.print(f"HF_HUB_OFFLINE is set: not pushed to {target.repo_id}; the folder has the repo's layout")
    return 0
