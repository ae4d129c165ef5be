"""Evaluation harness (trainers/evaluation.py, eval_results.py, eval.py): verdicts counted right in
both modes, errors kept, resumable after a kill, same numbers for the same seed, one-sentence errors."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from code_interpreter.errors import InputError
from code_interpreter.generation import Chunk, TextOnlyCodec
from dataset_builders import get_task
from tests.test_vllm_backends import ScriptedEngine, VLLMHTTPDouble
from trainers.eval_results import RESULTS_FILE
from trainers.evaluation import (
    TEXT_SYSTEM_PROMPT,
    EvalConfig,
    SampleLog,
    read_records,
    run_eval,
    write_outputs,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TASKS = ["symbench/pooling", "reasoning_gym/dice"]
N = 5


class OracleGenerator(TextOnlyCodec):
    """Answers by plan, per question index: 0 right, 1 wrong, 2 the request fails, 3 code that raises
    then right, 4 code that times out then right. Text mode (no code) answers directly, wrong on plan 4."""

    concurrent_requests = False

    def __init__(self, answers: dict[str, tuple[int, str]]):
        self.answers = answers
        self.asked: list[str] = []

    def generate(self, requests):
        return [self._one(r) for r in requests]

    def _one(self, req):
        question = req.messages[-1]["content"]
        plan, answer = self.answers[question]
        text_mode = req.messages[0]["content"] == TEXT_SYSTEM_PROMPT
        first = req.completion == ""
        if first:
            self.asked.append(question)
        if plan == 2:
            raise ConnectionError("the server went away")
        if plan == 1:
            return self._chunk("I guess <<<0>>>")
        if text_mode and plan == 4:  # what needs computation, text reasoning gets wrong
            return self._chunk("Roughly <<<1>>>")
        if text_mode or plan == 0 or not first:
            return self._chunk(f"So the answer is <<<{answer}>>>")
        code = "raise ValueError('boom')" if plan == 3 else "import time\ntime.sleep(30)"
        return self._chunk(f"Let me compute.\n```python\n{code}\n```", "code")

    def _chunk(self, text, finish="eos"):
        return Chunk(text=text, finish=finish, num_tokens=len(text.split()))


def _oracle(seed: int = 0) -> OracleGenerator:
    answers = {}
    for name in TASKS:
        for i, e in enumerate(get_task(name).generate(N, seed=seed)):
            answers[e["question"]] = (i, e["answer"])
    return OracleGenerator(answers)


def _config(tmp_path: Path, **kw) -> EvalConfig:
    base = dict(model="oracle", tasks=TASKS, num_questions=N, timeout_s=1.0, output_dir=str(tmp_path / "run"))
    return EvalConfig(**(base | kw))


def test_both_modes_match_a_hand_count_of_the_details(tmp_path):
    config = _config(tmp_path)
    run_eval(config, generator=_oracle(), progress=False)
    results = write_outputs(config)
    records = read_records(Path(config.output_dir))
    assert len(records) == 2 * len(TASKS) * N  # the failed requests are there too
    saved = json.loads((Path(config.output_dir) / RESULTS_FILE).read_text())
    assert saved == json.loads(json.dumps(results))

    from datasets import load_dataset

    for mode, expected in (("code", 3 / 5), ("text", 2 / 5)):
        details = load_dataset(str(Path(config.output_dir) / "details"), mode, split="test")
        assert len(details) == len(TASKS) * N
        r = results["modes"][mode]
        for task in TASKS:
            rows = [row for row in details if row["task"] == task]
            by_hand = sum(row["correct"] for row in rows) / len(rows)
            assert r["per_task"][task]["accuracy"] == pytest.approx(by_hand) == pytest.approx(expected)
        assert r["overall"] == pytest.approx(expected)
        assert r["per_source"]["symbench"]["accuracy"] == pytest.approx(expected)
        errored = [row for row in details if row["error"]]
        assert len(errored) == len(TASKS) and all("server went away" in row["error"] for row in errored)
        assert all(row["verdict"] == 0.0 and row["finish_reason"] == "generator_error" for row in errored)

    code = results["modes"]["code"]["stats"]
    # Plans 3 and 4 ran one snippet each per task: one raised, one timed out; then they answered.
    assert code["execution_errors"] == len(TASKS) and code["timeouts"] == len(TASKS)
    assert code["mean_code_calls"] == pytest.approx(2 / 5)
    text = results["modes"]["text"]["stats"]
    assert text["mean_code_calls"] == 0 and text["execution_errors"] == 0
    row = next(r for r in records if r["mode"] == "code" and r["task"] == TASKS[0] and r["id"].endswith("-3"))
    assert "Code Execution Results" in row["transcript"] and "ValueError: boom" in row["transcript"]
    assert row["correct"] and row["turns"] == 2 and row["extracted_answer"]


def test_hostile_text_reaches_the_details(tmp_path):
    """A server can send lone surrogates (valid JSON escapes) that Arrow refuses: they are escaped."""

    class Surrogates(OracleGenerator):
        def _one(self, req):
            return self._chunk("odd \ud800 text <<<\udfff>>>")

    config = _config(tmp_path, modes=["text"], tasks=TASKS[:1], num_questions=2)
    run_eval(config, generator=Surrogates({}), progress=False)
    results = write_outputs(config)
    assert results["modes"]["text"]["overall"] == 0.0

    from datasets import load_dataset

    rows = load_dataset(str(Path(config.output_dir) / "details"), "text", split="test")
    assert rows[0]["transcript"] == "odd \\ud800 text <<<\\udfff>>>" and not rows[0]["correct"]


def test_text_mode_never_executes_code(tmp_path):
    """A model that writes a python block in text mode: the block is not run, the episode ends."""

    class Coder(OracleGenerator):
        def _one(self, req):
            return self._chunk("```python\nprint(open('/etc/hostname').read())\n```", "code")

    config = _config(tmp_path, modes=["text"], tasks=TASKS[:1], num_questions=2)
    records = run_eval(config, generator=Coder({}), progress=False)
    assert [r["finish_reason"] for r in records] == ["max_code_calls"] * 2
    assert all(r["num_code_calls"] == 0 and "Code Execution Results" not in r["transcript"] for r in records)


def test_a_run_resumes_without_redoing_finished_samples(tmp_path):
    config = _config(tmp_path, modes=["text"])
    first = _oracle()
    seen = []

    def stop_after_three(record):
        seen.append(record)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_eval(config, generator=first, progress=False, on_sample=stop_after_three)
    # A kill mid-write leaves a torn line: it is dropped and that sample is redone.
    with open(Path(config.output_dir) / "samples-0.jsonl", "a") as fh:
        fh.write('{"mode": "text", "task": "symb')
    second = _oracle()
    run_eval(config, generator=second, progress=False)
    done_first = {r["question"] for r in seen}
    assert not done_first & set(second.asked)
    assert len(set(second.asked)) == len(TASKS) * N - 3
    resumed = write_outputs(config)

    fresh_config = _config(tmp_path, modes=["text"], output_dir=str(tmp_path / "fresh"))
    run_eval(fresh_config, generator=_oracle(), progress=False)
    fresh = write_outputs(fresh_config)
    assert resumed["modes"] == fresh["modes"]  # same seed, same numbers
    assert sorted((r["task"], r["id"]) for r in read_records(Path(config.output_dir))) == sorted(
        (r["task"], r["id"]) for r in read_records(Path(fresh_config.output_dir))
    )


def test_errored_samples_are_kept_and_retried_on_request(tmp_path):
    config = _config(tmp_path, modes=["text"], tasks=TASKS[:1])
    run_eval(config, generator=_oracle(), progress=False)
    assert run_eval(config, generator=_oracle(), progress=False) == []  # errors are results, not gaps
    healed = _oracle()
    healed.answers = {q: (0 if plan == 2 else plan, a) for q, (plan, a) in healed.answers.items()}
    retried = run_eval(_config(tmp_path, modes=["text"], tasks=TASKS[:1], retry_errors=True), generator=healed)
    assert len(retried) == 1 and retried[0]["correct"] and not retried[0]["error"]
    records = read_records(Path(config.output_dir))
    assert len(records) == N and sum(r["correct"] for r in records) == 3


def test_ranks_share_the_questions(tmp_path):
    """What `accelerate launch trainers/eval.py` does per process: every world_size-th question."""
    config = _config(tmp_path, modes=["text"])
    firsts = [run_eval(config, rank=r, world_size=2, generator=_oracle(), progress=False) for r in (0, 1)]
    assert [len(f) for f in firsts] == [len(TASKS) * 3, len(TASKS) * 2]
    assert sorted(p.name for p in Path(config.output_dir).glob("samples-*.jsonl")) == [
        "samples-0.jsonl",
        "samples-1.jsonl",
    ]
    results = write_outputs(config)
    single = _config(tmp_path, modes=["text"], output_dir=str(tmp_path / "single"))
    run_eval(single, generator=_oracle(), progress=False)
    assert results["modes"] == write_outputs(single)["modes"]


def test_endpoint_runs_asynchronous_episodes(tmp_path, capsys):
    """An OpenAI-compatible server (tests/teacher_double.py) through `r1ci eval`: episodes run
    asynchronously, code executes in the local sandbox, and the counts match the teacher's rule."""
    from r1ci_cli import main
    from tests.teacher_double import SolverTeacher

    task = get_task("symbench/number_multiply")
    entries = list(task.generate(6, seed=0))
    teacher = SolverTeacher(wrong_every=3)
    out = tmp_path / "served"
    try:
        args = ["eval", "--backend", "openai", "--base-url", teacher.base_url, "--model", "teacher"]
        args += ["--tasks", task.name, "--num-questions", "6", "--output-dir", str(out), "--no-progress"]
        assert main(args) == 0
    finally:
        teacher.close()
    assert "code: overall" in capsys.readouterr().out
    results = json.loads((out / RESULTS_FILE).read_text())
    expected = sum(int(e["answer"]) % 3 != 0 for e in entries) / 6
    assert results["modes"]["code"]["overall"] == pytest.approx(expected) and 0 < expected < 1
    assert results["modes"]["code"]["stats"]["mean_code_calls"] == 1.0
    # The teacher writes code even when told not to: in text mode it is never run, so nothing verifies.
    assert results["modes"]["text"]["overall"] == 0.0
    assert results["modes"]["text"]["stats"]["finish_reasons"] == {"max_code_calls": 6}


