"""GRPO with live code execution (trainers/grpo.py, trainers/grpo_rollouts.py) on the tiny model, on CPU.

A random tiny model never writes a python block, so the rollouts here use a scripted policy: the
training model generates, but a logits processor allows only the tokens of a fixed script (the first
token is sampled between two choices, which decides whether the code prints the right product). The
code really runs in the local sandbox, the answer is copied from the interpreter's output, and the
verifier scores it; everything else (ids, masks, logprobs, the trainer) is the real path.
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from code_interpreter import ProtocolConfig, get_sandbox
from code_interpreter.episode import EpisodeRunner
from code_interpreter.errors import InputError
from code_interpreter.generation import TransformersGenerator
from code_interpreter.protocol import build_messages
from tests.conftest import PROJECT_ROOT

RECIPE = PROJECT_ROOT / "recipes" / "tiny" / "grpo" / "config.yaml"
RESULT = "Code Execution Results: "
#: Potentials of the 10 short questions: with 2 stages, stage 1 holds rows 1, 2, 4, 7, 9.
POTENTIALS = [0.2, 0.9, 0.9, 0.1, 0.5, 0.0, 0.3, 0.6, 0.0, 0.4]


@pytest.fixture(scope="module")
def tasks_dir(tmp_path_factory) -> Path:
    from datasets import load_dataset

    from dataset_builders.tasks_dataset import build_tasks_dataset
    from hub_tools.dataset_folder import write_dataset_folder
    from hub_tools.publish import Target

    root = tmp_path_factory.mktemp("grpo")
    build_tasks_dataset(Target(folder=root / "all"), task_names=["symbench/number_multiply"], num_per_task=16, seed=0)
    # Short products keep the scripted rollouts (digits are one token each) within a small budget.
    rows = load_dataset(str(root / "all"), "train", split="train", download_mode="force_redownload").filter(
        lambda r: len(r["question"].split("?")[0]) < 36
    )
    assert len(rows) == len(POTENTIALS)
    rows = rows.add_column("potential", POTENTIALS)  # as `r1ci curriculum estimate` writes it
    return write_dataset_folder(root / "tasks", {"train": {"train": rows}}, "# number_multiply, short\n")


class ScriptProcessor:
    """Allows only the script's next token. Before any result: a free choice between "I" and "We",
    then a python block printing the product in the question (plus one after "We"). After the result:
    `so <<<output>>>` and the end-of-turn token. One processor per `generate` call (one model chunk)."""

    def __init__(self, tokenizer, code: str | dict[str, str] = "print({product}{plus})") -> None:
        self.tok, self.code = tokenizer, code
        self.eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
        self.im_start = tokenizer.convert_tokens_to_ids("<|im_start|>")
        self.choices = [tokenizer.encode(w, add_special_tokens=False)[0] for w in ("I", "We")]
        self.start: int | None = None

    def _encode(self, text: str) -> list[int]:
        return self.tok.encode(text, add_special_tokens=False)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if self.start is None:
            self.start = input_ids.shape[1]
        j = input_ids.shape[1] - self.start  # tokens generated in this chunk so far
        allowed = torch.full_like(scores, float("-inf"))
        for row, ids in enumerate(input_ids.tolist()):
            context = self.tok.decode(ids[: self.start], skip_special_tokens=True)
            turn_start = len(ids[: self.start]) - ids[: self.start][::-1].index(self.im_start)
            said = self.tok.decode(ids[turn_start : self.start])  # "assistant\n" and the completion so far
            if RESULT not in said:
                if j == 0:
                    allowed[row, self.choices] = 0.0
                    continue
                product = re.search(r"result of ([-\d*]+)\?", context).group(1)
                plus = " + 1" if ids[self.start] == self.choices[1] else ""
                code = (self.code[product] if isinstance(self.code, dict) else self.code).format(
                    product=product, plus=plus
                )
                script = [ids[self.start], *self._encode(f"\n```python\n{code}\n```")]
            else:
                output = said.rsplit(RESULT, 1)[1].split("\n")[0]
                script = [*self._encode(f"so <<<{output}>>>"), self.eos]
            allowed[row, script[min(j, len(script) - 1)]] = 0.0
        return scores + allowed


class ScriptedModel:
    """The training model, generating under a fresh `ScriptProcessor`; everything else passes through."""

    def __init__(self, model, tokenizer, code: str | dict[str, str] = "print({product}{plus})") -> None:
        self._model, self._tokenizer, self._code = model, tokenizer, code

    def __getattr__(self, name):
        return getattr(self._model, name)

    def __call__(self, *args, **kwargs):
        return self._model(*args, **kwargs)

    def generate(self, **kwargs):
        from transformers import LogitsProcessorList

        processors = LogitsProcessorList([ScriptProcessor(self._tokenizer, self._code)])
        return self._model.generate(logits_processor=processors, **kwargs)


def scripted_factory(base):
    @contextlib.contextmanager
    def factory(trainer):
        with base(trainer) as generator:
            generator.model = ScriptedModel(generator.model, generator.tokenizer)
            yield generator

    return factory


@pytest.fixture(scope="module")
def tiny_lm(tiny_model_dir):
    """The tiny model and tokenizer, loaded once for the rollout tests."""
    base = TransformersGenerator.from_pretrained(str(tiny_model_dir))
    return base.model, base.tokenizer


def scripted_episodes(tiny_lm, questions: list[str], sandbox, code: str | dict[str, str] = "print({product}{plus})",
                      timeout_s: float = 10) -> list:  # fmt: skip
    torch.manual_seed(0)
    model, tokenizer = tiny_lm
    generator = TransformersGenerator(ScriptedModel(model, tokenizer, code), tokenizer, temperature=1.0)
    runner = EpisodeRunner(generator, sandbox, ProtocolConfig(timeout_s=timeout_s), max_new_tokens=96)
    return runner.run([build_messages(q) for q in questions])


def test_env_mask_and_ids_match_inserted_text_token_by_token(tiny_lm, tiny_model_dir, qwen_tokenizer):
    from trainers.grpo_rollouts import rollout_batch

    questions = [f"What is the result of {a}*{b}?\nReturn your answer with the format <<<number>>>." for a, b in
                 [(41, 28), (7, 9), (123, 4)]]  # fmt: skip
    with get_sandbox("local") as sandbox:
        episodes = scripted_episodes(tiny_lm, questions, sandbox)
    out = rollout_batch(episodes, max_completion_length=96)
    inference = TransformersGenerator.from_pretrained(str(tiny_model_dir))  # how later inference encodes
    for ep, ids, mask, logprobs, prompt_ids in zip(
        episodes, out["completion_ids"], out["env_mask"], out["logprobs"], out["prompt_ids"], strict=True
    ):
        assert ep.finish_reason == "answer" and ep.num_code_calls == 1
        assert prompt_ids == inference.encode_prompt(ep.messages)
        pos = 0
        for seg in ep.segments:
            n = len(inference.encode_inserted(seg.text)) if seg.role == "interpreter" else None
            if seg.role == "interpreter":
                assert ids[pos : pos + n] == inference.encode_inserted(seg.text)  # no re-tokenisation drift
                assert mask[pos : pos + n] == [0] * n and logprobs[pos : pos + n] == [0.0] * n
                assert qwen_tokenizer.decode(ids[pos : pos + n]) == seg.text
                pos += n
            else:
                end = pos
                while end < len(ids) and mask[end] == 1:
                    end += 1
                assert qwen_tokenizer.decode(ids[pos:end], skip_special_tokens=True) == seg.text
                assert all(lp < 0.0 for lp in logprobs[pos:end])  # real logprobs of what the model sampled
                pos = end
        assert pos == len(ids)
        # The zeros are exactly the inserted spans of the completion text.
        (span,) = ep.inserted_spans
        zero = [i for i, m in enumerate(mask) if m == 0]
        assert qwen_tokenizer.decode([ids[i] for i in zero]) == ep.completion[span[0] : span[1]]
        assert ep.completion[span[0] : span[1]].startswith("\n" + RESULT)
        assert ids[-1] == qwen_tokenizer.convert_tokens_to_ids("<|im_end|>")


def test_rollout_cut_to_max_completion_length_counts_as_clipped(tiny_lm, qwen_tokenizer):
    from trainers.grpo_rollouts import rollout_batch

    with get_sandbox("local") as sandbox:
        (ep,) = scripted_episodes(tiny_lm, ["What is the result of 11*12?"], sandbox)
    budget = ep.completion_mask.index(0) + 2  # two tokens into the inserted result
    out = rollout_batch([ep], max_completion_length=budget)
    assert len(out["completion_ids"][0]) == budget and out["env_mask"][0][-2:] == [0, 0]
    assert out["completion_ids"][0][-1] != qwen_tokenizer.convert_tokens_to_ids("<|im_end|>")  # TRL: clipped


def test_crashing_or_hanging_code_is_an_ordinary_rollout(tiny_lm):
    from trainers.grpo_rollouts import rollout_batch
    from trainers.rewards import TaskReward

    entries = [
        {"task": "symbench/number_multiply", "id": "a", "question": "What is the result of 41*28?", "answer": "1148",
         "metadata": '{"factors": [41, 28], "solution": "1148"}'},
        {"task": "symbench/number_multiply", "id": "b", "question": "What is the result of 7*9?", "answer": "63",
         "metadata": '{"factors": [7, 9], "solution": "63"}'},
    ]  # fmt: skip
    # The first prints its answer and then crashes; the second hangs past the 1 s timeout.
    code = {"41*28": "print({product}) ; 1/0", "7*9": "import time; time.sleep(30)"}
    with get_sandbox("local") as sandbox:
        episodes = scripted_episodes(tiny_lm, [e["question"] for e in entries], sandbox, code=code, timeout_s=1)
    out = rollout_batch(episodes, max_completion_length=96)
    crashed, hung = out["episode"]
    assert (crashed["exec_failures"], crashed["exec_timeouts"]) == (1, 0)
    assert (hung["exec_failures"], hung["exec_timeouts"]) == (0, 1)
    assert "ZeroDivisionError" in crashed["completion"] and "TimeoutError" in hung["completion"]
    for ep in (crashed, hung):
        assert ep["finish_reason"] == "answer" and not ep["infrastructure_error"]
    columns = {k: [e[k] for e in entries] for k in entries[0]}
    assert TaskReward()(["", ""], episode=out["episode"], **columns) == [1.0, 0.0]


def parse_recipe(tasks_dir: Path, model_dir: Path, output_dir: Path, *extra: str):
    from trainers.grpo import parse

    return parse(
        ["--config", str(RECIPE), "--model_name_or_path", str(model_dir), "--dataset_name", str(tasks_dir),
         "--output_dir", str(output_dir), "--num_generations", "2", "--per_device_train_batch_size", "2",
         "--max_completion_length", "64", "--beta", "0", "--max_steps", "2", "--save_strategy", "no", *extra]
    )  # fmt: skip


def test_two_grpo_steps_execute_code_and_score_with_the_verifier(tasks_dir, tiny_model_dir, tmp_path, monkeypatch):
    from datasets import load_dataset

    from trainers import grpo_rollouts
    from trainers.grpo import train

    script, args, model_args = parse_recipe(
        tasks_dir, tiny_model_dir, tmp_path / "out", "--format_weight", "0.5", "--curriculum", "true",
        "--curriculum_stages", "2", "--curriculum_steps_per_stage", "1",
    )  # fmt: skip
    seen: list[tuple[list, dict]] = []  # (prompts, rollout dict) of each generation batch
    record = grpo_rollouts.rollout_batch

    def recording(episodes, max_completion_length):
        out = record(episodes, max_completion_length)
        seen.append(([ep.messages for ep in episodes], out))
        return out

    monkeypatch.setattr(grpo_rollouts, "rollout_batch", recording)
    torch.manual_seed(0)
    trainer = train(
        script, args, model_args, generator_factory=scripted_factory(grpo_rollouts.training_model_generator)
    )
    assert len(seen) == 2
    assert trainer.state.global_step == 2
    logs = [h for h in trainer.state.log_history if "rollout/code_calls" in h]
    assert len(logs) == 2
    for h in logs:
        assert h["rollout/code_calls"] == 1.0 and h["rollout/answer_rate"] == 1.0
        assert h["rollout/interpreter_tokens"] > 0 and h["rollout/model_tokens"] > 0
        assert h["rewards/by_source/symbench"] == h["rewards/correctness/mean"]
        assert h["completions/clipped_ratio"] == 0.0
    questions = load_dataset(str(tasks_dir), "train", split="train", download_mode="force_redownload")["question"]
    correct = []
    for prompts, out in seen:
        for prompt, ep, mask in zip(prompts, out["episode"], out["env_mask"], strict=True):
            (span,) = ep["inserted_spans"]
            result = ep["completion"][span[0] : span[1]]
            assert re.fullmatch(r"\nCode Execution Results: -?\d+\n", result)  # the sandbox really ran it
            assert sum(1 for m in mask if m == 0) == ep["interpreter_tokens"] > 0
            product = re.search(r"result of ([-\d*]+)\?", prompt[-1]["content"]).group(1)
            correct.append(int(result.split(": ")[1]) == eval(product))  # the test's own arithmetic
    assert (Path(args.output_dir) / "model.safetensors").is_file()
    # The verifier's mean is the share of rollouts whose code printed the true product.
    assert sum(correct) / len(correct) == sum(h["rewards/correctness/mean"] for h in logs) / 2
    # The curriculum: step 1 draws from stage 1's questions (the highest potentials), step 2 is stage 2.
    assert [h["curriculum/stage"] for h in logs] == [1.0, 2.0]
    assert {questions.index(p[-1]["content"]) for p in seen[0][0]} <= {1, 2, 4, 7, 9}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--rollout_backend", "vllm"], "external server with use_vllm: false"),
        (["--use_vllm", "true"], "set rollout_backend: vllm too"),
        (["--use_vllm", "true", "--rollout_backend", "vllm"], "vllm is not installed"),
        (["--sandbox", "nonexistent"], "sandbox 'nonexistent' cannot start"),
    ],
)
def test_bad_configs_stop_before_the_first_step(tasks_dir, tiny_model_dir, tmp_path, extra, message):
    from trainers.grpo import train

    script, args, model_args = parse_recipe(tasks_dir, tiny_model_dir, tmp_path / "out", *extra)
    with pytest.raises(InputError, match=message):
        train(script, args, model_args)
    assert not (tmp_path / "out").exists()


def test_unknown_task_row_is_refused_with_its_row(tasks_dir, tiny_model_dir, tmp_path):
    from datasets import load_dataset

    from hub_tools.dataset_folder import write_dataset_folder
    from trainers.grpo import train

    data = load_dataset(str(tasks_dir), "train", split="train", download_mode="force_redownload")
    bad = data.map(lambda row, i: {"task": "symbench/no_such_task" if i == 3 else row["task"]}, with_indices=True)
    folder = write_dataset_folder(tmp_path / "bad", {"train": {"train": bad}}, "# bad\n")
    script, args, model_args = parse_recipe(folder, tiny_model_dir, tmp_path / "out")
    with pytest.raises(InputError, match=r"row 3 has an unknown task: unknown task 'symbench/no_such_task'"):
        train(script, args, model_args)


def test_entry_point_prints_one_sentence_for_bad_input(tasks_dir, tiny_model_dir, tmp_path, capsys):
    from trainers.grpo import main

    code = main(["--config", str(RECIPE), "--model_name_or_path", str(tiny_model_dir), "--dataset_name",
                 str(tasks_dir), "--output_dir", str(tmp_path / "o"), "--rollout_backend", "vllm"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("trainers/grpo.py: error: this config samples from an external server")
    assert not any("Traceback" in line for line in err)
    assert main(["--config", str(RECIPE), "--no_such_key", "1"]) == 2  # unknown keys: one sentence too
    assert "error:" in capsys.readouterr().err


@pytest.mark.slow
def test_killed_run_resumes_from_its_checkpoint(tasks_dir, tiny_model_dir, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, str(PROJECT_ROOT / "trainers" / "grpo.py"), "--config", str(RECIPE),
           "--model_name_or_path", str(tiny_model_dir), "--dataset_name", str(tasks_dir), "--output_dir", str(out),
           "--num_generations", "2", "--per_device_train_batch_size", "2", "--max_completion_length", "16",
           "--beta", "0", "--save_strategy", "steps", "--save_steps", "1", "--curriculum", "true",
           "--curriculum_stages", "2", "--curriculum_steps_per_stage", "2", "--curriculum_reestimate", "true"]  # fmt: skip
    proc = subprocess.Popen(
        [*cmd, "--max_steps", "50"], cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 240
        while not (out / "checkpoint-1" / "trainer_state.json").is_file():
            assert proc.poll() is None and time.monotonic() < deadline, "no checkpoint was written"
            time.sleep(0.5)
        time.sleep(1.0)  # let the checkpoint finish (it is complete once rng state is written)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = subprocess.run([*cmd, "--max_steps", "3", "--resume_from_checkpoint", "true"], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    state = json.loads((out / "checkpoint-3" / "trainer_state.json").read_text())
    assert state["global_step"] == 3
    # The resumed run kept the killed run's first steps in its history.
    steps = [h["step"] for h in state["log_history"] if "loss" in h]
    assert steps[0] == 1 and steps[-1] == 3
    # The curriculum's online state travels with every checkpoint.
    curriculum = json.loads((out / "checkpoint-3" / "curriculum_state.json").read_text())
    assert set(curriculum["groups_at"]) == {"1", "2"}


@pytest.mark.parametrize("size", ["3B", "7B", "14B"])
def test_paper_recipes_parse_with_the_paper_settings(size):
    from trainers.grpo import check_config, parse

    recipe = PROJECT_ROOT / "recipes" / f"Qwen2.5-{size}-Instruct" / "grpo" / "config.yaml"
    script, args, _ = parse(["--config", str(recipe), "--bf16", "false"])  # bf16 needs a GPU to validate
    check_config(script, args)
    assert (args.learning_rate, args.num_generations, args.beta, args.temperature) == (1e-6, 5, 0.001, 1.0)
    assert (script.max_code_calls, script.timeout_s, script.curriculum_stages) == (8, 60.0, 4)
    assert args.generation_batch_size * 8 == 128 * 5  # 128 questions x 5 rollouts on 8 GPUs
    for line in recipe.read_text().splitlines():  # the accelerate configs the recipe names exist
        for path in re.findall(r"recipes/accelerate_configs/\S+\.yaml", line):
            assert (PROJECT_ROOT / path).is_file(), path


def test_resume_skips_a_checkpoint_left_incomplete_by_a_kill(tmp_path):
    from trainers.grpo import last_complete_checkpoint

    for step, state in ((1, '{"global_step": 1}'), (2, '{"global_st'), (3, None)):
        (tmp_path / f"checkpoint-{step}").mkdir()
        if state is not None:
            (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text(state)
    assert last_complete_checkpoint(tmp_path) == tmp_path / "checkpoint-1"
    assert last_complete_checkpoint(tmp_path / "missing") is None
