"""`r1ci published convert`: the paper's published data (a Hub repo or a folder) as a `datasets`-native repo.

The paper's data repo is a raw folder tree that `load_dataset` and the Hub's viewer cannot read. This
reads it with `read_published` (only the task folders it needs are downloaded), keeps every entry
whose reference answer passes its task's verifier (the per-task readers check that), and writes one
config per task, plus `train` and `test` that gather the train and held-out tasks, with exactly the
columns of our tasks dataset (`tasks_dataset.COLUMNS`), so `load_dataset(REPO_or_DIR, "<config>")`
works and `get_task(row["task"]).score(...)` scores its rows. The card credits and links the
source and carries its license over (stated unknown when the source card has none); everything that
was not converted is listed in it with the reason.

The folder is written in a temporary sibling and renamed into place (`hub_tools.dataset_folder`)
and pushed with `hub_tools.publish.push_folder`, tagged after its content: converting the same
source again makes no new commit.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from tqdm.auto import tqdm

from dataset_builders.published import PublishedRead, read_published
from dataset_builders.registry import get_task
from dataset_builders.task import PublishedDataError
from dataset_builders.tasks_dataset import COLUMNS, row_of, task_configs, write_and_push
from hub_tools.errors import HubInputError
from hub_tools.publish import PushResult, Target, provenance, resolve_target
from model_cards.dataset_cards import TaskRow

#: Problems shown on the terminal (all of them go into the card's count).
SHOWN_PROBLEMS = 10


@dataclass
class Conversion:
    folder: Path
    read: PublishedRead
    tasks: list[TaskRow] = field(default_factory=list)
    push: PushResult | None = None

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tasks)


def convert_published(
    source: str,
    target: Target,
    *,
    revision: str | None = None,
    only: list[str] | None = None,
) -> Conversion:
    """Read `source`, write `target.folder` as a datasets repo and push it when the target pushes."""
    from datasets import Dataset, Features, Value
    from huggingface_hub import constants

    from model_cards.published_card import published_dataset_card, source_credit, source_license

    read = read_published(source, revision=revision, only=only, progress=True)
    by_task: dict[str, list[dict[str, str]]] = {}
    for entry in read.entries:
        by_task.setdefault(entry["task"], []).append(entry)  # type: ignore[arg-type]
    if not by_task:
        first = "; ".join(str(e) for e in read.errors[:3]) or "no task folder was found"
        raise HubInputError(f"{read.source}: no entry could be converted ({len(read.errors)} problem(s); {first})")
    features = Features({c: Value("string") for c in COLUMNS})
    per_task: dict[str, Dataset] = {}
    conversion = Conversion(folder=target.folder, read=read)
    for name in tqdm(sorted(by_task), desc="converting tasks", unit="task"):
        task = get_task(name)
        rows = [row_of(task, e) for e in by_task[name]]  # type: ignore[arg-type]
        per_task[name] = Dataset.from_list(rows, features=features)
        conversion.tasks.append(TaskRow(name, task.source, task.split, len(rows), ""))
    configs = task_configs(per_task, conversion.tasks)

    settings = {"source": read.repo_id or Path(read.source).name, "revision": read.revision, "commit": read.commit}
    card = published_dataset_card(
        repo_id=target.repo_id or str(target.folder),
        tasks=conversion.tasks,
        license=source_license(read.card),
        credit=source_credit(read.source, read.repo_id, read.revision, read.commit, constants.ENDPOINT),
        source_repo=read.repo_id,
        problems=[str(e) for e in read.errors],
        provenance=", ".join(f"{k} {v}" for k, v in {**provenance(), **settings}.items() if v),
    )
    conversion.push = write_and_push(
        target, configs, card,
        summary=f"Convert the published data: {len(conversion.tasks)} tasks, {conversion.rows} rows",
        settings={k: v for k, v in settings.items() if v}, tag="published",
    )  # fmt: skip
    return conversion


def problem_report(errors: list[PublishedDataError], shown: int = SHOWN_PROBLEMS) -> list[str]:
    """Lines that count the problems per task (or 'not read' for what no task reads) and show the first ones."""
    if not errors:
        return []
    counts = Counter(getattr(e, "task", None) or "not read by any task" for e in errors)
    lines = [f"{len(errors)} problem(s) were not converted: " + ", ".join(f"{k} {v}" for k, v in counts.most_common())]
    lines += [f"  - {e}" for e in errors[:shown]]
    if len(errors) > shown:
        lines.append(f"  ... and {len(errors) - shown} more (all are listed in the card)")
    return lines


# -- command line ---------------------------------------------------------------------------------


def make_parser(subparsers: argparse._SubParsersAction) -> None:
    from dataset_builders import paper_traces

    published = subparsers.add_parser("published", help="the paper's own published data and traces")
    psub = published.add_subparsers(dest="published_command", required=True)
    p = psub.add_parser(
        "convert",
        help="convert the paper's published data (Hub repo or folder) into a datasets repo, one config per task",
    )
    p.add_argument(
        "--source", required=True, help="Hub dataset repo id (e.g. yongchao98/R1-Code-Interpreter-Data) or folder"
    )
    p.add_argument("--revision", help="branch, tag or commit of the source repo (default: main)")
    p.add_argument("--tasks", help="comma-separated task names to convert (default: every task the source holds)")
    p.add_argument("--output-dir", help="local folder with the Hub repo's layout (load_dataset(folder, config))")
    p.add_argument("--push-to-hub", metavar="REPO", help="dataset repo id to publish the conversion to")
    p.add_argument("--private", action="store_true", help="create the Hub repo private")
    p.set_defaults(func=main)
    paper_traces.make_parser(psub)


def main(args: argparse.Namespace) -> int:
    target = resolve_target(args.output_dir, args.push_to_hub, private=args.private)
    only = [n.strip() for n in args.tasks.split(",") if n.strip()] if args.tasks else None
    if only:
        for name in only:
            get_task(name)  # an unknown name ends here, before anything is downloaded
    console = Console()
    conversion = convert_published(args.source, target, revision=args.revision, only=only)
    for line in problem_report(conversion.read.errors):
        console.print(line, soft_wrap=True, highlight=False, markup=False)
    console.print(
        f"{conversion.rows} rows of {len(conversion.tasks)} tasks written to {conversion.folder}",
        highlight=False,
        markup=False,
    )
    if conversion.push is not None:
        state = "new commit" if conversion.push.new_commit else "unchanged, no new commit"
        console.print(
            f"pushed to {conversion.push.url} ({state} {conversion.push.commit[:12]}, tag {conversion.push.tag})"
        )
    elif target.repo_id:
        console.print(f"HF_HUB_OFFLINE is set: not pushed to {target.repo_id}; the folder has the repo's layout")
    return 0