def text_answer(product: int) -> int:
    return product if len(str(abs(product))) < 10 else product + 1


class MultiplyingEngine(ScriptedEngine):
    """Behind the vLLM double: in code mode it multiplies with a python block and answers what the
    block printed (off by one when divisible by 3); in text mode it gets products of 10 digits or more
    wrong by one. The `slow` question's snippet sleeps, so with episodes that never wait on each other
    that question is the last one to finish."""

    def __init__(self, tokenizer, slow: str) -> None:
        super().__init__(tokenizer, {})
        self.slow = slow

    def sample(self, prompt_ids, max_tokens, stop):
        text = self.tok.decode(prompt_ids, skip_special_tokens=False)
        question = self.question(prompt_ids)
        factors = re.search(r"result of ([\d*-]+)\?", question).group(1).split("*")
        product = math.prod(int(f) for f in factors)
        turn = text.rsplit("<|im_start|>assistant\n", 1)[1]
        if TEXT_SYSTEM_PROMPT.splitlines()[0] in text:
            piece = f"Roughly <<<{text_answer(product)}>>>"
        elif "Code Execution Results:" not in turn:
            nap = "import time\ntime.sleep(1.5)\n" if question == self.slow else ""
            piece = f"I multiply with code.\n```python\n{nap}print({'*'.join(factors)})\n```\nNEVER SAID"
        else:
            printed = int(turn.rsplit("Code Execution Results:", 1)[1].split()[0])
            piece = f"The product is {printed}. <<<{printed + (printed % 3 == 0)}>>>"
        with self.lock:  # every request starts a new piece: the engine answers what the prompt holds
            self.scripts[question], self.pending[question] = [piece + self.tok.eos_token], []
        return super().sample(prompt_ids, max_tokens, stop)


