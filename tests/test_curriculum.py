"""The curriculum by improvement potential (trainers/curriculum.py): pure functions and the sampler."""

from __future__ import annotations

import pytest

from code_interpreter.generation import TextOnlyCodec
from trainers.curriculum import (
    CurriculumSampler,
    order_by_potential,
    pass_rate,
    potential,
    split_groups,
    stage_at,
    stage_groups,
    stage_pool,
    updated_potentials,
)


def test_potential_math():
    assert potential(0.5) == 1.0
    assert potential(0.0) == potential(1.0) == 0.0
    assert potential(0.25) == pytest.approx(0.75) == potential(0.75)
    assert pass_rate([1, 0, 1, 1]) == 0.75
    assert pass_rate([1.7, -2.0]) == 0.5  # scores outside [0, 1] are clipped, not trusted
    for bad in (-0.1, 1.1, float("nan")):
        with pytest.raises(ValueError):
            potential(bad)
    with pytest.raises(ValueError):
        pass_rate([])


def test_order_keeps_dataset_order_on_ties():
    assert order_by_potential([0.0, 1.0, 0.75, 1.0, 0.75]) == [1, 3, 2, 4, 0]


def test_groups_of_uneven_sizes_differ_by_at_most_one():
    groups = split_groups(list(range(10)), 4)
    assert groups == [[0, 1, 2], [3, 4, 5], [6, 7], [8, 9]]
    assert split_groups([5], 1) == [[5]]
    with pytest.raises(ValueError):
        split_groups([1, 2], 3)
    with pytest.raises(ValueError):
        split_groups([1, 2], 0)


def test_stage_groups_go_from_high_to_low_potential():
    potentials = [potential(p) for p in (0.0, 0.5, 1.0, 0.25, 0.5, 0.9, 0.1, 0.6)]
    groups = stage_groups(potentials, 4)
    assert groups == [[1, 4], [7, 3], [5, 6], [0, 2]]  # 0.9 and 0.1 tie: dataset order
    assert potential(0.9) == potential(0.1)
    means = [sum(potentials[i] for i in g) / len(g) for g in groups]
    assert means == sorted(means, reverse=True)


def test_schedule_adds_one_group_per_stage_and_the_last_stage_never_ends():
    assert [stage_at(s, 150, 4) for s in (0, 149, 150, 299, 300, 450, 10_000)] == [1, 1, 2, 2, 3, 4, 4]
    groups = [[0, 1], [2], [3]]
    assert stage_pool(groups, 1) == [0, 1]
    assert stage_pool(groups, 3) == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        stage_pool(groups, 4)
    with pytest.raises(ValueError):
        stage_at(3, 0, 4)


def sampler(**kw) -> CurriculumSampler:
    args = dict(
        num_stages=4, steps_per_stage=3, mini_repeat_count=2, batch_size=2, repeat_count=1, steps_per_batch=1,
        total_steps=14, seed=7,
    )  # fmt: skip
    args.update(kw)
    return CurriculumSampler([potential(i / 15) for i in range(16)], **args)


def test_sampler_draws_each_batch_from_its_stage_pool_in_the_repeat_structure():
    s = sampler()
    order = list(s)
    assert len(order) == len(s) == 14 * 2 * 2
    groups = s.groups_for(1)
    for batch in range(14):
        chunk = order[batch * 4 : (batch + 1) * 4]
        assert chunk[0] == chunk[1] and chunk[2] == chunk[3]  # num_generations in a row, as TRL groups them
        stage = stage_at(batch, 3, 4)
        assert set(chunk) <= set(stage_pool(groups, stage))
    # Stage 1 walks its pool without repeats before reshuffling.
    first_stage = [order[i] for i in range(0, 12, 2)]
    assert sorted(first_stage[:4]) == sorted(groups[0])


def test_sampler_gives_the_same_order_on_resume_and_differs_by_seed():
    a, b = sampler(), sampler()
    skipped = list(b)[5 * 4 :]  # a resumed run re-creates the sampler and skips what it trained on
    assert list(a)[5 * 4 :] == skipped
    assert list(sampler(seed=8)) != list(a)


def test_sampler_with_several_steps_per_generation_batch():
    # TRL repeats each generation batch for steps_per_generation x num_iterations micro-steps.
    s = sampler(repeat_count=4, steps_per_batch=2, total_steps=12)
    order = list(s)
    assert len(order) == 6 * 4 * 2 * 2
    block = order[: 4 * 4]
    assert block[:4] * 4 == block
    assert [s.stage_of_batch(b) for b in range(6)] == [1, 1, 2, 3, 3, 4]


