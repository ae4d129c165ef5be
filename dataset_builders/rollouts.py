"""Run R1-CI episodes over task questions and save the transcripts (`r1ci rollouts --config ...`).

This is the loop that SFT-trace collection, GRPO and evaluation build on, as a job of its own: a
model (local transformers or an OpenAI-compatible endpoint), a sandbox, some tasks, N questions
each, and a JSONL of transcripts with verdicts. It lives in dataset_builders so that every consumer
(trace builder, evaluation, trainers, the Space) may import it. Verdicts read the answer only from
text the model wrote (`Task.score` with the episode's inserted spans).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from code_interpreter.errors import InputError, MissingInput


@dataclass
class RolloutJobConfig:
    model: str = field(metadata={"help": "Local model folder or Hub model id (or the served model name for openai)."})
    tasks: list[str] = field(
        default_factory=lambda: ["symbench/number_multiply"], metadata={"help": "Task names to draw questions from."}
    )
    num_questions: int = field(default=2, metadata={"help": "Questions per task."})
    seed: int = field(default=0, metadata={"help": "Seed for question generation and sampling."})
    backend: str = field(default="transformers", metadata={"help": "'transformers' or 'openai'."})
    base_url: str | None = field(default=None, metadata={"help": "OpenAI-compatible endpoint (backend=openai)."})
    openai_mode: str = field(default="chat", metadata={"help": "'chat' or 'completions' (backend=openai)."})
    sandbox: str = field(default="local", metadata={"help": "Sandbox backend: 'local' or 'e2b'."})
    protocol_version: str = field(default="v2", metadata={"help": "'v1' (5 code calls) or 'v2' (8 code calls)."})
    timeout_s: float = field(default=60.0, metadata={"help": "Per-call execution timeout in seconds."})
    max_new_tokens: int = field(default=1024, metadata={"help": "Token budget of a whole assistant turn."})
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature."})
    batch_size: int = field(default=8, metadata={"help": "Episodes advanced together."})
    output_dir: str = field(default="outputs/rollouts", metadata={"help": "Where transcripts.jsonl is written."})

    def __post_init__(self) -> None:
        # Checked here, before any model loads: a bad value would otherwise surface late, or (a
        # temperature transformers rejects) as every episode ending in "generator_error".
        if self.backend not in ("transformers", "openai"):
            raise InputError(f"backend must be 'transformers' or 'openai', got {self.backend!r}")
        if self.openai_mode not in ("chat", "completions"):
            raise InputError(f"openai_mode must be 'chat' or 'completions', got {self.openai_mode!r}")
        for name in ("num_questions", "max_new_tokens", "batch_size"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.timeout_s <= 0:
            raise InputError(f"timeout_s must be positive, got {self.timeout_s}")
        if self.temperature < 0:
            raise InputError(f"temperature must be at least 0 (0 is greedy), got {self.temperature}")


def load_job_config(path: str | Path, **overrides: Any) -> RolloutJobConfig:
    """Read a YAML job file; unknown keys, wrong types and missing required keys fail with one sentence."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise MissingInput(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "parse error"
        raise InputError(f"config file {path} is not valid YAML{where}: {problem}") from exc
    if not isinstance(data, dict):
        raise InputError(f"config file {path} must be a mapping of keys to values, got {type(data).__name__}")
    data.update({k: v for k, v in overrides.items() if v is not None})
    return config_from_dict(RolloutJobConfig, data, source=str(path))


