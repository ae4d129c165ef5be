"""The `r1ci` command line: one thin module that wires the parts together."""

from __future__ import annotations

import argparse
import sys


def _tasks(args: argparse.Namespace) -> int:
    from dataset_builders import catalog

    if args.tasks_command == "list":
        return catalog.print_table(source=args.source, split=args.split)
    if args.tasks_command == "show":
        return catalog.show(args.name, n=args.n, seed=args.seed)
    if args.tasks_command == "stats":
        return catalog.stats(args.name, n=args.n, seed=args.seed)
    if args.tasks_command == "build":
        from dataset_builders import tasks_dataset

        return tasks_dataset.main(args)
    return catalog.validate(args.path)


def _tiny_model(args: argparse.Namespace) -> int:
    from trainers.tiny_model import build_tiny_model

    path = build_tiny_model(args.out, hidden_size=args.hidden_size, num_layers=args.num_layers, seed=args.seed)
    print(f"tiny Qwen2 model with the Qwen2.5 tokenizer saved to {path}")
    return 0


def _quickstart(args: argparse.Namespace) -> int:
    from trainers.quickstart import run_quickstart

    return run_quickstart(out_dir=args.out, n_questions=args.n, seed=args.seed)


def _rollouts(args: argparse.Namespace) -> int:
    from rich.console import Console

    from trainers.rollouts import load_job_config, print_transcripts, run_rollouts

    config = load_job_config(args.config, model=args.model, output_dir=args.output_dir)
    console = Console()
    path, records = run_rollouts(config, console)
    if args.show:
        print_transcripts(records, console)
    solved = sum(r["score"] for r in records)
    console.print(f"{len(records)} episodes, mean score {solved / max(1, len(records)):.3f}; transcripts: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="r1ci", description="R1-Code-Interpreter toolkit.")
    sub = parser.add_subparsers(dest="command", required=True)

    tasks = sub.add_parser("tasks", help="the 144 reasoning and planning tasks")
    tsub = tasks.add_subparsers(dest="tasks_command", required=True)
    tl = tsub.add_parser("list", help="table of tasks: name, source, split, what it tests")
    tl.add_argument("--source", choices=["symbench", "bbh", "reasoning_gym"])
    tl.add_argument("--split", choices=["train", "test"])
    ts = tsub.add_parser("show", help="a few generated questions with answers")
    ts.add_argument("name")
    ts.add_argument("-n", type=int, default=3)
    ts.add_argument("--seed", type=int, default=0)
    tst = tsub.add_parser("stats", help="the difficulty range a task's generator produces, per level")
    tst.add_argument("name")
    tst.add_argument("-n", type=int, default=200)
    tst.add_argument("--seed", type=int, default=0)
    from dataset_builders.tasks_dataset import make_parser as make_build_parser

    make_build_parser(tsub)
    tv = tsub.add_parser("validate", help="check the paper's published data against our verifiers")
    tv.add_argument("path")
    tasks.set_defaults(func=_tasks)

    tiny = sub.add_parser("tiny-model", help="build a tiny Qwen2 model with the real Qwen2.5 tokenizer, offline")
    tiny.add_argument("--out", required=True)
    tiny.add_argument("--hidden-size", type=int, default=64)
    tiny.add_argument("--num-layers", type=int, default=2)
    tiny.add_argument("--seed", type=int, default=0)
    tiny.set_defaults(func=_tiny_model)

    roll = sub.add_parser("rollouts", help="run R1-CI episodes over task questions from a YAML job file")
    roll.add_argument("--config", required=True, help="YAML file with the fields of trainers.rollouts.RolloutJobConfig")
    roll.add_argument("--model", help="override the config's model")
    roll.add_argument("--output-dir", help="override the config's output_dir")
    roll.add_argument("--show", action="store_true", help="print every transcript")
    roll.set_defaults(func=_rollouts)

    from dataset_builders import traces

    traces.make_parser(sub)

    quick = sub.add_parser("quickstart", help="run the main job on offline defaults")
    quick.add_argument("--out", default="outputs/quickstart")
    quick.add_argument("-n", type=int, default=1, help="questions per task")
    quick.add_argument("--seed", type=int, default=0)
    quick.set_defaults(func=_quickstart)
    return parser


def main(argv: list[str] | None = None) -> int:
    from dataset_builders.task import TaskDataUnavailable
    from hub_tools.errors import HubInputError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, KeyError, ValueError, TaskDataUnavailable, HubInputError) as exc:
        # Bad input ends with one sentence, not a traceback.
        print(f"r1ci {args.command}: error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
