"""`r1ci quickstart`: the whole pipeline on one CPU, offline, through the commands a user would type.

Every stage is a subprocess running a real command (`r1ci ...` or `accelerate launch trainers/...
--config recipes/tiny/...`), printed before it runs, so the quickstart is also the tutorial:

1. `r1ci tiny-model`: a tiny Qwen2 with the real Qwen2.5 tokenizer;
2. `r1ci tasks build`: a small tasks dataset (train tasks where code clearly helps, plus one held-out
   test task);
3. `r1ci traces build --teacher solver`: SFT traces from the tasks' reference solvers (no teacher
   model is reachable offline), with real sandbox output;
4. `r1ci eval` of the untrained model, with and without the interpreter, on held-out questions
   (another seed than the training questions, and none that the traces hold);
5. `accelerate launch trainers/sft.py`, then `r1ci eval`;
6. `r1ci curriculum estimate` from the SFT model, `accelerate launch trainers/grpo.py` in curriculum
   stages, then `r1ci eval`;
7. `r1ci release --dry-run`: the release folder with the model card, results and plots.

It ends with `summary.json` (held-out number-multiply accuracy per stage and mode, the accuracy of
every evaluated task, seconds per stage, total) and a short printed summary. A stage whose command
and inputs are unchanged since a finished earlier run is reused, so an interrupted quickstart
continues where it stopped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from code_interpreter.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
#: Train tasks where code clearly helps, and the held-out test task evaluated beside them.
TRAIN_TASKS = ("symbench/number_multiply", "symbench/letters")
TEST_TASK = "reasoning_gym/prime_factorization"
#: The task the quickstart's accuracy figures (and its target) are about.
TARGET_TASK = "symbench/number_multiply"
SUMMARY_FILE = "summary.json"
ACCURACY_PNG = "accuracy.png"
MODE_LABELS = {"code": "with the interpreter", "text": "text only"}
STATE_FILE = "stages.json"


def _opt(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class QuickstartConfig:
    """The quickstart's knobs (each is a `r1ci quickstart --flag`); the defaults meet its targets on 2 cores."""

    out_dir: str = _opt("outputs/quickstart", "where every artifact goes")
    seed: int = _opt(0, "seed of the model, the training questions and training (held-out questions use seed+1)")
    hidden_size: int = _opt(32, "tiny model width")
    num_layers: int = _opt(3, "tiny model depth")
    num_heads: int = _opt(4, "attention heads")
    complexity: str = _opt("2", "difficulty level(s), e.g. 2 or 1-3 (number multiply 2: two two-digit factors)")
    traces_per_task: int = _opt(3000, "solver-teacher traces per train task")
    tasks_per_task: int = _opt(64, "questions per task in the tasks dataset (GRPO's data)")
    sft_steps: int = _opt(800, "SFT optimizer steps")
    eval_questions: int = _opt(50, "held-out questions per task and mode at each evaluation")
    estimate_rows: int = _opt(32, "training questions whose potential is estimated (and GRPO trains on)")
    estimate_samples: int = _opt(4, "answers sampled per question for the potentials")
    grpo_steps_per_stage: int = _opt(4, "GRPO steps per curriculum stage")
    grpo_stages: int = _opt(2, "curriculum stages")
    max_new_tokens: int = _opt(64, "token budget of an episode")

    def __post_init__(self) -> None:
        from dataset_builders.task import parse_levels

        parse_levels(self.complexity)  # checked here, not by the third stage after minutes of work

    @property
    def out(self) -> Path:
        return Path(self.out_dir)


@dataclass
class Stage:
    name: str
    argv: list[str]
    output: str
    """A file the stage writes when it succeeds; the stage counts as done when it exists and the command is unchanged."""


