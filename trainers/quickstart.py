"""`r1ci quickstart`: the main job on offline defaults, end to end on a laptop CPU.

At this stage it builds the tiny Qwen2 model (real Qwen2.5 tokenizer), draws a few questions from
the task library, runs R1-CI episodes with the local sandbox and prints each transcript with its
verdict. Later stages (SFT, GRPO, evaluation) extend it into the full pipeline.
"""

from __future__ import annotations

import argparse
from pathlib import Path

QUICKSTART_TASKS = ["symbench/number_multiply", "symbench/game24", "symbench/letters", "reasoning_gym/leg_counting"]


def run_quickstart(out_dir: str | Path = "outputs/quickstart", n_questions: int = 1, seed: int = 0) -> int:
    from rich.console import Console

    from dataset_builders.rollouts import RolloutJobConfig, print_transcripts, run_rollouts
    from trainers.tiny_model import build_tiny_model

    console = Console()
    out = Path(out_dir)
    model_dir = out / "tiny-model"
    if not (model_dir / "config.json").exists():
        console.print(f"[bold]Building the tiny Qwen2 model[/] -> {model_dir}")
        build_tiny_model(model_dir, seed=seed)
    config = RolloutJobConfig(
        model=str(model_dir),
        tasks=QUICKSTART_TASKS,
        num_questions=n_questions,
        seed=seed,
        max_new_tokens=96,
        output_dir=str(out),
    )
    path, records = run_rollouts(config, console)
    print_transcripts(records, console)
    console.print(
        "The tiny model is untrained, so its text is noise: this run exercises the machinery "
        f"(tokenizer, generation, stop rule, sandbox, verifiers). Transcripts: {path}"
    )
    return 0


def make_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("quickstart", help="run the main job on offline defaults")
    p.add_argument("--out", default="outputs/quickstart")
    p.add_argument("-n", type=int, default=1, help="questions per task")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    return run_quickstart(out_dir=args.out, n_questions=args.n, seed=args.seed)
