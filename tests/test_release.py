"""Checkpoint releases (trainers/release.py): bf16 safetensors that reload, LoRA merged, tokenizer,
stop strings, protocol file, card with results; refused results of other weights; push to the local Hub."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from huggingface_hub import ModelCard
from safetensors import safe_open

from code_interpreter.errors import InputError
from tests.hub_server import HubServer
from trainers.eval_results import aggregate, model_fingerprint
from trainers.release import STOP_STRINGS, write_release

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TOKEN = "hf_test_secret_token_do_not_leak_1234567890"
RELEASE_FILES = {
    "README.md",
    "chat_template.jinja",
    "config.json",
    "generation_config.json",
    "images/accuracy_per_task.png",
    "model.safetensors",
    "r1ci_protocol.json",
    "tokenizer.json",
    "tokenizer_config.json",
}


def _results_file(folder: Path, model_dir: Path) -> Path:
    records = [
        {
            "mode": mode,
            "task": "symbench/pooling",
            "source": "symbench",
            "split": "test",
            "id": str(i),
            "verdict": float(i == 0),
            "error": "",
            "num_code_calls": 0,
            "turns": 1,
            "tokens": 5,
            "execution_errors": 0,
            "timeouts": 0,
            "finish_reason": "answer",
        }
        for mode in ("code", "text")
        for i in range(2)
    ]
    run = {"model": str(model_dir), "model_fingerprint": model_fingerprint(str(model_dir)), "seed": 0}
    run |= {"num_questions": 2, "published": None, "temperature": 0.0, "max_new_tokens": 8, "protocol_version": "v2"}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(aggregate(records, run)))
    return folder / "results.json"


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)


def test_release_folder_reloads_in_bf16(tmp_path, tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    results = _results_file(tmp_path / "eval", tiny_model_dir)
    recipes = [str(PROJECT_ROOT / "recipes" / "Qwen2.5-7B-Instruct" / s / "config.yaml") for s in ("sft", "grpo")]
    out = write_release(
        tiny_model_dir,
        tmp_path / "release",
        repo_id="org/R1-CI-tiny",
        results_path=results,
        recipes=recipes,
        base_model="Qwen/Qwen2.5-7B-Instruct",
    )
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert files == RELEASE_FILES  # no fp32 copies, optimizer or trainer state
    weights = _weights(out)
    assert weights and all(t.dtype == torch.bfloat16 for t in weights.values())
    model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.bfloat16)
    original = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    for (name, p), (_, q) in zip(model.named_parameters(), original.named_parameters(), strict=True):
        assert p.dtype == torch.bfloat16 and torch.equal(p, q.to(torch.bfloat16)), name
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert tokenizer.chat_template and tokenizer("Hello, world!")["input_ids"] == [9707, 11, 1879, 0]
    assert GenerationConfig.from_pretrained(out).stop_strings == STOP_STRINGS
    protocol = json.loads((out / "r1ci_protocol.json").read_text())
    assert "<<<answer content>>>" in protocol["system_prompt"] and protocol["stop_strings"] == ["```\n"]
    card = ModelCard.load(out / "README.md")
    assert {(r.dataset_config, r.metric_config): r.metric_value for r in card.data.eval_results}[
        ("all", "code")
    ] == 50.0
    assert "R1-CI-14B | 72.4%" in card.text
    assert card.data.base_model == "Qwen/Qwen2.5-7B-Instruct"
    assert "| grpo max_code_calls | 8 |" in card.text and "| sft learning_rate |" in card.text


def test_lora_adapter_is_merged(tmp_path, tiny_model_dir):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.bfloat16)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    peft_model = get_peft_model(base, config)
    adapter = tmp_path / "adapter"
    peft_model.save_pretrained(adapter)
    assert (adapter / "adapter_config.json").is_file() and not (adapter / "config.json").exists()
    expected = {k: v.to(torch.bfloat16) for k, v in peft_model.merge_and_unload().state_dict().items()}
    out = write_release(adapter, tmp_path / "release", repo_id="org/R1-CI-tiny")
    weights = _weights(out)
    assert not any("lora" in k for k in weights)
    q = next(k for k in weights if k.endswith("q_proj.weight"))
    plain = _weights(Path(tiny_model_dir))[q].to(torch.bfloat16)
    assert not torch.equal(weights[q], plain)  # the adapter changed the weights it targets
    assert torch.allclose(weights[q].float(), expected[q].float(), atol=1e-2)
    assert ModelCard.load(out / "README.md").data.eval_results is None


def test_results_of_other_weights_are_refused(tmp_path, tiny_model_dir):
    other = tmp_path / "other"
    shutil.copytree(tiny_model_dir, other)
    (other / "config.json").write_text((other / "config.json").read_text().replace("}", ' , "x": 1}', 1))
    results = _results_file(tmp_path / "eval", other)
    with pytest.raises(InputError, match="was measured on .*the weights differ"):
        write_release(tiny_model_dir, tmp_path / "release", repo_id="org/R1-CI-tiny", results_path=results)
    assert not (tmp_path / "release").exists()
    with pytest.raises(InputError, match="must lie outside the checkpoint"):
        write_release(tiny_model_dir, tiny_model_dir, repo_id="org/R1-CI-tiny")
    with pytest.raises(InputError, match="does not exist"):
        write_release(tmp_path / "nope", tmp_path / "release", repo_id="org/R1-CI-tiny")


_PUSH_TWICE = """
import sys
from r1ci_cli import main
for _ in range(2):
    print("rc", main(sys.argv[1:]), flush=True)
"""


def test_release_pushes_to_a_branch_and_tags_it(tmp_path, tiny_model_dir, capsys):
    from r1ci_cli import main

    checkpoint = tmp_path / "run" / "checkpoint-7"
    shutil.copytree(tiny_model_dir, checkpoint)
    results = _results_file(tmp_path / "eval", checkpoint)
    args = ["release", "--model-dir", str(checkpoint), "--repo", "org/R1-CI-tiny", "--results", str(results)]
    args += ["--output-dir", str(tmp_path / "release"), "--tasks-dataset", "org/R1-CI-tasks"]
    assert main([*args, "--dry-run"]) == 0
    assert "dry run: nothing pushed" in capsys.readouterr().out
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    with HubServer() as hub:
        env |= {"HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1", "HF_HOME": str(tmp_path / "home")}
        env |= {"HF_HUB_OFFLINE": "0", "HF_TOKEN": TOKEN, "PYTHONPATH": str(PROJECT_ROOT)}
        proc = subprocess.run(
            [sys.executable, "-c", _PUSH_TWICE, *args], env=env, capture_output=True, text=True, timeout=240
        )
        repo = hub.state.repos[("model", "org/R1-CI-tiny")]
    assert proc.returncode == 0 and proc.stdout.count("rc 0") == 2, proc.stderr[-2000:]
    assert "(new commit)" in proc.stdout and "(no change)" in proc.stdout  # the same bytes again: no commit
    head = repo.branches["checkpoint-7"]
    assert set(repo.commits[head].files) >= RELEASE_FILES | {".eval_results/r1ci-tasks.yaml"}
    (tag,) = repo.tags
    assert tag.startswith("checkpoint-7-") and repo.tags[tag] == head
    assert TOKEN not in proc.stdout + proc.stderr
