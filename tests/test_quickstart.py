"""`r1ci quickstart`, shortened to a few steps per stage: every stage runs its real command, every
artifact exists, each stage's output feeds the next, and a second run reuses what is finished."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest
from datasets import load_dataset
from huggingface_hub import ModelCard

from code_interpreter.errors import InputError
from trainers.quickstart import STATE_FILE, TARGET_TASK, TEST_TASK, QuickstartConfig, Stage, run_stages, stages

SHORT = ["--traces-per-task", "12", "--tasks-per-task", "6", "--sft-steps", "3", "--eval-questions", "1",
         "--estimate-rows", "4", "--estimate-samples", "2", "--grpo-steps-per-stage", "1", "--max-new-tokens", "24"]  # fmt: skip


def _quickstart(out) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "r1ci_cli", "quickstart", "--out-dir", str(out), *SHORT]
    return subprocess.run(argv, capture_output=True, text=True, timeout=900)


@pytest.mark.timeout(1200)
def test_shortened_quickstart_runs_every_stage_and_feeds_each_into_the_next(tmp_path):
    out = tmp_path / "qs"
    first = _quickstart(out)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]

    summary = json.loads((out / "summary.json").read_text())
    for stage in ("base", "sft", "grpo"):
        assert set(summary["accuracy"][stage]) == {"code", "text"}
        assert all(0.0 <= v <= 1.0 for v in summary["accuracy"][stage].values())
        assert set(summary["accuracy_by_task"][stage]["code"]) == {TARGET_TASK, TEST_TASK}
    names = [s.name for s in stages(QuickstartConfig(out_dir=str(out)))]
    assert list(summary["seconds"]) == names and summary["reused"] == []
    assert summary["total_s"] == pytest.approx(sum(summary["seconds"].values()), abs=1.0)
    assert (
        "accelerate launch" in " ".join(summary["commands"]) and f"r1ci demo --model {out / 'release'}" in first.stdout
    )

    # tasks -> traces -> SFT: the traces are the SFT data, from train tasks only, at the chosen levels
    traces = load_dataset(str(out / "traces"), "default", split="train")
    assert {r["task"] for r in traces} <= {TARGET_TASK, "symbench/letters"} and all(r["inserted_spans"] for r in traces)
    assert json.loads(traces[0]["teacher"])["backend"] == "solver"
    tasks = load_dataset(str(out / "tasks"), "train", split="train")
    assert all(json.loads(m)["complexity"] <= 2 for m in tasks["metadata"])
    assert (out / "sft" / "model.safetensors").is_file()

    # SFT model -> curriculum potentials -> GRPO in stages
    estimated = load_dataset(str(out / "tasks-potentials"), "train", split="train")
    assert "potential" in estimated.column_names and set(estimated["question"]) <= set(tasks["question"])
    log = json.loads((out / "grpo" / "trainer_state.json").read_text())["log_history"]
    assert {e["curriculum/stage"] for e in log if "curriculum/stage" in e} == {1, 2}

    # each evaluation ran on its stage's model, on held-out questions (another seed than training)
    for stage, model in (("base", "tiny-model"), ("sft", "sft"), ("grpo", "grpo")):
        run = json.loads((out / "eval" / stage / "run.json").read_text())
        assert run["model"] == str(out / model) and run["seed"] == 1
    trained = {m["content"] for messages in traces["messages"] for m in messages if m["role"] == "user"}
    assert not (trained | set(tasks["question"])) & {r["question"] for r in _details(out / "eval" / "sft")}

    # release: bf16 weights and a card whose model-index carries the GRPO model's results
    card = ModelCard.load(out / "release" / "README.md")
    assert card.data.eval_results and (out / "release" / "images" / "accuracy_per_task.png").is_file()
    assert (out / "accuracy.png").read_bytes().startswith(b"\x89PNG")

    second = _quickstart(out)
    assert second.returncode == 0 and second.stdout.count("reused from an earlier run") == len(names)
    assert json.loads((out / "summary.json").read_text())["reused"] == sorted(names)


def _details(folder) -> list[dict]:
    files = sorted(str(p) for p in (folder / "details").rglob("*.parquet"))
    return list(load_dataset("parquet", data_files=files, split="train"))


def test_a_failing_stage_stops_with_one_sentence_naming_it(tmp_path, monkeypatch):
    cfg = QuickstartConfig(out_dir=str(tmp_path / "qs"), hidden_size=30)  # 30 is not a multiple of 4 heads
    from rich.console import Console

    with pytest.raises(InputError, match=r"the tiny model stage failed \(exit 2\) running `r1ci tiny-model"):
        run_stages(cfg, Console(file=open(os.devnull, "w")))
    assert not (tmp_path / "qs" / STATE_FILE).exists()


def test_a_stage_that_runs_again_makes_every_later_stage_run_again(tmp_path, monkeypatch):
    from rich.console import Console

    from trainers import quickstart

    def touch(name: str) -> Stage:
        path = tmp_path / name
        return Stage(name, ["python", "-c", f"open({str(path)!r}, 'a').write('x')"], str(path))

    monkeypatch.setattr(quickstart, "stages", lambda cfg: [touch("first"), touch("second")])
    cfg, quiet = QuickstartConfig(out_dir=str(tmp_path / "qs")), Console(file=open(os.devnull, "w"))
    assert [r["reused"] for r in run_stages(cfg, quiet).values()] == [False, False]
    assert [r["reused"] for r in run_stages(cfg, quiet).values()] == [True, True]
    (tmp_path / "first").unlink()
    assert [r["reused"] for r in run_stages(cfg, quiet).values()] == [False, False]
    assert (tmp_path / "second").read_text() == "xx"  # ran again although its output existed
    (tmp_path / "qs" / STATE_FILE).write_text('{"first": {"key"')  # a torn write: nothing is reused
    assert [r["reused"] for r in run_stages(cfg, quiet).values()] == [False, False]


def test_an_edited_stages_file_reuses_only_well_formed_entries_and_runs_the_rest_again(tmp_path, monkeypatch):
    from rich.console import Console

    from trainers import quickstart

    def touch(name: str) -> Stage:
        path = tmp_path / name
        return Stage(name, ["python", "-c", f"open({str(path)!r}, 'a').write('x')"], str(path))

    monkeypatch.setattr(quickstart, "stages", lambda cfg: [touch("first"), touch("second"), touch("third")])
    cfg, quiet = QuickstartConfig(out_dir=str(tmp_path / "qs")), Console(file=open(os.devnull, "w"))
    run_stages(cfg, quiet)
    state_path = tmp_path / "qs" / STATE_FILE
    state = json.loads(state_path.read_text())
    for second in (5, {"key": state["second"]["key"]}, {"key": 1, "seconds": 2}, {**state["second"], "seconds": "9"}):
        state_path.write_text(json.dumps({**state, "second": second}))  # was a TypeError/KeyError/ValueError
        assert [r["reused"] for r in run_stages(cfg, quiet).values()] == [True, False, False]


def test_odd_out_dirs_and_levels_stay_one_argument_and_bad_levels_fail_before_any_stage(tmp_path):
    out = tmp_path / "a b;$(touch pwned)'\"x"
    argv = {s.name: s.argv for s in stages(QuickstartConfig(out_dir=str(out), complexity="1 - 2"))}
    assert argv["tiny model"][argv["tiny model"].index("--out") + 1] == str(out / "tiny-model")
    assert argv["tasks"][argv["tasks"].index("--complexity") + 1] == "1 - 2"  # not three arguments
    from trainers.quickstart import summarize

    good = {"modes": {m: {"per_task": {TARGET_TASK: {"accuracy": 0.5}}} for m in ("code", "text")}}
    for name in ("base", "sft", "grpo"):
        (out / "eval" / name).mkdir(parents=True)
        (out / "eval" / name / "results.json").write_text(json.dumps(good))
    demo = summarize(QuickstartConfig(out_dir=str(out)), {}, 0.0)["demo"]
    assert shlex.split(demo) == ["r1ci", "demo", "--model", str(out / "release")]  # pasted, it runs nothing else
    for bad in ("2 --push-to-hub someone/repo", "x"):
        with pytest.raises(InputError, match="a level or a range of levels"):
            QuickstartConfig(out_dir=str(tmp_path / "qs"), complexity=bad)


def test_missing_or_malformed_eval_results_stop_the_summary_with_one_sentence_failing_no_traceback(tmp_path):
    from trainers.quickstart import accuracies

    good = {"modes": {m: {"per_task": {TARGET_TASK: {"accuracy": 0.5}}} for m in ("code", "text")}}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(good))
    assert accuracies(path) == {"code": {TARGET_TASK: 0.5}, "text": {TARGET_TASK: 0.5}}
    broken = [
        "{", "[]", json.dumps({"modes": {"code": good["modes"]["code"]}}),
        json.dumps({"modes": {m: {"per_task": {TARGET_TASK: {"accuracy": "NaN"}}} for m in ("code", "text")}}),
        json.dumps({"modes": {m: {"per_task": {TEST_TASK: {"accuracy": 1}}} for m in ("code", "text")}}),
    ]  # fmt: skip
    for text in broken:
        path.write_text(text)
        with pytest.raises(InputError, match=f"does not hold {TARGET_TASK} accuracies"):
            accuracies(path)
    path.unlink()
    with pytest.raises(InputError, match="is missing"):
        accuracies(path)