def test_online_reestimation_recuts_the_next_stage_and_survives_a_checkpoint(tmp_path):
    s = sampler(reestimate=True)
    before = s.groups_for(1)
    # Stage 1's questions turned out always solved: they have no potential left.
    for index in before[0]:
        s.observe(index, 1.0)
        s.observe(index, 1.0)
    list(s)
    after = s.groups_for(2)
    assert set(before[0]).isdisjoint(stage_pool(after, 2))  # pushed to the last stages
    s.save(tmp_path)
    resumed = sampler(reestimate=True)
    assert resumed.load(tmp_path)
    assert resumed.groups_for(2) == after and list(resumed) == list(s)
    assert updated_potentials([0.3, 0.4], {1: [1.0, 0.0]}) == [0.3, 1.0]


def test_sampler_refuses_a_stage_smaller_than_a_batch():
    from code_interpreter.errors import InputError

    with pytest.raises(InputError, match="stage 1 holds 4 questions"):
        sampler(batch_size=5)


# --- r1ci curriculum estimate ----------------------------------------------------------------------
class TemperatureGenerator(TextOnlyCodec):
    """A policy double: at temperature 0.7 it runs code that prints the product and copies the output
    into its answer; at other temperatures it guesses 0 without code."""

    def __init__(self) -> None:
        self.temperature = 1.0

    def generate(self, requests):
        import re

        from code_interpreter.generation import Chunk

        out = []
        for req in requests:
            if self.temperature != 0.7:
                out.append(Chunk(text="<<<0>>>", finish="eos", num_tokens=1))
            elif "Code Execution Results: " not in req.completion:
                expr = re.search(r"result of ([-\d*]+)\?", req.messages[-1]["content"]).group(1)
                out.append(Chunk(text=f"```python\nprint({expr})\n```", finish="code", num_tokens=5))
            else:
                printed = req.completion.rsplit("Code Execution Results: ", 1)[1].split("\n")[0]
                out.append(Chunk(text=f"<<<{printed}>>>", finish="eos", num_tokens=1))
        return out


def test_estimate_runs_episodes_and_scores_with_the_verifier():
    from code_interpreter import ProtocolConfig, get_sandbox
    from dataset_builders import get_task
    from trainers.curriculum_estimate import EstimateSettings, sample_scores

    rows = list(get_task("symbench/number_multiply").generate(3, seed=1))
    settings = EstimateSettings(num_samples=4, temperatures=(0.7, 1.0), styles=("free", "code_first"))
    assert settings.plan() == [(0.7, "free"), (0.7, "code_first"), (1.0, "free"), (1.0, "code_first")]
    with get_sandbox("local") as sandbox:
        scores = sample_scores(rows, TemperatureGenerator(), sandbox, ProtocolConfig(timeout_s=10), settings)
    assert scores == [[1.0, 1.0, 0.0, 0.0]] * 3  # the product came from the sandbox, the verdict from the task
    assert [potential(pass_rate(s)) for s in scores] == [1.0] * 3


def test_estimate_settings_refuse_bad_values():
    from code_interpreter.errors import InputError
    from trainers.curriculum_estimate import EstimateSettings

    with pytest.raises(InputError, match="unknown style"):
        EstimateSettings(styles=("shouting",))
    with pytest.raises(InputError, match="temperatures"):
        EstimateSettings(temperatures=(-1.0,))


def test_estimate_command_writes_columns_and_a_histogram(tiny_model_dir, tmp_path):
    from datasets import load_dataset

    from dataset_builders.tasks_dataset import build_tasks_dataset
    from hub_tools.publish import Target
    from r1ci_cli import main

    build_tasks_dataset(Target(folder=tmp_path / "tasks"), task_names=["symbench/number_multiply"], num_per_task=3)
    code = main(["curriculum", "estimate", "--dataset", str(tmp_path / "tasks"), "--model", str(tiny_model_dir),
                 "--num-samples", "2", "--max-new-tokens", "4", "--timeout-s", "5", "--output-dir", str(tmp_path / "est")])  # fmt: skip
    assert code == 0
    data = load_dataset(str(tmp_path / "est"), "train", split="train", download_mode="force_redownload")
    assert data.num_rows == 3 and data["num_samples"] == [2, 2, 2]
    assert all(p == potential(r) for p, r in zip(data["potential"], data["pass_rate"], strict=True))
    png = (tmp_path / "est" / "images" / "potential_histogram.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert "images/potential_histogram.png" in (tmp_path / "est" / "README.md").read_text()


def test_estimate_command_refuses_an_unknown_task_in_one_sentence(tmp_path, capsys):
    from datasets import Dataset

    from hub_tools.dataset_folder import write_dataset_folder
    from r1ci_cli import main

    row = {"task": "bbh/nope", "id": "x", "question": "q", "answer": "a", "metadata": "{}"}
    write_dataset_folder(tmp_path / "bad", {"train": {"train": Dataset.from_list([row])}}, "# bad\n")
    code = main(["curriculum", "estimate", "--dataset", str(tmp_path / "bad"), "--model", "org/model",
                 "--output-dir", str(tmp_path / "o")])  # fmt: skip
    assert code == 2
    assert "row 0 has an unknown task" in capsys.readouterr().err