def test_vllm_server_eval_end_to_end(tmp_path, tiny_model_dir, qwen_tokenizer, capsys):
    """`r1ci eval --backend vllm-server` against a double of vLLM's /v1/completions (token ids in,
    token ids and logprobs out): the results JSON and the details agree with the engine's rule, the
    code really ran in the sandbox, text mode never ran it, and episodes did not wait on each other."""
    from datasets import load_dataset

    from r1ci_cli import main

    tok = qwen_tokenizer
    task, n = get_task("symbench/number_multiply"), 6
    first = next(iter(task.generate(1, seed=0)))["question"]
    server = VLLMHTTPDouble(MultiplyingEngine(tok, slow=first))
    out = tmp_path / "vllm"
    args = ["eval", "--backend", "vllm-server", "--base-url", server.base_url, "--model", "policy"]
    args += ["--tokenizer", str(tiny_model_dir), "--tasks", task.name, "--num-questions", str(n)]
    try:
        assert main([*args, "--output-dir", str(out), "--no-progress"]) == 0
    finally:
        server.close()
    assert "code: overall" in capsys.readouterr().out
    assert all(isinstance(b["prompt"], list) and b.get("return_token_ids") for b in server.bodies)

    results = json.loads((out / RESULTS_FILE).read_text())
    assert results["model"] == "policy" and results["model_fingerprint"] == "vllm-server:policy"
    records = read_records(out)
    products = {r["question"]: int(r["reference"]) for r in records}
    assert len(products) == n and first in products
    expected = {
        "code": {q: p % 3 != 0 for q, p in products.items()},
        "text": {q: len(str(abs(p))) < 10 for q, p in products.items()},
    }
    for mode, right in expected.items():
        accuracy = sum(right.values()) / n
        assert 0 < accuracy < 1, (mode, right)  # both kinds of verdict are exercised
        r = results["modes"][mode]
        assert r["overall"] == r["micro_accuracy"] == pytest.approx(accuracy)
        assert r["per_task"][task.name] == {"source": "symbench", "split": task.split, "n": n,
                                            "correct": sum(right.values()), "accuracy": pytest.approx(accuracy),
                                            "errors": 0}  # fmt: skip
        assert r["per_source"] == {"symbench": {"accuracy": pytest.approx(accuracy), "tasks": 1}}
        details = load_dataset(str(out / "details"), mode, split=task.split)
        assert len(details) == n
        for row in details:
            product = products[row["question"]]
            assert row["correct"] == right[row["question"]] and row["verdict"] == float(row["correct"])
            assert row["finish_reason"] == "answer" and not row["error"]
            said = product + (product % 3 == 0) if mode == "code" else text_answer(product)
            assert row["extracted_answer"] == str(said) and row["transcript"].endswith(f"<<<{said}>>>")
            segments = json.loads(row["segments"])
            if mode == "code":
                assert [s["role"] for s in segments] == ["model", "interpreter", "model"]
                assert segments[1]["execution"]["stdout"] == f"{product}\n"  # the sandbox computed it
                assert segments[1]["text"] == f"\nCode Execution Results: {product}\n"
                assert "NEVER SAID" not in row["transcript"] and (row["num_code_calls"], row["turns"]) == (1, 2)
            else:
                assert [s["role"] for s in segments] == ["model"] and row["num_code_calls"] == 0
            # tokens: every sampled token plus every inserted one, counted by the policy's tokenizer
            assert row["tokens"] == sum(len(tok.encode(s["text"])) for s in segments) + 1  # + <|im_end|>
    stats = results["modes"]["code"]["stats"]
    assert stats["mean_code_calls"] == 1.0 and stats["execution_errors"] == stats["timeouts"] == 0
    assert results["modes"]["text"]["stats"]["finish_reasons"] == {"answer": n}
    # Asynchronous episodes: the others finished while the first question's snippet still slept.
    code_order = [r["question"] for r in map(json.loads, (out / "samples-0.jsonl").read_text().splitlines())
                  if r["mode"] == "code"]  # fmt: skip
    assert code_order[-1] == first and len(code_order) == n


