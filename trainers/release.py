"""Release a checkpoint to the Hub (`r1ci release --model-dir DIR --repo <org>/R1-CI-7B`).

The release folder holds exactly what a user needs and nothing a trainer left behind:

- the model in bf16 safetensors shards (a LoRA adapter in DIR is merged into its base first, with
  peft's `merge_and_unload`); never fp32 weights, optimizer or scheduler states, RNG dumps;
- the tokenizer with its chat template;
- `generation_config.json` with the protocol's stop string (generation stops at the closing fence of
  a python block, where the interpreter takes over);
- `r1ci_protocol.json`: the system prompt and protocol settings the model was trained under;
- `.eval_results/r1ci-tasks.yaml` (with `--tasks-dataset`): the same results in the Hub's newer
  eval-results format, which names the benchmark dataset on the Hub;
- `README.md`: the model card (`model_cards.model_card`), with the evaluation of `--results`
  (`r1ci eval`'s results.json for this checkpoint; results of other weights are refused) as
  `model-index` metadata, a table, a per-task chart (`images/`) and the paper's reference figures.

It is pushed to a branch per checkpoint (`--revision`, default the folder's `checkpoint-N` name, or
main) and tagged (default `<revision>-<content digest>`; tags never move, and re-releasing the same
bytes keeps the tag). `--dry-run` writes the folder that would be pushed and stops.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from code_interpreter.errors import InputError, MissingInput

#: Where the protocol's stop string ends generation: the closing fence of a python block. Servers
#: see the same string (`OpenAIGenerator.STOP`).
STOP_STRINGS = ["```\n"]
MAX_SHARD_SIZE = "5GB"
PROTOCOL_FILE = "r1ci_protocol.json"


def load_bf16(model_dir: Path) -> tuple[Any, Any, str | None]:
    """(model in bf16, tokenizer, base model name); a LoRA adapter is merged into its base."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if (model_dir / "adapter_config.json").is_file():
        from peft import AutoPeftModelForCausalLM, PeftConfig

        base = PeftConfig.from_pretrained(str(model_dir)).base_model_name_or_path
        try:
            model = AutoPeftModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.bfloat16)
        except OSError as exc:
            raise MissingInput(
                f"the adapter in {model_dir} needs its base model {base!r}, which could not be loaded"
            ) from exc
        model = model.merge_and_unload()
        tokenizer_src = model_dir if (model_dir / "tokenizer_config.json").is_file() else base
    else:
        if not (model_dir / "config.json").is_file():
            raise MissingInput(
                f"{model_dir} holds neither a model (config.json) nor a LoRA adapter (adapter_config.json)"
            )
        from hub_tools.checkpoints import resolve_checkpoint

        # A DeepSpeed dump (e.g. ZeRO-3 saved without gathering its weights) is converted first.
        weights = resolve_checkpoint(str(model_dir)).path
        model = AutoModelForCausalLM.from_pretrained(str(weights), dtype=torch.bfloat16)
        base = getattr(model.config, "_name_or_path", None)
        tokenizer_src = model_dir
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_src))
    if not tokenizer.chat_template:
        raise InputError(f"the tokenizer of {model_dir} has no chat template; the R1-CI protocol needs one")
    base = base if base and not Path(base).is_absolute() and str(base) != str(model_dir) else None
    return model.to(torch.bfloat16), tokenizer, base


def write_release(
    model_dir: str | Path,
    out_dir: str | Path,
    *,
    repo_id: str,
    results_path: str | Path | None = None,
    datasets: list[str] | None = None,
    tasks_dataset: str | None = None,
    recipes: list[str] | None = None,
    base_model: str | None = None,
) -> Path:
    """Write the release folder (see the module docstring); returns it."""
    from code_interpreter.protocol import ProtocolConfig
    from model_cards.model_card import CHART, accuracy_chart_png, eval_results_yaml, model_card
    from trainers.eval_results import load_results, model_fingerprint

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    if not model_dir.is_dir():
        raise MissingInput(f"model folder {model_dir} does not exist")
    src, dst = model_dir.resolve(), out_dir.resolve()
    if src == dst or src in dst.parents or dst in src.parents:
        raise InputError(f"the release folder {out_dir} must lie outside the checkpoint {model_dir} (it is rebuilt)")
    results = None
    if results_path is not None:
        results = load_results(results_path, expect_fingerprint=model_fingerprint(str(model_dir)), model=str(model_dir))
    model, tokenizer, base = load_bf16(model_dir)
    protocol = asdict(ProtocolConfig())
    protocol["stop_strings"] = list(STOP_STRINGS)
    training = _training_summary(model_dir) | recipe_summary(recipes or [])
    base = base_model or base
    # The card is rendered before anything is written, so a card that cannot render leaves no half folder.
    card = model_card(
        model_name=repo_id.split("/")[-1],
        base_model=base,
        results=results,
        datasets=datasets or [],
        training=training,
        protocol=protocol,
        repo_id=repo_id,
        tasks_dataset=tasks_dataset,
    )
    if out_dir.exists():
        if not (out_dir / PROTOCOL_FILE).is_file() and any(out_dir.iterdir()):
            raise InputError(f"{out_dir} exists and is not a release folder; choose an empty or new --output-dir")
        shutil.rmtree(out_dir)  # a fresh folder: nothing of an earlier release lingers
    out_dir.mkdir(parents=True)
    model.save_pretrained(str(out_dir), safe_serialization=True, max_shard_size=MAX_SHARD_SIZE)
    tokenizer.save_pretrained(str(out_dir))
    gen = model.generation_config
    gen.stop_strings = list(STOP_STRINGS)
    gen.save_pretrained(str(out_dir))
    (out_dir / PROTOCOL_FILE).write_text(json.dumps(protocol, indent=2) + "\n")
    if results is not None:
        (out_dir / "images").mkdir()
        (out_dir / "images" / CHART).write_bytes(accuracy_chart_png(results))
        if tasks_dataset:
            (out_dir / ".eval_results").mkdir()
            (out_dir / ".eval_results" / "r1ci-tasks.yaml").write_text(eval_results_yaml(results, tasks_dataset))
    (out_dir / "README.md").write_text(card, "utf-8")
    return out_dir


