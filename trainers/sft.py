"""Multi-turn SFT on verified code-interpreter traces: stage 1 of R1-CI.

    accelerate launch trainers/sft.py --config recipes/Qwen2.5-7B-Instruct/sft/config.yaml
    accelerate launch --config_file recipes/accelerate_configs/zero3.yaml trainers/sft.py --config ...
    python trainers/sft.py --config recipes/tiny/sft/config.yaml          # CPU, offline

Parsed with TRL's `TrlParser` like TRL's own `sft` script: `ScriptArguments` below, `SFTConfig` and
`ModelConfig`, from the YAML recipe plus command-line overrides (`--learning_rate 1e-5`).

What it does beyond TRL's script:
- Traces are tokenized here (`trainers.sft_data`): the loss sees only tokens the model wrote in the
  assistant turn; system, user and every interpreter-inserted token get label -100. Bad rows, spans
  or chat templates stop the run before the model loads, with one sentence naming the row or file.
- `max_length` comes from the data: the longest kept trace (TRL would otherwise truncate silently at
  1024). `max_trace_length` caps it; longer traces are dropped (default) or truncated
  (`overlong: truncate`), counted in the log and in `sft_data_stats.json`.
- The loss projects only supervised positions through the LM head (`trainers.sft_loss`).
- A relaunch with the same `output_dir` resumes from the last complete checkpoint (`auto_resume`;
  `resume_from_checkpoint: true` insists on one, a path picks one, `false` starts afresh);
  the Trainer restores optimizer, scheduler, RNG and the sampler position, so the data order and
  the loss curve continue as if never stopped.
- `push_to_hub: true` (+ `hub_model_id`) pushes the final model once, with a card from
  `model_cards.sft_card` (base model, dataset link, hyperparameters, masking rule, loss curve). The
  Trainer's own per-save pushes stay off. With `HF_HUB_OFFLINE=1` the card and model stay in
  `output_dir`.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `accelerate launch trainers/sft.py` runs this file as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trl import ModelConfig, SFTConfig, TrlParser
from trl import ScriptArguments as TrlScriptArguments

from code_interpreter.errors import InputError, MissingInput


@dataclass
class ScriptArguments(TrlScriptArguments):
    """TRL's script arguments (dataset_name, dataset_config, dataset_train_split, ...) plus the masking choices."""

    max_trace_length: int | None = field(
        default=None,
        metadata={"help": "Longest trace in tokens; longer ones follow `overlong`. None: no cap (longest trace)."},
    )
    overlong: str = field(
        default="drop",
        metadata={"help": "Traces over max_trace_length: 'drop' (default; keeps answers whole) or 'truncate'."},
    )
    repeat_by_weight: bool = field(
        default=True, metadata={"help": "Repeat each trace max(1, round(weight)) times (up-weights multi-turn ones)."}
    )
    supervised_positions_only: bool = field(
        default=True, metadata={"help": "Compute logits only where a label is supervised (faster, same loss)."}
    )
    sampled_softmax_negatives: int | None = field(
        default=None,
        metadata={
            "help": "CPU speed-up for tiny models with a large vocabulary: approximate the full softmax by the "
            "batch's target tokens plus this many uniformly sampled others (sampled softmax). None: exact loss."
        },
    )
    auto_resume: bool = field(
        default=True, metadata={"help": "Resume from the last complete checkpoint in output_dir, if any."}
    )


def last_complete_checkpoint(output_dir: str | os.PathLike[str]) -> str | None:
    """The newest `checkpoint-N` whose trainer_state.json (written last by the Trainer) parses.

    A kill during a save leaves a folder without it (or with a torn one); resuming from that would fail.
    """
    folder = Path(output_dir)
    if not folder.is_dir():
        return None
    steps = []
    for path in folder.glob("checkpoint-*"):
        suffix = path.name.removeprefix("checkpoint-")
        if not suffix.isdigit():
            continue
        try:
            json.loads((path / "trainer_state.json").read_text())
        except (OSError, ValueError):
            continue
        steps.append((int(suffix), str(path)))
    return max(steps)[1] if steps else None


def check_push(training_args: SFTConfig) -> str | None:
    """The repo to push to at the end, checked now so a long run does not fail at its last step."""
    if not training_args.push_to_hub:
        return None
    from huggingface_hub import get_token

    from hub_tools.naming import check_repo_id
    from hub_tools.publish import offline

    repo_id = training_args.hub_model_id
    if not repo_id:
        raise InputError("push_to_hub needs hub_model_id, the model repo to push to (e.g. <org>/R1-CI-7B-SFT)")
    check_repo_id(repo_id)
    if not offline() and get_token() is None:
        raise InputError(f"no Hugging Face token to push {repo_id}: set HF_TOKEN or run `hf auth login`")
    return repo_id