def test_sample_log_drops_a_torn_tail(tmp_path):
    path = tmp_path / "samples-0.jsonl"
    path.write_text('{"a": 1}\n{"b": ')
    log = SampleLog(path)
    log.write({"c": 2})
    log.close()
    assert path.read_text() == '{"a": 1}\n{"c": 2}\n'


def test_tiny_model_in_both_modes(tmp_path, tiny_model_dir):
    config = EvalConfig(
        model=str(tiny_model_dir),
        tasks=["symbench/pooling"],
        num_questions=2,
        max_new_tokens=6,
        output_dir=str(tmp_path / "tiny"),
    )
    run_eval(config, progress=False)
    results = write_outputs(config)
    records = read_records(Path(config.output_dir))
    assert sorted(r["mode"] for r in records) == ["code", "code", "text", "text"]
    for mode, r in results["modes"].items():
        rows = [x for x in records if x["mode"] == mode]
        assert r["per_task"]["symbench/pooling"]["accuracy"] == sum(x["verdict"] for x in rows) / 2
        assert all(0 < x["tokens"] <= 6 and x["transcript"] for x in rows)
    # Same settings again: nothing left to do, the numbers do not move.
    assert run_eval(config, progress=False) == []
    assert write_outputs(config)["modes"] == results["modes"]