def _training_summary(model_dir: Path) -> dict[str, Any]:
    """The checkpoint's step and a few training settings, when the trainer left them in DIR."""
    out: dict[str, Any] = {}
    state = model_dir / "trainer_state.json"
    if state.is_file():
        try:
            data = json.loads(state.read_text())
            out["global step"] = data.get("global_step")
            out["epochs"] = data.get("epoch")
        except ValueError:
            pass
    return {k: v for k, v in out.items() if v is not None}


def recipe_summary(paths: list[str]) -> dict[str, Any]:
    """Rows for the card's training table from the recipe YAMLs the stages ran with (`recipes/...`):
    "<stage> <key>" -> value for every scalar setting; the stage is the recipe's folder (sft, grpo)."""
    import yaml

    rows: dict[str, Any] = {}
    for p in map(Path, paths):
        if not p.is_file():
            raise MissingInput(f"recipe file {p} does not exist")
        try:
            data = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as exc:
            raise InputError(f"recipe file {p} is not valid YAML") from exc
        if not isinstance(data, dict):
            raise InputError(f"recipe file {p} must be a mapping of settings")
        for key, value in data.items():
            if isinstance(value, str | int | float | bool) or (
                isinstance(value, list) and all(isinstance(v, str | int | float) for v in value)
            ):
                rows[f"{p.parent.name} {key}"] = value
    return rows


def default_revision(model_dir: Path) -> str:
    return model_dir.name if re.fullmatch(r"checkpoint-\d+", model_dir.name) else "main"


def push_release(folder: Path, repo_id: str, *, revision: str, tag: str | None, private: bool = False) -> Any:
    from hub_tools.dataset_folder import folder_digest
    from hub_tools.publish import commit_message, push_folder

    digest = folder_digest(folder)
    summary, description = commit_message(f"Release {repo_id} ({revision})", revision=revision, content=digest[:12])
    return push_folder(
        folder,
        repo_id,
        repo_type="model",
        private=private,
        summary=summary,
        description=description,
        branch=None if revision == "main" else revision,
        tag=tag or f"{revision}-{digest[:12]}",
        content_tag=tag is None,
    )


def make_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("release", help="merge, convert to bf16 and push a checkpoint with its model card")
    p.add_argument("--model-dir", required=True, help="checkpoint folder (full model or LoRA adapter)")
    p.add_argument("--repo", required=True, help="model repo id, e.g. <org>/R1-CI-7B")
    p.add_argument("--results", help="results.json (or its folder) of `r1ci eval` on this checkpoint")
    p.add_argument("--datasets", nargs="*", default=[], help="training dataset repo ids, linked from the card")
    p.add_argument(
        "--tasks-dataset",
        help="Hub id of the tasks dataset the results were measured on; adds .eval_results/r1ci-tasks.yaml",
    )
    p.add_argument("--recipes", nargs="*", default=[], help="recipe YAMLs of the training stages, for the card")
    p.add_argument("--base-model", help="Hub id of the base model (default: read from the checkpoint)")
    p.add_argument("--output-dir", help="release folder (default outputs/release/<repo>)")
    p.add_argument("--revision", help="branch to push to (default: checkpoint-N from the folder name, else main)")
    p.add_argument("--tag", help="tag of this release (default <revision>-<content digest>)")
    p.add_argument("--private", action="store_true")
    p.add_argument("--dry-run", action="store_true", help="write the folder that would be pushed and stop")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from hub_tools.naming import check_repo_id

    check_repo_id(args.repo)
    model_dir = Path(args.model_dir)
    out = Path(args.output_dir) if args.output_dir else Path("outputs/release") / args.repo
    folder = write_release(
        model_dir,
        out,
        repo_id=args.repo,
        results_path=args.results,
        datasets=args.datasets,
        tasks_dataset=args.tasks_dataset,
        recipes=args.recipes,
        base_model=args.base_model,
    )
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    print(f"release folder {folder}: {', '.join(files)}")
    if args.dry_run:
        print("dry run: nothing pushed")
        return 0
    result = push_release(
        folder, args.repo, revision=args.revision or default_revision(model_dir), tag=args.tag, private=args.private
    )
    print(
        f"pushed {result.url} at {result.commit[:12]} ({'new commit' if result.new_commit else 'no change'}), tag {result.tag}"
    )
    return 0