def load_traces(script_args: ScriptArguments, split: str) -> Any:
    from datasets import load_dataset

    name = script_args.dataset_name
    if not name:
        raise InputError("say which traces to train on: dataset_name (a Hub dataset id or a local dataset folder)")
    try:
        return load_dataset(name, name=script_args.dataset_config, split=split)
    except Exception as exc:  # datasets raises many types for a missing repo, config or split
        raise MissingInput(f"cannot load split {split!r} of the dataset {name}: {str(exc).splitlines()[0]}") from None


def load_tokenizer(model_args: ModelConfig, training_args: SFTConfig) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(
            model_args.model_name_or_path,
            revision=model_args.model_revision,
            trust_remote_code=training_args.trust_remote_code,
        )
    except Exception as exc:
        raise MissingInput(
            f"cannot load the tokenizer of {model_args.model_name_or_path}: {str(exc).splitlines()[0]}"
        ) from None


def main(script_args: ScriptArguments, training_args: SFTConfig, model_args: ModelConfig) -> Path:
    """Train, save to output_dir with a model card, push when asked; returns output_dir."""
    from accelerate import PartialState
    from trl import get_peft_config, get_quantization_config

    from trainers.sft_data import prepare_traces
    from trainers.sft_loss import SupervisedPositionsSFTTrainer

    state = PartialState()
    say = print if state.is_main_process else (lambda *a, **k: None)
    if not model_args.model_name_or_path:
        raise InputError("say which model to fine-tune: model_name_or_path (a Hub model id or a local folder)")
    negatives = script_args.sampled_softmax_negatives
    if negatives is not None and (negatives < 1 or not script_args.supervised_positions_only):
        raise InputError(
            "sampled_softmax_negatives needs supervised_positions_only: true and a count of at least 1 "
            f"(got {negatives}); leave it unset (null) for the exact loss"
        )
    repo_id = check_push(training_args)
    # Checked before anything loads, so a bad resume request fails at once.
    resume = training_args.resume_from_checkpoint
    flag = str(resume).strip().lower() if resume is not None else None
    if flag in ("false", "no", "none", ""):
        resume = None  # an explicit "start afresh"
    elif flag in ("true", "yes", "last") or (resume is None and script_args.auto_resume):
        resume = last_complete_checkpoint(training_args.output_dir)
        if resume is None and flag is not None:
            raise MissingInput(f"resume_from_checkpoint: no complete checkpoint in {training_args.output_dir}")
    elif not (Path(str(resume)) / "trainer_state.json").is_file():
        raise MissingInput(f"resume_from_checkpoint: {resume} is not a complete checkpoint (no trainer_state.json)")
    tokenizer = load_tokenizer(model_args, training_args)
    train_name = f"{script_args.dataset_name} (split {script_args.dataset_train_split})"
    prep = {
        "max_trace_length": script_args.max_trace_length,
        "overlong": script_args.overlong,
        "repeat_by_weight": script_args.repeat_by_weight,
    }
    with state.main_process_first():  # datasets caches downloads; let one process fill the cache
        raw = load_traces(script_args, script_args.dataset_train_split)
    train, stats = prepare_traces(raw, tokenizer, source=train_name, **prep)
    say(f"[r1ci sft] {stats.summary()}")
    eval_dataset = None
    if training_args.eval_strategy != "no":
        test_name = f"{script_args.dataset_name} (split {script_args.dataset_test_split})"
        eval_dataset, eval_stats = prepare_traces(
            load_traces(script_args, script_args.dataset_test_split), tokenizer, source=test_name, **prep
        )
        say(f"[r1ci sft] eval: {eval_stats.summary()}")
        longest = max(stats.longest, eval_stats.longest)
    else:
        longest = stats.longest

    # TRL truncates at max_length (1024 by default) without a word: set it from the data instead.
    padding_free_only = training_args.padding_free and not training_args.packing
    if padding_free_only:
        training_args.max_length = None  # TRL requires it; every trace already fits the rule above
    elif training_args.packing:
        training_args.max_length = max(longest, script_args.max_trace_length or 0)
    else:
        training_args.max_length = longest
    say(
        f"[r1ci sft] max_length = {training_args.max_length} (set from the data; longest kept trace {stats.longest}"
        + (", no cap needed: padding-free batches are not truncated)" if padding_free_only else ")")
    )

    training_args.push_to_hub = False  # pushed once at the end, with our card
    training_args.model_init_kwargs = {
        "revision": model_args.model_revision,
        "trust_remote_code": training_args.trust_remote_code,
        "attn_implementation": model_args.attn_implementation,
        "dtype": model_args.dtype,
        **(training_args.model_init_kwargs or {}),
    }
    if resume:
        say(f"[r1ci sft] resuming from {resume}")

    trainer = SupervisedPositionsSFTTrainer(
        model=model_args.model_name_or_path,
        args=training_args,
        train_dataset=train,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
        quantization_config=get_quantization_config(model_args),
        supervised_positions_only=script_args.supervised_positions_only,
        sampled_negatives=script_args.sampled_softmax_negatives,
    )
    trainer.train(resume_from_checkpoint=resume)
    output_dir = Path(training_args.output_dir)
    trainer.save_model(str(output_dir))
    if trainer.accelerator.is_main_process:
        write_card_and_push(trainer, script_args, model_args, stats, output_dir, repo_id, say)
    trainer.accelerator.wait_for_everyone()
    return output_dir