def test_results_of_another_model_stop_with_one_sentence(tmp_path, tiny_model_dir):
    config = _config(tmp_path, modes=["text"], tasks=TASKS[:1], num_questions=1)
    run_eval(config, generator=_oracle(), progress=False)
    other = _config(tmp_path, modes=["text"], tasks=TASKS[:1], num_questions=1, model=str(tiny_model_dir))
    with pytest.raises(InputError, match="holds results of model 'oracle'"):
        run_eval(other, generator=_oracle(), progress=False)
    changed = _config(tmp_path, modes=["text"], tasks=TASKS[:1], num_questions=1, seed=1)
    with pytest.raises(InputError, match="other settings \\(seed\\)"):
        run_eval(changed, generator=_oracle(1), progress=False)
    run_file = Path(config.output_dir) / "run.json"
    run = json.loads(run_file.read_text())
    run["questions"][TASKS[0]] = "0" * 16  # as if the generator had drawn other questions
    run_file.write_text(json.dumps(run))
    with pytest.raises(InputError, match="questions of symbench/pooling differ .* PYTHONHASHSEED"):
        run_eval(config, generator=_oracle(), progress=False)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bad_input_is_one_sentence(tmp_path, capsys):
    from r1ci_cli import main

    cases = [
        (["--model", str(tmp_path / "nope")], "does not exist (give a local folder or a Hub model id)"),
        (["--model", "org/never-downloaded"], "neither a local folder nor in the Hub cache"),
        (["--model", str(tmp_path)], "a folder without config.json"),
        (
            ["--model", "served", "--backend", "openai", "--base-url", f"http://127.0.0.1:{_closed_port()}/v1"],
            "does not answer",
        ),
        (["--model", "x", "--tasks", "symbench/nope"], "unknown task"),
        (["--model", "x", "--num-questions", "0"], "num_questions must be at least 1"),
        (["--tasks", "symbench/pooling"], "say which model to evaluate"),
        (["--model", "p", "--backend", "vllm-server"], "backend vllm-server needs base_url"),
        (
            ["--model", "p", "--backend", "vllm-server", "--base-url", f"http://127.0.0.1:{_closed_port()}/v1"],
            "does not answer",
        ),
    ]
    for args, message in cases:
        rc = main(["eval", *args, "--output-dir", str(tmp_path / "out"), "--no-progress"])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and message in err[0], (args, err)


