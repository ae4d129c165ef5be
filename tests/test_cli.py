from __future__ import annotations

import json

import pytest

from dataset_builders.rollouts import RolloutJobConfig, config_from_dict, load_job_config
from dataset_builders.task import GeneratedTask
from r1ci_cli import main


def test_tiny_model_command(tmp_path, capsys):
    assert main(["tiny-model", "--out", str(tmp_path / "m"), "--hidden-size", "16", "--num-layers", "1"]) == 0
    assert (tmp_path / "m" / "config.json").exists() and (tmp_path / "m" / "tokenizer.json").exists()
    assert "saved to" in capsys.readouterr().out


@pytest.mark.parametrize(
    "text,message",
    [
        ("model: m\nnum_questions: two\n", "num_questions must be int, got 'two'"),
        ("model: m\nbogus_key: 1\n", "unknown key(s) bogus_key"),
        ("tasks: [symbench/game24]\n", "missing required key(s) model"),
        ("model: [unclosed\n", "is not valid YAML"),
        ("- just\n- a list\n", "must be a mapping"),
        ("model: m\ntasks: symbench/game24\n", "tasks must be list[str]"),
        ("model: m\nbatch_size: 0\n", "batch_size must be at least 1, got 0"),
        ("model: m\ntemperature: -1\n", "temperature must be at least 0"),
        ("model: m\nbackend: vllm\n", "backend must be 'transformers' or 'openai'"),
    ],
)
def test_malformed_config_is_one_sentence(tmp_path, capsys, text, message):
    path = tmp_path / "job.yaml"
    path.write_text(text)
    assert main(["rollouts", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_missing_config_and_model(tmp_path, capsys):
    assert main(["rollouts", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    path = tmp_path / "job.yaml"
    path.write_text(f"model: {tmp_path / 'no-model'}\ntasks: [symbench/number_multiply]\n")
    assert main(["rollouts", "--config", str(path)]) == 2
    assert "no-model' does not exist" in capsys.readouterr().err


def test_unknown_task_suggests_names(tmp_path, capsys):
    path = tmp_path / "job.yaml"
    path.write_text("model: m\ntasks: [symbench/game42]\n")
    assert main(["rollouts", "--config", str(path)]) == 2
    assert "did you mean symbench/game24" in capsys.readouterr().err


def test_config_overrides_and_float_accepts_int(tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text("model: a\ntimeout_s: 5\n")
    config = load_job_config(path, model="b", output_dir=None)
    assert config.model == "b" and config.timeout_s == 5 and config.output_dir == "outputs/rollouts"
    with pytest.raises(ValueError, match="must be int"):
        config_from_dict(RolloutJobConfig, {"model": "m", "seed": True}, source="x")


def test_rollouts_end_to_end_with_local_sandbox(tiny_model_dir, tmp_path, capsys):
    path = tmp_path / "job.yaml"
    path.write_text(
        f"model: {tiny_model_dir}\ntasks: [symbench/number_multiply]\nnum_questions: 2\nmax_new_tokens: 16\n"
        f"output_dir: {tmp_path / 'out'}\n"
    )
    assert main(["rollouts", "--config", str(path), "--show"]) == 0
    records = [json.loads(line) for line in (tmp_path / "out" / "transcripts.jsonl").read_text().splitlines()]
    assert len(records) == 2
    for r in records:
        assert r["entry"]["task"] == "symbench/number_multiply" and r["score"] in (0.0, 1.0)
        assert r["finish_reason"] in ("length", "no_answer", "answer", "max_code_calls")
        assert len(r["completion_ids"]) == len(r["completion_mask"]) <= 16
    assert "mean score" in capsys.readouterr().out


class _Levelled(GeneratedTask):
    name = "symbench/levelled_for_test"
    complexity_levels = 3

    def make_entry(self, rng, level=1):
        return "x" * (10 * level), str(level), {}

    def verify(self, answer, entry):
        return float(answer == entry["answer"])

    def level_description(self, level):
        return f"{level} knob(s)"


def test_tasks_stats_shows_every_level(monkeypatch, capsys):
    from dataset_builders import catalog

    monkeypatch.setattr(catalog, "get_task", lambda name: _Levelled())
    assert main(["tasks", "stats", "symbench/levelled_for_test", "-n", "60"]) == 0
    out = capsys.readouterr().out
    assert all(f"{level} knob(s)" in out for level in (1, 2, 3)) and "3 level(s)" in out
    assert "10 / 10 / 10" in out and "30 / 30 / 30" in out  # question sizes per level


def test_tasks_stats_bad_input(capsys):
    assert main(["tasks", "stats", "symbench/game42"]) == 2
    assert "did you mean symbench/game24" in capsys.readouterr().err
    assert main(["tasks", "stats", "symbench/game24", "-n", "0"]) == 2


def test_generate_fixed_complexity_and_range_check():
    task = _Levelled()
    assert {e["metadata"]["complexity"] for e in task.generate(30, seed=1)} == {1, 2, 3}
    assert {e["metadata"]["complexity"] for e in task.generate(5, seed=1, complexity=2)} == {2}
    with pytest.raises(ValueError, match="complexity must be in 1..3"):
        next(task.generate(1, complexity=4))


def test_only_input_errors_become_one_sentence(monkeypatch):
    from dataset_builders import catalog

    def buggy(**kwargs):
        raise KeyError("a bug, not bad input")

    monkeypatch.setattr(catalog, "print_table", buggy)
    with pytest.raises(KeyError, match="a bug"):
        main(["tasks", "list"])


def test_every_command_registers_itself():
    from r1ci_cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    assert set(commands) == {
        "tasks",
        "traces",
        "published",
        "rollouts",
        "tiny-model",
        "quickstart",
        "curriculum",
        "eval",
        "checkpoint",
        "release",
        "demo",
        "space",
    }
