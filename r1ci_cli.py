"""The `r1ci` command line: a thin registry. Each job module owns its subcommand with
`make_parser(subparsers)` (which sets `func`) and `main(args) -> exit code`."""

from __future__ import annotations

import argparse
import importlib
import sys

#: Modules that register a subcommand, in the order `r1ci --help` lists them.
COMMANDS = (
    "dataset_builders.catalog",  # tasks list|show|stats|build|validate
    "dataset_builders.traces",  # traces build
    "dataset_builders.published_convert",  # published convert|traces
    "dataset_builders.rollouts",  # rollouts
    "trainers.tiny_model",  # tiny-model
    "trainers.quickstart",  # quickstart
    "trainers.curriculum_estimate",  # curriculum estimate
    "trainers.evaluation",  # eval
    "hub_tools.checkpoints",  # checkpoint fetch
    "trainers.release",  # release
    "spaces_demo.cli",  # demo, space push
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="r1ci", description="R1-Code-Interpreter toolkit.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(name).make_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from code_interpreter.errors import InputError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:  # bad input ends with one sentence; anything else is a bug and keeps its traceback
        print(f"r1ci {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