def stages(cfg: QuickstartConfig) -> list[Stage]:
    # the commands run in the repository (recipes/, trainers/ are relative to it): so must the output folder
    out = cfg.out if cfg.out.is_absolute() or Path.cwd() == ROOT else cfg.out.resolve()
    q = {
        name: shlex.quote(str(out / name))
        for name in ("tiny-model", "tasks", "traces", "sft", "tasks-potentials", "grpo")
    }
    levels = f"--complexity {shlex.quote(cfg.complexity)}"  # "1 - 3" is one argument, not three
    launch = (
        "accelerate launch --config_file recipes/accelerate_configs/cpu.yaml "
        f"--num_cpu_threads_per_process {os.cpu_count() or 1}"
    )

    def stage(name: str, command: str, output: Path) -> Stage:
        return Stage(name, shlex.split(command), str(output))

    def evaluate(name: str, model: str) -> Stage:
        folder = out / "eval" / name
        return stage(
            f"eval {name}",
            f"r1ci eval --model {q[model]} --tasks {TARGET_TASK} {TEST_TASK} --num-questions {cfg.eval_questions} "
            f"--seed {cfg.seed + 1} {levels} --exclude-questions {q['traces']} {q['tasks']} --modes code text --max-new-tokens {cfg.max_new_tokens} --batch-size 50 "
            f"--timeout-s 10 --output-dir {shlex.quote(str(folder))}",
            folder / "results.json",
        )

    return [
        stage(
            "tiny model",
            f"r1ci tiny-model --out {q['tiny-model']} --hidden-size {cfg.hidden_size} --num-layers {cfg.num_layers} "
            f"--num-heads {cfg.num_heads} --seed {cfg.seed}",
            out / "tiny-model" / "config.json",
        ),
        stage(
            "tasks",
            f"r1ci tasks build --tasks {','.join([*TRAIN_TASKS, TEST_TASK])} --num-per-task {cfg.tasks_per_task} "
            f"{levels} --seed {cfg.seed} --output-dir {q['tasks']}",
            out / "tasks" / "README.md",
        ),
        stage(
            "traces",
            f"r1ci traces build --teacher solver --tasks {','.join(TRAIN_TASKS)} {levels} --styles free "
            f"--max-per-task {cfg.traces_per_task} --attempts-per-task {3 * cfg.traces_per_task} --batch-size 64 "
            f"--seed {cfg.seed} --cache-dir {shlex.quote(str(out / 'cache' / 'traces'))} --output-dir {q['traces']}",
            out / "traces" / "README.md",
        ),
        evaluate("base", "tiny-model"),
        stage(
            "sft",
            f"{launch} trainers/sft.py --config recipes/tiny/sft/config.yaml --model_name_or_path {q['tiny-model']} "
            f"--dataset_name {q['traces']} --max_steps {cfg.sft_steps} --seed {cfg.seed} --output_dir {q['sft']}",
            out / "sft" / "model.safetensors",
        ),
        evaluate("sft", "sft"),
        stage(
            "curriculum estimate",
            f"r1ci curriculum estimate --dataset {q['tasks']} --model {q['sft']} --num-samples {cfg.estimate_samples} "
            f"--max-rows {cfg.estimate_rows} --max-new-tokens {cfg.max_new_tokens} --timeout-s 10 --seed {cfg.seed} "
            f"--output-dir {q['tasks-potentials']}",
            out / "tasks-potentials" / "README.md",
        ),
        stage(
            "grpo",
            f"{launch} trainers/grpo.py --config recipes/tiny/grpo/config.yaml --model_name_or_path {q['sft']} "
            f"--dataset_name {q['tasks-potentials']} --max_train_samples {cfg.estimate_rows} --curriculum true "
            f"--curriculum_stages {cfg.grpo_stages} --curriculum_steps_per_stage {cfg.grpo_steps_per_stage} "
            f"--max_steps {cfg.grpo_stages * cfg.grpo_steps_per_stage} --max_completion_length {cfg.max_new_tokens} "
            f"--seed {cfg.seed} --output_dir {q['grpo']}",
            out / "grpo" / "model.safetensors",
        ),
        evaluate("grpo", "grpo"),
        stage(
            "release",
            f"r1ci release --model-dir {q['grpo']} --repo local/R1-CI-tiny --results {shlex.quote(str(out / 'eval' / 'grpo'))} "
            f"--datasets {q['tasks']} {q['traces']} --recipes recipes/tiny/sft/config.yaml recipes/tiny/grpo/config.yaml "
            f"--output-dir {shlex.quote(str(out / 'release'))} --dry-run",
            out / "release" / "README.md",
        ),
    ]


