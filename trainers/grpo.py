"""GRPO with live code execution: `accelerate launch trainers/grpo.py --config recipes/<model>/grpo/config.yaml`.

TRL's GRPOTrainer and GRPOConfig, with `rollout_func` driving R1-CI episodes (`trainers.grpo_rollouts`:
generation stops at each closing python fence, the snippet runs in the sandbox, the result is
appended and masked out of the loss), rewards from the task verifiers (`trainers.rewards`) and,
optionally, the multi-stage curriculum (`trainers.curriculum`). The YAML holds the fields of
`GRPOScriptArguments` below, TRL's `GRPOConfig` and `ModelConfig`; command-line flags override it.

The training data is a tasks dataset (`r1ci tasks build`, or `r1ci curriculum estimate` for the
curriculum's potential column): columns task, id, question, answer, metadata (JSON string).

Bad input stops before the first step with one sentence: an unknown task in the data, a sandbox
that cannot start, sampling from an external server without `use_vllm` (its weights would never be
updated), a recipe asking for vLLM where none is installed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from code_interpreter.errors import InputError, MissingInput

ROLLOUT_BACKENDS = ("transformers", "vllm")


@dataclass
class GRPOScriptArguments:
    dataset_name: str = field(
        default="", metadata={"help": "Tasks dataset: a local folder (r1ci tasks build --output-dir) or a Hub repo id."}
    )
    dataset_config: str | None = field(
        default="train", metadata={"help": "Dataset config (the tasks dataset's 'train')."}
    )
    dataset_split: str = field(default="train", metadata={"help": "Split to train on."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Keep only the first N rows (smoke runs)."})
    rollout_backend: str = field(
        default="transformers",
        metadata={"help": "'transformers' (the training model, any device) or 'vllm' (use_vllm with vllm_mode)."},
    )
    sandbox: str = field(default="local", metadata={"help": "Sandbox backend: 'local' or 'e2b'."})
    protocol_version: str = field(default="v2", metadata={"help": "'v1' (5 code calls) or 'v2' (8 code calls)."})
    max_code_calls: int | None = field(default=None, metadata={"help": "Code-call cap (default: the version's)."})
    timeout_s: float = field(default=60.0, metadata={"help": "Per-call execution timeout in seconds."})
    max_output_chars: int = field(default=2000, metadata={"help": "Interpreter output kept per call (characters)."})
    max_output_tokens: int = field(default=512, metadata={"help": "Interpreter output kept per call (tokens)."})
    correctness_weight: float = field(default=1.0, metadata={"help": "Weight of the verifier's score."})
    format_weight: float = field(default=0.0, metadata={"help": "Weight of the format-compliance term (0: off)."})
    turn_penalty_weight: float = field(default=0.0, metadata={"help": "Weight of the turn penalty (0: off)."})
    turn_limit: int = field(default=9, metadata={"help": "Turns allowed before the turn penalty applies."})
    curriculum: bool = field(default=False, metadata={"help": "Train in stages of decreasing potential."})
    potential_column: str = field(default="potential", metadata={"help": "Column with each question's potential."})
    curriculum_stages: int = field(default=4, metadata={"help": "Number of stages K."})
    curriculum_steps_per_stage: int = field(default=150, metadata={"help": "Optimizer steps per stage S."})
    curriculum_reestimate: bool = field(
        default=False, metadata={"help": "Re-cut each new stage from potentials updated with rollout rewards."}
    )


def check_config(script: GRPOScriptArguments, args: Any) -> None:
    """Refuse, in one sentence, a configuration that cannot train as asked."""
    if not script.dataset_name:
        raise InputError("dataset_name is required: a tasks dataset folder (r1ci tasks build --output-dir) or repo id")
    if script.rollout_backend not in ROLLOUT_BACKENDS:
        raise InputError(
            f"rollout_backend must be one of {', '.join(ROLLOUT_BACKENDS)}, got {script.rollout_backend!r}"
        )
    server = script.rollout_backend != "transformers" or args.vllm_server_base_url is not None
    if server and not args.use_vllm:
        raise InputError(
            "this config samples from an external server with use_vllm: false, so the server's weights would never be "
            "updated; set use_vllm: true (vllm_mode: server) or use rollout_backend: transformers"
        )
    if args.use_vllm and script.rollout_backend != "vllm":
        raise InputError(
            "use_vllm: true samples rollouts from vLLM: set rollout_backend: vllm too (or use_vllm: false)"
        )
    if args.use_vllm:
        from trl.import_utils import is_vllm_available

        if not is_vllm_available():
            raise InputError(
                "this recipe asks for vLLM (use_vllm: true) but vllm is not installed here; install it on a GPU machine "
                "(pip install 'r1ci[vllm]') or set use_vllm: false"
            )
        if args.vllm_mode == "colocate" and args.vllm_enable_sleep_mode:
            raise InputError(
                "vllm_enable_sleep_mode is not supported with code-executing rollouts (the engine must stay awake "
                "between rounds of one rollout batch); set vllm_enable_sleep_mode: false"
            )
        if args.vllm_mode == "colocate" and args.vllm_tensor_parallel_size > 1:
            raise InputError(
                "colocate mode with vllm_tensor_parallel_size > 1 is not supported by the episode loop yet; use "
                "vllm_mode: server (trl vllm-serve --tensor-parallel-size N) or vllm_tensor_parallel_size: 1"
            )
    if args.max_completion_length is None or args.max_completion_length < 1:
        raise InputError("max_completion_length must be set: it bounds each rollout's whole assistant turn")
    if args.repetition_penalty != 1.0 or args.min_p is not None:
        raise InputError(
            "the episode loop samples with temperature, top_p and top_k only; unset repetition_penalty and min_p"
        )
    if args.reward_weights is not None:
        raise InputError("set correctness_weight, format_weight and turn_penalty_weight instead of reward_weights")
    if script.curriculum and script.curriculum_stages < 1:
        raise InputError(f"curriculum_stages must be at least 1, got {script.curriculum_stages}")


def protocol_of(script: GRPOScriptArguments) -> Any:
    from code_interpreter import ProtocolConfig

    try:
        return ProtocolConfig(
            version=script.protocol_version,
            timeout_s=script.timeout_s,
            max_code_calls=script.max_code_calls,
            max_output_chars=script.max_output_chars,
            max_output_tokens=script.max_output_tokens,
        )
    except ValueError as exc:
        raise InputError(f"protocol settings: {exc}") from exc


def load_training_dataset(script: GRPOScriptArguments, protocol: Any) -> Any:
    """The tasks dataset with a `prompt` column (the episode's chat messages) and `row_index`; every
    row's task must be known here."""
    from datasets import load_dataset

    from code_interpreter.protocol import build_messages
    from dataset_builders import get_task
    from dataset_builders.registry import UnknownTask
    from trainers.rewards import ENTRY_COLUMNS

    try:
        # datasets keys its cache of a local folder on the card's metadata, not the files, so a rebuilt
        # folder could load stale rows; reading local parquet again is cheap.
        local = Path(script.dataset_name).is_dir()
        data = load_dataset(
            script.dataset_name,
            script.dataset_config,
            split=script.dataset_split,
            download_mode="force_redownload" if local else None,
        )
    except Exception as exc:  # datasets raises many types for a missing or malformed source
        raise MissingInput(
            f"cannot load dataset {script.dataset_name!r} ({script.dataset_config}/{script.dataset_split}): {exc}"
        ) from exc
    missing = [c for c in ENTRY_COLUMNS if c not in data.column_names]
    if missing:
        raise InputError(
            f"dataset {script.dataset_name!r} lacks column(s) {', '.join(missing)}; build it with r1ci tasks build"
        )
    if script.max_train_samples is not None:
        data = data.select(range(min(script.max_train_samples, len(data))))
    if len(data) == 0:
        raise InputError(f"dataset {script.dataset_name!r} has no rows to train on")
    tasks = data["task"]
    for name in dict.fromkeys(tasks):
        try:
            get_task(name)
        except UnknownTask as exc:
            raise InputError(f"dataset row {tasks.index(name)} has an unknown task: {exc}") from None
    if script.curriculum:
        if script.potential_column not in data.column_names:
            raise InputError(
                f"curriculum: true needs a {script.potential_column!r} column; add it with r1ci curriculum estimate"
            )
        bad = next((i for i, p in enumerate(data[script.potential_column]) if p is None or not 0 <= p <= 1), None)
        if bad is not None:
            raise InputError(f"dataset row {bad} has potential {data[bad][script.potential_column]!r}, outside [0, 1]")
    return data.map(
        lambda row, idx: {"prompt": build_messages(row["question"], protocol), "row_index": idx}, with_indices=True
    )


def open_sandbox(name: str, timeout_s: float) -> Any:
    """The configured sandbox, proven to run a snippet before training starts."""
    from code_interpreter import get_sandbox

    try:
        sandbox = get_sandbox(name)
        result = sandbox.run("print('ready')", timeout=max(timeout_s, 30.0))
    except Exception as exc:
        raise InputError(f"sandbox {name!r} cannot start: {type(exc).__name__}: {exc}") from exc
    if result.error is not None or result.stdout.strip() != "ready":
        sandbox.close()
        raise InputError(f"sandbox {name!r} cannot start: {result.error or result.stderr.strip() or 'no output'}")
    return sandbox


def reward_setup(script: GRPOScriptArguments, sampler: Any) -> tuple[list, list[float]]:
    from trainers.rewards import TaskReward, TurnPenalty, format_reward

    funcs: list = [
        TaskReward(
            stage_of_step=sampler.stage_of_step if sampler is not None else None,
            observe=sampler.observe if sampler is not None else None,
        )
    ]
    weights = [script.correctness_weight]
    if script.format_weight:
        funcs.append(format_reward)
        weights.append(script.format_weight)
    if script.turn_penalty_weight:
        funcs.append(TurnPenalty(script.turn_limit))
        weights.append(script.turn_penalty_weight)
    return funcs, weights


def curriculum_sampler(script: GRPOScriptArguments, args: Any, data: Any) -> Any:
    from trainers.curriculum import CurriculumSampler

    if args.max_steps is None or args.max_steps <= 0:
        # One epoch of the sampler is the whole schedule, so the run needs a length.
        args.max_steps = script.curriculum_stages * script.curriculum_steps_per_stage
    repeat = args.num_iterations * args.steps_per_generation
    try:
        return CurriculumSampler(
            data[script.potential_column],
            num_stages=script.curriculum_stages,
            steps_per_stage=script.curriculum_steps_per_stage,
            mini_repeat_count=args.num_generations,
            batch_size=args.generation_batch_size // args.num_generations,
            repeat_count=repeat,
            steps_per_batch=repeat / args.gradient_accumulation_steps,
            total_steps=args.max_steps,
            seed=args.seed,
            reestimate=script.curriculum_reestimate,
        )
    except ValueError as exc:
        raise InputError(f"curriculum: {exc}") from exc


def build_trainer(
    script: GRPOScriptArguments, args: Any, model_args: Any, sandbox: Any, generator_factory: Any = None
) -> Any:
    """The configured trainer (the sandbox stays open for its whole run). `generator_factory` replaces
    the rollout backend (default: the training model through transformers)."""
    from trl import get_peft_config

    from code_interpreter.generation import check_model_path
    from trainers.grpo_rollouts import generator_factory_for, make_rollout_func
    from trainers.grpo_trainer import CurriculumStateCallback, R1CIGRPOTrainer

    if not model_args.model_name_or_path:
        raise InputError("model_name_or_path is required (a local folder or a Hub model id)")
    check_model_path(model_args.model_name_or_path)
    protocol = protocol_of(script)
    data = load_training_dataset(script, protocol)
    sampler = curriculum_sampler(script, args, data) if script.curriculum else None
    funcs, weights = reward_setup(script, sampler)
    args.reward_weights = weights
    init = dict(args.model_init_kwargs or {})
    init.setdefault("revision", model_args.model_revision)
    init.setdefault("dtype", model_args.dtype)
    if model_args.attn_implementation:
        init.setdefault("attn_implementation", model_args.attn_implementation)
    args.model_init_kwargs = init
    rollout_func = make_rollout_func(
        sandbox=sandbox,
        protocol=protocol,
        max_completion_length=args.max_completion_length,
        generator_factory=generator_factory or generator_factory_for(args),
    )
    trainer = R1CIGRPOTrainer(
        model=model_args.model_name_or_path,
        reward_funcs=funcs,
        args=args,
        train_dataset=data,
        peft_config=get_peft_config(model_args),
        rollout_func=rollout_func,
        curriculum_sampler=sampler,
        callbacks=[CurriculumStateCallback(sampler)] if sampler is not None else None,
    )
    return trainer


def resume_checkpoint(args: Any) -> str | None:
    """`resume_from_checkpoint`: a folder, or true/"latest" for the newest checkpoint in output_dir."""
    value = args.resume_from_checkpoint
    if value in (None, "", False, "false", "False"):
        return None
    if value in (True, "true", "True", "latest"):
        last = last_complete_checkpoint(Path(args.output_dir))
        if last is None:
            raise MissingInput(
                f"resume_from_checkpoint asks for the latest checkpoint but {args.output_dir} holds no complete one"
            )
        return str(last)
    if not Path(value).is_dir():
        raise MissingInput(f"checkpoint folder {value} does not exist")
    return str(value)


def last_complete_checkpoint(output_dir: Path) -> Path | None:
    """The newest `checkpoint-N` whose trainer_state.json (the last file the Trainer writes) parses: a
    run killed while saving leaves a newer, incomplete folder, which transformers' own
    `get_last_checkpoint` would pick."""
    import json
    import re

    found = []
    for folder in output_dir.glob("checkpoint-*") if output_dir.is_dir() else []:
        m = re.fullmatch(r"checkpoint-(\d+)", folder.name)
        if m and folder.is_dir():
            found.append((int(m.group(1)), folder))
    for _, folder in sorted(found, reverse=True):
        try:
            json.loads((folder / "trainer_state.json").read_text())
        except (OSError, ValueError):
            continue
        return folder
    return None


def train(script: GRPOScriptArguments, args: Any, model_args: Any, generator_factory: Any = None) -> Any:
    """Check, build, train (resuming when asked) and save; returns the trainer."""
    check_config(script, args)
    checkpoint = resume_checkpoint(args)
    sandbox = open_sandbox(script.sandbox, script.timeout_s)
    try:
        trainer = build_trainer(script, args, model_args, sandbox, generator_factory)
        if checkpoint and trainer.curriculum_sampler is not None:
            trainer.curriculum_sampler.load(checkpoint)
        trainer.train(resume_from_checkpoint=checkpoint)
        trainer.save_model(args.output_dir)
        trainer.save_state()  # trainer_state.json: the logged rewards and curriculum stages, per step
        if args.push_to_hub:
            trainer.push_to_hub(dataset_name=script.dataset_name)
        return trainer
    finally:
        sandbox.close()


def parse(argv: list[str] | None = None) -> tuple[Any, Any, Any]:
    from trl import GRPOConfig, ModelConfig, TrlParser

    parser = TrlParser((GRPOScriptArguments, GRPOConfig, ModelConfig))
    try:
        return parser.parse_args_and_config(argv)
    except ValueError as exc:  # e.g. keys in the YAML that no dataclass knows
        raise InputError(str(exc)) from exc


def main(argv: list[str] | None = None) -> int:
    try:
        script, args, model_args = parse(argv)
        train(script, args, model_args)
    except InputError as exc:
        print(f"trainers/grpo.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
