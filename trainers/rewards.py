"""GRPO reward functions with TRL's signature `(completions, **kwargs) -> list[float | None]`.

Each row's task entry arrives through the dataset columns (task, id, question, answer, metadata as
a JSON string, source, split); the rollout's `episode` summary (`trainers.grpo_rollouts`) carries
the completion text with the character spans the interpreter inserted, so the verifier reads the
answer only from text the model wrote.

- `TaskReward` ("correctness"): the task verifier's score of the final answer, in [0, 1]. It also
  logs the per-step rollout statistics (reward by source and split, code calls, execution failures
  and timeouts, answer rate, turns, model vs interpreter tokens, curriculum stage).
- `format_reward`: the paper's optional format term, the share of turns that follow the protocol.
- `TurnPenalty` ("turn_penalty"): minus the number of turns beyond a limit.

A rollout that the sandbox could not run (an infrastructure failure, not the model's doing) gets
None from every function: TRL then gives it no advantage instead of a wrong zero.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from typing import Any

from code_interpreter.protocol import extract_answer, iter_blocks, strip_code
from dataset_builders import get_task

ENTRY_COLUMNS = ("task", "id", "question", "answer", "metadata")


def completion_of(completions: Sequence[Any], episodes: Sequence[dict] | None, i: int) -> tuple[str, list | None]:
    """Row i's completion text and inserted spans: from the episode when the rollout gave one, else
    the decoded completion (a string, or TRL's conversational `[{"role": "assistant", ...}]`)."""
    if episodes is not None:
        return episodes[i]["completion"], [tuple(s) for s in episodes[i]["inserted_spans"]]
    value = completions[i]
    if isinstance(value, list):
        value = "".join(m.get("content") or "" for m in value if isinstance(m, dict))
    return (value if isinstance(value, str) else ""), None


def _unrunnable(episodes: Sequence[dict] | None, i: int) -> bool:
    return episodes is not None and bool(episodes[i].get("infrastructure_error"))


class TaskReward:
    """Verifier score of each rollout's final answer; logs rollout statistics through `log_metric`.

    `stage_of_step` (global step -> curriculum stage) adds the stage to the logs; `observe` (row
    index, score) lets an online curriculum see each question's results.
    """

    __name__ = "correctness"

    def __init__(
        self,
        stage_of_step: Callable[[int], int] | None = None,
        observe: Callable[[int, float], None] | None = None,
    ) -> None:
        self.stage_of_step, self.observe = stage_of_step, observe

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        missing = [c for c in ENTRY_COLUMNS if c not in kwargs]
        if missing:
            raise ValueError(f"the correctness reward needs the dataset columns {', '.join(missing)}")
        episodes = kwargs.get("episode")
        rewards: list[float | None] = []
        for i in range(len(completions)):
            if _unrunnable(episodes, i):
                rewards.append(None)
                continue
            text, spans = completion_of(completions, episodes, i)
            entry = {c: kwargs[c][i] for c in ENTRY_COLUMNS}
            rewards.append(get_task(entry["task"]).score(text, entry, inserted_spans=spans or ()))
        if self.observe is not None and "row_index" in kwargs:
            from accelerate.utils import gather_object

            # Every process must see every rollout: the curriculum's order has to be the same everywhere.
            # Reward functions run in lock-step on all processes, so the collective is safe here.
            pairs = [(int(i), r) for i, r in zip(kwargs["row_index"], rewards, strict=True) if r is not None]
            for index, reward in gather_object(pairs):
                self.observe(index, reward)
        log_metric = kwargs.get("log_metric")
        if log_metric is not None:
            log_rollout_metrics(log_metric, rewards, kwargs, episodes)
            state = kwargs.get("trainer_state")
            if self.stage_of_step is not None and state is not None:
                log_metric("curriculum/stage", float(self.stage_of_step(state.global_step)))
        return rewards


def log_rollout_metrics(
    log_metric: Callable[[str, float], None],
    rewards: Sequence[float | None],
    columns: dict[str, Any],
    episodes: Sequence[dict] | None,
) -> None:
    """One value per rollout for each statistic; TRL averages them over the step and the processes."""
    for i, reward in enumerate(rewards):
        if reward is not None:
            for column in ("source", "split"):
                if column in columns:
                    log_metric(f"rewards/by_{column}/{columns[column][i]}", reward)
        if episodes is None:
            continue
        ep = episodes[i]
        calls = ep["num_code_calls"]
        log_metric("rollout/code_calls", float(calls))
        log_metric("rollout/exec_failures", float(ep["exec_failures"]))
        log_metric("rollout/exec_timeouts", float(ep["exec_timeouts"]))
        log_metric("rollout/answer_rate", float(ep["answered"]))
        log_metric("rollout/turns", float(ep["turns"]))
        log_metric("rollout/model_tokens", float(ep["model_tokens"]))
        log_metric("rollout/interpreter_tokens", float(ep["interpreter_tokens"]))
        log_metric("rollout/infrastructure_errors", float(ep["infrastructure_error"]))


def model_turns(text: str, spans: Sequence[Sequence[int]]) -> list[str]:
    """The model-written pieces of `text` between the inserted spans, in order."""
    pieces, pos = [], 0
    for a, b in spans:
        pieces.append(text[pos:a])
        pos = b
    pieces.append(text[pos:])
    return pieces


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # hostile code: deep nesting, NUL bytes
        return False
    return True


def turn_complies(turn: str, *, final: bool, ended: bool) -> bool:
    """A code turn holds exactly one python block, closed at the end of the turn, that parses, and no
    answer before its result is seen; the final turn ended on the end-of-turn token (`ended`) with an
    answer outside code and no unclosed block."""
    blocks = [b for b in iter_blocks(turn) if b.is_python]
    if not final:
        return (
            len(blocks) == 1
            and blocks[0].end is not None
            and not turn[blocks[0].end :].strip()
            and _parses(blocks[0].code)
            and extract_answer(turn) is None
        )
    unclosed = any(b.end is None for b in iter_blocks(turn))
    return ended and not unclosed and not blocks and extract_answer(strip_code(turn)) is not None


def format_reward(completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
    """Share of the rollout's turns that follow the protocol (`turn_complies`), in [0, 1]."""
    episodes = kwargs.get("episode")
    if episodes is None:  # turns cannot be told apart without the rollout's spans
        return [None] * len(completions)
    rewards: list[float | None] = []
    for i, ep in enumerate(episodes):
        if _unrunnable(episodes, i):
            rewards.append(None)
            continue
        turns = model_turns(ep["completion"], ep["inserted_spans"])
        ended = ep["finish_reason"] in ("answer", "no_answer")
        # A rollout cut by the code-call cap or the budget ends inside a code turn, which is not final.
        flags = [turn_complies(t, final=(k == len(turns) - 1 and ended), ended=ended) for k, t in enumerate(turns)]
        if not ended:
            flags.append(False)  # it never gave its final turn
        rewards.append(sum(flags) / len(flags))
    return rewards


class TurnPenalty:
    """Minus the number of model turns beyond `turn_limit` (0 within it)."""

    __name__ = "turn_penalty"

    def __init__(self, turn_limit: int) -> None:
        if turn_limit < 1:
            raise ValueError(f"turn_limit must be at least 1, got {turn_limit}")
        self.turn_limit = turn_limit

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        episodes = kwargs.get("episode")
        if episodes is None:
            return [None] * len(completions)
        return [
            None if _unrunnable(episodes, i) else -float(max(0, ep["turns"] - self.turn_limit))
            for i, ep in enumerate(episodes)
        ]