def executable(name: str) -> str:
    """The venv's own `r1ci` / `accelerate` (beside this interpreter), else the one on PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        raise InputError(f"`{name}` is not installed in this environment; run `make install` first")
    return found


def stage_key(stage: Stage, previous: str) -> str:
    """Changes when the command or any earlier stage changes, so a changed input redoes what follows."""
    return hashlib.sha256(json.dumps([previous, stage.argv]).encode()).hexdigest()[:16]


def read_state(path: Path) -> dict[str, dict]:
    """What earlier runs finished; an unreadable file (a torn write) means nothing is reused, and an
    entry of the wrong shape (an edited file) means that stage is not."""
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict):
        return {}
    return {
        name: done
        for name, done in state.items()
        if isinstance(done, dict)
        and isinstance(done.get("key"), str)
        and isinstance(done.get("seconds"), int | float)
        and not isinstance(done.get("seconds"), bool)
    }


def run_stages(cfg: QuickstartConfig, console: Any) -> dict[str, dict]:
    """Run (or reuse) every stage in order; {stage name: {"seconds", "reused", "command"}}."""
    from rich.markup import escape

    cfg.out.mkdir(parents=True, exist_ok=True)
    state_path = cfg.out / STATE_FILE
    state = read_state(state_path)
    env = {**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    record: dict[str, dict] = {}
    key, rerun = "", False
    for stage in stages(cfg):
        key = stage_key(stage, key)
        command = shlex.join(stage.argv)
        done = state.get(stage.name)
        # once a stage runs again, every later one does too: its input may have changed
        if not rerun and done and done["key"] == key and Path(stage.output).exists():
            console.print(f"[dim]= {stage.name}: reused from an earlier run ({done['seconds']:.0f} s then)[/]")
            record[stage.name] = {"seconds": done["seconds"], "reused": True, "command": command}
            continue
        rerun = True
        console.rule(f"[bold]{stage.name}")
        console.print(f"$ {escape(command)}", soft_wrap=True, highlight=False)
        argv = [executable(stage.argv[0]), *stage.argv[1:]]
        start = time.perf_counter()
        code = subprocess.run(argv, cwd=ROOT, env=env).returncode
        seconds = time.perf_counter() - start
        if code != 0 or not Path(stage.output).exists():
            raise InputError(
                f"the {stage.name} stage failed (exit {code}) running `{command}`; see its output above, "
                "fix the cause and run the quickstart again (finished stages are reused)"
            )
        record[stage.name] = {"seconds": round(seconds, 1), "reused": False, "command": command}
        state[stage.name] = {"key": key, "seconds": round(seconds, 1)}
        tmp = state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(state_path)
    return record


def accuracies(results_path: Path) -> dict[str, dict[str, float]]:
    """{mode: {task: accuracy}} from an `r1ci eval` results.json, with the modes and the target task the
    summary reads; anything else (a missing, torn or edited file) stops with one sentence."""
    try:
        results = json.loads(results_path.read_text())
        found = {
            mode: {task: float(r["accuracy"]) for task, r in data["per_task"].items()}
            for mode, data in results["modes"].items()
        }
        if all(0.0 <= found[mode][TARGET_TASK] <= 1.0 for mode in MODE_LABELS):
            return found
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    raise InputError(
        f"{results_path} is missing or does not hold {TARGET_TASK} accuracies for the modes {', '.join(MODE_LABELS)}; "
        f"delete {results_path.parent} and run the quickstart again to evaluate anew"
    )


def summarize(cfg: QuickstartConfig, record: dict[str, dict], total_s: float) -> dict:
    from model_cards.plots import grouped_bars_png

    by_task = {name: accuracies(cfg.out / "eval" / name / "results.json") for name in ("base", "sft", "grpo")}
    summary = {
        "target_task": TARGET_TASK,
        "accuracy": {
            name: {mode: per_task[TARGET_TASK] for mode, per_task in modes.items()} for name, modes in by_task.items()
        },
        "accuracy_by_task": by_task,
        "seconds": {name: r["seconds"] for name, r in record.items()},
        "reused": sorted(name for name, r in record.items() if r["reused"]),
        "total_s": round(total_s, 1),
        "config": asdict(cfg),
        "commands": [r["command"] for r in record.values()],
        "demo": f"r1ci demo --model {shlex.quote(str(cfg.out / 'release'))}",  # printed to be pasted into a shell
    }
    tmp = cfg.out / (SUMMARY_FILE + ".tmp")
    tmp.write_text(json.dumps(summary, indent=2) + "\n")
    tmp.replace(cfg.out / SUMMARY_FILE)
    modes = {name: {MODE_LABELS[m]: v for m, v in acc.items()} for name, acc in summary["accuracy"].items()}
    chart = grouped_bars_png(modes, title=f"held-out {TARGET_TASK}", ylabel="accuracy")
    (cfg.out / ACCURACY_PNG).write_bytes(chart)
    return summary


def print_summary(summary: dict, console) -> None:
    from rich.table import Table

    table = Table(title=f"held-out {summary['target_task']} accuracy")
    table.add_column("model")
    for label in MODE_LABELS.values():
        table.add_column(label, justify="right")
    for name, acc in summary["accuracy"].items():
        table.add_row(name, f"{acc['code']:.0%}", f"{acc['text']:.0%}")
    console.print(table)
    # the test task is not among the figures accuracies() checks: an eval without it shows a dash
    held_out = {name: modes["code"].get(TEST_TASK) for name, modes in summary["accuracy_by_task"].items()}
    console.print(f"held-out test task {TEST_TASK} (with the interpreter): " + ", ".join(
        f"{name} {'-' if acc is None else f'{acc:.0%}'}" for name, acc in held_out.items()))  # fmt: skip
    times = ", ".join(f"{name} {s:.0f} s" for name, s in summary["seconds"].items())
    console.print(f"time per stage: {times}; total {summary['total_s']:.0f} s", soft_wrap=True)
    console.print(f"open the demo on the trained model: [bold]{summary['demo']}[/]", soft_wrap=True)


def run_quickstart(cfg: QuickstartConfig) -> dict:
    from rich.console import Console

    console = Console()
    record = run_stages(cfg, console)
    # reused stages count with the seconds they took when they ran: total_s is the pipeline's cost
    summary = summarize(cfg, record, sum(r["seconds"] for r in record.values()))
    console.rule("[bold]summary")
    print_summary(summary, console)
    console.print(f"everything is in {cfg.out}; figures in {cfg.out / SUMMARY_FILE} and {cfg.out / ACCURACY_PNG}")
    return summary


def make_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "quickstart", help="train a tiny model end to end on this CPU (tasks, traces, SFT, GRPO, eval, card)"
    )
    for f in fields(QuickstartConfig):
        p.add_argument(
            f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default, help=f.metadata["help"]
        )
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    run_quickstart(QuickstartConfig(**{f.name: getattr(args, f.name) for f in fields(QuickstartConfig)}))
    return 0