def config_from_dict(cls: type, data: dict[str, Any], source: str) -> Any:
    """Build dataclass `cls` from `data`, checking keys and simple types against the field annotations."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise InputError(f"{source}: unknown key(s) {', '.join(unknown)}; expected some of {', '.join(fields)}")
    hints = typing.get_type_hints(cls)
    for key, value in data.items():
        if not _matches(value, hints[key]):
            raise InputError(f"{source}: {key} must be {_describe(hints[key])}, got {value!r}")
    missing = [n for n, f in fields.items() if n not in data and f.default is f.default_factory is dataclasses.MISSING]
    if missing:
        raise InputError(f"{source}: missing required key(s) {', '.join(missing)}")
    try:
        return cls(**data)
    except ValueError as exc:
        raise InputError(f"{source}: {exc}") from exc


def _matches(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, h) for h in typing.get_args(hint))
    if origin is list:
        (inner,) = typing.get_args(hint)
        return isinstance(value, list) and all(_matches(v, inner) for v in value)
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _describe(hint: Any) -> str:
    return str(hint).replace("typing.", "").replace("<class '", "").replace("'>", "")


def make_generator(config: RolloutJobConfig) -> Any:
    """The job's generator: local transformers, or an OpenAI-compatible endpoint."""
    from code_interpreter import get_generator

    if config.backend == "transformers":
        return get_generator("transformers", model=config.model, temperature=config.temperature)
    tokenizer = None  # backend == "openai" (checked by RolloutJobConfig)
    if config.openai_mode == "completions":
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(config.model)
    return get_generator(
        "openai",
        model=config.model,
        base_url=config.base_url,
        mode=config.openai_mode,
        tokenizer=tokenizer,
        temperature=config.temperature,
    )


def run_rollouts(config: RolloutJobConfig, console: Any = None) -> tuple[Path, list[dict]]:
    """Run the job; returns the transcripts path and the records (episode + entry + score)."""
    import torch
    from rich.console import Console
    from tqdm import tqdm

    from code_interpreter import ProtocolConfig, get_sandbox
    from code_interpreter.episode import EpisodeRunner
    from dataset_builders import get_task

    console = console or Console()
    tasks = {name: get_task(name) for name in config.tasks}  # unknown names fail before any model loads
    protocol = ProtocolConfig(version=config.protocol_version, timeout_s=config.timeout_s)
    generator = make_generator(config)
    torch.manual_seed(config.seed)
    entries = [e for t in tasks.values() for e in t.generate(config.num_questions, seed=config.seed)]
    records: list[dict] = []
    with get_sandbox(config.sandbox) as sandbox:
        runner = EpisodeRunner(generator, sandbox, protocol, max_new_tokens=config.max_new_tokens)
        for start in tqdm(range(0, len(entries), config.batch_size), desc="episodes", unit="batch"):
            batch = entries[start : start + config.batch_size]
            for ep, entry in zip(runner.run([e["question"] for e in batch]), batch, strict=True):
                score = tasks[entry["task"]].score(ep.completion, entry, inserted_spans=ep.inserted_spans)
                records.append(ep.to_dict() | {"entry": entry, "score": score})
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "transcripts.jsonl"
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
    tmp.replace(path)
    return path, records


def print_transcripts(records: list[dict], console: Any) -> None:
    """Print each transcript to a terminal. Model and interpreter text are hostile: control and
    invisible format characters are escaped (`escape_controls`) and nothing is read as rich markup
    or emoji codes, so no text can drive the terminal or disguise what was said."""
    from rich.panel import Panel
    from rich.text import Text

    from code_interpreter.protocol import escape_controls

    for r in records:
        body = Text()
        for s in r["segments"]:
            body.append(escape_controls(s["text"]), style="cyan" if s["role"] == "interpreter" else "")
        title = (
            f"{r['entry']['task']}  finish={r['finish_reason']}  code calls={r['num_code_calls']}  "
            f"answer={r['answer']!r}  score={r['score']}"
        )
        console.print(
            Panel(
                body if body.plain else Text("(empty)"),
                title=Text(escape_controls(title)),
                subtitle=Text(escape_controls(f"reference: {r['entry']['answer']}")),
            )
        )


def make_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("rollouts", help="run R1-CI episodes over task questions from a YAML job file")
    p.add_argument(
        "--config", required=True, help="YAML file with the fields of dataset_builders.rollouts.RolloutJobConfig"
    )
    p.add_argument("--model", help="override the config's model")
    p.add_argument("--output-dir", help="override the config's output_dir")
    p.add_argument("--show", action="store_true", help="print every transcript")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from rich.console import Console

    config = load_job_config(args.config, model=args.model, output_dir=args.output_dir)
    console = Console()
    path, records = run_rollouts(config, console)
    if args.show:
        print_transcripts(records, console)
    solved = sum(r["score"] for r in records)
    console.print(f"{len(records)} episodes, mean score {solved / max(1, len(records)):.3f}; transcripts: {path}")
    return 0
