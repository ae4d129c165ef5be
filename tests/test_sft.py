"""SFT trainer on the tiny model (real Qwen2.5 tokenizer, CPU): the supervised-positions loss equals
TRL's, padding-free batches equal padded ones, a few steps lower the loss on a tiny repeated set, the
recipes parse, a killed run resumes with the same data order and loss curve and pushes a model card,
and bad input stops before training with one sentence."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from tests.hub_server import HubServer
from tests.sft_traces import trace_rows, write_traces_folder
from trainers.sft import last_complete_checkpoint, main, make_parser
from trainers.sft_data import prepare_traces

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TINY_RECIPE = PROJECT_ROOT / "recipes" / "tiny" / "sft" / "config.yaml"
REPO = "org/R1-CI-tiny-SFT"


@pytest.fixture(scope="module")
def rows():
    return trace_rows(6)


@pytest.fixture(scope="module")
def traces_dir(tmp_path_factory, rows):
    return write_traces_folder(tmp_path_factory.mktemp("sft") / "traces", rows)


def _args(model: Path, data: Path, out: Path, *extra: str) -> list[str]:
    return ["--config", str(TINY_RECIPE), "--model_name_or_path", str(model), "--dataset_name", str(data),
            "--output_dir", str(out), "--max_steps", "8", "--save_steps", "2", "--per_device_train_batch_size", "2",
            "--logging_steps", "1", "--save_total_limit", "10",
            "--push_to_hub", "true", "--hub_model_id", REPO, *extra]  # fmt: skip


@pytest.fixture(scope="module")
def reference_run(tiny_model_dir, traces_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("sft") / "reference"
    main(*make_parser().parse_args_and_config(_args(tiny_model_dir, traces_dir, out)))
    return out


def _history(run: Path) -> list[dict]:
    state = json.loads((run / "checkpoint-8" / "trainer_state.json").read_text())
    return [h for h in state["log_history"] if "loss" in h]


def _trainers(tiny_model_dir, dataset, tokenizer, tmp_path, which=(False, True), **config):
    from trl import SFTConfig

    from trainers.sft_loss import SupervisedPositionsSFTTrainer

    config = {"max_length": None, **config}
    out = {}
    for ours in which:
        args = SFTConfig(output_dir=str(tmp_path / str(ours)), use_cpu=True, bf16=False, report_to="none",
                         activation_checkpointing=False, seed=0, **config)  # fmt: skip
        out[ours] = SupervisedPositionsSFTTrainer(
            model=str(tiny_model_dir),
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            supervised_positions_only=ours,
        )
        out[ours].model.train()
    return out


def _loss_and_grads(trainer, batch):
    trainer.model.zero_grad(set_to_none=True)
    inputs = trainer._prepare_inputs(dict(batch))
    loss = trainer.compute_loss(trainer.model, inputs)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None}
    return loss.item(), grads


def test_supervised_positions_loss_equals_trl_default(tiny_model_dir, qwen_tokenizer, tmp_path, rows):
    """Same loss (1e-5) and gradients as TRL's fused head, in padding-free and padded batches."""
    from datasets import Dataset

    dataset, stats = prepare_traces(Dataset.from_list(rows[:2]), qwen_tokenizer, source="t", repeat_by_weight=False)
    assert stats.supervised_tokens < stats.total_tokens / 2
    examples = [dataset[i] for i in range(len(dataset))]
    trl_default = _trainers(tiny_model_dir, dataset, qwen_tokenizer, tmp_path, which=(False,), padding_free=True)
    ref_loss, ref_grads = _loss_and_grads(trl_default[False], trl_default[False].data_collator(examples))
    assert ref_loss > 1.0
    for padding_free in (True, False):
        ours = _trainers(tiny_model_dir, dataset, qwen_tokenizer, tmp_path / str(padding_free), which=(True,),
                         padding_free=padding_free)[True]  # fmt: skip
        batch = ours.data_collator(examples)
        assert ("position_ids" in batch) == padding_free and batch["input_ids"].shape[0] == (1 if padding_free else 2)
        loss, grads = _loss_and_grads(ours, batch)
        assert abs(loss - ref_loss) < 1e-5
        assert grads.keys() == ref_grads.keys()
        for name, grad in grads.items():
            torch.testing.assert_close(grad, ref_grads[name], atol=1e-6, rtol=1e-4, msg=name)
    # A batch with nothing supervised is a differentiable zero, not a crash.
    empty = {**batch, "labels": torch.full_like(batch["labels"], -100)}
    assert _loss_and_grads(ours, empty)[0] == 0.0