def test_entry_point_errors_are_one_sentence(tmp_path, capsys):
    from trainers.eval import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("model: x\nbogus: 1\n")
    assert main(["--config", str(bad)]) == 2
    assert main(["--model", str(tmp_path / "nope"), "--output_dir", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "Unknown arguments from config file: ['--bogus', '1']" in err[0]
    assert "does not exist (give a local folder or a Hub model id)" in err[1]


@pytest.mark.slow
def test_killed_run_resumes(tmp_path, tiny_model_dir):
    """Kill `python trainers/eval.py` after its first samples; the rerun finishes the rest only."""
    out = tmp_path / "killed"
    args = [
        sys.executable,
        str(PROJECT_ROOT / "trainers" / "eval.py"),
        "--model",
        str(tiny_model_dir),
        "--tasks",
        "symbench/pooling",
        "reasoning_gym/dice",
        "--num_questions",
        "4",
        "--batch_size",
        "1",
        "--max_new_tokens",
        "6",
        "--modes",
        "text",
        "--output_dir",
        str(out),
    ]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = out / "samples-0.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not log.exists() or log.read_text().count("\n") < 2):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = read_records(out)
    assert 2 <= len(before) < 8
    from tests.hub_server import HubServer

    with HubServer() as hub:  # the resumed run also pushes its details dataset
        hub_env = {k: v for k, v in env.items() if not k.startswith(("HF_", "HUGGING"))}
        hub_env |= {"HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1", "HF_HOME": str(tmp_path / "home")}
        hub_env |= {"HF_HUB_OFFLINE": "0", "HF_TOKEN": "hf_test_token_0123456789"}
        push = ["--push_details", "org/R1-CI-tiny-eval-details"]
        done = subprocess.run(args + push, env=hub_env, capture_output=True, text=True, timeout=240)
        repo = hub.state.repos.get(("dataset", "org/R1-CI-tiny-eval-details"))
    assert done.returncode == 0, done.stderr[-2000:]
    files = set(repo.commits[repo.branches["main"]].files)
    assert {"README.md", "text/test-00000-of-00001.parquet"} <= files
    after = read_records(out)
    assert len(after) == 8 and len({(r["task"], r["id"]) for r in after}) == 8
    assert after[: len(before)] == before  # finished samples were kept, not redone
    assert "overall" in done.stdout


def _published_answers(folder: Path, task: str) -> dict[str, tuple[int, str]]:
    from dataset_builders import load_published

    entries = load_published(folder, on_error="skip", tasks=[get_task(task)])
    return {e["question"]: (0, e["answer"]) for e in entries}


def test_published_instances(tmp_path, external_task_data):
    from dataset_builders import load_published

    tasks = ["symbench/pooling", "symbench/string_splitting"]
    folder = external_task_data / "symbench"
    published = load_published(folder, on_error="skip", tasks=[get_task(t) for t in tasks])
    answers, firsts = {}, {t: [] for t in tasks}
    for e in published:
        firsts[e["task"]].append(e)
    for t in tasks:
        for i, e in enumerate(firsts[t][:3]):
            answers[e["question"]] = (i, e["answer"])
    config = _config(tmp_path, modes=["text"], tasks=tasks, num_questions=3, published=str(folder))
    run_eval(config, generator=OracleGenerator(answers), progress=False)
    results = write_outputs(config)
    records = read_records(Path(config.output_dir))
    assert sorted((r["task"], r["id"]) for r in records) == sorted(
        (t, str(e["id"])) for t in tasks for e in firsts[t][:3]
    )
    # Plans 0, 1, 2 of each task: right, wrong, request failed.
    assert results["modes"]["text"]["overall"] == pytest.approx(1 / 3)
    assert results["settings"]["published"] == str(folder)
    assert not any(r["flagged_reference"] for r in records)
    # Every published Reversi question shows its answer (flagged by the task): kept by default, marked
    # in the details; --skip-flawed-references leaves them out, and an emptied task stops the run.
    reversi = _config(
        tmp_path / "r", modes=["text"], tasks=["symbench/reversi"], num_questions=2, published=str(folder)
    )
    kept = run_eval(reversi, generator=OracleGenerator(_published_answers(folder, "symbench/reversi")), progress=False)
    assert len(kept) == 2 and all(r["flagged_reference"] for r in kept)
    skip = _config(tmp_path / "s", tasks=["symbench/reversi"], published=str(folder), skip_flawed_references=True)
    with pytest.raises(InputError, match="every published instance of symbench/reversi has a flagged reference"):
        run_eval(skip, generator=_oracle())
    with pytest.raises(InputError, match="holds no published instances of reasoning_gym/dice"):
        run_eval(_config(tmp_path / "b", tasks=["reasoning_gym/dice"], published=str(folder)), generator=_oracle())


def test_exclude_questions_keeps_evaluation_on_questions_training_never_saw(tmp_path):
    from datasets import Dataset

    from trainers.evaluation import training_questions, unseen_entries

    task = get_task("symbench/number_multiply")
    first = list(task.generate(6, seed=1, levels=(1, 1)))
    traces = tmp_path / "traces"
    messages = [[{"role": "user", "content": e["question"]}, {"role": "assistant", "content": "x"}] for e in first[:3]]
    Dataset.from_dict({"messages": messages}).to_parquet(str(traces / "train.parquet"))
    seen = training_questions(str(traces))
    assert seen == {e["question"] for e in first[:3]}
    kept = unseen_entries(task, 5, 1, "1", seen)
    assert len(kept) == 5 and not seen & {e["question"] for e in kept}
    assert kept[:3] == first[3:6]  # the same generated order, minus what training saw
    # when training saw every question the generator makes, the search stops (empty) instead of looping
    everything = {e["question"] for e in task.generate(1000, seed=1, levels=(1, 1))}
    assert unseen_entries(task, 3, 1, "1", everything) == []
    with pytest.raises(InputError, match="could not be loaded as a dataset"):
        training_questions(str(tmp_path / "missing"))


def test_exclude_questions_counts_a_respaced_question_as_seen_and_refuses_malformed_columns(tmp_path):
    from datasets import Dataset

    from trainers.evaluation import training_questions, unseen_entries

    task = get_task("symbench/number_multiply")
    first = list(task.generate(4, seed=1, levels=(1, 1)))
    respaced = [" " + e["question"].replace("\n", "\r\n  ").replace(" ", "  ") + "\n" for e in first[:2]]
    Dataset.from_dict({"question": [*respaced, None]}).to_parquet(str(tmp_path / "q" / "train.parquet"))
    kept = unseen_entries(task, 2, 1, "1", training_questions(str(tmp_path / "q")))
    assert kept == first[2:4]  # the same questions spaced differently were seen in training
    hostile = {
        "lists": {"question": [["a", "b"]]},
        "strings": {"messages": ["a chat as one string"]},
        "no_role": {"messages": [[{"content": "q"}]]},
        "bare": {"messages": [["q"]]},
    }
    for name, columns in hostile.items():
        Dataset.from_dict(columns).to_parquet(str(tmp_path / name / "train.parquet"))
        with pytest.raises(InputError, match=f"--exclude-questions .*{name}"):
            training_questions(str(tmp_path / name))
