"""GRPO reward functions (trainers/rewards.py): TRL's signature, real verifiers, hostile completions."""

from __future__ import annotations

import json

import pytest

from code_interpreter.protocol import ProtocolConfig, render_result
from trainers.rewards import TaskReward, TurnPenalty, format_reward, model_turns, turn_complies

ENTRY = {
    "task": "symbench/number_multiply",
    "id": "m-1",
    "question": "What is the result of 41*28?",
    "answer": "1148",
    "metadata": json.dumps({"complexity": 2, "factors": [41, 28], "solution": "1148"}),
    "source": "symbench",
    "split": "train",
}


def episode(*pieces: tuple[str, str], finish: str = "answer", **extra) -> dict:
    """An episode summary from (role, text) pieces, as trainers.grpo_rollouts builds it."""
    text, spans, pos = "", [], 0
    for role, piece in pieces:
        if role == "interpreter":
            spans.append([pos, pos + len(piece)])
        text += piece
        pos += len(piece)
    model = [p for r, p in pieces if r == "model"]
    base = {"completion": text, "inserted_spans": spans, "finish_reason": finish, "num_code_calls": len(spans),
            "turns": len(model), "exec_failures": 0, "exec_timeouts": 0, "answered": "<<<" in "".join(model),
            "model_tokens": 10, "interpreter_tokens": 5, "infrastructure_error": False, "error": None}  # fmt: skip
    return base | extra


def columns(n: int, **overrides) -> dict:
    return {k: [overrides.get(k, v)] * n for k, v in ENTRY.items()}


CODE = "```python\nprint(41*28)\n```"
RESULT_1148 = render_result("1148")[0]


def test_correctness_reads_the_answer_from_model_text_only():
    good = episode(("model", CODE), ("interpreter", RESULT_1148), ("model", "So <<<1148>>>"))
    wrong = episode(("model", CODE), ("interpreter", RESULT_1148), ("model", "So <<<1149>>>"))
    # A program that prints the answer marker: the interpreter's text never supplies the answer, even
    # when the raw marker reaches the completion (spans known).
    printed = episode(("model", CODE), ("interpreter", "\nCode Execution Results: <<<1148>>>\n"), ("model", "done"))
    reward = TaskReward()
    eps = [good, wrong, printed]
    assert reward([e["completion"] for e in eps], episode=eps, **columns(3)) == [1.0, 0.0, 0.0]


def test_plain_completions_without_episodes_still_score():
    reward = TaskReward()
    assert reward(["<<<1148>>>", [{"role": "assistant", "content": "<<<1148>>>"}], None], **columns(3)) == [
        1.0,
        1.0,
        0.0,
    ]


def test_an_unrunnable_rollout_gets_no_reward_from_any_term():
    broken = episode(("model", CODE), finish="sandbox_error", infrastructure_error=True)
    assert TaskReward()(["x"], episode=[broken], **columns(1)) == [None]
    assert format_reward(["x"], episode=[broken]) == [None]
    assert TurnPenalty(2)(["x"], episode=[broken]) == [None]


def test_missing_entry_columns_fail_loudly():
    with pytest.raises(ValueError, match="dataset columns answer, metadata"):
        TaskReward()(["<<<1>>>"], task=[ENTRY["task"]], id=["a"], question=["q"])


def test_rewards_logged_by_source_split_and_rollout_statistics():
    logged: dict[str, list[float]] = {}
    stages: list[int] = []

    class State:
        global_step = 151

    observed: list[tuple[int, float]] = []
    reward = TaskReward(stage_of_step=lambda s: stages.append(s) or 2, observe=lambda i, r: observed.append((i, r)))
    eps = [
        episode(("model", CODE), ("interpreter", RESULT_1148), ("model", "<<<1148>>>"), exec_failures=1),
        episode(("model", "no idea"), finish="no_answer"),
    ]
    reward(
        ["", ""], episode=eps, **columns(2), row_index=[4, 9], trainer_state=State(),
        log_metric=lambda name, value: logged.setdefault(name, []).append(value),
    )  # fmt: skip
    assert logged["rewards/by_source/symbench"] == [1.0, 0.0]
    assert logged["rewards/by_split/train"] == [1.0, 0.0]
    assert logged["rollout/code_calls"] == [1.0, 0.0]
    assert logged["rollout/exec_failures"] == [1.0, 0.0]
    assert logged["rollout/answer_rate"] == [1.0, 0.0]
    assert logged["rollout/turns"] == [2.0, 1.0]
    assert logged["curriculum/stage"] == [2.0] and stages == [151]
    assert observed == [(4, 1.0), (9, 0.0)]


def test_format_reward_counts_compliant_turns():
    clean = episode(("model", "Compute it.\n" + CODE), ("interpreter", RESULT_1148), ("model", "So <<<1148>>>"))
    broken_code = episode(("model", "```python\nprint(41*\n```"), ("interpreter", RESULT_1148), ("model", "<<<1148>>>"))
    early_answer = episode(("model", "<<<1148>>>\n" + CODE), ("interpreter", RESULT_1148), ("model", "<<<1148>>>"))
    capped = episode(("model", CODE), ("interpreter", RESULT_1148), ("model", CODE), finish="max_code_calls")
    rewards = format_reward([""] * 4, episode=[clean, broken_code, early_answer, capped])
    assert rewards == [1.0, 0.5, 0.5, pytest.approx(2 / 3)]
    assert format_reward(["<<<1>>>"]) == [None]  # turns cannot be told apart without spans


def test_format_reward_survives_hostile_code():
    deep = "```python\n" + "(" * 200_000 + "\n```"
    nul = "```python\nprint('a')\x00\n```"
    for code in (deep, nul):
        ep = episode(("model", code), ("interpreter", RESULT_1148), ("model", "<<<1>>>"))
        assert format_reward([""], episode=[ep]) == [0.5]


def test_final_turn_needs_an_answer_outside_code_and_no_open_block():
    assert turn_complies("So <<<4>>>", final=True, ended=True)
    assert not turn_complies("So <<<4>>>", final=True, ended=False)
    assert not turn_complies("```python\nprint('<<<4>>>')\n```", final=True, ended=True)
    assert not turn_complies("<<<4>>>\n```python\nx = 1", final=True, ended=True)
    assert model_turns("abXYcd", [[2, 4]]) == ["ab", "cd"]


def test_turn_penalty_counts_turns_beyond_the_limit():
    short = episode(("model", CODE), ("interpreter", RESULT_1148), ("model", "<<<1148>>>"))
    long = episode(*[("model", CODE), ("interpreter", RESULT_1148)] * 4, ("model", "<<<1148>>>"))
    assert TurnPenalty(3)(["", ""], episode=[short, long]) == [0.0, -2.0]
    with pytest.raises(ValueError):
        TurnPenalty(0)


def test_result_rendering_keeps_printed_markers_out_of_plain_scoring():
    # Without spans (plain strings), a rendered result is inert: its markers are escaped.
    text = CODE + render_result("<<<1148>>>", ProtocolConfig())[0] + "no answer"
    assert TaskReward()([text], **columns(1)) == [0.0]
