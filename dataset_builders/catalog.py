"""What `r1ci tasks list|show|stats|validate` print: the task table, sample questions, difficulty ranges,
published-data checks.

Each function prints with rich and returns an exit code: 0 for success, 1 when the work found a
problem (data unavailable, published samples rejected), 2 for bad input (unknown task, missing
path). Errors are one readable sentence on stderr, never a traceback. Published entries whose stored
reference breaks its question's own rules but is kept as published (flagged in metadata, accepted
by the verifier) are listed by `validate` as warnings with the reason; they do not fail it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter, defaultdict

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dataset_builders.registry import get_task, list_tasks
from dataset_builders.task import FLAWED_REFERENCE, FLAWED_REFERENCE_REASON, SOURCES, Entry, TaskDataUnavailable

#: How many problems `validate` lists in full before summarising the rest.
MAX_LISTED_PROBLEMS = 50


def _out() -> Console:
    return Console()


def _err() -> Console:
    return Console(stderr=True)


def _fail(message: str, code: int) -> int:
    _err().print(Text(f"error: {message}", style="bold red"), soft_wrap=True)
    return code


def print_table(source: str | None = None, split: str | None = None) -> int:
    """Print every task (optionally one source and/or split) with counts per source and split."""
    if source is not None and source not in SOURCES:
        return _fail(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}", 2)
    if split is not None and split not in ("train", "test"):
        return _fail(f"unknown split {split!r}; choose train or test", 2)
    tasks = list_tasks(source=source, split=split)
    console = _out()
    if not tasks:
        console.print("no tasks match")
        return 0
    table = Table(title=f"{len(tasks)} tasks", show_lines=False)
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("source")
    table.add_column("split")
    table.add_column("levels", justify="right")
    table.add_column("description")
    for task in tasks:
        table.add_row(task.name, task.source, task.split, str(task.complexity_levels), Text(task.description))
    console.print(table)

    counts = Counter((t.source, t.split) for t in tasks)
    summary = Table(title="counts")
    summary.add_column("source")
    for column in ("train", "test", "total"):
        summary.add_column(column, justify="right")
    for src in SOURCES:
        train, test = counts[(src, "train")], counts[(src, "test")]
        if train or test:
            summary.add_row(src, str(train), str(test), str(train + test))
    train, test = (
        sum(n for (_, s), n in counts.items() if s == "train"),
        sum(n for (_, s), n in counts.items() if s == "test"),
    )
    summary.add_row("all", str(train), str(test), str(train + test), style="bold")
    console.print(summary)
    return 0


def show(name: str, n: int = 3, seed: int = 0) -> int:
    """Print `n` generated questions of task `name` with their reference answers."""
    if n < 1:
        return _fail(f"n must be at least 1, got {n}", 2)
    try:
        task = get_task(name)
    except KeyError as exc:
        return _fail(str(exc.args[0]), 2)
    try:
        entries = list(task.generate(n, seed=seed))
    except TaskDataUnavailable as exc:
        return _fail(str(exc), 1)
    console = _out()
    console.print(Text(f"{task.name} ({task.source}, {task.split}): {task.description}", style="bold"))
    for entry in entries:
        ok = task.score(f"<<<{entry['answer']}>>>", entry) == 1.0
        verdict = "reference verifies" if ok else "REFERENCE DOES NOT VERIFY"
        console.print(
            Panel(
                Text(entry["question"]),
                title=Text(entry["id"]),
                subtitle=Text(f"answer: {_clip(entry['answer'], 200)}  ({verdict})"),
                title_align="left",
                subtitle_align="left",
            )
        )
    return 0


def stats(name: str, n: int = 200, seed: int = 0) -> int:
    """Print the difficulty range of `n` generated entries of task `name`: per level, what the
    generator's knobs are, how many entries, question and answer sizes, and generation time."""
    if n < 1:
        return _fail(f"n must be at least 1, got {n}", 2)
    try:
        task = get_task(name)
    except KeyError as exc:
        return _fail(str(exc.args[0]), 2)
    start = time.perf_counter()
    try:
        entries = list(task.generate(n, seed=seed))
    except TaskDataUnavailable as exc:
        return _fail(str(exc), 1)
    seconds = time.perf_counter() - start
    by_level: dict[int, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_level[int(entry["metadata"].get("complexity", 0))].append(entry)

    table = Table(title=f"{task.name}: {n} entries (seed {seed}), {task.complexity_levels} level(s)")
    table.add_column("level", justify="right")
    table.add_column("what the generator does", overflow="fold")
    for column in ("entries", "question chars (min/median/max)", "answer chars (median)"):
        table.add_column(column, justify="right")
    for level, group in sorted(by_level.items()):
        q = [len(e["question"]) for e in group]
        a = [len(e["answer"]) for e in group]
        described = task.level_description(level) if level else "level not recorded (dataset rows or library defaults)"
        spread = f"{min(q)} / {int(statistics.median(q))} / {max(q)}"
        table.add_row(str(level), Text(described), str(len(group)), spread, str(int(statistics.median(a))))
    console = _out()
    console.print(table)
    console.print(f"generated in {seconds:.2f} s ({1000 * seconds / n:.1f} ms per entry)")
    missing = sorted(set(range(1, task.complexity_levels + 1)) - set(by_level))
    if missing and task.complexity_levels > 1:
        console.print(Text(f"levels not drawn in {n} entries: {missing}", style="yellow"))
    return 0


def validate(path: str | os.PathLike[str]) -> int:
    """Check the paper's published data at `path` against our verifiers; 1 if anything failed."""
    from dataset_builders.published import load_published

    try:
        entries, errors = load_published(path, on_error="collect")
    except FileNotFoundError as exc:
        return _fail(str(exc), 2)

    accepted: Counter[str] = Counter()
    rejected: dict[str, list[str]] = defaultdict(list)
    flagged: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for entry in entries:
        task = get_task(entry["task"])
        if task.score(f"<<<{entry['answer']}>>>", entry) == 1.0:
            accepted[task.name] += 1
        else:
            rejected[task.name].append(entry["id"])
        metadata = entry.get("metadata") or {}
        if metadata.get(FLAWED_REFERENCE):
            flagged[task.name].append((entry["id"], str(metadata.get(FLAWED_REFERENCE_REASON) or "")))
    bad_files: Counter[str] = Counter(getattr(e, "task", None) or "(no task)" for e in errors)

    table = Table(title=f"published data at {path}")
    table.add_column("task", style="bold", overflow="fold")
    for column in ("entries", "accepted", "flagged", "rejected", "bad files"):
        table.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    for name in sorted(set(accepted) | set(rejected) | set(bad_files)):
        n_rej, n_flag = len(rejected.get(name, ())), len(flagged.get(name, ()))
        style = "red" if n_rej or bad_files[name] else "yellow" if n_flag else None
        counts = (accepted[name] + n_rej, accepted[name], n_flag, n_rej, bad_files[name])
        table.add_row(name, *map(str, counts), style=style)
    n_rejected = sum(len(v) for v in rejected.values())
    n_flagged = sum(len(v) for v in flagged.values())
    totals = (len(entries), sum(accepted.values()), n_flagged, n_rejected, len(errors))
    table.add_row("all", *map(str, totals), style="bold")
    console = _out()
    if not console.is_terminal:  # piped or captured: keep every task name on one line, so it stays greppable
        console.width = max(console.width, max(map(len, accepted | rejected | bad_files), default=0) + 60)
    console.print(table)

    if n_flagged:
        console.print(
            Text(
                f"warning: {n_flagged} published reference(s) break their question's own rules; they are kept as "
                f"published (metadata {FLAWED_REFERENCE}=true) and accepted, as the paper's checker accepted them:",
                style="bold yellow",
            ),
            soft_wrap=True,
        )
        for name, items in sorted(flagged.items()):
            for id_, reason in items:
                console.print(Text(f"- {name} {id_}: {reason}", style="yellow"), soft_wrap=True)

    problems = [f"{name}: reference answer of {id_} is not accepted" for name, ids in rejected.items() for id_ in ids]
    problems += [str(e) for e in errors]
    for line in problems[:MAX_LISTED_PROBLEMS]:
        console.print(Text(f"- {line}", style="red"), soft_wrap=True)  # whole paths stay greppable
    if len(problems) > MAX_LISTED_PROBLEMS:
        console.print(Text(f"... and {len(problems) - MAX_LISTED_PROBLEMS} more", style="red"))
    if not entries and not errors:
        return _fail(f"no published samples found at {path}", 1)
    ok = not problems
    if ok:
        verdict = f"all {len(entries)} reference solutions verify"
        verdict += f" ({n_flagged} flagged, see the warning above)" if n_flagged else ""
    else:
        verdict = f"{len(problems)} problem(s)"
    console.print(Text(verdict, style="bold"))
    return 0 if ok else 1


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- command line ---------------------------------------------------------------------------------


def make_parser(subparsers: argparse._SubParsersAction) -> None:
    from dataset_builders import tasks_dataset

    tasks = subparsers.add_parser("tasks", help="the 144 reasoning and planning tasks")
    tasks.set_defaults(func=main)
    tsub = tasks.add_subparsers(dest="tasks_command", required=True)
    tl = tsub.add_parser("list", help="table of tasks: name, source, split, levels, what it tests")
    tl.add_argument("--source", choices=list(SOURCES))
    tl.add_argument("--split", choices=["train", "test"])
    ts = tsub.add_parser("show", help="a few generated questions with answers")
    ts.add_argument("name")
    ts.add_argument("-n", type=int, default=3)
    ts.add_argument("--seed", type=int, default=0)
    tst = tsub.add_parser("stats", help="the difficulty range a task's generator produces, per level")
    tst.add_argument("name")
    tst.add_argument("-n", type=int, default=200)
    tst.add_argument("--seed", type=int, default=0)
    tasks_dataset.make_parser(tsub)
    tv = tsub.add_parser("validate", help="check the paper's published data against our verifiers")
    tv.add_argument("path")


def main(args: argparse.Namespace) -> int:
    if args.tasks_command == "list":
        return print_table(source=args.source, split=args.split)
    if args.tasks_command == "show":
        return show(args.name, n=args.n, seed=args.seed)
    if args.tasks_command == "stats":
        return stats(args.name, n=args.n, seed=args.seed)
    if args.tasks_command == "build":
        from dataset_builders import tasks_dataset

        return tasks_dataset.main(args)
    return validate(args.path)
