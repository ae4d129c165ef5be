"""SFT step time: loss at supervised positions only vs TRL's default head, same model and batch; one JSON line.

    python benchmarks/sft.py [--batch-size 8] [--hidden-size 64] [--num-layers 2] [--steps 3]

A tiny Qwen2 with the real Qwen2.5 vocabulary (151,936 rows), traces from real episodes (a scripted
solver writes text and two python blocks per number-multiply question, the local sandbox runs them),
tokenized by `trainers.sft_data`, one padding-free batch. Both trainers are TRL `SFTTrainer`s built
the same way; "trl_default" keeps TRL 1.16's fused LM head (on CPU it projects every position),
"ours" adds `trainers.sft_loss`'s head. A step is `Trainer.training_step` (forward + backward);
the median of `--steps` timed steps after one warm-up each, alternating. `loss_abs_diff` is the
difference of the two losses on the first batch (same weights). Everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class _Solver:
    """A teacher with verbose text: plans, computes with code, re-checks with a second block, answers."""

    def encode_prompt(self, messages: list[dict[str, str]]) -> None:
        return None

    def encode_inserted(self, text: str) -> None:
        return None

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def generate(self, requests: list[Any]) -> list[Any]:
        from code_interpreter.generation import Chunk

        out = []
        for req in requests:
            factors = re.search(r"result of ([\d*\s-]+)\?", req.messages[-1]["content"]).group(1).split("*")
            a, b = factors[0], "*".join(factors[1:])
            product = math.prod(int(f) for f in factors)
            calls = req.completion.count("Code Execution Results:")
            if calls == 0:
                text = (
                    f"We need the product of {a} and {b}. Multiplying by hand is error-prone, so I will let "
                    f"Python compute it exactly and print the result.\n```python\na, b = {a}, {b}\nprint(a * b)\n```"
                )
            elif calls == 1:
                text = (
                    "\nThe interpreter printed the product. To be safe I verify it another way, by repeated "
                    f"addition over the other factors' absolute value, which must give the same number.\n```python\n"
                    f"n = {b}\ntotal = sum({a} for _ in range(min(abs(n), 10**5)))\nprint(total, {a} * n)\n```"
                )
            else:
                text = f"\nThe first computation gives the product, so the answer is {product}.\n<<<{product}>>>"
            out.append(Chunk(text=text, finish="code" if "```python" in text else "eos", num_tokens=len(text) // 4))
        return out


def trace_rows(n: int) -> list[dict[str, Any]]:
    from code_interpreter import get_sandbox
    from code_interpreter.episode import EpisodeRunner
    from dataset_builders import get_task

    questions = [e["question"] for e in get_task("symbench/number_multiply").generate(n, seed=0)]
    with get_sandbox("local") as sandbox:
        episodes = EpisodeRunner(_Solver(), sandbox).run(questions)
    return [
        {
            "messages": [*ep.messages, {"role": "assistant", "content": ep.completion}],
            "inserted_spans": [list(s) for s in ep.inserted_spans],
        }
        for ep in episodes
    ]


def _trainer(model_dir: Path, dataset: Any, tokenizer: Any, ours: bool, batch_size: int, out: Path) -> Any:
    from trl import SFTConfig

    from trainers.sft_loss import SupervisedPositionsSFTTrainer

    args = SFTConfig(
        output_dir=str(out),
        per_device_train_batch_size=batch_size,
        padding_free=True,
        max_length=None,
        bf16=False,
        use_cpu=True,
        report_to="none",
        activation_checkpointing=False,
        model_init_kwargs={"dtype": "float32"},
        seed=0,
    )
    return SupervisedPositionsSFTTrainer(
        model=str(model_dir),
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        supervised_positions_only=ours,
    )


def run(batch_size: int = 8, hidden_size: int = 64, num_layers: int = 2, steps: int = 3) -> dict[str, Any]:
    import torch
    from transformers import AutoTokenizer

    from trainers.sft_data import prepare_traces
    from trainers.tiny_model import build_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_model(Path(tmp) / "tiny", hidden_size=hidden_size, num_layers=num_layers)
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        from datasets import Dataset

        dataset, stats = prepare_traces(Dataset.from_list(trace_rows(batch_size)), tokenizer, source="benchmark")
        trainers = {
            name: _trainer(model_dir, dataset, tokenizer, name == "ours", batch_size, Path(tmp) / name)
            for name in ("trl_default", "ours")
        }
        batch = trainers["ours"].data_collator([dataset[i] for i in range(batch_size)])
        losses, times = {}, {name: [] for name in trainers}
        for name, trainer in trainers.items():
            trainer.model.train()
            trainer.current_gradient_accumulation_steps = 1  # set by Trainer.train's loop otherwise
            inputs = trainer._prepare_inputs(dict(batch))
            with torch.no_grad():
                losses[name] = trainer.compute_loss(trainer.model, inputs).item()
        for i in range(steps + 1):
            for name, trainer in trainers.items():
                inputs = trainer._prepare_inputs(dict(batch))
                start = time.perf_counter()
                trainer.training_step(trainer.model, inputs)
                if i:  # the first step of each is a warm-up
                    times[name].append(time.perf_counter() - start)
                trainer.model.zero_grad(set_to_none=True)
    ours, default = statistics.median(times["ours"]), statistics.median(times["trl_default"])
    return {
        "ours_step_s": round(ours, 4),
        "trl_default_step_s": round(default, 4),
        "speedup": round(default / ours, 2),
        "loss_abs_diff": abs(losses["ours"] - losses["trl_default"]),
        "loss": round(losses["ours"], 5),
        "batch_size": batch_size,
        "tokens_in_batch": int(batch["input_ids"].numel()),
        "supervised_fraction": round(stats.supervised_tokens / stats.total_tokens, 3),
        "vocab_rows": 151_936,
        "hidden_size": hidden_size,
        "num_layers": num_layers,
        "steps": steps,
        "torch_threads": torch.get_num_threads(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--hidden-size", type=int, default=64)
    p.add_argument("--num-layers", type=int, default=2)
    p.add_argument("--steps", type=int, default=3)
    a = p.parse_args()
    with contextlib.redirect_stdout(sys.stderr):
        result = run(a.batch_size, a.hidden_size, a.num_layers, a.steps)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