def test_sampled_softmax_estimates_the_full_loss_and_drops_sampled_targets():
    from trainers.sft_loss import sampled_softmax_logits

    torch.manual_seed(0)
    weight = torch.randn(50_000, 16) * 0.3
    hidden = torch.randn(40, 16, requires_grad=True)
    targets = torch.randint(0, 50_000, (40,))
    full = torch.nn.functional.cross_entropy(hidden @ weight.T, targets)
    logits, index = sampled_softmax_logits(hidden, weight, targets, negatives=8_000)
    assert torch.equal(torch.unique(targets)[index], targets)  # the target columns come first, deduplicated
    assert logits.shape[1] < torch.unique(targets).numel() + 8_000  # sampled ids that are targets were dropped
    sampled = torch.nn.functional.cross_entropy(logits, index)
    assert abs(sampled.item() - full.item()) < 0.02 * full.item()
    sampled.backward()
    assert hidden.grad is not None and hidden.grad.abs().sum() > 0


def test_sampled_softmax_stays_unbiased_when_targets_cover_much_of_the_vocab_and_is_exact_past_it():
    from trainers.sft_loss import sampled_softmax_logits

    torch.manual_seed(0)
    weight = torch.randn(1_000, 16) * 0.1
    hidden = torch.randn(1, 16).expand(500, 16)
    targets = torch.arange(500)  # half the vocabulary: the dropped draws are half of all draws
    true_z = (hidden[0] @ weight.T).exp().sum()
    estimates = [
        torch.logsumexp(sampled_softmax_logits(hidden, weight, targets, 200)[0][0], -1).exp() for _ in range(300)
    ]
    assert abs(torch.stack(estimates).mean() / true_z - 1) < 0.02  # a log(others/negatives) shift gave 0.75
    full = torch.nn.functional.cross_entropy(hidden @ weight.T, targets)
    for negatives in (500, 10_000):  # as many as the other tokens, or more than the vocabulary
        logits, index = sampled_softmax_logits(hidden, weight, targets, negatives)
        assert logits.shape == (500, 1_000)
        torch.testing.assert_close(torch.nn.functional.cross_entropy(logits, index), full)


def test_padding_free_and_packed_batches_give_the_padded_loss(tiny_model_dir, qwen_tokenizer, tmp_path, rows):
    """Sequences flattened into one row must not attend to each other (sdpa on CPU, position_ids),
    and TRL's BFD packing keeps our labels."""
    from datasets import Dataset

    dataset, stats = prepare_traces(Dataset.from_list(rows[:3]), qwen_tokenizer, source="t", repeat_by_weight=False)
    modes = {
        "padded": {"padding_free": False},
        "padding_free": {"padding_free": True},
        "packed": {"packing": True, "packing_strategy": "bfd", "max_length": stats.total_tokens},
    }
    losses = {}
    for mode, config in modes.items():
        config = {"max_length": None, **config}
        trainer = _trainers(tiny_model_dir, dataset, qwen_tokenizer, tmp_path / mode, which=(True,), **config)[True]
        rows = [trainer.train_dataset[i] for i in range(len(trainer.train_dataset))]
        assert len(rows) == (1 if mode == "packed" else 3)  # the three traces fit in one bin
        batch = trainer.data_collator(rows)
        with torch.no_grad():
            losses[mode] = trainer.compute_loss(trainer.model, trainer._prepare_inputs(batch)).item()
    assert abs(losses["padding_free"] - losses["padded"]) < 1e-5
    assert abs(losses["packed"] - losses["padded"]) < 1e-5