def write_card_and_push(
    trainer: Any,
    script_args: ScriptArguments,
    model_args: ModelConfig,
    stats: Any,
    output_dir: Path,
    repo_id: str | None,
    say: Any,
) -> None:
    from hub_tools.publish import commit_message, offline, push_folder
    from model_cards.sft_card import sft_model_card, training_curves_png

    args = trainer.args
    data_stats = {k: v for k, v in vars(stats).items() if k != "lengths"}
    (output_dir / "sft_data_stats.json").write_text(json.dumps(data_stats, indent=2) + "\n")
    hyperparameters = {
        "learning_rate": args.learning_rate,
        "num_train_epochs": args.num_train_epochs,
        "max_steps": args.max_steps,
        "per_device_train_batch_size": args.per_device_train_batch_size,
        "gradient_accumulation_steps": args.gradient_accumulation_steps,
        "world_size": args.world_size,
        "effective_batch_size": args.per_device_train_batch_size * args.gradient_accumulation_steps * args.world_size,
        "lr_scheduler_type": str(
            args.lr_scheduler_type.value if hasattr(args.lr_scheduler_type, "value") else args.lr_scheduler_type
        ),  # fmt: skip
        "warmup_steps": args.warmup_steps,
        "weight_decay": args.weight_decay,
        "max_length": args.max_length,
        "longest_trace_tokens": stats.longest,
        "packing": args.packing,
        "padding_free": args.padding_free,
        "bf16": args.bf16,
        "optim": str(getattr(args.optim, "value", args.optim)),
        "softmax": f"sampled ({script_args.sampled_softmax_negatives} negatives)"
        if script_args.sampled_softmax_negatives
        else "full vocabulary",
        "seed": args.seed,
        "peft": "LoRA" if model_args.use_peft else "full fine-tune",
    }
    if model_args.use_peft:
        hyperparameters |= {"lora_r": model_args.lora_r, "lora_alpha": model_args.lora_alpha}
    images = {}
    curves = training_curves_png(trainer.state.log_history)
    if curves is not None:
        images["training_curves.png"] = curves
    card = sft_model_card(
        model_name=repo_id or output_dir.name,
        base_model=model_args.model_name_or_path,
        dataset=script_args.dataset_name,
        hyperparameters=hyperparameters,
        data_summary=stats.summary(),
        overlong=script_args.overlong,
        max_trace_length=script_args.max_trace_length,
        curves="training_curves.png" if curves is not None else None,
    )
    (output_dir / "images").mkdir(exist_ok=True)
    for name, data in images.items():
        (output_dir / "images" / name).write_bytes(data)
    (output_dir / "README.md").write_text(card)
    if repo_id is None:
        return
    if offline():
        say(f"[r1ci sft] HF_HUB_OFFLINE=1: not pushed; the model and its card for {repo_id} are in {output_dir}")
        return
    summary, description = commit_message(
        f"SFT of {model_args.model_name_or_path} on {script_args.dataset_name}", **hyperparameters
    )
    result = push_folder(
        staged_for_push(output_dir),
        repo_id,
        repo_type="model",
        private=bool(args.hub_private_repo),
        summary=summary,
        description=description,
    )
    say(f"[r1ci sft] pushed to {result.url} ({'new commit' if result.new_commit else 'unchanged'})")


def staged_for_push(output_dir: Path) -> Path:
    """The final model, card and images without checkpoints or logs: hard links in a sibling folder."""
    import shutil

    stage = output_dir.with_name(output_dir.name + ".hub")
    if stage.exists():
        shutil.rmtree(stage)

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:  # another filesystem: copy
            shutil.copy2(src, dst)

    ignore = shutil.ignore_patterns("checkpoint-*", "runs", "*.hub", "training_args.bin")
    shutil.copytree(output_dir, stage, ignore=ignore, copy_function=link)
    return stage


def make_parser() -> TrlParser:
    return TrlParser((ScriptArguments, SFTConfig, ModelConfig))


if __name__ == "__main__":
    try:
        main(*make_parser().parse_args_and_config())
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