def test_a_short_run_lowers_the_loss_and_writes_card_and_stats(reference_run, capsys):
    history = _history(reference_run)
    losses = [h["loss"] for h in history]
    assert len(losses) == 8 and sum(losses[-2:]) / 2 < sum(losses[:2]) / 2 - 0.1, losses
    stats = json.loads((reference_run / "sft_data_stats.json").read_text())
    assert stats["rows"] == 6 and stats["repeated"] == 3 and stats["dropped_overlong"] == 0
    card = (reference_run / "README.md").read_text()
    assert "every token the interpreter inserted" in card and "| learning_rate | 0.005 |" in card
    assert "(a local folder)" in card and "images/training_curves.png" in card
    assert (reference_run / "images" / "training_curves.png").read_bytes()[:4] == b"\x89PNG"
    assert (reference_run / "model.safetensors").exists() and (reference_run / "tokenizer.json").exists()


def test_recipes_parse():
    recipes = sorted((PROJECT_ROOT / "recipes").glob("*/sft/*.yaml"))
    assert {p.parent.parent.name for p in recipes} >= {"tiny", "Qwen2.5-3B-Instruct", "Qwen2.5-7B-Instruct",
                                                       "Qwen2.5-14B-Instruct"}  # fmt: skip
    for path in recipes:
        # use_cpu: TrainingArguments refuses bf16 without a GPU; the recipes target GPUs.
        script, training, model = make_parser().parse_args_and_config(["--config", str(path), "--use_cpu", "true"])
        assert script.dataset_name and model.model_name_or_path and training.output_dir, path
        if path.parent.parent.name.startswith("Qwen2.5"):
            assert training.num_train_epochs == 3 and training.bf16 and script.max_trace_length
            gpus = 1 if "lora" in path.name else 8  # as each recipe's header says
            effective = training.per_device_train_batch_size * training.gradient_accumulation_steps * gpus
            assert effective == 32, path
            assert model.use_peft == ("lora" in path.name)
    for name, kind in [("ddp", "MULTI_GPU"), ("zero3", "DEEPSPEED"), ("fsdp2", "FSDP")]:
        config = yaml.safe_load((PROJECT_ROOT / "recipes" / "accelerate_configs" / f"{name}.yaml").read_text())
        assert config["distributed_type"] == kind
    assert config["fsdp_config"]["fsdp_version"] == 2


def test_bad_input_stops_before_training_with_one_sentence(tiny_model_dir, traces_dir, tmp_path, rows):
    rows = [dict(r) for r in rows[:2]]
    rows[1]["inserted_spans"] = [[3, 99_999]]
    bad = write_traces_folder(tmp_path / "bad", rows)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "trainers/sft.py", *_args(tiny_model_dir, bad, tmp_path / "out")],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: row 1 of ") and "inserted span [3, 99999] does not fall inside" in last
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()  # nothing trained
    no_spans = tmp_path / "no_spans"
    write_traces_folder(no_spans, [{k: v for k, v in r.items() if k != "inserted_spans"} for r in rows])
    with pytest.raises(Exception, match=f"the dataset {no_spans} .*has no 'inserted_spans' column"):
        main(*make_parser().parse_args_and_config(_args(tiny_model_dir, no_spans, tmp_path / "o2")))
    with pytest.raises(Exception, match="cannot load the tokenizer of /nonexistent"):
        main(*make_parser().parse_args_and_config(_args(Path("/nonexistent"), traces_dir, tmp_path / "o3")))
    with pytest.raises(Exception, match="resume_from_checkpoint: no complete checkpoint in"):
        main(*make_parser().parse_args_and_config(_args(tiny_model_dir, traces_dir, tmp_path / "o5")
                                                  + ["--resume_from_checkpoint", "true"]))  # fmt: skip
    (tmp_path / "o6" / "checkpoint-3").mkdir(parents=True)  # a save killed before trainer_state.json
    assert last_complete_checkpoint(tmp_path / "o6") is None
    with pytest.raises(Exception, match="checkpoint-3 is not a complete checkpoint"):
        main(*make_parser().parse_args_and_config(_args(tiny_model_dir, traces_dir, tmp_path / "o6")
                                                  + ["--resume_from_checkpoint", str(tmp_path / "o6" / "checkpoint-3")]))  # fmt: skip
    with pytest.raises(Exception, match="push_to_hub needs hub_model_id"):
        main(*make_parser().parse_args_and_config(_args(tiny_model_dir, traces_dir, tmp_path / "o4")
                                                  + ["--hub_model_id", ""]))  # fmt: skip
    for extra in (["--sampled_softmax_negatives", "0"], ["--supervised_positions_only", "false"]):
        with pytest.raises(Exception, match="sampled_softmax_negatives needs supervised_positions_only: true"):
            main(*make_parser().parse_args_and_config(_args(tiny_model_dir, traces_dir, tmp_path / "o7") + extra))


@pytest.mark.slow  # two training subprocesses (~50 s of CPU): run with -m slow
def test_killed_run_resumes_with_same_order_and_curve_and_pushes_card(
    reference_run, tiny_model_dir, traces_dir, tmp_path
):
    out = tmp_path / "run"
    cmd = [sys.executable, "trainers/sft.py", *_args(tiny_model_dir, traces_dir, out)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env |= {"PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    first = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while last_complete_checkpoint(out) is None and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.02)
        assert first.poll() is None, "the run ended before it could be killed"
        first.send_signal(signal.SIGKILL)
    finally:
        first.kill()
        first.wait()
    resumed_from = last_complete_checkpoint(out)
    assert resumed_from is not None and not (out / "model.safetensors").exists()
    step = int(resumed_from.rsplit("-", 1)[1])
    assert step < 8
    with HubServer() as hub:
        env |= {"HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1", "HF_HOME": str(tmp_path / "home"),
                "HF_HUB_OFFLINE": "0", "HF_TOKEN": "hf_test_token_1234567890"}  # fmt: skip
        second = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert second.returncode == 0, second.stderr[-3000:]
        files = hub.state.repos[("model", REPO)].resolve("main").files
    assert f"resuming from {resumed_from}" in second.stdout
    # Same data order (cumulative token counts) and the same loss curve as the run never stopped.
    ref, got = _history(reference_run), _history(out)
    assert [h["step"] for h in got] == list(range(1, 9))
    assert [h["num_tokens"] for h in got] == [h["num_tokens"] for h in ref]
    for a, b in zip(got, ref, strict=True):
        assert abs(a["loss"] - b["loss"]) < 1e-4, (a, b)
    assert {"README.md", "images/training_curves.png", "model.safetensors", "tokenizer.json"} <= set(files)
    assert not any(f.startswith(("checkpoint-", "runs/")) for f in files)
    card = files["README.md"].data.decode()
    assert f"# {REPO}" in card and "every token the interpreter inserted" in card and "pushed to" in second.stdout


def test_card_links_hub_ids_and_takes_eval_results():
    from huggingface_hub import EvalResult

    from model_cards.sft_card import sft_model_card, training_curves_png

    card = sft_model_card(
        model_name="org/R1-CI-7B-SFT",
        base_model="Qwen/Qwen2.5-7B-Instruct",
        dataset="org/R1-CI-SFT-traces",
        hyperparameters={"learning_rate": 1e-5, "num_train_epochs": 3},
        data_summary="6 traces",
        overlong="drop",
        max_trace_length=6144,
        eval_results=[
            EvalResult(
                task_type="text-generation",
                dataset_type="org/R1-CI-tasks",
                dataset_name="test",
                metric_type="accuracy",
                metric_value=0.5,
            )
        ],  # fmt: skip
    )
    assert "base_model: Qwen/Qwen2.5-7B-Instruct" in card and "- org/R1-CI-SFT-traces" in card
    assert "[org/R1-CI-SFT-traces](https://huggingface.co/datasets/org/R1-CI-SFT-traces)" in card
    assert "Traces longer than 6144 tokens were\ndropped" in card and "model-index" in card
    assert "training_curves" not in card  # no logs, no plot
    assert training_curves_png([{"step": 1, "learning_rate": 1.0}]) is None
